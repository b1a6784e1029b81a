"""Place scanlines on a regular depth axis.

Pure module: no Django. An image row ``r`` (row 0 is the shallowest) stands for
the depth ``depth_min + r * depth_step``; this linear axis is what makes depth
addressing exact and cheap. Placement policy (README.md, "Input policy"):

* scanlines are sorted by depth (the file may list them in any order);
* two scanlines at the same depth are refused (:class:`DuplicateDepthError`);
* the step is the median spacing; a spacing that is a whole multiple of the step
  (a gap, at least 1.5 steps) leaves nodata rows in between;
* any scanline more than 1% of a step away from its row is refused
  (:class:`IrregularStepError`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: How far (as a fraction of the step) a scanline may sit from its row.
STEP_TOLERANCE = 0.01


class DepthAxisError(ValueError):
    """The depths of the scanlines do not make a regular axis.

    Attributes:
        message: what is wrong, in words.
        indices: positions (in file order, among kept scanlines) of the
            scanlines involved, so the caller can name their CSV lines.
    """

    def __init__(self, message: str, indices: tuple[int, ...] = ()):
        super().__init__(message)
        self.message = message
        self.indices = indices


class DuplicateDepthError(DepthAxisError):
    """Two scanlines share a depth."""


class IrregularStepError(DepthAxisError):
    """Scanlines are not spaced by whole multiples of one step."""


@dataclass(frozen=True)
class DepthAxis:
    """A regular depth axis and where each scanline lands on it.

    Attributes:
        depth_min: depth of row 0, in the file's depth unit.
        depth_step: depth between consecutive rows (> 0; 1.0 for a single row).
        rows: number of image rows, gap rows included.
        row_of_scanline: ``(n,) int64``: the row of each scanline, in file order.
    """

    depth_min: float
    depth_step: float
    rows: int
    row_of_scanline: np.ndarray

    @property
    def depth_max(self) -> float:
        """Depth of the last row (rounded to 9 decimals against float noise)."""
        return round(self.depth_min + (self.rows - 1) * self.depth_step, 9)

    def source_rows(self) -> np.ndarray:
        """``(rows,) int64``: for each image row, the scanline (file order) or -1 (gap)."""
        source = np.full(self.rows, -1, np.int64)
        source[self.row_of_scanline] = np.arange(self.row_of_scanline.size)
        return source


def depth_axis_from_depths(depth: np.ndarray) -> DepthAxis:
    """Build the regular axis for scanline depths given in file order.

    Args:
        depth: ``(n,) float64`` finite depths, n >= 1, in any order.

    Returns:
        The axis; ``row_of_scanline[i]`` is the row of ``depth[i]``.

    Raises:
        DepthAxisError: no scanline.
        DuplicateDepthError: two scanlines at one depth (``indices`` names both).
        IrregularStepError: a scanline off its row by more than 1% of the step
            (``indices`` names it and its shallower neighbour).
    """
    if depth.size == 0:
        raise DepthAxisError("the file has no scanline with a depth")
    order = np.argsort(depth, kind="stable")
    ordered = depth[order]
    if depth.size == 1:
        return DepthAxis(float(ordered[0]), 1.0, 1, np.zeros(1, np.int64))
    spacing = np.diff(ordered)
    same = np.flatnonzero(spacing == 0)
    if same.size:
        i = same[0]
        raise DuplicateDepthError(f"depth {ordered[i]:g} appears twice", (int(order[i]), int(order[i + 1])))
    step = float(np.median(spacing))
    # Whole steps between neighbours, then the step refined over the whole span so
    # that rounding errors do not add up along a long log.
    steps = np.rint(spacing / step).astype(np.int64)
    rows_after_first = np.concatenate([[0], np.cumsum(steps)])
    if rows_after_first[-1] > 0:
        # Rounded to 12 decimals: 0.09999999999999994 is the 0.1 of the file.
        step = round(float((ordered[-1] - ordered[0]) / rows_after_first[-1]), 12)
    offset = (ordered - ordered[0]) / step - rows_after_first
    bad = np.flatnonzero((np.abs(offset) > STEP_TOLERANCE) | (np.concatenate([[1], steps]) == 0))
    if bad.size:
        i = int(bad[0])
        raise IrregularStepError(
            f"depth {ordered[i]:g} is not a whole number of steps ({step:g}) from "
            f"{ordered[i - 1]:g}: spacing must be regular within {STEP_TOLERANCE:.0%}",
            (int(order[i - 1]), int(order[i])),
        )
    row_of_scanline = np.empty(depth.size, np.int64)
    row_of_scanline[order] = rows_after_first
    return DepthAxis(float(ordered[0]), step, int(rows_after_first[-1]) + 1, row_of_scanline)
