"""CSV -> pyramidal TIFF, end to end, without Django.

Two passes with bounded memory:

1. stream the CSV in blocks (:mod:`ingest.reader`), spooling the scanlines to a
   scratch file in file order and keeping only their depths (8 bytes per
   scanline). While every value is an integer 0..255 the spool holds
   ``(value, alpha)`` uint8; the first block with any other value converts the
   spool, once, to float32 with NaN for nodata, and the image is stored so;
2. place the scanlines on a regular depth axis (:mod:`ingest.axis`) and write the
   pyramid (:mod:`ingest.pyramid`) by reading the spool in depth order, with
   nodata rows for gaps. The value statistics (min, max, 2nd and 98th
   percentiles) are those of the stored full-resolution level: counted from the
   uint8 scanlines as they are parsed when each is stored once as read, else
   from the level as it is written.

The per-block conversion for the spool (and the histogram) runs in the parsing
threads (:func:`ingest.reader.iter_scanline_blocks`'s ``prepare``).
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.axis import AxisTooLargeError, DepthAxis, DepthAxisError, depth_axis_from_depths
from ingest.pyramid import FLOAT32, SAMPLES, UINT8, write_pyramid
from ingest.reader import (
    NULL_TOKENS,
    CsvFormatError,
    CsvHeader,
    ScanlineBlock,
    iter_scanline_blocks,
    read_header,
)

#: ``on_progress(fraction, bytes_read)``, fraction in 0..1.
ProgressCallback = Callable[[float, int], None]

#: Share of the progress bar given to reading the CSV (the rest is writing).
READ_SHARE = 0.5


@dataclass(frozen=True)
class IngestResult:
    """What one ingestion produced.

    Attributes:
        axis: the depth axis (unit-free; the caller knows the unit).
        columns: image width in pixels.
        levels: pyramid levels written.
        dtype: ``uint8`` or ``float32`` (the stored layout).
        rows_read: scanlines kept.
        rows_dropped: scanlines dropped (empty depth).
        bytes_read: size of the CSV in bytes.
        value_min: smallest stored value (None when every pixel is nodata).
        value_max: largest stored value.
        value_p2: 2nd percentile of the stored values (the default colour stretch
            of float images); exact for uint8, within 1/4096 of the range for float32.
        value_p98: 98th percentile.
    """

    axis: DepthAxis
    columns: int
    levels: int
    dtype: str
    rows_read: int
    rows_dropped: int
    bytes_read: int
    value_min: float | None = None
    value_max: float | None = None
    value_p2: float | None = None
    value_p98: float | None = None


def tiff_description(axis: DepthAxis, columns: int, depth_unit: str) -> str:
    """The JSON stored as the ImageDescription of the first page.

    It makes the file self-describing: the depth of row ``r`` is
    ``depth_min + r * depth_step`` in ``depth_unit``.
    """
    return json.dumps(
        {
            "depthtiles": 1,
            "depth_min": axis.depth_min,
            "depth_max": axis.depth_max,
            "depth_step": axis.depth_step,
            "depth_unit": depth_unit,
            "rows": axis.rows,
            "columns": columns,
        }
    )


@dataclass(frozen=True)
class IngestOptions:
    """How to read a CSV (README, "Input policy").

    Attributes:
        on_duplicate: scanlines landing on one row: ``error`` (refuse, naming
            both lines), ``first``, ``last`` (in file order) or ``mean``.
        resample: snap irregularly spaced scanlines to the nearest row of a
            regular grid (step = median spacing) instead of refusing them.
        target_width: resample every scanline to this many columns with an
            area-averaging filter (nodata-aware), e.g. 150; None keeps the width.
    """

    on_duplicate: str = "error"
    resample: bool = False
    target_width: int | None = None


#: The default input policy: refuse duplicates and irregular spacing, keep the width.
DEFAULT_OPTIONS = IngestOptions()


@dataclass(frozen=True)
class IngestLimits:
    """Caps on one job, each checked before the work it bounds (README, "Limits").

    The service fills them from settings (the names in brackets); None is no limit.

    Attributes:
        max_rows: image rows, gap rows included (``DJANGO_MAX_ROWS``); also the
            most scanlines read, so the spool stops growing at the limit.
        max_columns: pixel columns of the file (``DJANGO_MAX_COLUMNS``).
        max_cells: image rows x stored columns (``DJANGO_MAX_CELLS``).
        max_gap_rows: nodata rows one gap between two scanlines may add
            (``DJANGO_MAX_GAP_ROWS``).
        max_line_bytes: bytes of one line of the file, its line end included
            (``DJANGO_MAX_LINE_BYTES``).
    """

    max_rows: int | None = None
    max_columns: int | None = None
    max_cells: int | None = None
    max_gap_rows: int | None = None
    max_line_bytes: int | None = None

    def row_cap(self, columns: int) -> tuple[int | None, str]:
        """The most image rows of ``columns`` columns, and why, in words ("" when unlimited)."""
        caps = []
        if self.max_rows is not None:
            caps.append((self.max_rows, f"the server accepts at most {self.max_rows:,} rows"))
        if self.max_cells is not None:
            caps.append(
                (
                    self.max_cells // columns,
                    (
                        f"rows x {columns:,} columns may not pass {self.max_cells:,} cells, "
                        "the most the server accepts"
                    ),
                )
            )
        return min(caps) if caps else (None, "")


#: No cap at all (the pure core's default; the service passes settings).
NO_LIMITS = IngestLimits()


def resample_scanlines(values: np.ndarray, width: int) -> np.ndarray:
    """Area-average scanlines to ``width`` columns (no more than they have), ignoring nodata.

    Output column ``i`` covers input columns ``[i * w / width, (i + 1) * w / width)``;
    each input column contributes in proportion to its overlap (a box filter, as
    PIL's ``BOX`` resize), valid cells only. Narrowing, an input column overlaps
    at most two output columns, so the sums take ``O(n * w)`` time and memory
    (never a ``(w, width)`` weight matrix: 64 MB for 4,096 columns).

    Args:
        values: ``(n, w) float32``, NaN = nodata.
        width: output columns, 1 <= width <= w.

    Returns:
        ``(n, width) float32``, NaN where no valid cell contributes. (The caller
        rounds for uint8 storage.)

    Raises:
        ValueError: ``width`` is not in 1..w.
    """
    n, w = values.shape
    if not 1 <= width <= w:
        raise ValueError(f"width must be 1..{w}, not {width}")
    edges = np.arange(w + 1) * (width / w)  # input column edges in output units
    first = np.minimum(np.floor(edges[:-1]).astype(np.intp), width - 1)  # output column of each start
    to_first = (np.minimum(edges[1:], first + 1) - edges[:-1]).astype(np.float32)
    to_next = np.clip(edges[1:] - (first + 1), 0, None).astype(np.float32)  # spills into first + 1
    valid = ~np.isnan(values)
    cells = np.where(valid, values, np.float32(0)).astype(np.float32)
    total = np.zeros((n, width + 1), np.float32)
    coverage = np.zeros((n, width + 1), np.float32)
    for target, weight in ((first, to_first), (first + 1, to_next)):
        starts = np.flatnonzero(np.diff(target, prepend=-1))  # runs of one output column
        columns = target[starts]
        total[:, columns] += np.add.reduceat(cells * weight, starts, axis=1)
        coverage[:, columns] += np.add.reduceat(valid * weight, starts, axis=1)
    total, coverage = total[:, :width], coverage[:, :width]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(coverage > 1e-6, total / coverage, np.nan).astype(np.float32)


def _pixels_to_floats(pixels: np.ndarray) -> np.ndarray:
    """``(n, columns, 2) uint8`` (value, alpha) as ``(n, columns) float32``, NaN where alpha is 0."""
    return np.where(pixels[..., 1] > 0, pixels[..., 0].astype(np.float32), np.float32("nan"))


def _floats_to_pixels(values: np.ndarray) -> np.ndarray:
    """``(n, columns) float32`` integers 0..255 (NaN nodata) as ``(n, columns, 2) uint8`` pixels."""
    valid = ~np.isnan(values)
    pixels = np.empty((*values.shape, SAMPLES), np.uint8)
    pixels[..., 0] = np.where(valid, np.rint(values), 0)
    pixels[..., 1] = np.where(valid, 255, 0)
    return pixels


@dataclass(frozen=True)
class _PreparedBlock:
    """A block converted for the spool in its parsing thread.

    Attributes:
        depth: ``(n,) float64`` depths of its scanlines.
        dropped: scanlines dropped (empty depth).
        bytes_read: CSV bytes consumed so far.
        pixels: ``(n, columns, 2) uint8`` value and alpha, when the block fits uint8.
        floats: ``(n, columns) float32`` (NaN nodata) otherwise.
        histogram: ``(256,) int64`` counts of the valid values of ``pixels``.
    """

    depth: np.ndarray
    dropped: int
    bytes_read: int
    pixels: np.ndarray | None
    floats: np.ndarray | None
    histogram: np.ndarray | None


def _preparer(columns: int, resize: bool) -> Callable[[ScanlineBlock], _PreparedBlock]:
    """The per-block conversion run in the parsing threads (see :func:`iter_scanline_blocks`)."""

    def prepare(block: ScanlineBlock) -> _PreparedBlock:
        pixels = floats = histogram = None
        if resize:
            resampled = resample_scanlines(block.floats(), columns)
            if block.integral:
                pixels = _floats_to_pixels(resampled)
            else:
                floats = resampled
        elif block.valid is not None:
            pixels = np.empty((*block.values.shape, SAMPLES), np.uint8)
            pixels[..., 0] = block.values
            np.multiply(block.valid, 255, out=pixels[..., 1], casting="unsafe")
        elif block.integral:
            pixels = _floats_to_pixels(block.values)
        else:
            floats = block.values
        if pixels is not None:
            # (value, alpha) read as one little-endian uint16 is value + 256 * alpha.
            counts = np.bincount(pixels.view("<u2").ravel(), minlength=1 << 16)
            histogram = counts[255 << 8 :].astype(np.int64)
        return _PreparedBlock(block.depth, block.dropped, block.bytes_read, pixels, floats, histogram)

    return prepare


class _ScanlineSpool:
    """Scanlines in file order on disk, uint8 ``(value, alpha)`` until a value needs float32."""

    def __init__(self, directory: str | Path, columns: int):
        self.columns = columns
        self.layout = UINT8
        self.rows = 0
        self.low, self.high = np.inf, -np.inf  # value range, tracked once float32
        self.directory = Path(directory)
        fd, name = tempfile.mkstemp(prefix="scanlines-", suffix=".raw", dir=self.directory)
        self.path = Path(name)
        self.file = os.fdopen(fd, "wb")

    def append_pixels(self, pixels: np.ndarray) -> None:
        """Add ``(n, columns, 2) uint8`` scanlines: value, alpha (0 = nodata)."""
        if self.layout is not UINT8:
            self.append_floats(_pixels_to_floats(pixels))
            return
        self.file.write(pixels.tobytes())
        self.rows += pixels.shape[0]

    def append_floats(self, values: np.ndarray) -> None:
        """Add ``(n, columns) float32`` scanlines (NaN nodata), switching the spool to float32."""
        if self.layout is UINT8:
            self._to_float()
        self._widen(values)
        self.file.write(np.ascontiguousarray(values, np.float32).tobytes())
        self.rows += values.shape[0]

    def _widen(self, values: np.ndarray) -> None:
        if values.size and not np.isnan(values).all():
            self.low = min(self.low, float(np.nanmin(values)))
            self.high = max(self.high, float(np.nanmax(values)))

    @property
    def value_range(self) -> tuple[float | None, float | None]:
        """(min, max) of the float32 spool, or (None, None) when it is all nodata."""
        return (self.low, self.high) if self.low <= self.high else (None, None)

    def _to_float(self) -> None:
        """Rewrite the uint8 spool as float32 (NaN where alpha is 0), once."""
        self.file.close()
        old = self.path
        fd, name = tempfile.mkstemp(prefix="scanlines-", suffix=".raw", dir=self.directory)
        self.path, self.file = Path(name), os.fdopen(fd, "wb")
        chunk = 65536
        with open(old, "rb") as source:
            while data := source.read(chunk * self.columns * SAMPLES):
                floats = _pixels_to_floats(np.frombuffer(data, np.uint8).reshape(-1, self.columns, SAMPLES))
                self._widen(floats)
                self.file.write(floats.tobytes())
        old.unlink()
        self.layout = FLOAT32

    def open(self) -> _SpoolReader:
        """Close for writing; a reader of the rows."""
        self.file.close()
        return _SpoolReader(self.path, self.rows, self.columns, self.layout)

    def remove(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


class _SpoolReader:
    """Rows of a spool file read with ``os.pread`` into fresh arrays.

    Not a memory map on purpose: mapped pages of a 1.4 GB spool would count in
    the process's resident memory as they are read.
    """

    def __init__(self, path: Path, rows: int, columns: int, layout):
        self.rows, self.columns, self.layout = rows, columns, layout
        self.shape = (rows, columns, layout.samples)
        self.row_bytes = columns * layout.samples * np.dtype(layout.dtype).itemsize
        self.fd = os.open(path, os.O_RDONLY)

    def read(self, first: int, stop: int) -> np.ndarray:
        """Rows ``[first, stop)`` as ``(stop - first, columns, samples)``."""
        data = os.pread(self.fd, (stop - first) * self.row_bytes, first * self.row_bytes)
        return np.frombuffer(data, self.layout.dtype).reshape(stop - first, self.columns, self.layout.samples)

    def take(self, indices: np.ndarray) -> np.ndarray:
        """Rows at ``indices`` (any order), one read per run of consecutive rows."""
        out = np.empty((indices.size, self.columns, self.layout.samples), self.layout.dtype)
        if not indices.size:
            return out
        order = np.argsort(indices, kind="stable")
        ordered = indices[order]
        breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
        start = 0
        for end in [*breaks.tolist(), ordered.size]:
            out[order[start:end]] = self.read(int(ordered[start]), int(ordered[end - 1]) + 1)
            start = end
        return out

    def close(self) -> None:
        os.close(self.fd)


class _Statistics:
    """Min, max and 2nd/98th percentiles of the stored values, from level-0 bands."""

    BINS = 4096

    def __init__(self, layout, low: float | None, high: float | None):
        self.layout = layout
        self.low, self.high = low, high
        self.histogram = np.zeros(256 if layout is UINT8 else self.BINS, np.int64)

    def add(self, band: np.ndarray) -> None:
        if self.layout is UINT8:
            alpha = band[..., 1]
            values = band[..., 0].ravel() if alpha.all() else band[..., 0][alpha > 0]
            self.histogram += np.bincount(values, minlength=256)
        elif self.low is not None:
            cells = band[~np.isnan(band)]
            self.histogram += np.histogram(cells, bins=self.BINS, range=(self.low, self.high or self.low))[0]

    def result(self) -> dict[str, float | None]:
        total = int(self.histogram.sum())
        if not total:
            return {"value_min": None, "value_max": None, "value_p2": None, "value_p98": None}
        cumulative = np.cumsum(self.histogram)
        # Float values were binned only when the spool knew their range (see add).
        low_edge = self.low if self.low is not None else 0.0
        high_edge = self.high if self.high is not None else low_edge

        def percentile(q: float) -> float:
            """Nearest rank: the value (uint8) or bin upper edge (float) holding rank ceil(q * n)."""
            index = int(np.searchsorted(cumulative, max(1, int(np.ceil(q * total)))))
            if self.layout is UINT8:
                return float(index)
            width = (high_edge - low_edge) / self.BINS
            return float(min(high_edge, low_edge + (index + 1) * width))

        if self.layout is UINT8:
            present = np.flatnonzero(self.histogram)
            low, high = float(present[0]), float(present[-1])
        else:
            low, high = float(low_edge), float(high_edge)
        return {
            "value_min": low,
            "value_max": high,
            "value_p2": percentile(0.02),
            "value_p98": percentile(0.98),
        }


class ScanlineCollector:
    """The scanlines of one image as they are read, before its depth axis is known.

    Spools them to a scratch file in read order (:class:`_ScanlineSpool`: uint8
    ``(value, alpha)`` until a value needs float32) and keeps their depths
    (8 bytes per scanline) and, with ``track_data``, whether each holds any
    valid cell (1 byte per scanline, for :func:`to_pyramid`'s ``trim``).
    Shared by the CSV path (:func:`csv_to_pyramid`) and the well job (one
    collector per image of a well log, fed by one pass over the file).

    Args:
        scratch_dir: where the spool file goes.
        columns: pixels per scanline.
        track_data: record per scanline whether it has a valid cell.
    """

    def __init__(self, scratch_dir: str | Path, columns: int, *, track_data: bool = False):
        self.columns = columns
        self.spool = _ScanlineSpool(scratch_dir, columns)
        self.depths: list[np.ndarray] = []
        self.has_data: list[np.ndarray] | None = [] if track_data else None
        #: Counts of the uint8 values appended (stored as read unless rows are merged).
        self.histogram = np.zeros(256, np.int64)
        self.scanlines = 0
        self.dropped = 0

    def add_pixels(self, depth: np.ndarray, pixels: np.ndarray, histogram: np.ndarray | None = None) -> None:
        """Append scanlines of uint8 pixels.

        Args:
            depth: ``(n,) float64`` their depths.
            pixels: ``(n, columns, 2) uint8`` value and alpha (0 = nodata).
            histogram: ``(256,) int64`` counts of their valid values, when known.
        """
        self.spool.append_pixels(pixels)
        if histogram is not None:
            self.histogram += histogram
        self._add(depth, lambda: np.asarray((pixels[..., 1] > 0).any(axis=1)))

    def add_floats(self, depth: np.ndarray, values: np.ndarray) -> None:
        """Append scanlines of ``(n, columns) float32`` values (NaN nodata): the image is then float32."""
        self.spool.append_floats(values)
        self._add(depth, lambda: ~np.isnan(values).all(axis=1))

    def _add(self, depth: np.ndarray, has_data: Callable[[], np.ndarray]) -> None:
        self.depths.append(np.asarray(depth, np.float64))
        self.scanlines += depth.size
        if self.has_data is not None:
            self.has_data.append(has_data())

    def depth(self) -> np.ndarray:
        """``(scanlines,) float64`` the depths in read order."""
        return np.concatenate(self.depths) if self.depths else np.empty(0)

    def kept(self, trim: bool) -> np.ndarray | None:
        """Read-order positions of the scanlines an image keeps; None: all of them.

        With ``trim``, the scanlines shallower than the shallowest one holding a
        valid cell, and deeper than the deepest one, are left out (in depth order:
        the leading and trailing all-nodata scanlines of a log written upwards
        too). None of them holding any: an empty array.
        """
        if not trim or self.has_data is None:
            return None
        depth = self.depth()
        has = np.concatenate(self.has_data) if self.has_data else np.empty(0, bool)
        if not has.any():
            return np.empty(0, np.intp)
        low, high = depth[has].min(), depth[has].max()
        return np.flatnonzero((depth >= low) & (depth <= high))

    def remove(self) -> None:
        """Delete the spool file."""
        self.spool.remove()


#: ``explain(indices, error)``: the exception to raise for a depth-axis error,
#: ``indices`` the read-order positions of the scanlines involved.
AxisErrorExplainer = Callable[[tuple[int, ...], DepthAxisError], Exception]


class EmptyImageError(ValueError):
    """No scanline of the image holds a valid cell (nothing is left once its ends are trimmed)."""


def to_pyramid(
    collector: ScanlineCollector,
    tiff_path: str | Path,
    *,
    depth_unit: str,
    options: IngestOptions,
    limits: IngestLimits,
    explain: AxisErrorExplainer,
    bytes_read: int,
    trim: bool = False,
    on_rows: Callable[[float], None] | None = None,
) -> IngestResult:
    """Place the collected scanlines on a depth axis and write their pyramid to ``tiff_path``.

    The depth axis follows the input policy (:func:`ingest.axis.depth_axis_from_depths`:
    sorted by depth, whatever the read order, duplicates by ``on_duplicate``, gaps
    as nodata rows, irregular spacing refused unless ``resample``); the caps of
    ``limits`` on rows and gaps are checked before any array of rows exists. The
    collector's spool is closed here (the caller removes it).

    Args:
        collector: the image's scanlines (closed for appending from here on).
        tiff_path: where to write the TIFF (the caller moves it into place).
        depth_unit: "m" or "ft", recorded in the TIFF.
        options: the input policy (``target_width`` already applied by the caller).
        limits: the job's caps.
        explain: turns a depth-axis error into the exception raised (it words the
            lines or records of the scanlines involved, given in read order).
        bytes_read: bytes of the file read (recorded in the result).
        trim: leave out the leading and trailing scanlines (in depth order) in
            which every column is nodata (:meth:`ScanlineCollector.kept`).
        on_rows: called with the fraction of rows written (0..1).

    Returns:
        What was written.

    Raises:
        EmptyImageError: ``trim`` and no scanline holds a valid cell.
        Exception: what ``explain`` makes of a depth-axis error.
    """
    columns = collector.columns
    row_cap, row_cap_reason = limits.row_cap(columns)
    depth = collector.depth()
    kept = collector.kept(trim)
    if kept is not None:
        if not kept.size:
            raise EmptyImageError("every value of the image is nodata")
        depth = depth[kept]
    try:
        axis = depth_axis_from_depths(
            depth,
            on_duplicate=options.on_duplicate,
            resample=options.resample,
            max_rows=row_cap,
            max_gap_rows=limits.max_gap_rows,
        )
    except DepthAxisError as exc:
        indices = tuple(int(kept[i]) for i in exc.indices) if kept is not None else exc.indices
        if isinstance(exc, AxisTooLargeError) and len(exc.indices) == 1:
            exc.message += f": {row_cap_reason}"
        raise explain(indices, exc) from None
    spool = collector.spool
    layout = spool.layout
    scanlines = spool.open()
    try:
        statistics = _Statistics(layout, *spool.value_range)
        source: _SpoolReader | _KeptReader = scanlines if kept is None else _KeptReader(scanlines, kept)
        band_reader = _band_reader(axis, source, layout)
        if layout is UINT8 and kept is None and not axis.merged and (axis.row_of_scanline >= 0).all():
            statistics.histogram = collector.histogram  # every scanline is stored once, as read
            read_band = band_reader
        else:

            def read_band(first: int, stop: int) -> np.ndarray:
                band = band_reader(first, stop)
                statistics.add(band)
                return band

        def rows_written(rows: int) -> None:
            if on_rows:
                on_rows(rows / axis.rows)

        levels = write_pyramid(
            tiff_path,
            rows=axis.rows,
            columns=columns,
            read_band=read_band,
            layout=layout,
            description=tiff_description(axis, columns, depth_unit),
            scratch_dir=spool.directory,
            on_rows=rows_written,
        )
    finally:
        scanlines.close()
    return IngestResult(
        axis=axis,
        columns=columns,
        levels=levels,
        dtype=layout.name,
        rows_read=int(depth.size),
        rows_dropped=collector.dropped,
        bytes_read=bytes_read,
        **statistics.result(),
    )


class _KeptReader:
    """A spool reader seen through the read-order positions an image keeps (its trimmed ends left out)."""

    def __init__(self, reader: _SpoolReader, kept: np.ndarray):
        self.reader, self.kept = reader, kept
        self.shape = (kept.size, *reader.shape[1:])

    def read(self, first: int, stop: int) -> np.ndarray:
        """Kept scanlines ``[first, stop)``: one read, as kept positions are consecutive runs."""
        return self.reader.take(self.kept[first:stop])

    def take(self, indices: np.ndarray) -> np.ndarray:
        """Kept scanlines at ``indices``."""
        return self.reader.take(self.kept[indices])


def csv_to_pyramid(
    csv_path: str | Path,
    tiff_path: str | Path,
    *,
    depth_unit: str,
    scratch_dir: str | Path,
    options: IngestOptions = DEFAULT_OPTIONS,
    limits: IngestLimits = NO_LIMITS,
    on_progress: ProgressCallback | None = None,
) -> IngestResult:
    """Read ``csv_path`` and write its pyramid to ``tiff_path``.

    Every cap of ``limits`` is checked before the memory or disk it bounds is
    used: line length and columns on the header, ``target_width`` against the
    columns, scanlines as they are read (the spool stops at the cap), rows and
    gaps when the axis is placed, before any array of rows exists.

    Args:
        csv_path: the uploaded CSV.
        tiff_path: where to write the TIFF (the caller moves it into place).
        depth_unit: unit of the depth column ("m" or "ft"), recorded in the TIFF.
        scratch_dir: directory for spool files; they are removed before returning.
        options: input policy.
        limits: caps on the job (:class:`IngestLimits`).
        on_progress: progress callback.

    Returns:
        What was written.

    Raises:
        CsvFormatError: the CSV cannot be read, its depths do not make a
            regular axis (with the CSV line numbers of the scanlines involved),
            ``target_width`` is more than the file's columns (line 1), or a cap
            of ``limits`` is passed (with the line that passes it).
    """
    header = read_header(csv_path, max_line_bytes=limits.max_line_bytes, max_columns=limits.max_columns)
    if options.target_width and options.target_width > header.columns:
        raise CsvFormatError(
            f"target_width {options.target_width} is more than the file's {header.columns} pixel "
            f"columns: target_width only narrows an image (1 to {header.columns})",
            line=1,
        )
    total_bytes = os.path.getsize(csv_path)
    resize = options.target_width and options.target_width != header.columns
    columns = options.target_width or header.columns
    collector = ScanlineCollector(scratch_dir, columns)
    try:
        _collect_csv(csv_path, header, collector, limits, bool(resize), on_progress, total_bytes)

        def explain(indices: tuple[int, ...], exc: DepthAxisError) -> CsvFormatError:
            lines = scanline_lines(csv_path, header, indices)
            where = " and ".join(f"line {line}" for line in lines)
            return CsvFormatError(
                f"{exc.message}" + (f" ({where})" if where else ""),
                line=lines[-1] if lines else None,
                column=header.names[header.depth_index],
            )

        def rows_written(fraction: float) -> None:
            if on_progress:
                on_progress(READ_SHARE + (1 - READ_SHARE) * fraction, total_bytes)

        return to_pyramid(
            collector,
            tiff_path,
            depth_unit=depth_unit,
            options=options,
            limits=limits,
            explain=explain,
            bytes_read=total_bytes,
            on_rows=rows_written,
        )
    finally:
        collector.remove()


def _collect_csv(  # noqa: PLR0917 (one pass of csv_to_pyramid, its state passed in)
    csv_path: str | Path,
    header: CsvHeader,
    collector: ScanlineCollector,
    limits: IngestLimits,
    resize: bool,
    on_progress: ProgressCallback | None,
    total_bytes: int,
) -> None:
    """Read the CSV's scanlines into ``collector``, stopping at the row cap (with its line)."""
    row_cap, row_cap_reason = limits.row_cap(collector.columns)
    blocks = iter_scanline_blocks(
        csv_path, header, prepare=_preparer(collector.columns, resize), max_line_bytes=limits.max_line_bytes
    )
    for block in blocks:
        if row_cap is not None and collector.scanlines + block.depth.size > row_cap:
            blocks.close()
            lines = scanline_lines(csv_path, header, (row_cap,))
            raise CsvFormatError(
                f"the file has more than {row_cap:,} scanlines: {row_cap_reason}",
                line=lines[0] if lines else None,
            )
        if block.pixels is not None:
            collector.add_pixels(block.depth, block.pixels, block.histogram)
        elif block.floats is not None:  # always, without pixels
            collector.add_floats(block.depth, block.floats)
        collector.dropped += block.dropped
        if on_progress:
            on_progress(READ_SHARE * block.bytes_read / max(total_bytes, 1), block.bytes_read)


def _band_reader(axis: DepthAxis, scanlines: _SpoolReader | _KeptReader, layout):
    """``read_band(first, stop)`` over the spooled scanlines, in row order.

    Rows without a scanline are nodata. With ``axis.merged``, a row holding
    several scanlines gets the mean of their valid values.
    """
    columns = scanlines.shape[1]

    def empty(rows: int) -> np.ndarray:
        return np.full((rows, columns, layout.samples), layout.fill, layout.dtype)

    if not axis.merged:
        source_rows = axis.source_rows()

        def read_band(first: int, stop: int) -> np.ndarray:
            source = source_rows[first:stop]
            present = source >= 0
            if present.all() and (np.diff(source) == 1).all():  # sorted, no gap: one read
                return scanlines.read(int(source[0]), int(source[-1]) + 1)
            band = empty(stop - first)
            band[present] = scanlines.take(source[present])
            return band

        return read_band

    by_row = np.argsort(axis.row_of_scanline, kind="stable")
    sorted_rows = axis.row_of_scanline[by_row]

    def read_merged_band(first: int, stop: int) -> np.ndarray:
        lo, hi = np.searchsorted(sorted_rows, [first, stop])
        members = np.sort(by_row[lo:hi])  # file order: sequential reads of the spool
        picked = scanlines.take(members)
        rows = axis.row_of_scanline[members] - first
        if layout is UINT8:
            value, valid = picked[..., 0].astype(np.float64), picked[..., 1] > 0
        else:
            value, valid = picked[..., 0].astype(np.float64), ~np.isnan(picked[..., 0])
        total = np.zeros((stop - first, columns), np.float64)
        count = np.zeros((stop - first, columns), np.int64)
        np.add.at(total, rows, np.where(valid, value, 0))
        np.add.at(count, rows, valid)
        band = empty(stop - first)
        has = count > 0
        mean = total[has] / count[has]
        if layout is UINT8:
            band[..., 0][has] = np.rint(mean).astype(np.uint8)
            band[..., 1][has] = 255
        else:
            band[..., 0][has] = mean.astype(np.float32)
        return band

    return read_merged_band


def scanline_lines(path: str | Path, header: CsvHeader, indices: tuple[int, ...]) -> list[int]:
    """CSV line numbers of kept scanlines given by their position in file order.

    A slow scan with Python's ``csv`` module, used only to word an error.

    Args:
        path: the CSV file.
        header: its header.
        indices: positions among the kept scanlines (those with a depth).

    Returns:
        1-based line numbers (the header is line 1), in the order of ``indices``.
    """
    wanted: dict[int, int | None] = dict.fromkeys(indices)
    if not wanted:
        return []
    kept = -1
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f)
        next(rows, None)
        for row in rows:
            if not row or row[header.depth_index].strip() in NULL_TOKENS:
                continue
            kept += 1
            if kept in wanted:
                wanted[kept] = rows.line_num
                if all(line is not None for line in wanted.values()):
                    break
    return [line for index in indices if (line := wanted[index]) is not None]
