"""CSV -> pyramidal TIFF, end to end, without Django.

Two passes with bounded memory:

1. stream the CSV in blocks (:mod:`ingest.reader`), spooling the scanlines as
   raw ``(value, alpha)`` uint8 to a scratch file in file order and keeping only
   their depths (8 bytes per scanline);
2. place the scanlines on a regular depth axis (:mod:`ingest.axis`) and write the
   pyramid (:mod:`ingest.pyramid`) by reading the spool in depth order, with
   nodata rows for gaps.
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

from ingest.axis import DepthAxis, DepthAxisError, depth_axis_from_depths
from ingest.pyramid import SAMPLES, write_pyramid
from ingest.reader import NULL_TOKENS, CsvFormatError, CsvHeader, iter_scanline_blocks, read_header

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
        rows_read: scanlines kept.
        rows_dropped: scanlines dropped (empty depth).
        bytes_read: size of the CSV in bytes.
        value_min: smallest stored value (None when every pixel is nodata).
        value_max: largest stored value.
        value_p2: 2nd percentile of the stored values (a default colour stretch).
        value_p98: 98th percentile.
    """

    axis: DepthAxis
    columns: int
    levels: int
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


def csv_to_pyramid(
    csv_path: str | Path,
    tiff_path: str | Path,
    *,
    depth_unit: str,
    scratch_dir: str | Path,
    on_progress: ProgressCallback | None = None,
) -> IngestResult:
    """Read ``csv_path`` and write its pyramid to ``tiff_path``.

    Args:
        csv_path: the uploaded CSV.
        tiff_path: where to write the TIFF (the caller moves it into place).
        depth_unit: unit of the depth column ("m" or "ft"), recorded in the TIFF.
        scratch_dir: directory for spool files; they are removed before returning.
        on_progress: progress callback.

    Returns:
        What was written.

    Raises:
        CsvFormatError: the CSV cannot be read, or its depths do not make a
            regular axis (with the CSV line numbers of the scanlines involved).
    """
    header = read_header(csv_path)
    total_bytes = os.path.getsize(csv_path)
    columns = header.columns
    fd, spool_name = tempfile.mkstemp(prefix="scanlines-", suffix=".raw", dir=scratch_dir)
    spool_path = Path(spool_name)
    try:
        depths: list[np.ndarray] = []
        dropped = 0
        histogram = np.zeros(256, np.int64)  # of valid values: exact percentiles for uint8
        with os.fdopen(fd, "wb") as spool:
            for block in iter_scanline_blocks(csv_path, header):
                pixels = np.empty((block.depth.size, columns, SAMPLES), np.uint8)
                pixels[..., 0] = block.values
                pixels[..., 1] = np.where(block.valid, 255, 0)
                spool.write(pixels.tobytes())
                depths.append(block.depth)
                dropped += block.dropped
                histogram += np.bincount(block.values[block.valid], minlength=256)
                if on_progress:
                    on_progress(READ_SHARE * block.bytes_read / max(total_bytes, 1), block.bytes_read)
        depth = np.concatenate(depths) if depths else np.empty(0)
        try:
            axis = depth_axis_from_depths(depth)
        except DepthAxisError as exc:
            lines = scanline_lines(csv_path, header, exc.indices)
            where = " and ".join(f"line {line}" for line in lines)
            raise CsvFormatError(
                f"{exc.message}" + (f" ({where})" if where else ""),
                line=lines[-1] if lines else None,
                column=header.names[header.depth_index],
            ) from None

        scanlines = (
            np.memmap(spool_path, np.uint8, "r", shape=(depth.size, columns, SAMPLES)) if depth.size else None
        )
        source_rows = axis.source_rows()

        def read_band(first: int, stop: int) -> np.ndarray:
            source = source_rows[first:stop]
            present = source >= 0
            if present.all() and source[-1] - source[0] == stop - first - 1:
                return np.array(scanlines[source[0] : source[-1] + 1])
            band = np.zeros((stop - first, columns, SAMPLES), np.uint8)
            band[present] = scanlines[source[present]]
            return band

        def rows_written(rows: int) -> None:
            if on_progress:
                on_progress(READ_SHARE + (1 - READ_SHARE) * rows / axis.rows, total_bytes)

        levels = write_pyramid(
            tiff_path,
            rows=axis.rows,
            columns=columns,
            read_band=read_band,
            description=tiff_description(axis, columns, depth_unit),
            scratch_dir=scratch_dir,
            on_rows=rows_written,
        )
    finally:
        spool_path.unlink(missing_ok=True)
    return IngestResult(
        axis=axis,
        columns=columns,
        levels=levels,
        rows_read=int(depth.size),
        rows_dropped=dropped,
        bytes_read=total_bytes,
        **value_statistics(histogram),
    )


def value_statistics(histogram: np.ndarray) -> dict[str, float | None]:
    """Min, max and the 2nd/98th percentiles (nearest rank) from a 256-bin histogram of uint8 values."""
    total = int(histogram.sum())
    if not total:
        return {"value_min": None, "value_max": None, "value_p2": None, "value_p98": None}
    present = np.flatnonzero(histogram)
    cumulative = np.cumsum(histogram)

    def percentile(q: float) -> float:
        return float(np.searchsorted(cumulative, max(1, int(np.ceil(q * total)))))

    return {
        "value_min": float(present[0]),
        "value_max": float(present[-1]),
        "value_p2": percentile(0.02),
        "value_p98": percentile(0.98),
    }


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
    wanted = {index: None for index in indices}
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
    return [wanted[index] for index in indices if wanted[index] is not None]
