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

import io
import math
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

#: LAS text parsed per block (about 450,000 values at 9 characters per value).
BLOCK_BYTES = 4 << 20
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
_NOT_SPACE = re.compile(rb"\S")

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


class _BadChunk(Exception):
    """pyarrow could not read a value of the chunk (located by a rescan)."""


def _parse(text: bytes, null_value: float | None) -> np.ndarray:
    """``(k,) float64``: the numbers of a chunk of whole lines, in order, NULL as NaN.

    Runs in a parsing thread (pyarrow's kernels release the GIL).

    Raises:
        _BadChunk: a token is not a number, or a value is infinite.
    """
    try:
        strings = pa.array([text], pa.binary()).cast(pa.string())
        tokens = pc.ascii_split_whitespace(pc.ascii_trim_whitespace(strings)).flatten()
        values = pc.cast(tokens, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise _BadChunk from None
    if np.isinf(values).any():
        raise _BadChunk
    if null_value is None:
        return values.copy()  # writable: the consumer owns it
    return np.where(values == null_value, np.nan, values)


def _tokens(text: bytes) -> Iterator[tuple[int, bytes]]:
    """``(line offset in the chunk, token)`` of every token (slow; error paths only)."""
    for offset, line in enumerate(text.split(b"\n")):
        for token in line.split():
            yield offset, token


def _locate_bad_value(text: bytes, line: int, tokens_before: int, plan: LasPlan) -> WellLogError:
    """The first value of a chunk that pyarrow refused, named by line and curve."""
    n = len(plan.mnemonics)
    for count, (offset, token) in enumerate(_tokens(text)):
        bad = _NUMBER.fullmatch(token) is None
        if not bad and not math.isfinite(float(token)):
            bad = True
        if bad:
            mnemonic = plan.mnemonics[(tokens_before + count) % n]
            shown = token[:40].decode("utf-8", "replace")
            return WellLogError(
                f"{shown!r} is not a number (curve {mnemonic})"
                if not _NUMBER.fullmatch(token)
                else f"{shown} is not a finite number (curve {mnemonic})",
                line=line + offset,
                where=f"curve {mnemonic}",
            )
    last = line + text.count(b"\n")
    return WellLogError(f"a value between lines {line} and {last} cannot be read as a number", line=line)


def _check_lines(text: bytes, line: int, n: int, values: int) -> None:
    """Unwrapped: every non-blank line has exactly ``n`` values (else a shifted column)."""
    if values == n * text.count(b"\n"):
        return
    for offset, row in enumerate(text.split(b"\n")):
        count = len(row.split())
        if count not in (0, n):
            raise WellLogError(
                f"the line has {count} values, the ~C section {n} curves (WRAP NO: one line per sample)",
                line=line + offset,
            )


def _chunks(
    path: str | Path, plan: LasPlan, block_bytes: int, max_line_bytes: int | None
) -> Iterator[tuple[bytes, int, int]]:
    """``(whole lines, 1-based line of the first, file position after them)`` of ``~A``."""
    with open(path, "rb") as f:
        f.seek(plan.data_offset)
        position, line, carry = plan.data_offset, plan.data_line, b""
        while data := f.read(block_bytes):
            position += len(data)
            text = carry + data if carry else data
            cut = text.rfind(b"\n") + 1
            carry = text[cut:]
            if cut:
                chunk = text[:cut]
                if max_line_bytes is not None:
                    _check_line_length(chunk, line, max_line_bytes)
                yield chunk, line, position - len(carry)
                line += chunk.count(b"\n")
            if max_line_bytes is not None and len(carry) > max_line_bytes:
                raise WellLogError(f"a line is longer than {max_line_bytes:,} bytes", line=line)
        if carry:
            yield carry + b"\n", line, position


def _check_line_length(chunk: bytes, line: int, max_line_bytes: int) -> None:
    data = np.frombuffer(chunk, np.uint8)
    ends = np.flatnonzero(data == 0x0A) + 1
    lengths = np.diff(ends, prepend=0)
    longest = int(np.argmax(lengths))
    if lengths[longest] > max_line_bytes:
        raise WellLogError(f"a line is longer than {max_line_bytes:,} bytes", line=line + longest)


def _parsed(
    path: str | Path, plan: LasPlan, block_bytes: int, max_line_bytes: int | None
) -> Iterator[tuple[bytes, int, int, Future[np.ndarray]]]:
    """The chunks with their parse running ahead in threads, in file order."""
    pending: deque[tuple[bytes, int, int, Future[np.ndarray]]] = deque()
    with ThreadPoolExecutor(_THREADS, thread_name_prefix="las-parse") as pool:
        try:
            for text, line, position in _chunks(path, plan, block_bytes, max_line_bytes):
                pending.append((text, line, position, pool.submit(_parse, text, plan.null_value)))
                if len(pending) >= _IN_FLIGHT:
                    yield pending.popleft()
            while pending:
                yield pending.popleft()
        finally:
            for *_, future in pending:
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
    image_columns = {spec.name: [column[m] for m in spec.sources] for spec in log.images}
    curve_columns = {spec.mnemonic: column[spec.mnemonic] for spec in log.curves}
    carry = np.empty(0)
    carry_line = plan.data_line
    tokens_before = 0
    for text, line, position, future in _parsed(path, plan, block_bytes or BLOCK_BYTES, max_line_bytes):
        try:
            values = future.result()
        except _BadChunk:
            raise _locate_bad_value(text, line, tokens_before, plan) from None
        tokens_before += values.size
        if not plan.wrap:
            _check_lines(text, line, n, values.size)
        first = _NOT_SPACE.search(text)
        if not carry.size:
            carry_line = line + (text.count(b"\n", 0, first.start()) if first else 0)
        block_line = carry_line
        stream = np.concatenate((carry, values)) if carry.size else values
        samples = stream.size // n
        rest = stream.size - samples * n
        carry = stream[samples * n :].copy()
        if rest and rest <= values.size:
            carry_line = line + text.count(b"\n", 0, _start_of_last(text, rest, values.size))
        if samples:
            yield _block(
                stream[: samples * n].reshape(samples, n),
                plan=plan,
                image_columns=image_columns,
                curve_columns=curve_columns,
                first_line=block_line,
                position=position,
            )
    if carry.size:
        raise WellLogError(
            f"the data section ends inside a sample: {carry.size} of its {n} values "
            f"(the last is curve {plan.mnemonics[carry.size - 1]})",
            line=carry_line,
            where=f"curve {plan.mnemonics[carry.size]}",
        )


def _start_of_last(text: bytes, count: int, total: int) -> int:
    """Byte offset in ``text`` of the first of its last ``count`` tokens (of ``total``)."""
    if count == total:
        first = _NOT_SPACE.search(text)
        return first.start() if first else 0
    head = text.rsplit(None, count)[0]
    start = _NOT_SPACE.search(text, len(head))
    return start.start() if start else len(text)


def _block(
    samples: np.ndarray,
    *,
    plan: LasPlan,
    image_columns: dict[str, list[int]],
    curve_columns: dict[str, int],
    first_line: int,
    position: int,
) -> WellBlock:
    """One block from ``(k, n) float64`` samples (NULL already NaN): null depths dropped."""
    depth = samples[:, 0]
    keep = ~np.isnan(depth)
    dropped = int(samples.shape[0] - np.count_nonzero(keep))
    if dropped:
        samples = samples[keep]
        depth = samples[:, 0]
    if plan.depth_factor != 1.0:
        depth = depth * plan.depth_factor
    images = {}
    for name, columns in image_columns.items():
        lo, hi = columns[0], columns[-1] + 1
        if columns == list(range(lo, hi)):
            images[name] = samples[:, lo:hi].astype(np.float32)
        else:
            images[name] = samples[:, columns].astype(np.float32)
    curves = {name: samples[:, i].copy() for name, i in curve_columns.items()}
    return WellBlock(
        group="",
        depth=np.ascontiguousarray(depth, np.float64),
        images=images,
        curves=curves,
        first_line=first_line,
        dropped=dropped,
        bytes_read=position,
    )


def locate_las_lines(path: str | Path, log: WellLog, indices_in_file_order: tuple[int, ...]) -> list[int]:
    """LAS lines of samples by file position (see :func:`ingest.welllog.locate_las_lines`)."""
    plan = log.plan
    if not isinstance(plan, LasPlan):
        raise TypeError("not a LAS log: read it with read_well_log")
    n = len(plan.mnemonics)
    starts = sorted({index * n for index in indices_in_file_order if index >= 0})
    found: dict[int, int] = {}
    count = next_wanted = 0
    with open(path, "rb") as f:
        f.seek(plan.data_offset)
        for offset, raw in enumerate(f):
            count += len(raw.split())
            while next_wanted < len(starts) and starts[next_wanted] < count:
                found[starts[next_wanted] // n] = plan.data_line + offset
                next_wanted += 1
            if next_wanted == len(starts):
                break
    missing = [i for i in indices_in_file_order if i not in found]
    if missing:
        raise WellLogError(f"sample {missing[0]} is past the last sample ({count // n} samples)")
    return [found[i] for i in indices_in_file_order]
