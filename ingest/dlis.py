"""DLIS well logs through dlisio (being written: see ingest.welllog)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ingest.welllog import WellBlock, WellLog


def read_dlis(path: str | Path, *, max_curves: int | None = None, max_columns: int | None = None) -> WellLog:
    """Read a DLIS file's metadata (not yet)."""
    raise NotImplementedError


def iter_dlis_blocks(
    path: str | Path, log: WellLog, *, block_bytes: int | None = None, max_cells: int | None = None
) -> Iterator[WellBlock]:
    """Stream a DLIS file's frames (not yet)."""
    raise NotImplementedError
