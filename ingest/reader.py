"""Stream and validate the scanlines of a depth-indexed CSV.

Pure module: no Django. The accepted format (written down in README.md):

* line 1 is a header with a ``depth`` column and pixel columns ``col1..colN``
  (N >= 1, any order in the header; stored in numeric order);
* every later line is one scanline: a depth, then one value per pixel column;
* a scanline whose depth is empty is dropped and counted (the sample log ends
  with such a line); an empty pixel cell is nodata;
* pixel values are finite numbers; each block says whether all of its values
  are integers 0..255 (then the image is stored as uint8, else as float32).

The fast path cuts the file into chunks of whole lines and parses them with
pyarrow's CSV reader in parallel threads (one core parses about 200 MB/s),
yielding blocks in file order with a bounded number in flight, so memory does
not grow with the file. pyarrow's own errors do not say where a problem is,
so when it (or a value check) rejects the file, :func:`locate_error` re-reads the
file with Python's ``csv`` module to name the first bad line and column. That
slow scan runs only for files that are about to be refused.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

#: Cell texts read as "no value" (nodata in a pixel cell, a dropped scanline in
#: the depth cell). Shared by the fast reader and :func:`locate_error`.
NULL_TOKENS = ("", "NA", "NaN", "nan", "null", "NULL")

#: CSV bytes parsed per block (memory per block is a small multiple of this;
#: 4 MB parses faster than 16 MB here and keeps pyarrow's read-ahead small).
BLOCK_BYTES = 4 << 20

T = TypeVar("T")

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


def read_header(  # noqa: PLR0912 (one branch per malformed-header case, each with its message)
    path: str | Path, *, max_line_bytes: int | None = None, max_columns: int | None = None
) -> CsvHeader:
    """Parse and check the header line of ``path``.

    Args:
        path: a CSV file.
        max_line_bytes: the longest header line accepted, in bytes with its line
            end (None: no limit; the header is read from the first 1 MiB then).
        max_columns: the most pixel columns accepted (None: no limit).

    Returns:
        The header, with the pixel columns put in numeric order.

    Raises:
        CsvFormatError: empty file, not UTF-8 text, no ``depth`` column, no pixel
            column, a column that is neither, a duplicated column, a gap in
            the numbering (col1, col3 without col2), a header line longer than
            ``max_line_bytes`` or more pixel columns than ``max_columns``
            (all on line 1).
    """
    probe_bytes = _HEADER_PROBE_BYTES if max_line_bytes is None else max_line_bytes + 1
    with open(path, "rb") as f:
        probe = f.read(probe_bytes)
    if not probe.strip():
        raise CsvFormatError("the file is empty", line=1)
    if b"\x00" in probe:
        raise CsvFormatError("the file is not text (it contains NUL bytes)", line=1)
    first, newline, _ = probe.partition(b"\n")
    if max_line_bytes is not None and len(first) + len(newline) > max_line_bytes:
        raise CsvFormatError(_line_too_long(max_line_bytes), line=1)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFormatError(f"the header is not UTF-8 text ({exc.reason})", line=1) from None
    try:
        cells = next(csv.reader([text.rstrip("\r\n")]), [])
    except csv.Error as exc:  # e.g. a lone carriage return inside the first line
        raise CsvFormatError(f"the header cannot be read as CSV ({exc})", line=1) from None
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
    if max_columns is not None and len(numbered) > max_columns:
        raise CsvFormatError(
            f"the file has {len(numbered):,} pixel columns; the server accepts at most {max_columns:,}",
            line=1,
        )
    expected = range(1, len(numbered) + 1)
    missing = [n for n in expected if n not in numbered]
    if missing:
        raise CsvFormatError(
            f"pixel columns must be numbered col1..col{len(numbered)}; col{missing[0]} is missing",
            line=1,
        )
    return CsvHeader(names=names, depth_index=depth_index, pixel_order=tuple(numbered[n] for n in expected))


def _line_too_long(max_line_bytes: int) -> str:
    return f"the line is longer than {max_line_bytes:,} bytes, the longest line the server accepts"


def iter_scanline_blocks(
    path: str | Path,
    header: CsvHeader,
    *,
    block_bytes: int | None = None,
    workers: int | None = None,
    prepare: Callable[[ScanlineBlock], T] | None = None,
    max_line_bytes: int | None = None,
) -> Generator[T, None, None]:
    """Stream the scanlines of ``path`` in blocks of about ``block_bytes`` of CSV.

    The file is cut into chunks of whole lines, read in order by this thread and
    parsed by pyarrow's CSV reader in ``workers`` threads at once (one reader
    per chunk: pyarrow's streaming reader parses on one core); blocks are
    yielded in file order, with at most ``2 * workers`` chunks in flight, so
    memory stays bounded whatever the file size.

    A chunk is parsed with pixel columns typed uint8, pyarrow's fastest
    conversion and the common case. If a cell does not convert (a fraction, a
    value outside 0..255, or no number at all), the chunk is parsed again with
    float32 pixel columns, and the chunks after it are parsed as float32 at
    once. A cell that is no number fails that parse too, and
    :func:`locate_error` names its line and column.

    Args:
        path: the CSV file; its header must be ``header`` (see :func:`read_header`).
        header: the parsed header.
        block_bytes: CSV bytes per chunk (default :data:`BLOCK_BYTES`).
        workers: parsing threads (default: the number of CPUs, at most 4).
        prepare: work to do on each block in its parsing thread (the caller's
            per-block conversion, so it runs in parallel too); its result is
            yielded instead of the block.
        max_line_bytes: the longest line accepted, in bytes with its line end
            (None: no limit). Checked before the line is parsed: a file
            without line ends is refused once its first line passes the limit,
            not held in memory.

    Yields:
        Blocks in file order, or ``prepare(block)``: uint8 blocks (``valid``
        set) or float32 blocks (NaN nodata), one per chunk that holds a
        scanline (kept or dropped).

    Raises:
        CsvFormatError: the first bad line, with its line number and column: a
            wrong number of cells, a value that is not a finite number, or a
            line longer than ``max_line_bytes``.
    """
    parser = _ChunkParser(header)
    workers = workers or min(4, os.cpu_count() or 1)

    def task(chunk: memoryview, position: int, first_line: int) -> object:
        if max_line_bytes is not None and len(chunk) > max_line_bytes:
            longest, index = _longest_line(chunk)
            if longest > max_line_bytes:
                return CsvFormatError(_line_too_long(max_line_bytes), line=first_line + index)
        block = parser.parse(chunk, position)
        if block is None:
            return _BAD
        if not (block.depth.size or block.dropped):
            return _EMPTY
        return prepare(block) if prepare else block

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="csv-parse")
    pending: deque[Future[object]] = deque()
    try:
        for chunk, position, first_line in _chunks(path, block_bytes or BLOCK_BYTES, max_line_bytes):
            pending.append(pool.submit(task, chunk, position, first_line))
            while len(pending) >= 2 * workers or (pending and pending[0].done()):
                if (result := _checked(pending.popleft().result(), path, header)) is not _EMPTY:
                    yield result
        while pending:
            if (result := _checked(pending.popleft().result(), path, header)) is not _EMPTY:
                yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_BAD, _EMPTY = object(), object()  # task results: a chunk with a bad line; a chunk of blank lines


def _checked(result: object, path: str | Path, header: CsvHeader) -> Any:
    """A task's result, or raise the error of its chunk."""
    if result is _BAD:
        raise locate_error(path, header)
    if isinstance(result, CsvFormatError):
        raise result
    return result


def _longest_line(chunk: memoryview) -> tuple[int, int]:
    """(bytes, 0-based index) of the longest line of a chunk, its line end included."""
    data = np.frombuffer(chunk, np.uint8)
    ends = np.flatnonzero(data == 0x0A) + 1
    if not ends.size or ends[-1] != data.size:
        ends = np.append(ends, data.size)
    lengths = np.diff(ends, prepend=0)
    index = int(np.argmax(lengths))
    return int(lengths[index]), index


def _chunks(
    path: str | Path, block_bytes: int, max_line_bytes: int | None = None
) -> Iterator[tuple[memoryview, int, int]]:
    """The data lines of ``path`` in chunks of whole lines.

    Yields:
        (chunk, file position after it, 1-based line number of its first line).

    Raises:
        CsvFormatError: a line not yet ended is longer than ``max_line_bytes``
            (so a file without line ends is never held whole in memory).
    """
    with open(path, "rb") as f:
        header = f.readline(-1 if max_line_bytes is None else max_line_bytes + 1)
        position, line = len(header), 2
        carry = b""
        while data := f.read(block_bytes):
            position += len(data)
            if carry:
                data = carry + data
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                yield memoryview(data)[:cut], position - len(carry), line
                line += data.count(b"\n", 0, cut)
            if max_line_bytes is not None and len(carry) > max_line_bytes:
                raise CsvFormatError(_line_too_long(max_line_bytes), line=line)
        if carry:
            yield memoryview(carry), position, line


class _ChunkParser:
    """Parses chunks of whole CSV lines into blocks; safe to call from several threads."""

    def __init__(self, header: CsvHeader):
        names = [f"c{i}" for i in range(len(header.names))]
        self.depth_name = names[header.depth_index]
        self.pixel_names = [names[i] for i in header.pixel_order]
        self.names = names
        self.floats_seen = False  # once a chunk needed float32, parse the rest as float32 first

    def _convert_options(self, pixel_type: pa.DataType) -> pa_csv.ConvertOptions:
        column_types = dict.fromkeys(self.names, pixel_type)
        column_types[self.depth_name] = pa.float64()
        return pa_csv.ConvertOptions(
            column_types=column_types, null_values=list(NULL_TOKENS), strings_can_be_null=True
        )

    def _table(self, chunk: memoryview, pixel_type: pa.DataType) -> pa.Table:
        read_options = pa_csv.ReadOptions(
            column_names=self.names, block_size=len(chunk) + 1, use_threads=False
        )
        return pa_csv.read_csv(
            pa.BufferReader(pa.py_buffer(chunk)),
            read_options=read_options,
            convert_options=self._convert_options(pixel_type),
        )

    def parse(self, chunk: memoryview, position: int) -> ScanlineBlock | None:
        """The block of one chunk; None when it holds a bad line (see :func:`locate_error`)."""
        if not self.floats_seen:
            try:
                table = self._table(chunk, pa.uint8())
            except pa.ArrowInvalid:
                self.floats_seen = True
            else:
                return self._block(table, position, np.uint8)
        try:
            table = self._table(chunk, pa.float32())
        except pa.ArrowException:
            return None
        return self._block(table, position, np.float32)

    def _block(self, table: pa.Table, position: int, dtype: type) -> ScanlineBlock | None:
        if not table.num_rows:  # blank lines only
            empty: np.ndarray = np.empty((0, len(self.pixel_names)), dtype)
            valid = np.empty(empty.shape, bool) if dtype is np.uint8 else None
            return ScanlineBlock(np.empty(0), empty, valid, True, 0, position)
        return _block(_one_batch(table), self.depth_name, self.pixel_names, position, dtype)


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    """The table as one record batch (a chunk is parsed as one block, so this is no copy)."""
    batches = table.to_batches()
    return batches[0] if len(batches) == 1 else table.combine_chunks().to_batches()[0]


def _column(column: pa.Array, dtype: type) -> tuple[np.ndarray, np.ndarray | None]:
    """An arrow column's values and validity, read from its buffers without a copy.

    Returns:
        ``(n,)`` values of ``dtype`` (undefined under nulls) and ``(n,) bool``
        validity, or None when the column has no null.
    """
    n, offset = len(column), column.offset
    validity, data = column.buffers()[:2]
    values: np.ndarray = np.frombuffer(data, dtype, count=n, offset=offset * np.dtype(dtype).itemsize)
    if not column.null_count:
        return values, None
    bits = np.unpackbits(np.frombuffer(validity, np.uint8), count=offset + n, bitorder="little")
    return values, bits[offset:].view(bool)


def _pixels(
    batch: pa.RecordBatch, pixel_names: list[str], dtype: type
) -> tuple[np.ndarray, np.ndarray | None]:
    """The pixel columns of a batch as ``(n, columns)`` of ``dtype`` and their validity.

    The columns are gathered into a ``(columns, n)`` array (one contiguous copy
    each) with their validity bitmaps unpacked in one call, then transposed, so
    the cost per block does not grow with a Python loop over cells.

    Returns:
        ``(n, columns)`` values (0 for uint8, NaN for float32 under nulls) and
        ``(n, columns) bool`` validity, or None when no cell is null.
    """
    n = batch.num_rows
    columns = [batch.column(name) for name in pixel_names]
    fill = 0 if dtype is np.uint8 else np.float32("nan")
    data = np.empty((len(columns), n), dtype)
    nbytes = (n + 7) // 8
    bits = None
    for j, column in enumerate(columns):
        if column.offset % 8:  # not the layout read_csv makes; one column at a time
            values, column_valid = _column(column, dtype)
            data[j] = values if column_valid is None else np.where(column_valid, values, fill)
            if column_valid is not None:
                if bits is None:
                    bits = np.full((len(columns), nbytes), 0xFF, np.uint8)
                bits[j] = np.packbits(column_valid, bitorder="little")
            continue
        validity, buffer = column.buffers()[:2]
        start = column.offset
        data[j] = np.frombuffer(buffer, dtype, count=n, offset=start * np.dtype(dtype).itemsize)
        if column.null_count:
            if bits is None:
                bits = np.full((len(columns), nbytes), 0xFF, np.uint8)
            bits[j] = np.frombuffer(validity, np.uint8, count=nbytes, offset=start // 8)
    if bits is None:
        return data.T, None
    valid = np.unpackbits(bits, axis=1, count=n, bitorder="little").view(bool)
    return np.where(valid, data, fill).T, valid.T  # the data buffers are undefined under nulls


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
    values, valid = _pixels(batch, pixel_names, dtype)
    if not uint8:
        valid = None  # NaN marks nodata
    elif valid is None:
        valid = np.ones(values.shape, bool)
    if dropped:
        values = values[keep]
        if valid is not None:  # uint8 blocks; float32 ones mark nodata with NaN
            valid = valid[keep]
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
                    problem = _cell_problem(cell, pixel=index != header.depth_index)
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


def _cell_problem(cell: str, *, pixel: bool = True) -> str | None:
    """What is wrong with one cell (a pixel value, or the depth), in words; None when acceptable."""
    text = cell.strip()
    if text in NULL_TOKENS:
        return None
    try:
        value = float(text)
    except ValueError:
        return f"{cell!r} is not a number"
    if not math.isfinite(value):
        return f"{cell!r} is not a finite number"
    if pixel and abs(value) > _FLOAT32_MAX:
        return f"{cell!r} is outside the range of float32 values (the stored type)"
    return None


_FLOAT32_MAX = float(np.finfo(np.float32).max)
