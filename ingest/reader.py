"""Stream and validate the scanlines of a depth-indexed CSV.

Pure module: no Django. The accepted format (written down in README.md):

* line 1 is a header with a ``depth`` column and pixel columns ``col1..colN``
  (N >= 1, any order in the header; stored in numeric order);
* every later line is one scanline: a depth, then one value per pixel column;
* a scanline whose depth is empty is dropped and counted (the sample log ends
  with such a line); an empty pixel cell is nodata;
* pixel values are finite numbers; each block says whether all of its values
  are integers 0..255 (then the image is stored as uint8, else as float32).

The fast path parses with pyarrow's streaming CSV reader in blocks, so memory
does not grow with the file. pyarrow's own errors do not say where a problem is,
so when it (or a value check) rejects the file, :func:`locate_error` re-reads the
file with Python's ``csv`` module to name the first bad line and column. That
slow scan runs only for files that are about to be refused.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

#: Cell texts read as "no value" (nodata in a pixel cell, a dropped scanline in
#: the depth cell). Shared by the fast reader and :func:`locate_error`.
NULL_TOKENS = ("", "NA", "NaN", "nan", "null", "NULL")

#: CSV bytes parsed per block (memory per block is a small multiple of this;
#: 4 MB parses faster than 16 MB here and keeps pyarrow's read-ahead small).
BLOCK_BYTES = 4 << 20

_PIXEL_COLUMN = re.compile(r"^col(\d+)$")
_HEADER_PROBE_BYTES = 1 << 20


class CsvFormatError(ValueError):
    """The CSV cannot be read as a depth-indexed image.

    Attributes:
        message: what is wrong, in words.
        line: 1-based line number in the file (line 1 is the header), or None
            when the problem is not tied to one line (an empty file).
        column: the header name of the offending column, or None.
    """

    def __init__(self, message: str, *, line: int | None = None, column: str | None = None):
        self.message = message
        self.line = line
        self.column = column
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


@dataclass(frozen=True)
class CsvHeader:
    """The parsed header line.

    Attributes:
        names: the header cells as written, stripped of spaces, in file order.
        depth_index: position of the ``depth`` column in ``names``.
        pixel_order: positions in ``names`` of col1, col2, ... colN, in that order.
    """

    names: tuple[str, ...]
    depth_index: int
    pixel_order: tuple[int, ...]

    @property
    def columns(self) -> int:
        """Number of pixel columns (the image width in pixels)."""
        return len(self.pixel_order)


@dataclass(frozen=True)
class ScanlineBlock:
    """A block of consecutive scanlines, in file order.

    Attributes:
        depth: ``(n,) float64`` depth of each scanline, in the file's depth unit.
        values: ``(n, columns)`` pixel values: uint8 (with ``valid``), or float32
            with NaN marking nodata (``valid`` is None).
        valid: ``(n, columns) bool`` for a uint8 block: False marks nodata (value 0).
        integral: True when every value of the block is an integer 0..255.
        dropped: scanlines of this block dropped because their depth was empty.
        bytes_read: bytes of the file consumed so far (for progress).
    """

    depth: np.ndarray
    values: np.ndarray
    valid: np.ndarray | None
    integral: bool
    dropped: int
    bytes_read: int

    def floats(self) -> np.ndarray:
        """The values as ``(n, columns) float32``, NaN for nodata."""
        if self.valid is None:
            return self.values
        return np.where(self.valid, self.values.astype(np.float32), np.float32("nan"))


def read_header(path: str | Path) -> CsvHeader:
    """Parse and check the header line of ``path``.

    Args:
        path: a CSV file.

    Returns:
        The header, with the pixel columns put in numeric order.

    Raises:
        CsvFormatError: empty file, not UTF-8 text, no ``depth`` column, no pixel
            column, a column that is neither, a duplicated column, or a gap in
            the numbering (col1, col3 without col2).
    """
    with open(path, "rb") as f:
        probe = f.read(_HEADER_PROBE_BYTES)
    if not probe.strip():
        raise CsvFormatError("the file is empty", line=1)
    if b"\x00" in probe:
        raise CsvFormatError("the file is not text (it contains NUL bytes)", line=1)
    first, _, _ = probe.partition(b"\n")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFormatError(f"the header is not UTF-8 text ({exc.reason})", line=1) from None
    cells = next(csv.reader([text.rstrip("\r\n")]), [])
    names = tuple(cell.strip() for cell in cells)
    depth_index = None
    numbered: dict[int, int] = {}
    for index, name in enumerate(names):
        key = name.lower()
        if key == "depth":
            if depth_index is not None:
                raise CsvFormatError("the 'depth' column appears twice", line=1, column=name)
            depth_index = index
            continue
        match = _PIXEL_COLUMN.match(key)
        if not match:
            raise CsvFormatError(
                "unexpected column: the header must be 'depth' and col1..colN", line=1, column=name
            )
        number = int(match.group(1))
        if number in numbered:
            raise CsvFormatError("this column appears twice", line=1, column=name)
        numbered[number] = index
    if depth_index is None:
        raise CsvFormatError("the header has no 'depth' column", line=1)
    if not numbered:
        raise CsvFormatError("the header has no pixel column (col1..colN)", line=1)
    expected = range(1, len(numbered) + 1)
    missing = [n for n in expected if n not in numbered]
    if missing:
        raise CsvFormatError(
            f"pixel columns must be numbered col1..col{len(numbered)}; col{missing[0]} is missing",
            line=1,
        )
    return CsvHeader(names=names, depth_index=depth_index, pixel_order=tuple(numbered[n] for n in expected))


def iter_scanline_blocks(
    path: str | Path, header: CsvHeader, *, block_bytes: int | None = None
) -> Iterator[ScanlineBlock]:
    """Stream the scanlines of ``path`` in blocks of about ``block_bytes`` of CSV.

    The file is first parsed with pixel columns typed uint8, pyarrow's fastest
    conversion and the common case. If a cell does not convert (a fraction, a
    value outside 0..255, or no number at all), the file is parsed again with
    float32 pixel columns, skipping the scanlines already yielded; a cell that
    is no number fails that pass too and is located by :func:`locate_error`.

    Args:
        path: the CSV file; its header must be ``header`` (see :func:`read_header`).
        header: the parsed header.
        block_bytes: CSV bytes parsed per block (default :data:`BLOCK_BYTES`).

    Yields:
        Blocks in file order: uint8 blocks (``valid`` set) while the uint8 pass
        holds, float32 blocks (NaN nodata) after a switch.

    Raises:
        CsvFormatError: the first bad line, with its line number and column: a
            wrong number of cells, or a value that is not a finite number.
    """
    names = [f"c{i}" for i in range(len(header.names))]
    depth_name = names[header.depth_index]
    pixel_names = [names[i] for i in header.pixel_order]
    rows_yielded = 0
    try:
        for batch, position in _batches(path, names, depth_name, pa.uint8(), block_bytes):
            block = _block(batch, depth_name, pixel_names, position, np.uint8)
            if block is None:
                raise locate_error(path, header)
            rows_yielded += batch.num_rows
            yield block
        return
    except pa.ArrowInvalid:
        pass  # some cell is not an integer 0..255: parse again as float32
    try:
        skip = rows_yielded
        for batch, position in _batches(path, names, depth_name, pa.float32(), block_bytes):
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            if skip:
                batch, skip = batch.slice(skip), 0
            block = _block(batch, depth_name, pixel_names, position, np.float32)
            if block is None:
                raise _BadValue
            yield block
    except (pa.ArrowException, _BadValue):
        raise locate_error(path, header) from None


def _batches(
    path: str | Path, names: list[str], depth_name: str, pixel_type: pa.DataType, block_bytes: int | None
) -> Iterator[tuple[pa.RecordBatch, int]]:
    """Arrow batches of the data lines, with the file position reached (for progress)."""
    column_types = {name: pixel_type for name in names}
    column_types[depth_name] = pa.float64()
    read_options = pa_csv.ReadOptions(
        column_names=names, skip_rows=1, block_size=block_bytes or BLOCK_BYTES, use_threads=True
    )
    convert_options = pa_csv.ConvertOptions(
        column_types=column_types, null_values=list(NULL_TOKENS), strings_can_be_null=True
    )
    with pa.OSFile(str(path), "rb") as source:
        reader = pa_csv.open_csv(source, read_options=read_options, convert_options=convert_options)
        for batch in reader:
            # tell() runs ahead of parsing by at most one block: good enough for progress.
            yield batch, source.tell()


class _BadValue(Exception):
    """Internal: the fast path found a bad value; :func:`locate_error` names it."""


def _column(column: pa.Array, dtype: type) -> tuple[np.ndarray, np.ndarray | None]:
    """An arrow column's values and validity, read from its buffers without a copy.

    Returns:
        ``(n,)`` values of ``dtype`` (undefined under nulls) and ``(n,) bool``
        validity, or None when the column has no null.
    """
    n, offset = len(column), column.offset
    validity, data = column.buffers()[:2]
    values = np.frombuffer(data, dtype, count=n, offset=offset * np.dtype(dtype).itemsize)
    if not column.null_count:
        return values, None
    bits = np.unpackbits(np.frombuffer(validity, np.uint8), count=offset + n, bitorder="little")
    return values, bits[offset:].view(bool)


def _depths(batch: pa.RecordBatch, depth_name: str) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Depths of the kept scanlines, the keep mask, the dropped count; None for an infinite depth."""
    depth, valid = _column(batch.column(depth_name), np.float64)
    if valid is not None:
        depth = np.where(valid, depth, np.nan)
    if np.isinf(depth).any():
        return None
    keep = ~np.isnan(depth)
    return depth[keep], keep, int(keep.size - np.count_nonzero(keep))


def _block(
    batch: pa.RecordBatch, depth_name: str, pixel_names: list[str], position: int, dtype: type
) -> ScanlineBlock | None:
    """A block from a batch whose pixel columns are ``dtype`` (uint8 or float32).

    Returns None for an infinite depth or value (then :func:`locate_error` names it).
    """
    depths = _depths(batch, depth_name)
    if depths is None:
        return None
    depth, keep, dropped = depths
    uint8 = dtype is np.uint8
    values = np.empty((batch.num_rows, len(pixel_names)), dtype)
    valid = np.ones(values.shape, bool) if uint8 else None
    fill = 0 if uint8 else np.float32("nan")
    for j, name in enumerate(pixel_names):
        column, column_valid = _column(batch.column(name), dtype)
        if column_valid is None:
            values[:, j] = column
        else:
            values[:, j] = np.where(column_valid, column, fill)  # the buffer is undefined under nulls
            if uint8:
                valid[:, j] = column_valid
    if dropped:
        values = values[keep]
        valid = valid[keep] if uint8 else None
    integral = True
    if not uint8:
        if np.isinf(values).any():
            return None
        cells = values[~np.isnan(values)]
        integral = not cells.size or bool(
            cells.min() >= 0 and cells.max() <= 255 and np.array_equal(cells, np.rint(cells))
        )
    return ScanlineBlock(
        depth=depth, values=values, valid=valid, integral=integral, dropped=dropped, bytes_read=position
    )


def locate_error(path: str | Path, header: CsvHeader) -> CsvFormatError:
    """Find the first bad line of ``path`` with Python's ``csv`` module.

    Args:
        path: the CSV file.
        header: its parsed header.

    Returns:
        The error to raise: line number (1-based, header is line 1), column name
        and what is wrong. When nothing is found, an error without a line.
    """
    width = len(header.names)
    with open(path, "rb") as f:
        lines = _decoded_lines(f)
        rows = csv.reader(lines)
        try:
            next(rows, None)
            for row in rows:
                line = rows.line_num
                if len(row) == 0:
                    continue
                if len(row) != width:
                    return CsvFormatError(
                        f"expected {width} cells (depth and {header.columns} pixel columns), "
                        f"found {len(row)}",
                        line=line,
                    )
                for index, cell in enumerate(row):
                    problem = _cell_problem(cell)
                    if problem:
                        return CsvFormatError(problem, line=line, column=header.names[index])
        except _NotText as exc:
            return CsvFormatError(f"the file is not UTF-8 text ({exc})", line=rows.line_num + 1)
        except csv.Error as exc:
            return CsvFormatError(f"malformed CSV ({exc})", line=rows.line_num)
    return CsvFormatError("the CSV could not be parsed, but no single bad line was found")


class _NotText(Exception):
    """Internal: a line is not UTF-8."""


def _decoded_lines(f: io.BufferedReader) -> Iterator[str]:
    for number, raw in enumerate(f):
        try:
            yield raw.decode("utf-8-sig" if number == 0 else "utf-8")
        except UnicodeDecodeError as exc:
            raise _NotText(exc.reason) from None


def _cell_problem(cell: str) -> str | None:
    """What is wrong with one cell, in words, or None when it is acceptable."""
    text = cell.strip()
    if text in NULL_TOKENS:
        return None
    try:
        value = float(text)
    except ValueError:
        return f"{cell!r} is not a number"
    if not math.isfinite(value):
        return f"{cell!r} is not a finite number"
    return None
