"""Curves of a well: stored as ``.npy``, read back in a depth range, decimated by min/max.

Pure module: no Django. A curve file is a ``.npy`` of ``(2, n) float64``: row 0
the depth (increasing, in the well's depth unit), row 1 the value (NaN: nodata).
It is written once by the well job from the samples spooled while the log was
read (:class:`CurveSpool`, :func:`curve_finish`) and read by byte ranges
(:func:`curve_window` over :class:`ingest.storage.RangeReader`: ``pread`` on the
local disk, ranged GETs on a bucket, never a copy of the file), chunk by chunk,
so a request costs memory bounded by its ``max_points`` and bytes read bounded
by its depth range, whatever the curve's length.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, cast

import numpy as np
from numpy.lib import format as npformat

#: Samples handled at once when a window is scanned (8 bytes each of depth and of value: one read of both).
CHUNK = 1 << 18


class CurveSpool:
    """The samples of one curve as they are read: ``(depth, value)`` float64 pairs on disk, in read order.

    Args:
        directory: where the spool file goes (removed by :meth:`remove`).
    """

    def __init__(self, directory: str | Path):
        fd, name = tempfile.mkstemp(prefix="curve-", suffix=".raw", dir=directory)
        self.path = Path(name)
        self.file = os.fdopen(fd, "wb")
        self.samples = 0

    def append(self, depth: np.ndarray, value: np.ndarray) -> None:
        """Add samples: ``depth`` and ``value`` both ``(n,) float64`` (NaN value: nodata)."""
        pairs = np.empty((depth.size, 2), np.float64)
        pairs[:, 0], pairs[:, 1] = depth, value
        self.file.write(pairs.tobytes())
        self.samples += depth.size

    def remove(self) -> None:
        """Close and delete the spool file."""
        self.file.close()
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class CurveSummary:
    """What a stored curve holds.

    Attributes:
        samples: samples stored.
        depth_min: first depth (None: no sample).
        depth_max: last depth.
        value_min: smallest value (None: every value is nodata).
        value_max: largest value.
    """

    samples: int
    depth_min: float | None
    depth_max: float | None
    value_min: float | None
    value_max: float | None


def curve_finish(spool: CurveSpool, npy_path: str | Path) -> CurveSummary:
    """Write a spooled curve as its ``.npy``: sorted by depth, the nodata-only ends left out.

    The sort is stable (samples at one depth keep their read order), so a log
    written upwards is stored increasing. Leading and trailing samples (in depth
    order) whose value is nodata are dropped; nodata inside stays (NaN).

    Args:
        spool: the curve's samples (closed here).
        npy_path: where to write ``(2, n) float64``.

    Returns:
        The stored curve's summary.
    """
    spool.file.close()
    pairs = np.fromfile(spool.path, np.float64).reshape(-1, 2)
    order = np.argsort(pairs[:, 0], kind="stable")
    data = np.empty((2, order.size), np.float64)
    data[0], data[1] = pairs[order, 0], pairs[order, 1]
    del pairs, order
    valid = np.flatnonzero(~np.isnan(data[1]))
    data = data[:, valid[0] : valid[-1] + 1] if valid.size else data[:, :0]
    np.save(npy_path, np.ascontiguousarray(data))
    if not data.shape[1]:
        return CurveSummary(0, None, None, None, None)
    return CurveSummary(
        samples=int(data.shape[1]),
        depth_min=float(data[0, 0]),
        depth_max=float(data[0, -1]),
        value_min=float(np.nanmin(data[1])),
        value_max=float(np.nanmax(data[1])),
    )


@dataclass(frozen=True)
class CurveWindow:
    """The samples of a curve in a depth range, decimated or not.

    Attributes:
        samples: samples of the curve in the range (nodata ones included).
        decimated: True when ``samples`` was more than ``max_points`` and the
            output keeps each depth bin's min and max (:func:`decimate_minmax`).
        depth: ``(m,) float64`` depths, increasing.
        value: ``(m,) float64`` values (NaN: nodata; never NaN when decimated).
    """

    samples: int
    decimated: bool
    depth: np.ndarray
    value: np.ndarray


class ByteRanges(Protocol):
    """What :func:`curve_window` reads a stored curve through (:class:`ingest.storage.RangeReader`).

    ``size`` is the file's size in bytes, ``read(offset, length)`` its bytes there
    (fewer only at its end), ``read_many`` those of several ``(offset, length)``
    ranges in the order given (neighbouring ranges fetched together).
    """

    @property
    def size(self) -> int: ...

    def read(self, offset: int, length: int) -> bytes: ...

    def read_many(self, ranges: list[tuple[int, int]]) -> list[bytes]: ...


#: Bytes read at the start of a curve (the ``.npy`` header, 128 bytes as ``np.save`` writes
#: ours, and the first depths) and around each guessed position of a depth: 1,024 samples.
BLOCK = 8 << 10
_ITEM = 8  # bytes per float64 sample
_FLOAT64 = np.dtype("<f8")


@dataclass(frozen=True)
class _Layout:
    """Where the rows of a ``(2, samples) <f8`` C-order ``.npy`` lie: ``data`` is the first byte of row 0."""

    data: int
    samples: int

    def depth(self, begin: int, end: int) -> tuple[int, int]:
        """The ``(offset, length)`` of ``depth[begin:end]``."""
        return self.data + begin * _ITEM, (end - begin) * _ITEM

    def value(self, begin: int, end: int) -> tuple[int, int]:
        """The ``(offset, length)`` of ``value[begin:end]``."""
        return self.data + (self.samples + begin) * _ITEM, (end - begin) * _ITEM


def _floats(data: bytes, count: int, name: str) -> np.ndarray:
    """``count`` little-endian float64 from ``data`` (a writable copy), or ValueError when short."""
    if len(data) != count * _ITEM:
        raise ValueError(f"curve file {name!r} is truncated")
    return np.frombuffer(data, _FLOAT64).astype(np.float64)


def _curve_layout(reader: ByteRanges, name: str) -> tuple[_Layout, np.ndarray]:
    """Parse the ``.npy`` header; the layout and the depths read with it (``depth[:k]``, ``k >= 0``).

    Raises:
        ValueError: not a ``.npy`` (format 1.0 or 2.0) of ``(2, n)`` little-endian
            float64 in C order, or its size is not the header's and ``16 n`` bytes.
    """
    head = reader.read(0, BLOCK)
    try:
        shape, fortran_order, dtype, data = _npy_header(reader, head)
    except ValueError as exc:
        raise ValueError(f"curve file {name!r}: {exc}") from None
    if dtype != _FLOAT64 or fortran_order or len(shape) != 2 or shape[0] != 2:
        raise ValueError(
            f"curve file {name!r} holds {dtype} {shape} (Fortran order: {fortran_order}),"
            " not (2, n) little-endian float64 in C order"
        )
    layout = _Layout(data, int(shape[1]))
    if reader.size != layout.data + 2 * layout.samples * _ITEM:
        raise ValueError(f"curve file {name!r} has {reader.size} bytes, not those of its header's shape")
    known = min(layout.samples, max(0, len(head) - layout.data) // _ITEM)
    if not known:
        return layout, np.empty(0, np.float64)
    return layout, np.frombuffer(head, _FLOAT64, known, layout.data).astype(np.float64)


def _npy_header(reader: ByteRanges, head: bytes) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """``(shape, fortran_order, dtype, offset of the data)`` of the ``.npy`` starting with ``head``.

    Raises:
        ValueError: not a ``.npy`` of format 1.0 or 2.0 (numpy's own messages).
    """
    prefix = head if len(head) >= 12 else reader.read(0, 12)
    version = npformat.read_magic(io.BytesIO(prefix))
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"npy format {version} is not read here")
    # The header's length (2 bytes for 1.0, 4 for 2.0) tells whether ``head`` holds it all.
    width = 2 if version == (1, 0) else 4
    total = 8 + width + int.from_bytes(prefix[8 : 8 + width], "little")
    if total > len(head) and total <= 10_000 + 12:  # numpy's ``max_header_size``: it refuses longer
        head = reader.read(0, total)
    stream = io.BytesIO(head)
    npformat.read_magic(stream)
    read_header = npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
    shape, fortran_order, dtype = read_header(stream)
    return shape, fortran_order, dtype, stream.tell()


class _Search:
    """Where ``searchsorted(depth, target, side)`` lies: in ``[low, high]``, known when they meet.

    ``depth`` is non-decreasing (NaN, if any, last: numpy's sort order), so
    ``depth[i] < target`` (``side="left"``; ``<=`` for ``"right"``) holds for a
    prefix of the samples; the answer is that prefix's length.
    """

    def __init__(self, target: float, side: Literal["left", "right"], samples: int):
        self.target, self.side = target, side
        self.low, self.high = 0, samples

    def learn(self, start: int, depths: np.ndarray) -> None:
        """Narrow the bracket with ``depth[start:start + len(depths)]``."""
        if not depths.size:
            return
        before = int(np.searchsorted(depths, self.target, side=self.side))
        if 0 < before < depths.size:
            self.low = self.high = start + before
        elif before == 0:
            self.high = min(self.high, start)
        else:
            self.low = max(self.low, start + depths.size)
        self.low = min(self.low, self.high)


def _search_depths(
    reader: ByteRanges,
    *,
    layout: _Layout,
    searches: list[_Search],
    blocks: list[tuple[int, np.ndarray]],
    extent: tuple[float, float] | None,
    name: str,
) -> None:
    """Resolve ``searches`` by reading blocks of depths: one guess, then bisection and interpolation.

    The first block of each search is centred on the position a regular sampling
    between ``extent`` (the curve's first and last depth) would give; each later
    one alternates a bisection of the bracket left and an interpolation between
    the depths at its ends (bounded: at worst about ``2 log2(n / 1024)`` reads).
    The searches of one round are one ``read_many`` call. ``blocks`` (``(start,
    depths)``) are the depths already read; the new ones are appended.
    """
    per_block = BLOCK // _ITEM
    for search in searches:
        for start, depths in blocks:
            search.learn(start, depths)
    for round_ in itertools.count():
        pending = [search for search in searches if search.low < search.high]
        if not pending:
            return
        spans = []
        for search in pending:
            low, high = search.low, search.high
            if high - low <= per_block:
                spans.append((low, high))
                continue
            guess = None
            if round_ == 0 and extent is not None:
                guess = _interpolate(search.target, extent[0], extent[1], 0, layout.samples - 1)
            elif round_ % 2 == 0 and low > 0 and high < layout.samples:
                guess = _interpolate(search.target, _at(blocks, low - 1), _at(blocks, high), low - 1, high)
            if guess is None:
                guess = (low + high) // 2
            begin = min(max(guess - per_block // 2, low), high - per_block)
            spans.append((begin, begin + per_block))
        data = reader.read_many([layout.depth(begin, end) for begin, end in spans])
        fresh = [
            (begin, _floats(raw, end - begin, name)) for (begin, end), raw in zip(spans, data, strict=True)
        ]
        blocks.extend(fresh)
        for search in pending:
            for start, depths in fresh:
                search.learn(start, depths)


def _interpolate(
    target: float, first: float | None, last: float | None, at_first: int, at_last: int
) -> int | None:
    """The position of ``target`` on a straight line from ``(at_first, first)`` to ``(at_last, last)``."""
    if first is None or last is None or not (math.isfinite(first) and math.isfinite(last)) or last <= first:
        return None
    fraction = (target - first) / (last - first)
    if not math.isfinite(fraction):
        return None
    fraction = min(max(fraction, 0.0), 1.0)
    return at_first + round(fraction * (at_last - at_first))


def _at(blocks: list[tuple[int, np.ndarray]], index: int) -> float | None:
    """``depth[index]`` if a block read holds it."""
    for start, depths in blocks:
        if start <= index < start + depths.size:
            return float(depths[index - start])
    return None


def curve_window(
    reader: ByteRanges,
    *,
    depth_min: float | None,
    depth_max: float | None,
    max_points: int,
    extent: tuple[float | None, float | None] | None = None,
    name: str = "",
) -> CurveWindow:
    """The samples of a stored curve with ``depth_min <= depth <= depth_max``, at most ``max_points``.

    Read by byte ranges (the same way from the local disk and from a bucket):
    the ``.npy`` header with the first depths (:data:`BLOCK` bytes), then a block
    of depths around where each end of the range should lie (both in one
    ``read_many``; more only when the sampling is irregular: :func:`_search_depths`),
    then the range's depths and values together, :data:`CHUNK` samples at a
    time (depths those blocks hold are not read again). A regular curve's window
    that fits in those blocks costs three requests whatever the curve's length
    (header, the blocks, the values), and the bytes read are the range's plus a few blocks;
    memory is bounded by ``max_points`` plus a chunk. The decimated samples are
    collected during the scan: nothing is read twice.

    Args:
        reader: the curve's bytes, a ``(2, n) float64`` ``.npy`` (:func:`curve_finish`).
        depth_min: shallow end of the range (None: the first sample).
        depth_max: deep end (None: the last sample).
        max_points: the most samples answered (>= 2); more samples in the range
            are decimated by min/max per depth bin (:func:`decimate_minmax`).
        extent: the curve's first and last depth (``Curve.depth_min``/``depth_max``),
            only to guess where a depth lies; the file decides.
        name: the curve's storage name, for error messages.

    Returns:
        The window: the same as ``searchsorted`` (``left`` for ``depth_min``,
        ``right`` for ``depth_max``) and :func:`decimate_minmax` over the whole rows.

    Raises:
        ValueError: not a ``(2, n)`` little-endian float64 C-order ``.npy``, or truncated.
        OSError: the reader's (e.g. FileNotFoundError: the file is not stored).
    """
    layout, head = _curve_layout(reader, name)
    blocks = [(0, head)]
    searches = {}
    if depth_min is not None:
        searches["low"] = _Search(depth_min, "left", layout.samples)
    if depth_max is not None:
        searches["high"] = _Search(depth_max, "right", layout.samples)
    hint = extent if extent is not None and None not in extent else None
    _search_depths(
        reader,
        layout=layout,
        searches=list(searches.values()),
        blocks=blocks,
        extent=cast(tuple[float, float] | None, hint),
        name=name,
    )
    lo = searches["low"].low if "low" in searches else 0
    hi = searches["high"].low if "high" in searches else layout.samples
    hi = max(hi, lo)
    samples = hi - lo
    if samples <= max_points:
        if not samples:
            return CurveWindow(0, False, np.empty(0, np.float64), np.empty(0, np.float64))
        depths, values, _ = _read_rows(reader, layout, blocks, lo, hi, name=name)
        return CurveWindow(samples, False, depths, values)
    bins = _MinMax(max_points)
    first, last = _at(blocks, lo), _at(blocks, hi - 1)
    for begin in range(lo, hi, CHUNK):
        end = min(begin + CHUNK, hi)
        # The range's last depth comes with its first chunk when no block held it.
        depths, values, extra = _read_rows(
            reader, layout, blocks, begin, end, last_of=None if last is not None else hi, name=name
        )
        last = last if last is not None else float(extra[0])
        first = first if first is not None else float(depths[0])
        bins.add(begin, depths, values, first, last)
    _, kept_depth, kept_value = bins.result()
    return CurveWindow(samples, True, kept_depth, kept_value)


def _read_rows(
    reader: ByteRanges,
    layout: _Layout,
    blocks: list[tuple[int, np.ndarray]],
    begin: int,
    end: int,
    *,
    last_of: int | None = None,
    name: str = "",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``depth[begin:end]`` and ``value[begin:end]`` (``(k,) float64``) in one ``read_many``.

    Depths the search's blocks hold already (a short range lies inside the blocks
    read around its ends) are not read again. With ``last_of``, ``depth[last_of - 1]``
    is read along (the third array, ``(1,)``; else empty).
    """
    depths = _from_blocks(blocks, begin, end)
    ranges = [layout.value(begin, end)]
    if depths is None:
        ranges.append(layout.depth(begin, end))
    if last_of is not None:
        ranges.append(layout.depth(last_of - 1, last_of))
    data = reader.read_many(ranges)
    values = _floats(data[0], end - begin, name)
    if depths is None:
        depths = _floats(data[1], end - begin, name)
    extra = _floats(data[-1], 1, name) if last_of is not None else np.empty(0, np.float64)
    return depths, values, extra


def _from_blocks(blocks: list[tuple[int, np.ndarray]], begin: int, end: int) -> np.ndarray | None:
    """``depth[begin:end]`` put together from the blocks read, or None if they do not cover it all."""
    if end - begin > sum(depths.size for _, depths in blocks):
        return None
    out = np.empty(end - begin, np.float64)
    covered = np.zeros(end - begin, bool)
    for start, depths in blocks:
        low, high = max(begin, start), min(end, start + depths.size)
        if low < high:
            out[low - begin : high - begin] = depths[low - start : high - start]
            covered[low - begin : high - begin] = True
    return out if covered.all() else None


def decimate_minmax(
    depth: np.ndarray, value: np.ndarray, max_points: int, *, start: int = 0, stop: int | None = None
) -> np.ndarray:
    """Min/max decimation: which samples of ``[start, stop)`` a plot of ``max_points`` keeps.

    Each of ``max_points // 2`` equal depth bins between the first and the last
    depth of the range keeps its min and its max sample, in depth order (one
    sample when they are the same); the first sample reaching the min (max) is
    the one kept. NaN samples are skipped; bins with none are empty. So a plot
    of the output draws the same envelope as a plot of every sample (the
    classic min/max decimation of oscilloscopes and of e.g. Plotly-Resampler's
    ``MinMaxAggregator``). :func:`curve_window` decimates a stored curve by the
    same rule, chunk by chunk as it reads it.

    Args:
        depth: ``(n,) float64`` increasing depths.
        value: ``(n,) float64`` values (NaN: nodata).
        max_points: the most samples kept (>= 2).
        start: first sample of the range.
        stop: end of the range (exclusive; None: ``n``).

    Returns:
        ``(m,) intp`` increasing positions (into ``depth``), ``m <= max_points``.
    """
    stop = depth.size if stop is None else stop
    if stop <= start:
        return np.empty(0, np.intp)
    bins = _MinMax(max_points)
    first, last = float(depth[start]), float(depth[stop - 1])
    for begin in range(start, stop, CHUNK):
        end = min(begin + CHUNK, stop)
        bins.add(
            begin,
            np.asarray(depth[begin:end], np.float64),
            np.asarray(value[begin:end], np.float64),
            first,
            last,
        )
    return bins.result()[0]


class _MinMax:
    """The running min and max sample of each depth bin (:func:`decimate_minmax`'s rule), chunk by chunk.

    Each bin's kept samples are held with their position, depth and value, so
    the output needs no second read of the curve.
    """

    def __init__(self, max_points: int):
        self.bins = max(1, max_points // 2)
        self.low = _Extremes(self.bins, lower=True)
        self.high = _Extremes(self.bins, lower=False)

    def add(self, begin: int, depth: np.ndarray, value: np.ndarray, first: float, last: float) -> None:
        """Fold in samples ``begin...`` (``(k,) float64`` depths, values) of a range ``first``..``last``."""
        valid = np.flatnonzero(~np.isnan(value))
        if not valid.size:
            return
        where = depth[valid]
        span = last - first
        index = (
            np.minimum(((where - first) / span * self.bins).astype(np.intp), self.bins - 1)
            if span > 0
            else np.zeros(valid.size, np.intp)
        )
        values = value[valid]
        for extremes in (self.low, self.high):
            extremes.update(index, values, valid + begin, where)

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kept samples: ``(m,) intp`` increasing positions, their ``(m,) float64`` depths and values."""
        low, high = self.low.at >= 0, self.high.at >= 0
        positions = np.concatenate([self.low.at[low], self.high.at[high]])
        depth = np.concatenate([self.low.depth[low], self.high.depth[high]])
        value = np.concatenate([self.low.value[low], self.high.value[high]])
        positions, first = np.unique(positions, return_index=True)
        return positions, depth[first], value[first]


class _Extremes:
    """Each bin's min (``lower``) or max so far: its value, position (-1: none yet) and depth."""

    def __init__(self, bins: int, *, lower: bool):
        self.lower = lower
        self.value = np.full(bins, np.inf if lower else -np.inf)
        self.at = np.full(bins, -1, np.intp)
        self.depth = np.zeros(bins, np.float64)

    def update(
        self, index: np.ndarray, values: np.ndarray, positions: np.ndarray, depths: np.ndarray
    ) -> None:
        """Fold in a chunk's valid samples (bin ``index``, non-decreasing), the first one on ties.

        ``index`` is non-decreasing (depths increase), so each bin is one run of the chunk.
        """
        runs = np.flatnonzero(np.diff(index, prepend=-1))
        reduce = np.minimum if self.lower else np.maximum
        extreme = reduce.reduceat(values, runs)
        lengths = np.diff(np.append(runs, values.size))
        hit = values == np.repeat(extreme, lengths)
        chosen = np.minimum.reduceat(np.where(hit, np.arange(values.size), values.size), runs)
        bins = index[runs]
        better = extreme < self.value[bins] if self.lower else extreme > self.value[bins]
        chosen, bins = chosen[better], bins[better]
        self.value[bins] = values[chosen]
        self.at[bins] = positions[chosen]
        self.depth[bins] = depths[chosen]
