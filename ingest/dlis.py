"""DLIS well logs (RP66 v1) through dlisio.

Pure module: no Django. Use it through :mod:`ingest.welllog`.

What we take from a DLIS file (dlisio's objects, RP66 v1 terms):

* every logical file, every FRAME whose index channel (its first channel, when
  the frame has an ``INDEX-TYPE``) is a depth: each such frame is one index
  group ``"<logical file>/<frame>"``. A frame indexed by time, or without an
  index, or encrypted, is skipped and listed in the header facts
  (``DLIS.SKIPPED``). An image channel sampled at another spacing than the other
  channels lives in its own frame in DLIS, so it comes out as its own group;
* a numeric channel of dimension ``[N]``, N > 1, is an image of N columns
  (:class:`ingest.welllog.ImageSpec`); a scalar one is a curve; channels of
  more dimensions or of text are skipped and listed in the facts;
* absent values: NaN, and -999.25, the value the field writes for "absent"
  (RP66 has no null of its own); -9999 is left alone, since it can be a reading.

Memory: dlisio's ``Frame.curves()`` reads a frame whole. We read the frame in
slices of its FDATA records instead (one record is one frame row), with
``dlisio.core.read_fdata``, the function ``Frame.curves()`` itself calls, so
at most about ``block_bytes`` of rows are in memory at once. ``max_cells``
(rows x values per row, from the FDATA index and channel dimensions) is checked
BEFORE any row is read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.welllog import (
    INCH_FACTORS,
    CurveSpec,
    ImageSpec,
    WellBlock,
    WellHeader,
    WellLog,
    WellLogError,
    depth_unit_of,
)

#: The conventional absent value of the field's DLIS writers, read as nodata.
ABSENT = -999.25
#: Frame bytes read per block.
BLOCK_BYTES = 8 << 20
MAX_FACTS = 400
MAX_FACT_CHARS = 300
_FOOT = 0.3048


@dataclass(frozen=True)
class DlisGroup:
    """How to read one index group (a frame).

    Attributes:
        group: ``"<logical file>/<frame>"``.
        logical_file: position of the logical file in the physical file.
        fingerprint: dlisio's fingerprint of the frame.
        depth_factor: multiply index values by this for the header's depth unit.
        images: ``(ImageSpec.name, field of the frame's dtype)`` (field 0 is
            dlisio's FRAMENO, 1 the index channel).
        curves: ``(CurveSpec.mnemonic, field of the frame's dtype)``.
        values_per_row: values in one frame row (all its channels).
    """

    group: str
    logical_file: int
    fingerprint: str
    depth_factor: float
    images: tuple[tuple[str, int], ...]
    curves: tuple[tuple[str, int], ...]
    values_per_row: int


@dataclass(frozen=True)
class DlisPlan:
    """The groups of a DLIS well log, in file order."""

    groups: tuple[DlisGroup, ...]


def _load(path: str | Path) -> Any:
    from dlisio import dlis

    try:
        return dlis.load(str(path))
    except Exception as exc:  # noqa: BLE001 (dlisio raises OSError, RuntimeError, ValueError...)
        raise WellLogError(f"dlisio cannot read the file: {' '.join(str(exc).split())}") from None


def _unique(name: str, qualifier: str, used: set[str]) -> str:
    """``name``, else ``name:qualifier``, else ``name:qualifier:2``... (not in ``used``)."""
    candidate = name
    if candidate in used:
        candidate = f"{name}:{qualifier}"
    count = 1
    while candidate in used:
        count += 1
        candidate = f"{name}:{qualifier}:{count}"
    used.add(candidate)
    return candidate


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | np.ndarray):
        value = " ".join(str(v) for v in value)
    return str(value).strip()[:MAX_FACT_CHARS]


def _is_depth_index(frame: Any) -> bool:
    """Whether a frame is indexed by depth: an INDEX-TYPE that is not time or drift (RP66 v1).

    RP66's index types are BOREHOLE-DEPTH, VERTICAL-DEPTH, TIME, RADIAL-DRIFT and
    ANGULAR-DRIFT; writers add their own (``DEPTH``, ``MD``), so any other type
    counts as depth and its channel's unit decides.
    """
    index_type = str(frame.index_type or "").upper()
    not_depth = ("TIME", "DRIFT")
    return bool(index_type) and not any(word in index_type for word in not_depth) and bool(frame.channels)


class _Reader:
    """Builds the well log from dlisio's objects: groups, specs, facts."""

    def __init__(self, max_curves: int | None, max_columns: int | None):
        self.max_curves, self.max_columns = max_curves, max_columns
        self.used: set[str] = set()
        self.images: list[ImageSpec] = []
        self.curves: list[CurveSpec] = []
        self.groups: list[DlisGroup] = []
        self.skipped: list[str] = []
        self.depth_unit: str | None = None
        self.channels_seen = 0
        self.first_frame: tuple[Any, float] | None = None

    def logical_file(self, position: int, lf: Any, name: str) -> None:
        for frame in lf.frames:
            where = f"logical file {name}, frame {frame.name}"
            if frame.encrypted:
                self.skipped.append(f"{where}: encrypted")
            elif not _is_depth_index(frame):
                self.skipped.append(f"{where}: index {frame.index_type or 'none'}, not depth")
            else:
                self.frame(position, frame, name)

    def frame(self, position: int, frame: Any, lf_name: str) -> None:
        index = frame.channels[0]
        group = f"{lf_name}/{frame.name}"
        found = depth_unit_of(str(index.units or ""))
        if found is None:
            raise WellLogError(
                f"the index channel {index.name} has unit {index.units!r}, not a depth unit (m, ft, 0.1 in)",
                where=f"frame {frame.name}, channel {index.name}",
            )
        unit, factor = found
        if self.depth_unit is None:
            self.depth_unit = unit
        elif unit != self.depth_unit:
            factor *= _FOOT if self.depth_unit == "m" else 1 / _FOOT
        if self.first_frame is None:
            self.first_frame = (frame, factor)
        images, curves, values = [], [], 1
        for slot, channel in enumerate(frame.channels[1:], start=2):  # field 0 FRAMENO, 1 index
            self.channels_seen += 1
            where = f"frame {frame.name}, channel {channel.name}"
            if self.max_curves is not None and self.channels_seen > self.max_curves:
                raise WellLogError(f"the file has more than {self.max_curves:,} channels", where=where)
            dims = [int(d) for d in (channel.dimension or [1])]
            values += int(np.prod(dims))
            if np.dtype(channel.dtype).base.kind not in "fiu" or len(dims) != 1:
                self.skipped.append(f"{group}, channel {channel.name}: dimension {dims}, not 1-D numbers")
                continue
            name = _unique(str(channel.name), str(frame.name), self.used)
            description, unit_text = _text(channel.long_name), _text(channel.units)
            if dims[0] == 1:
                curves.append((name, slot))
                self.curves.append(CurveSpec(name, unit_text, description, group))
                continue
            if self.max_columns is not None and dims[0] > self.max_columns:
                raise WellLogError(
                    f"image channel {channel.name} has {dims[0]:,} columns, more than the "
                    f"{self.max_columns:,} the server accepts",
                    where=where,
                )
            images.append((name, slot))
            self.images.append(ImageSpec(name, (str(channel.name),), dims[0], unit_text, description, group))
        self.groups.append(
            DlisGroup(group, position, frame.fingerprint, factor, tuple(images), tuple(curves), values)
        )


def read_dlis(path: str | Path, *, max_curves: int | None = None, max_columns: int | None = None) -> WellLog:
    """Read a DLIS file's metadata with dlisio (see :func:`ingest.welllog.read_well_log`).

    Raises:
        WellLogError: dlisio cannot read it; no depth-indexed frame; an index
            unit that is not a depth; more channels than ``max_curves``; an image
            channel wider than ``max_columns``.
    """
    reader = _Reader(max_curves, max_columns)
    facts: dict[str, str] = {}
    with _load(path) as files:
        names: set[str] = set()
        for position, lf in enumerate(files):
            name = _text(lf.fileheader.id if lf.fileheader else "") or str(position + 1)
            name = name if name not in names else f"{name}#{position + 1}"
            names.add(name)
            try:
                reader.logical_file(position, lf, name)
            except WellLogError:
                raise
            except Exception as exc:  # noqa: BLE001 (dlisio parses objects lazily and may raise here)
                raise WellLogError(
                    f"dlisio cannot read its objects: {exc}", where=f"logical file {name}"
                ) from None
            if position == 0:
                facts = _facts(lf)
        if reader.first_frame is None or reader.depth_unit is None:
            raise WellLogError("the file has no depth-indexed frame")
        first = files[0]
        header = _header(first, reader, facts)
    if reader.skipped:
        facts["DLIS.SKIPPED"] = "; ".join(reader.skipped)[: MAX_FACT_CHARS * 4]
    return WellLog(
        header=header,
        images=tuple(reader.images),
        curves=tuple(reader.curves),
        groups=tuple(group.group for group in reader.groups),
        plan=DlisPlan(tuple(reader.groups)),
    )


def _header(lf: Any, reader: _Reader, facts: dict[str, str]) -> WellHeader:
    origin = lf.origins[0] if lf.origins else None
    frame, factor = reader.first_frame or (None, 1.0)

    def depth(value: Any) -> float | None:
        number = _number(value)
        return None if number is None else number * factor

    return WellHeader(
        format="dlis",
        well_name=_text(origin.well_name) if origin else "",
        uwi=_text(origin.well_id) if origin else "",
        field=_text(origin.field_name) if origin else "",
        company=_text(origin.company) if origin else "",
        depth_unit=reader.depth_unit or "m",
        start=depth(frame.index_min) if frame is not None else None,
        stop=depth(frame.index_max) if frame is not None else None,
        step=depth(frame.spacing) if frame is not None else None,
        bit_size=_bit_size(lf),
        null_value=None,
        facts=facts,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, list | tuple | np.ndarray):
        value = value[0] if len(value) else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _bit_size(lf: Any) -> float | None:
    """Parameter ``BS`` (or BIT_SIZE/BITSIZE) in inches; None when absent or in an unknown unit."""
    for parameter in lf.parameters:
        if str(parameter.name).upper() in {"BS", "BIT_SIZE", "BITSIZE", "BIT"}:
            value = _number(parameter.values)
            unit = _values_unit(parameter).lower()
            factor = INCH_FACTORS.get(unit)
            return None if value is None or factor is None else value * factor
    return None


def _values_unit(parameter: Any) -> str:
    """The unit of a parameter's VALUES attribute ("" when none)."""
    if "VALUES" not in parameter.attic.keys():  # noqa: SIM118 (a pybind object)
        return ""
    return str(parameter.attic["VALUES"].units or "").strip()


def _facts(lf: Any) -> dict[str, str]:
    """The first origin's attributes and every parameter, ``"ORIGIN.WELL-NAME" -> "value"``, bounded."""
    facts: dict[str, str] = {}
    for origin in lf.origins[:1]:
        for key in origin.attic.keys():  # noqa: SIM118 (a pybind object: keys() is its API)
            facts[f"ORIGIN.{key}"[:80]] = _text(origin.attic[key].value)
    for parameter in lf.parameters:
        if len(facts) >= MAX_FACTS:
            break
        unit = _text(_values_unit(parameter))
        described = f": {_text(parameter.long_name)}" if parameter.long_name else ""
        facts[f"PARAMETER.{parameter.name}"[:80]] = (
            f"{_text(parameter.values)}{' ' + unit if unit else ''}{described}"[:MAX_FACT_CHARS]
        )
    return facts


def iter_dlis_blocks(
    path: str | Path, log: WellLog, *, block_bytes: int | None = None, max_cells: int | None = None
) -> Iterator[WellBlock]:
    """Stream the frames (see :func:`ingest.welllog.iter_well_blocks`), one group after the other.

    Raises:
        WellLogError: a frame has more than ``max_cells`` values (checked before
            reading it), or dlisio cannot read a frame record (named by frame and
            record).
    """
    plan = log.plan
    if not isinstance(plan, DlisPlan):
        raise TypeError("not a DLIS log: read it with read_well_log")
    size = os.path.getsize(path)
    with _load(path) as files:
        records = [list(files[g.logical_file].fdata_index.get(g.fingerprint, [])) for g in plan.groups]
        progress = _Progress(size, sum(len(r) for r in records))
        for group, group_records in zip(plan.groups, records, strict=True):
            lf = files[group.logical_file]
            frame = next(f for f in lf.frames if f.fingerprint == group.fingerprint)
            if max_cells is not None and len(group_records) * group.values_per_row > max_cells:
                raise WellLogError(
                    f"the frame has {len(group_records):,} rows of {group.values_per_row:,} values, "
                    f"more than the {max_cells:,} cells the server accepts",
                    where=f"frame {frame.name}",
                )
            yield from _frame_blocks(
                lf,
                frame,
                group,
                records=group_records,
                block_bytes=block_bytes or BLOCK_BYTES,
                progress=progress,
            )


class _Progress:
    """Bytes "read" for progress: the file size times the share of frame rows read.

    dlisio's record positions count from the start of each logical file, so they
    are not a position in the file.
    """

    def __init__(self, size: int, rows: int):
        self.size, self.rows, self.done = size, max(rows, 1), 0

    def add(self, rows: int) -> int:
        self.done += rows
        return self.size * self.done // self.rows


def _frame_blocks(
    lf: Any, frame: Any, group: DlisGroup, *, records: list[int], block_bytes: int, progress: _Progress
) -> Iterator[WellBlock]:
    dtype = frame.dtype(strict=False)
    names = dtype.names
    fmt = frame.fmtstr()
    rows = max(1, block_bytes // max(dtype.itemsize, 1))
    for start in range(0, len(records), rows):
        part = records[start : start + rows]
        try:
            table = _read(lf, fmt, dtype, part)
        except Exception:  # noqa: BLE001 (dlisio raises RuntimeError/ValueError/IndexError; located below)
            raise _locate(lf, frame, group, records=records, start=start, part=part) from None
        depth = table[names[1]].astype(np.float64)
        keep = ~(np.isnan(depth) | (depth == ABSENT))
        dropped = int(depth.size - np.count_nonzero(keep))
        if dropped:
            table, depth = table[keep], depth[keep]
        images = {name: _absent(table[names[slot]], np.float32) for name, slot in group.images}
        curves = {name: _absent(table[names[slot]], np.float64) for name, slot in group.curves}
        yield WellBlock(
            group=group.group,
            depth=depth * group.depth_factor if group.depth_factor != 1.0 else depth,
            images=images,
            curves=curves,
            first_line=None,
            dropped=dropped,
            bytes_read=progress.add(len(part)),
        )


def _absent(values: np.ndarray, dtype: type) -> np.ndarray:
    """Channel values as ``dtype`` (a new array), NaN where absent (NaN or -999.25)."""
    out: np.ndarray = np.array(values, dtype=dtype)
    out[out == ABSENT] = np.nan
    return out


def _read(lf: Any, fmt: str, dtype: Any, records: list[int]) -> np.ndarray:
    """Frame rows of the given FDATA records (their tells), as ``Frame.curves()`` reads them."""
    from dlisio import core

    table: np.ndarray = core.read_fdata(
        "", fmt, "", lf.file, records, dtype.itemsize, lambda n: np.empty(n, dtype), lf.error_handler
    )
    return table


def _locate(
    lf: Any, frame: Any, group: DlisGroup, *, records: list[int], start: int, part: list[int]
) -> WellLogError:
    """Name the first frame record of ``part`` dlisio cannot read (one record at a time)."""
    dtype, fmt = frame.dtype(strict=False), frame.fmtstr()
    for offset, tell in enumerate(part):
        try:
            _read(lf, fmt, dtype, [tell])
        except Exception as exc:  # noqa: BLE001 (whatever dlisio raises names the bad record)
            number = start + offset + 1
            return WellLogError(
                f"dlisio cannot read frame row {number:,} of {len(records):,}: {' '.join(str(exc).split())}",
                where=f"{group.group}, logical record at byte {tell}, frame {frame.name}",
            )
    return WellLogError(
        f"dlisio cannot read frame rows {start + 1:,} to {start + len(part):,}", where=f"frame {frame.name}"
    )
