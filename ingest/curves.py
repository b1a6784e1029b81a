"""Curves of a well: stored as ``.npy``, read back in a depth range, decimated by min/max.

Pure module: no Django. A curve file is a ``.npy`` of ``(2, n) float64``: row 0
the depth (increasing, in the well's depth unit), row 1 the value (NaN: nodata).
It is written once by the well job from the samples spooled while the log was
read (:class:`CurveSpool`, :func:`curve_finish`) and read with a memory map
(:func:`curve_window`), chunk by chunk, so a request costs memory bounded by
its ``max_points`` whatever the curve's length.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Samples handled at once when a window is scanned (16 bytes each per row read).
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


def curve_window(
    npy_path: str | Path, *, depth_min: float | None, depth_max: float | None, max_points: int
) -> CurveWindow:
    """The samples of a stored curve with ``depth_min <= depth <= depth_max``, at most ``max_points``.

    The file is memory-mapped and scanned in chunks of :data:`CHUNK` samples,
    so memory is bounded by ``max_points`` (plus a chunk) whatever its length.

    Args:
        npy_path: a ``(2, n) float64`` curve file (:func:`curve_finish`).
        depth_min: shallow end of the range (None: the first sample).
        depth_max: deep end (None: the last sample).
        max_points: the most samples answered (>= 2); more samples in the range
            are decimated by min/max per depth bin.

    Returns:
        The window.
    """
    data = np.load(npy_path, mmap_mode="r")
    depth = data[0]
    lo = 0 if depth_min is None else int(np.searchsorted(depth, depth_min, side="left"))
    hi = depth.size if depth_max is None else int(np.searchsorted(depth, depth_max, side="right"))
    hi = max(hi, lo)
    samples = hi - lo
    if samples <= max_points:
        return CurveWindow(samples, False, np.array(depth[lo:hi]), np.array(data[1, lo:hi]))
    kept = decimate_minmax(depth, data[1], max_points, start=lo, stop=hi)
    return CurveWindow(samples, True, np.array(depth[kept]), np.array(data[1, kept]))


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
    ``MinMaxAggregator``).

    Scanned in chunks of :data:`CHUNK` samples: ``depth`` and ``value`` may be
    memory-mapped, and memory stays bounded by ``max_points`` and a chunk.

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
    bins = max(1, max_points // 2)
    if stop <= start:
        return np.empty(0, np.intp)
    first, last = float(depth[start]), float(depth[stop - 1])
    span = last - first
    low_value = np.full(bins, np.inf)
    low_at = np.full(bins, -1, np.intp)
    high_value = np.full(bins, -np.inf)
    high_at = np.full(bins, -1, np.intp)
    for begin in range(start, stop, CHUNK):
        end = min(begin + CHUNK, stop)
        values = np.asarray(value[begin:end], np.float64)
        valid = np.flatnonzero(~np.isnan(values))
        if not valid.size:
            continue
        where = np.asarray(depth[begin:end], np.float64)[valid]
        index = (
            np.minimum(((where - first) / span * bins).astype(np.intp), bins - 1)
            if span > 0
            else np.zeros(valid.size, np.intp)
        )
        _update(index, values[valid], valid + begin, low_value, low_at, lower=True)
        _update(index, values[valid], valid + begin, high_value, high_at, lower=False)
    kept = np.concatenate([low_at[low_at >= 0], high_at[high_at >= 0]])
    return np.unique(kept)


def _update(
    index: np.ndarray,
    values: np.ndarray,
    positions: np.ndarray,
    best: np.ndarray,
    best_at: np.ndarray,
    *,
    lower: bool,
) -> None:
    """Fold a chunk into the running min (``lower``) or max of each bin, first position on ties.

    ``index`` is non-decreasing (depths increase), so each bin is one run of the chunk.
    """
    runs = np.flatnonzero(np.diff(index, prepend=-1))
    reduce = np.minimum if lower else np.maximum
    extreme = reduce.reduceat(values, runs)
    lengths = np.diff(np.append(runs, values.size))
    hit = values == np.repeat(extreme, lengths)
    at = np.minimum.reduceat(np.where(hit, positions, np.iinfo(np.intp).max), runs)
    bins = index[runs]
    better = extreme < best[bins] if lower else extreme > best[bins]
    best[bins[better]] = extreme[better]
    best_at[bins[better]] = at[better]
