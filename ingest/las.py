"""LAS 2.0 well logs: lasio reads the header, our streaming parser reads ``~A``.

Pure module: no Django. Use it through :mod:`ingest.welllog`.

Why two readers: lasio (the field's standard LAS library) parses the header
sections well, wrapped files included, but it reads ``~A`` into whole-file
arrays (2,000,000 depths x 361 curves would be about 6 GB of float64). So we
hand lasio the text before ``~A`` only, and parse the data section ourselves:
wrapped or not, it is a stream of whitespace-separated numbers, one per ``~C``
curve per sample. Chunks of about :data:`BLOCK_BYTES` of whole lines are split
and converted to float64 by pyarrow's compute kernels (C++, no GIL) in a small
thread pool; the samples come out in file order with a bounded number of chunks
in flight. When pyarrow rejects a chunk, :func:`_locate_bad_value` rescans that
chunk only, in Python, to name the line and curve of the first bad value.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.welllog import (
    INCH_FACTORS,
    TIME_UNITS,
    CurveSpec,
    ImageSpec,
    WellBlock,
    WellHeader,
    WellLog,
    WellLogError,
    depth_unit_of,
)

#: LAS text parsed per block (about 230,000 values at 9 characters per value); 2 MB
#: blocks parse as fast as 4 MB ones and keep 20 MB less in flight.
BLOCK_BYTES = 2 << 20
#: The most bytes before ``~A``: a header of 1,000 curves is about 100 KB.
HEADER_MAX_BYTES = 4 << 20
#: Header facts kept (count, characters of each value, characters of ``~O``).
MAX_FACTS = 400
MAX_FACT_CHARS = 300
MAX_OTHER_CHARS = 2000
#: Smallest sector family: fewer curves differing by a number are ordinary curves.
MIN_SECTORS = 4
#: Chunks parsed ahead of the consumer (memory: about 5 x BLOCK_BYTES each).
_IN_FLIGHT = 3
_THREADS = 2

_DIGITS = re.compile(r"\d+")
_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?nan", re.IGNORECASE)

#: Index mnemonics that say the log is indexed by time, which we refuse.
TIME_MNEMONICS = frozenset({"TIME", "ETIM", "ETIME", "DATE", "TIM"})


@dataclass(frozen=True)
class LasPlan:
    """Where and how to read the data section (from the header scan).

    Attributes:
        data_offset: byte offset of the line after ``~A``.
        data_line: 1-based line number of that line.
        mnemonics: every ``~C`` curve (lasio's unique names), in column order;
            column 0 is the index.
        wrap: ``WRAP YES`` in ``~V``.
        depth_factor: multiply the index values by this to get ``depth_unit``.
        null_value: the ``NULL`` value, or None.
    """

    data_offset: int
    data_line: int
    mnemonics: tuple[str, ...]
    wrap: bool
    depth_factor: float
    null_value: float | None


@dataclass(frozen=True)
class _HeaderScan:
    text: str
    data_offset: int
    data_line: int
    curve_lines: list[int]  # 1-based line of each ~C item, in order


def _scan_header(path: str | Path, max_line_bytes: int | None) -> _HeaderScan:
    """The text before ``~A`` (and where ``~A`` ends), read line by line, bounded."""
    limit = HEADER_MAX_BYTES if max_line_bytes is None else min(max_line_bytes, HEADER_MAX_BYTES)
    lines: list[bytes] = []
    curve_lines: list[int] = []
    offset, number, section = 0, 0, b""
    with open(path, "rb") as f:
        while True:
            raw = f.readline(limit + 1)
            number += 1
            if not raw:
                raise WellLogError("the file has no ~A (data) section", line=number)
            if len(raw) > limit and not raw.endswith(b"\n"):
                raise WellLogError(f"a header line is longer than {limit:,} bytes", line=number)
            offset += len(raw)
            if offset > HEADER_MAX_BYTES:
                raise WellLogError(f"the header (before ~A) is longer than {HEADER_MAX_BYTES:,} bytes")
            stripped = raw.strip()
            if stripped.startswith(b"~"):
                section = stripped[1:2].upper()
                if section == b"A":
                    return _HeaderScan(_decode(b"".join(lines)) + "~A\n", offset, number + 1, curve_lines)
            elif section == b"C" and stripped and not stripped.startswith(b"#"):
                curve_lines.append(number)
            lines.append(raw)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # the usual 8-bit encoding of older LAS files


def _float(value: Any) -> float | None:
    """A header value as a finite float, or None (empty, text, NaN)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _item(section: Any, *mnemonics: str) -> Any:
    for mnemonic in mnemonics:
        if mnemonic in section:
            return section[mnemonic]
    return None


def _text(section: Any, *mnemonics: str) -> str:
    item = _item(section, *mnemonics)
    return "" if item is None or item.value is None else str(item.value).strip()[:MAX_FACT_CHARS]


def read_las(
    path: str | Path,
    *,
    max_curves: int | None = None,
    max_columns: int | None = None,
    max_line_bytes: int | None = None,
) -> WellLog:
    """Read a LAS 1.2/2.0 header with lasio (see :func:`ingest.welllog.read_well_log`).

    Raises:
        WellLogError: no ``~A``; LAS 3.0; no curve; a time or unknown index unit;
            more curves than ``max_curves``; an image wider than ``max_columns``.
    """
    import lasio

    scan = _scan_header(path, max_line_bytes)
    if max_curves is not None and len(scan.curve_lines) > max_curves:
        raise WellLogError(
            f"the file has {len(scan.curve_lines):,} curves, more than the {max_curves:,} the server accepts",
            line=scan.curve_lines[max_curves],
        )
    try:
        las = lasio.read(io.StringIO(scan.text), ignore_data=True)
    except Exception as exc:  # noqa: BLE001 (lasio raises many kinds; each is a malformed header)
        raise WellLogError(f"lasio cannot read the header: {exc}") from None
    version = _float(las.version["VERS"].value) if "VERS" in las.version else None
    if version is not None and version >= 3:
        raise WellLogError(f"LAS {version:g} is not supported (LAS 1.2 and 2.0 are)")
    if not las.curves:
        raise WellLogError("the ~C section lists no curve", line=scan.data_line - 1)
    lines: list[int | None] = (
        list(scan.curve_lines) if len(scan.curve_lines) == len(las.curves) else [None] * len(las.curves)
    )
    mnemonics = tuple(str(curve.mnemonic) for curve in las.curves)
    depth_unit, factor = _index_unit(las, lines[0])
    null_value = _float(las.well["NULL"].value) if "NULL" in las.well else None
    images, curves = _specs(las, lines, max_columns)
    wrap = "WRAP" in las.version and str(las.version["WRAP"].value).strip().upper().startswith("Y")
    header = WellHeader(
        format="las",
        well_name=_text(las.well, "WELL"),
        uwi=_text(las.well, "UWI", "API"),
        field=_text(las.well, "FLD", "FIELD"),
        company=_text(las.well, "COMP"),
        depth_unit=depth_unit,
        start=_depth(las, "STRT", factor, depth_unit, null_value),
        stop=_depth(las, "STOP", factor, depth_unit, null_value),
        step=_depth(las, "STEP", factor, depth_unit, null_value) or None,
        bit_size=_bit_size(las),
        null_value=null_value,
        facts=_facts(las),
    )
    plan = LasPlan(scan.data_offset, scan.data_line, mnemonics, wrap, factor, null_value)
    return WellLog(header=header, images=images, curves=curves, groups=("",), plan=plan)


def _index_unit(las: Any, line: int | None) -> tuple[str, float]:
    """The depth unit of the index curve (its unit, else ``~W STRT``'s) and the factor to it."""
    index = las.curves[0]
    mnemonic, unit = str(index.mnemonic), str(index.unit or "").strip()
    if mnemonic.endswith("."):  # lasio reads "DEPT..1IN" as mnemonic "DEPT.", unit "1IN"
        mnemonic, unit = mnemonic.rstrip("."), "." + unit
    where = f"curve {mnemonic}"
    if not unit and "STRT" in las.well:
        unit = str(las.well["STRT"].unit or "").strip()
    if mnemonic.upper() in TIME_MNEMONICS or unit.lower() in TIME_UNITS:
        raise WellLogError(
            f"the index curve {mnemonic} is time ({unit or 'no unit'}): only depth-indexed logs are accepted",
            line=line,
            where=where,
        )
    found = depth_unit_of(unit)
    if found is None:
        raise WellLogError(
            f"the index curve {mnemonic} has unit {unit!r}, not a depth unit (M, FT, .1IN)",
            line=line,
            where=where,
        )
    return found


def _depth(las: Any, mnemonic: str, factor: float, depth_unit: str, null: float | None) -> float | None:
    """``~W`` STRT/STOP/STEP in ``depth_unit``: converted from its own unit when it names one."""
    item = _item(las.well, mnemonic)
    value = None if item is None else _float(item.value)
    if value is None or value == null:
        return None
    own = depth_unit_of(str(item.unit or ""))
    if own is not None:
        value_unit, own_factor = own
        value *= own_factor
        if value_unit != depth_unit:
            value = value * 0.3048 if depth_unit == "m" else value / 0.3048
        return value
    return value * factor


def _bit_size(las: Any) -> float | None:
    """``BS`` (or BIT/BITSIZE) of ``~P`` or ``~W`` in inches; None when absent or in an unknown unit."""
    for section in (las.params, las.well):
        item = _item(section, "BS", "BIT", "BITSIZE", "BIT_SIZE")
        if item is not None:
            value = _float(item.value)
            factor = INCH_FACTORS.get(str(item.unit or "").strip().lower())
            return None if value is None or factor is None else value * factor
    return None


def _facts(las: Any) -> dict[str, str]:
    """Every ``~V``/``~W``/``~P`` item as ``"W.WELL" -> "value unit: description"``, bounded."""
    facts: dict[str, str] = {}
    for code, section in (("V", las.version), ("W", las.well), ("P", las.params)):
        for item in section:
            if len(facts) >= MAX_FACTS:
                return facts
            unit = f" {item.unit}" if item.unit else ""
            descr = f": {item.descr}" if item.descr else ""
            facts[f"{code}.{item.mnemonic}"[:80]] = f"{item.value}{unit}{descr}"[:MAX_FACT_CHARS]
    other = str(las.other or "").strip()
    if other and len(facts) < MAX_FACTS:
        facts["O"] = other[:MAX_OTHER_CHARS]
    return facts


@dataclass(frozen=True)
class _Family:
    prefix: str
    suffix: str
    members: tuple[int, ...]  # curve positions in sector order


def sector_families(mnemonics: tuple[str, ...] | list[str]) -> list[tuple[str, str, tuple[int, ...]]]:
    """Sector families among curve mnemonics (the index excluded by the caller).

    A family is :data:`MIN_SECTORS` or more mnemonics that differ only by one
    integer (``ABDC1M``..``ABDC16M``: prefix ``ABDC``, suffix ``M``), with
    consecutive numbers (any first one: ``GRAS0M``..``GRAS7M``). Where a
    mnemonic could join two families (two numbers in it), the larger family wins.
    A candidate with a gap (``ABDC7M`` missing) or a repeated number
    (``ABDC1M`` and ``ABDC01M``) is not a family: its curves stay 1-D curves,
    since a column we would have to invent is not in the file. Names lasio made
    unique (``GR:1``) never form a family.

    Args:
        mnemonics: curve mnemonics in file order.

    Returns:
        ``(prefix, suffix, positions in sector order)`` per family, in the file
        order of their first curve.
    """
    candidates: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for position, mnemonic in enumerate(mnemonics):
        if ":" in mnemonic:
            continue
        for match in _DIGITS.finditer(mnemonic):
            key = (mnemonic[: match.start()], mnemonic[match.end() :])
            candidates.setdefault(key, []).append((int(match.group()), position))
    taken: set[int] = set()
    families = []
    ranked = sorted(candidates.items(), key=lambda kv: (-len(kv[1]), min(p for _, p in kv[1])))
    for (prefix, suffix), members in ranked:
        if len(members) < MIN_SECTORS or any(p in taken for _, p in members):
            continue
        members.sort()
        numbers = [n for n, _ in members]
        if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            continue
        positions = tuple(p for _, p in members)
        taken.update(positions)
        families.append((prefix, suffix, positions))
    families.sort(key=lambda family: min(family[2]))
    return families


def _specs(
    las: Any, lines: list[int | None], max_columns: int | None
) -> tuple[tuple[ImageSpec, ...], tuple[CurveSpec, ...]]:
    """Images (sector families of one unit) and curves (every other non-index curve)."""
    items = list(las.curves)[1:]
    mnemonics = [str(item.mnemonic) for item in items]
    used = set(mnemonics)
    images: list[tuple[int, ImageSpec]] = []
    in_image: set[int] = set()
    for prefix, suffix, positions in sector_families(mnemonics):
        units = {str(items[p].unit or "") for p in positions}
        if len(units) > 1:
            continue  # one image has one value unit: curves of mixed units stay curves
        name = prefix.rstrip("_-.") or suffix.strip("_-.") or mnemonics[positions[0]]
        if name in used or name in {spec.name for _, spec in images}:
            name = f"{prefix}{suffix}"
        if max_columns is not None and len(positions) > max_columns:
            raise WellLogError(
                f"image {name} has {len(positions):,} sector curves, more than the {max_columns:,} "
                "columns the server accepts",
                line=lines[positions[max_columns] + 1],
                where=f"curve {mnemonics[positions[max_columns]]}",
            )
        spec = ImageSpec(
            name=name,
            sources=tuple(mnemonics[p] for p in positions),
            columns=len(positions),
            value_unit=units.pop(),
            description=str(items[positions[0]].descr or "")[:MAX_FACT_CHARS],
            group="",
        )
        images.append((min(positions), spec))
        in_image.update(positions)
    curves = tuple(
        CurveSpec(
            mnemonic=mnemonics[p],
            unit=str(items[p].unit or ""),
            description=str(items[p].descr or "")[:MAX_FACT_CHARS],
            group="",
        )
        for p in range(len(items))
        if p not in in_image
    )
    return tuple(spec for _, spec in sorted(images, key=lambda pair: pair[0])), curves


# -- the data section --------------------------------------------------------------------------

#: ASCII whitespace as pyarrow's ascii_split_whitespace reads it (space, \t \n \v \f \r).
_WHITESPACE = np.zeros(256, bool)
_WHITESPACE[[9, 10, 11, 12, 13, 32]] = True
_TOKEN = re.compile(rb"[^\t\n\v\f\r ]")
#: The system allocator's pool for our pyarrow kernels: it gives large buffers back
#: when they are freed, where pyarrow's default (mimalloc) keeps them (60 MB more peak
#: RSS in the reader, measured on a 200,000 x 361 LAS).
_POOL = pa.system_memory_pool()
_SPACE_BYTES = frozenset(b"\t\n\v\f\r ")
_BLANK_LINE = re.compile(rb"^[\t\v\f\r ]*$", re.MULTILINE)


class _BadChunk(Exception):
    """pyarrow could not read a value of the chunk (located by a rescan)."""


@dataclass(frozen=True)
class _Layout:
    """What the parsing threads need to build blocks."""

    n: int  # values per sample (every ~C curve)
    wrap: bool
    null_value: float | None
    depth_factor: float
    images: dict[str, list[int]]  # image name -> columns of the sample, in sector order
    curves: dict[str, int]  # curve mnemonic -> column


@dataclass(frozen=True)
class _Parsed:
    """One chunk parsed in a thread.

    Attributes:
        values: ``(k,) float64`` its numbers in order, NULL as NaN.
        newlines: line ends in the chunk.
        lead: line ends before its first token.
        longest: ``(bytes, line offset)`` of its longest line.
        block: the block, when the chunk is whole samples of an unwrapped file
            (every line ``n`` values); its ``first_line`` is set by the consumer.
    """

    values: np.ndarray
    newlines: int
    lead: int
    longest: tuple[int, int]
    block: WellBlock | None


def _numbers(chunk: memoryview) -> np.ndarray:
    """``(k,) float64``: the whitespace-separated numbers of a text with at least one token.

    pyarrow's kernels, on the chunk's own memory (no copy) from its first to its
    last token: UTF-8 check, split on ASCII whitespace, cast to float64 (which
    refuses any token that is not a number).

    Raises:
        _BadChunk: a token is not a number.
    """
    first = _TOKEN.search(chunk)
    end = len(chunk)
    while end and chunk[end - 1] in _SPACE_BYTES:  # split makes no empty token at either end
        end -= 1
    try:
        offsets = pa.py_buffer(np.array([first.start() if first else 0, end], np.int32))
        text = pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(chunk)])
        text.validate(full=True)
        tokens = pc.ascii_split_whitespace(text, memory_pool=_POOL).flatten()
        values: np.ndarray = pc.cast(tokens, pa.float64(), memory_pool=_POOL).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise _BadChunk from None
    return values


def _parse(chunk: memoryview, position: int, layout: _Layout) -> _Parsed:
    """Parse a chunk of whole lines (runs in a parsing thread; pyarrow and numpy release the GIL).

    Raises:
        _BadChunk: a token is not a number, or a value is infinite.
    """
    first = _TOKEN.search(chunk)
    values = _numbers(chunk) if first else np.empty(0)  # (blank lines only: no token)
    if np.isinf(values).any():
        raise _BadChunk
    if layout.null_value is None:
        values = values.copy()  # writable: the consumer owns it
    else:
        values = np.where(values == layout.null_value, np.nan, values)
    data = np.frombuffer(chunk, np.uint8)
    ends = np.flatnonzero(data == 0x0A)
    lead = int(np.searchsorted(ends, first.start() if first else data.size))
    lengths = np.diff(ends + 1, prepend=0, append=data.size if not data.size or data[-1] != 0x0A else [])
    longest = (int(lengths.max()), int(lengths.argmax())) if lengths.size else (0, 0)
    lines = ends.size + (1 if data.size and data[-1] != 0x0A else 0)
    if not layout.wrap and values.size != layout.n * lines:
        body = chunk[:-1] if data.size and data[-1] == 0x0A else chunk
        lines -= len(_BLANK_LINE.findall(body))  # blank lines hold no sample (rare: a regex scan)
    block = None
    if not layout.wrap and values.size == layout.n * lines:
        block = _block(values.reshape(-1, layout.n), layout=layout, first_line=None, position=position)
    return _Parsed(values, int(ends.size), lead, longest, block)


def _block(samples: np.ndarray, *, layout: _Layout, first_line: int | None, position: int) -> WellBlock:
    """One block from ``(k, n) float64`` samples (NULL already NaN): null depths dropped."""
    depth = samples[:, 0]
    keep = ~np.isnan(depth)
    dropped = int(samples.shape[0] - np.count_nonzero(keep))
    if dropped:
        samples = samples[keep]
        depth = samples[:, 0]
    if layout.depth_factor != 1.0:
        depth = depth * layout.depth_factor
    images = {}
    for name, columns in layout.images.items():
        lo, hi = columns[0], columns[-1] + 1
        if columns == list(range(lo, hi)):
            images[name] = samples[:, lo:hi].astype(np.float32)
        else:
            images[name] = samples[:, columns].astype(np.float32)
    curves = {name: samples[:, i].copy() for name, i in layout.curves.items()}
    return WellBlock(
        group="",
        depth=np.ascontiguousarray(depth, np.float64),
        images=images,
        curves=curves,
        first_line=first_line,
        dropped=dropped,
        bytes_read=position,
    )


def _tokens(text: bytes) -> Iterator[tuple[int, bytes]]:
    """``(line offset in the chunk, token)`` of every token (slow; error paths only)."""
    for offset, line in enumerate(text.split(b"\n")):
        for token in line.split():
            yield offset, token


def _locate_bad_value(text: bytes, line: int, tokens_before: int, plan: LasPlan) -> WellLogError:
    """The first value of a chunk that pyarrow refused, named by line and curve."""
    n = len(plan.mnemonics)
    for count, (offset, token) in enumerate(_tokens(text)):
        number = _NUMBER.fullmatch(token) is not None
        if number and math.isfinite(float(token)):
            continue
        mnemonic = plan.mnemonics[(tokens_before + count) % n]
        shown = token[:40].decode("utf-8", "replace")
        return WellLogError(
            f"{shown} is not a finite number (curve {mnemonic})"
            if number
            else f"{shown!r} is not a number (curve {mnemonic})",
            line=line + offset,
            where=f"curve {mnemonic}",
        )
    last = line + text.count(b"\n")
    return WellLogError(f"a value between lines {line} and {last} cannot be read as a number", line=line)


def _check_lines(text: bytes, line: int, n: int) -> None:
    """Unwrapped: every non-blank line has exactly ``n`` values (else a shifted column)."""
    for offset, row in enumerate(text.split(b"\n")):
        count = len(row.split())
        if count not in (0, n):
            raise WellLogError(
                f"the line has {count} values, the ~C section {n} curves (WRAP NO: one line per sample)",
                line=line + offset,
            )


def _chunks(
    path: str | Path, plan: LasPlan, block_bytes: int, max_line_bytes: int | None
) -> Iterator[tuple[memoryview, int]]:
    """``(whole lines of ~A, file position after them)``, read with ``os.pread`` (no copy)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        position = plan.data_offset
        while data := os.pread(fd, block_bytes, position):
            cut = data.rfind(b"\n") + 1
            size = block_bytes
            while not cut and len(data) == size:  # a line longer than the block
                if max_line_bytes is not None and len(data) > max_line_bytes:
                    raise _LineTooLong(position)
                size *= 2
                data = os.pread(fd, size, position)
                cut = data.rfind(b"\n") + 1
            cut = cut or len(data)  # the last line, without a line end
            yield memoryview(data)[:cut], position + cut
            position += cut
    finally:
        os.close(fd)


class _LineTooLong(Exception):
    """A line not yet ended at this file position passes the bound (its number is counted later)."""

    def __init__(self, position: int):
        self.position = position


def _parsed(
    path: str | Path, plan: LasPlan, layout: _Layout, block_bytes: int, max_line_bytes: int | None
) -> Iterator[tuple[memoryview, int, Future[_Parsed] | None]]:
    """``(chunk, file position after it, its parse)`` running ahead in threads, in file order.

    A line too long to be cut comes out as ``(empty, position, None)``: the
    consumer knows its number.
    """
    pending: deque[tuple[memoryview, int, Future[_Parsed] | None]] = deque()
    with ThreadPoolExecutor(_THREADS, thread_name_prefix="las-parse") as pool:
        try:
            try:
                for chunk, position in _chunks(path, plan, block_bytes, max_line_bytes):
                    pending.append((chunk, position, pool.submit(_parse, chunk, position, layout)))
                    if len(pending) >= _IN_FLIGHT:
                        yield pending.popleft()
            except _LineTooLong as exc:
                pending.append((memoryview(b""), exc.position, None))
            while pending:
                yield pending.popleft()
        finally:
            for _, _, future in pending:
                if future is not None:
                    future.cancel()


def iter_las_blocks(
    path: str | Path, log: WellLog, *, block_bytes: int | None = None, max_line_bytes: int | None = None
) -> Iterator[WellBlock]:
    """Stream the samples of ``~A`` (see :func:`ingest.welllog.iter_well_blocks`)."""
    plan = log.plan
    if not isinstance(plan, LasPlan):
        raise TypeError("not a LAS log: read it with read_well_log")
    n = len(plan.mnemonics)
    column = {mnemonic: i for i, mnemonic in enumerate(plan.mnemonics)}
    layout = _Layout(
        n=n,
        wrap=plan.wrap,
        null_value=plan.null_value,
        depth_factor=plan.depth_factor,
        images={spec.name: [column[m] for m in spec.sources] for spec in log.images},
        curves={spec.mnemonic: column[spec.mnemonic] for spec in log.curves},
    )
    stream = _Stream(plan, n)
    for chunk, position, future in _parsed(path, plan, layout, block_bytes or BLOCK_BYTES, max_line_bytes):
        if future is None:
            raise WellLogError(f"a line is longer than {max_line_bytes:,} bytes", line=stream.line)
        try:
            parsed = future.result()
        except _BadChunk:
            raise _locate_bad_value(bytes(chunk), stream.line, stream.tokens, plan) from None
        if max_line_bytes is not None and parsed.longest[0] > max_line_bytes:
            raise WellLogError(
                f"a line is longer than {max_line_bytes:,} bytes", line=stream.line + parsed.longest[1]
            )
        block: WellBlock | None
        if parsed.block is not None and not stream.carry.size:
            block = dataclasses.replace(parsed.block, first_line=stream.line + parsed.lead)
        else:
            block = stream.add(chunk, position, parsed, layout)
        stream.advance(parsed)
        if block is not None and (block.depth.size or block.dropped):
            yield block
    stream.finish()


class _Stream:
    """The token stream across chunks: values left over from a sample cut by a chunk end."""

    def __init__(self, plan: LasPlan, n: int):
        self.plan, self.n = plan, n
        self.line = plan.data_line  # line of the current chunk's first byte
        self.tokens = 0  # values before the current chunk
        self.carry = np.empty(0)
        self.carry_line = plan.data_line

    def add(self, chunk: memoryview, position: int, parsed: _Parsed, layout: _Layout) -> WellBlock | None:
        """The whole samples completed by this chunk (wrapped, or unwrapped with blank lines)."""
        values = parsed.values
        if not self.plan.wrap:
            _check_lines(bytes(chunk), self.line, self.n)
        if not self.carry.size:
            self.carry_line = self.line + parsed.lead
        first_line = self.carry_line
        stream = np.concatenate((self.carry, values)) if self.carry.size else values
        samples = stream.size // self.n
        rest = stream.size - samples * self.n
        self.carry = stream[samples * self.n :].copy()
        if rest and rest <= values.size:
            data = np.frombuffer(chunk, np.uint8)
            start = _start_of_last(data, rest)
            self.carry_line = self.line + int(np.count_nonzero(data[:start] == 0x0A))
        if not samples:
            return None
        return _block(
            stream[: samples * self.n].reshape(samples, self.n),
            layout=layout,
            first_line=first_line,
            position=position,
        )

    def advance(self, parsed: _Parsed) -> None:
        self.line += parsed.newlines
        self.tokens += parsed.values.size

    def finish(self) -> None:
        if self.carry.size:
            raise WellLogError(
                f"the data section ends inside a sample: {self.carry.size} of its {self.n} values "
                f"(the last is curve {self.plan.mnemonics[self.carry.size - 1]})",
                line=self.carry_line,
                where=f"curve {self.plan.mnemonics[self.carry.size]}",
            )


def _start_of_last(data: np.ndarray, count: int) -> int:
    """Byte offset of the first of the last ``count`` tokens of ``data`` (uint8 text, >= count tokens).

    Looks at the end of the text only (a tail that doubles until it holds the tokens).
    """
    tail = 1 << 12
    while True:
        lo = max(0, data.size - tail)
        space = _WHITESPACE[data[lo:]]
        starts = np.flatnonzero(~space[1:] & space[:-1]) + 1 + lo
        if not lo and space.size and not space[0]:
            starts = np.concatenate(([0], starts))
        if starts.size > count or not lo:  # more than count: the first of them is whole
            return int(starts[-count])
        tail *= 2


def locate_las_lines(
    path: str | Path, log: WellLog, indices_in_file_order: tuple[int, ...], *, kept: bool = False
) -> list[int]:
    """LAS lines of samples by file position (see :func:`ingest.welllog.locate_las_lines`)."""
    plan = log.plan
    if not isinstance(plan, LasPlan):
        raise TypeError("not a LAS log: read it with read_well_log")
    n = len(plan.mnemonics)
    wanted = sorted({index for index in indices_in_file_order if index >= 0})
    found: dict[int, int] = {}
    tokens = sample = 0  # tokens seen; samples counted (all, or kept ones)
    with open(path, "rb") as f:
        f.seek(plan.data_offset)
        for offset, raw in enumerate(f):
            for token in raw.split():
                if tokens % n == 0 and not (kept and _null_depth(token, plan.null_value)):  # a depth
                    if wanted and wanted[0] == sample:
                        found[wanted.pop(0)] = plan.data_line + offset
                    sample += 1
                tokens += 1
            if not wanted:
                break
    missing = [i for i in indices_in_file_order if i not in found]
    if missing:
        raise WellLogError(f"sample {missing[0]} is past the last sample ({sample} samples)")
    return [found[i] for i in indices_in_file_order]


def _null_depth(token: bytes, null_value: float | None) -> bool:
    """Whether a depth token is dropped (NULL or NaN), as the block reader drops it."""
    try:
        depth = float(token)
    except ValueError:
        return False
    return math.isnan(depth) or depth == null_value
