"""Read well logs (LAS 2.0 and DLIS): a header, then streamed blocks of samples.

Pure module: no Django. The public interface other modules build on:

* :func:`detect_format` says what a file is from its content ("las", "dlis", "csv");
* :func:`read_well_log` reads the header only (lasio for LAS up to ``~A``, dlisio
  for DLIS metadata) and says which images and curves the file holds;
* :func:`iter_well_blocks` streams the samples as :class:`WellBlock` s, in file
  order, with bounded memory;
* :func:`locate_las_lines` names the LAS lines of given samples (slow, only to word
  an error).

Errors are :class:`WellLogError` naming the LAS line (and curve) or the DLIS
logical record / channel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Bytes read to tell the format.
_PROBE_BYTES = 64 << 10

#: Depth units of the index curve -> (our unit, factor to it). Case and spaces ignored.
DEPTH_UNITS: dict[str, tuple[str, float]] = {
    "m": ("m", 1.0),
    "meter": ("m", 1.0),
    "meters": ("m", 1.0),
    "metre": ("m", 1.0),
    "metres": ("m", 1.0),
    "f": ("ft", 1.0),
    "ft": ("ft", 1.0),
    "feet": ("ft", 1.0),
    "foot": ("ft", 1.0),
    ".1in": ("ft", 1 / 120),
    "0.1in": ("ft", 1 / 120),
    "in": ("ft", 1 / 12),
}
#: Index units that say the log is indexed by time, which we refuse.
TIME_UNITS = frozenset({"s", "sec", "ms", "min", "h", "hr", "hour", "d", "day", "us", "time", "date"})
#: Bit size units -> factor to inches ("" is taken as inches, the usual LAS unit).
INCH_FACTORS = {"": 1.0, "in": 1.0, "inch": 1.0, "inches": 1.0, '"': 1.0, "mm": 1 / 25.4, "cm": 1 / 2.54}


class WellLogError(ValueError):
    """A file that cannot be read as a well log.

    Attributes:
        message: what is wrong, in words.
        line: 1-based LAS line number, or None (DLIS, or not tied to one line).
        where: which part of the file, e.g. ``"curve ABDC3M"``,
            ``"logical record 12, channel FMI_DYN"``, ``"frame 60B"``; "" if none.
    """

    def __init__(self, message: str, *, line: int | None = None, where: str = ""):
        self.message = message
        self.line = line
        self.where = where
        parts = []
        if line is not None:
            parts.append(f"line {line}")
        if where:
            parts.append(where)
        super().__init__(f"{', '.join(parts)}: {message}" if parts else message)


@dataclass(frozen=True)
class WellHeader:
    """What the file says about the well and its index.

    Attributes:
        format: "las" or "dlis".
        well_name: the well's name ("" when the file gives none).
        uwi: unique well identifier / API number ("" when none).
        field: the field's name ("" when none).
        company: the operating company ("" when none).
        depth_unit: "m" or "ft": the index unit, normalised (M/METERS -> m;
            F/FT/FEET -> ft; DLIS "0.1 in" -> ft, depths divided by 120).
        start: first depth of the file in ``depth_unit``, or None.
        stop: last depth of the file in ``depth_unit``, or None.
        step: depth step in ``depth_unit`` (negative when logged upwards), or None
            (0 or absent in the file: irregular).
        bit_size: bit size in inches (LAS ``~P BS``, DLIS parameter ``BS``;
            converted from mm when the unit says so), or None.
        null_value: the LAS ``NULL`` value, or None.
        facts: every header item, ``"SECTION.MNEMONIC" -> "value unit: description"``
            (JSON-able strings; bounded count and length).
    """

    format: str
    well_name: str
    uwi: str
    field: str
    company: str
    depth_unit: str
    start: float | None
    stop: float | None
    step: float | None
    bit_size: float | None
    null_value: float | None
    facts: dict[str, str]


@dataclass(frozen=True)
class ImageSpec:
    """One image of the well: a LAS sector family or a DLIS 2-D channel.

    Attributes:
        name: the family prefix (``"ABDC"`` for ``ABDC1M..ABDC16M``) or the DLIS
            channel name.
        sources: LAS: the sector curve mnemonics in sector order (column 0 is the
            first sector); DLIS: ``(channel name,)``.
        columns: pixel columns (sectors, or the channel's dimension).
        value_unit: unit of the values ("" unknown).
        description: the curve/channel description ("" none).
        group: index group the image's samples belong to ("" for LAS; DLIS
            ``"<logical file>/<frame name>"``).
    """

    name: str
    sources: tuple[str, ...]
    columns: int
    value_unit: str
    description: str
    group: str


@dataclass(frozen=True)
class CurveSpec:
    """One 1-D curve of the well (not the index).

    Attributes:
        mnemonic: the curve's mnemonic (LAS) or channel name (DLIS).
        unit: unit of the values ("" unknown).
        description: the description ("" none).
        group: index group ("" for LAS; DLIS ``"<logical file>/<frame name>"``).
    """

    mnemonic: str
    unit: str
    description: str
    group: str


@dataclass(frozen=True)
class WellLog:
    """A well log's header and contents (no samples).

    Attributes:
        header: the well and index facts.
        images: the images, in file order.
        curves: the 1-D curves, in file order.
        groups: the index groups in file order (LAS: ``("",)``).
        plan: the reader's own notes for :func:`iter_well_blocks` (where the data
            starts, column layout); opaque to callers.
    """

    header: WellHeader
    images: tuple[ImageSpec, ...]
    curves: tuple[CurveSpec, ...]
    groups: tuple[str, ...]
    plan: object = dataclasses.field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class WellBlock:
    """Consecutive samples of one index group, in file order.

    Attributes:
        group: the index group (see :class:`WellLog`).
        depth: ``(n,)`` float64 depths in ``header.depth_unit`` (converted); never
            NaN (samples with a null depth are dropped and counted in ``dropped``).
        images: ``ImageSpec.name -> (n, columns)`` float32 for the group's images;
            NaN is nodata (nulls, absent values, NaN in the file).
        curves: ``CurveSpec.mnemonic -> (n,)`` float64 for the group's curves; NaN
            is nodata.
        first_line: LAS: 1-based file line of the block's first sample (wrapped:
            its depth line); DLIS: None.
        dropped: samples of this block dropped for a null depth.
        bytes_read: bytes of the file consumed so far (for progress).
    """

    group: str
    depth: np.ndarray
    images: dict[str, np.ndarray]
    curves: dict[str, np.ndarray]
    first_line: int | None
    dropped: int
    bytes_read: int


def depth_unit_of(unit: str) -> tuple[str, float] | None:
    """Our depth unit for a unit text of the file, and the factor to it.

    Args:
        unit: e.g. ``M``, ``FT``, ``F``, ``.1IN`` (LAS) or ``0.1 in`` (DLIS); case and
            spaces are ignored.

    Returns:
        ``("m" | "ft", factor)``: multiply the file's values by ``factor``
        (``.1IN``: 1/120), or None when the text is not a depth unit we know.
    """
    return DEPTH_UNITS.get(unit.strip().lower().replace(" ", ""))


def detect_format(path: str | Path) -> str:
    """Say what a file is, from its content (not its extension).

    DLIS: the storage unit label (``"V1.00"`` then ``"RECORD"`` at bytes 4..15).
    LAS: the first non-blank line that is not a ``#`` comment starts with ``~V``
    (any case). CSV: any other text (the CSV reader judges it).

    Args:
        path: the file.

    Returns:
        "dlis", "las" or "csv".

    Raises:
        WellLogError: the file is empty or binary and not DLIS.
    """
    with open(path, "rb") as f:
        head = f.read(_PROBE_BYTES)
    if len(head) >= 80 and head[4:9] == b"V1.00" and head[9:15] == b"RECORD":
        return "dlis"
    if not head.strip():
        raise WellLogError("the file is empty")
    if b"\0" in head:
        raise WellLogError("the file is binary but not DLIS (no storage unit label 'V1.00RECORD')")
    for raw in head.removeprefix(b"\xef\xbb\xbf").splitlines():
        line = raw.strip()
        if line and not line.startswith(b"#"):
            return "las" if line[:2].upper() == b"~V" else "csv"
    return "csv"


def read_well_log(
    path: str | Path,
    *,
    max_curves: int | None = None,
    max_columns: int | None = None,
    max_line_bytes: int | None = None,
) -> WellLog:
    """Read a well log's header: well facts, index, images and curves (no samples).

    Fast and bounded in memory: for LAS, lasio reads the sections before ``~A``
    only; for DLIS, dlisio reads the metadata (no curve data).

    Args:
        path: a LAS 2.0 or DLIS file (see :func:`detect_format`).
        max_curves: refuse a file with more curves/channels than this (None: no bound).
        max_columns: refuse an image wider than this many columns (None: no bound).
        max_line_bytes: refuse a LAS header line longer than this (None: no bound).

    Returns:
        The :class:`WellLog`.

    Raises:
        WellLogError: not a readable LAS/DLIS; no index; a time index; a bound
            exceeded; a unit that is not a depth unit.
    """
    kind = detect_format(path)
    if kind == "las":
        from ingest.las import read_las

        return read_las(path, max_curves=max_curves, max_columns=max_columns, max_line_bytes=max_line_bytes)
    if kind == "dlis":
        from ingest.dlis import read_dlis

        return read_dlis(path, max_curves=max_curves, max_columns=max_columns)
    raise WellLogError("the file is neither LAS (its first line is not ~V) nor DLIS")


def iter_well_blocks(
    path: str | Path,
    log: WellLog,
    *,
    block_bytes: int | None = None,
    max_line_bytes: int | None = None,
    max_cells: int | None = None,
) -> Iterator[WellBlock]:
    """Stream the samples of a well log, in file order, group by group.

    LAS: our own streaming parser of ``~A`` (wrapped or not: a whitespace-separated
    stream of numbers, one per curve per sample), about ``block_bytes`` of text per
    block. DLIS: dlisio, one frame at a time (a frame's curves are read whole, so
    ``max_cells`` bounds rows x columns of a frame BEFORE it is read).

    Args:
        path: the file ``log`` was read from.
        log: from :func:`read_well_log`.
        block_bytes: LAS text per block (None: a default of a few MB).
        max_line_bytes: refuse a LAS data line longer than this (None: no bound).
        max_cells: refuse a DLIS frame with more values than this (None: no bound).

    Yields:
        :class:`WellBlock` s in file order.

    Raises:
        WellLogError: a bad value (LAS: its line and curve), a truncated data
            section, a DLIS read error (its logical record / channel), a bound exceeded.
    """
    if log.header.format == "las":
        from ingest.las import iter_las_blocks

        return iter_las_blocks(path, log, block_bytes=block_bytes, max_line_bytes=max_line_bytes)
    from ingest.dlis import iter_dlis_blocks

    return iter_dlis_blocks(path, log, block_bytes=block_bytes, max_cells=max_cells)


def locate_las_lines(path: str | Path, log: WellLog, indices_in_file_order: tuple[int, ...]) -> list[int]:
    """Find the LAS lines of samples given by their position in file order.

    Slow (a Python scan of ``~A``); only to word an error. Positions count every
    sample of the data section, including those later dropped for a null depth.

    Args:
        path: the LAS file.
        log: from :func:`read_well_log`.
        indices_in_file_order: 0-based sample positions.

    Returns:
        1-based line numbers (wrapped: the sample's depth line), one per index.

    Raises:
        WellLogError: a position is past the last sample.
    """
    from ingest.las import locate_las_lines as locate

    return locate(path, log, indices_in_file_order)
