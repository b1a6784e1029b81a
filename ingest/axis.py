"""Place scanlines on a regular depth axis.

Pure module: no Django. An image row ``r`` (row 0 is the shallowest) stands for
the depth ``depth_min + r * depth_step``; this linear axis is what makes depth
addressing exact and cheap. Placement policy (README.md, "Input policy"):

* scanlines are sorted by depth (the file may list them in any order);
* the step is the most common spacing; a spacing that is a whole multiple of the
  step (a gap, at least 1.5 steps) leaves nodata rows in between;
* any scanline more than 1% of a step away from its row is refused
  (:class:`IrregularStepError`), unless ``resample`` snaps every scanline to the
  nearest row of a grid spaced by the median spacing;
* two scanlines on one row are refused (:class:`DuplicateDepthError`) unless
  ``on_duplicate`` keeps the first, the last, or their mean;
* with limits, an axis of more rows than ``max_rows`` or a gap of more nodata
  rows than ``max_gap_rows`` is refused (:class:`AxisTooLargeError`) before
  any array of rows is made: three scanlines at depths 0, 0.001 and 1e6 would
  otherwise ask for 10^9 rows.
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


class AxisTooLargeError(DepthAxisError):
    """The axis would have more rows, or a gap more nodata rows, than allowed."""


#: What to do with scanlines that land on the same row (README, "Input policy").
ON_DUPLICATE = ("error", "first", "last", "mean")


@dataclass(frozen=True)
class DepthAxis:
    """A regular depth axis and where each scanline lands on it.

    Attributes:
        depth_min: depth of row 0, in the file's depth unit.
        depth_step: depth between consecutive rows (> 0; 1.0 for a single row).
        rows: number of image rows, gap rows included.
        row_of_scanline: ``(n,) int64``: the row of each scanline, in file order;
            -1 for a duplicate left out (``on_duplicate`` first or last).
        merged: True when some row holds several scanlines (``on_duplicate=mean``).
    """

    depth_min: float
    depth_step: float
    rows: int
    row_of_scanline: np.ndarray
    merged: bool = False

    @property
    def depth_max(self) -> float:
        """Depth of the last row (rounded to 9 decimals against float noise)."""
        return round(self.depth_min + (self.rows - 1) * self.depth_step, 9)

    def source_rows(self) -> np.ndarray:
        """``(rows,) int64``: for each image row, its scanline (file order) or -1 (gap).

        Only for an axis that is not ``merged`` (one scanline per row at most).
        """
        source = np.full(self.rows, -1, np.int64)
        kept = np.flatnonzero(self.row_of_scanline >= 0)
        source[self.row_of_scanline[kept]] = kept
        return source


def _typical_step(positive: np.ndarray, resample: bool) -> float:
    """The step of the grid: the most common spacing (ties: the smallest) for a
    regular log, whose gaps then cannot skew it; the median spacing for one to
    resample. Spacings are compared to 9 significant digits (float noise)."""
    if not positive.size:
        return 1.0
    median = float(np.median(positive))
    if resample:
        return median
    decimals = 9 - int(np.floor(np.log10(median)))
    values, counts = np.unique(np.round(positive, decimals), return_counts=True)
    return float(values[np.argmax(counts)])


def _check_size(
    positions: np.ndarray,
    ordered: np.ndarray,
    order: np.ndarray,
    step: float,
    max_rows: int | None,
    max_gap_rows: int | None,
) -> None:
    """Refuse an axis too large, from the rows of the sorted scanlines as ``float64``.

    Floats, so a spacing of 10^300 steps is compared, not cast to a wrapped int64.
    """
    if max_gap_rows is not None and positions.size > 1:
        gaps = np.diff(positions) - 1
        too_wide = np.flatnonzero(~(gaps <= max_gap_rows))  # NaN and inf count as too wide
        if too_wide.size:
            i = int(too_wide[0])
            raise AxisTooLargeError(
                f"the gap from depth {ordered[i]:g} to {ordered[i + 1]:g} would add {gaps[i]:,.0f} "
                f"nodata rows (step {step:g}); the server accepts at most {max_gap_rows:,} per gap",
                (int(order[i]), int(order[i + 1])),
            )
    if max_rows is not None:
        over = np.flatnonzero(~(positions + 1 <= max_rows))
        if over.size:
            i = int(over[0])
            raise AxisTooLargeError(
                f"depths {ordered[0]:g} to {ordered[-1]:g} by step {step:g} make "
                f"{positions[-1] + 1:,.0f} rows, more than {max_rows:,} "
                f"(depth {ordered[i]:g} is past the limit)",
                (int(order[i]),),
            )


def depth_axis_from_depths(
    depth: np.ndarray,
    *,
    on_duplicate: str = "error",
    resample: bool = False,
    max_rows: int | None = None,
    max_gap_rows: int | None = None,
) -> DepthAxis:
    """Build the regular axis for scanline depths given in file order.

    Args:
        depth: ``(n,) float64`` finite depths, n >= 1, in any order.
        on_duplicate: scanlines landing on one row: ``error`` refuses them,
            ``first``/``last`` keep the first/last in file order, ``mean``
            averages them (nodata-aware, when the pixels are read).
        resample: snap every scanline to the nearest row of a regular grid whose
            step is the median spacing, instead of refusing irregular spacing
            (without it, the step is the most common spacing).
        max_rows: the most rows the axis may have, gap rows included (None: no limit).
        max_gap_rows: the most nodata rows one gap may add (None: no limit).

    Returns:
        The axis; ``row_of_scanline[i]`` is the row of ``depth[i]``.

    Raises:
        DepthAxisError: no scanline.
        DuplicateDepthError: two scanlines on one row with ``on_duplicate=error``
            (``indices`` names both).
        IrregularStepError: without ``resample``, a scanline off its row by more
            than 1% of the step (``indices`` names it and its shallower neighbour).
        AxisTooLargeError: a gap wider than ``max_gap_rows`` (``indices`` names
            the scanlines on both sides) or more rows than ``max_rows``
            (``indices`` names the first scanline past the limit); raised
            before any array of rows is allocated.
    """
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE}")
    if depth.size == 0:
        raise DepthAxisError("the file has no scanline with a depth")
    order = np.argsort(depth, kind="stable")
    ordered = depth[order]
    spacing = np.diff(ordered)
    positive = spacing[spacing > 0]
    step = _typical_step(positive, resample)
    if resample or not positive.size:
        positions = np.rint((ordered - ordered[0]) / step)
        _check_size(positions, ordered, order, step, max_rows, max_gap_rows)
        rows_after_first = positions.astype(np.int64)
    else:
        # Whole steps between neighbours, then the step refined over the whole span
        # so that rounding errors do not add up along a long log.
        whole_steps = np.rint(spacing / step)
        positions = np.concatenate([[0.0], np.cumsum(whole_steps)])
        _check_size(positions, ordered, order, step, max_rows, max_gap_rows)
        steps = whole_steps.astype(np.int64)
        rows_after_first = np.concatenate([[0], np.cumsum(steps)])
        if rows_after_first[-1] > 0:
            # Rounded to 12 decimals: 0.09999999999999994 is the 0.1 of the file.
            step = round(float((ordered[-1] - ordered[0]) / rows_after_first[-1]), 12)
        offset = (ordered - ordered[0]) / step - rows_after_first
        too_close = np.concatenate([[False], (steps == 0) & (spacing > 0)])
        bad = np.flatnonzero((np.abs(offset) > STEP_TOLERANCE) | too_close)
        if bad.size:
            i = int(bad[0])
            raise IrregularStepError(
                f"depth {ordered[i]:g} is not a whole number of steps ({step:g}) from "
                f"{ordered[i - 1]:g}: spacing must be regular within {STEP_TOLERANCE:.0%} "
                "(or upload with resample=true)",
                (int(order[i - 1]), int(order[i])),
            )
    shared = np.flatnonzero(np.diff(rows_after_first) == 0)
    merged = False
    if shared.size:
        if on_duplicate == "error":
            i = int(shared[0])
            what = (
                f"depth {ordered[i]:g} appears twice"
                if ordered[i] == ordered[i + 1]
                else f"depths {ordered[i]:g} and {ordered[i + 1]:g} fall on the same row"
            )
            raise DuplicateDepthError(
                f"{what} (or upload with on_duplicate=first, last or mean)",
                (int(order[i]), int(order[i + 1])),
            )
        if on_duplicate in ("first", "last"):
            starts = np.flatnonzero(np.concatenate([[True], np.diff(rows_after_first) != 0]))
            pick = np.minimum if on_duplicate == "first" else np.maximum
            keep = pick.reduceat(order, starts)  # file positions of the kept scanlines
            row_of_scanline = np.full(depth.size, -1, np.int64)
            row_of_scanline[keep] = rows_after_first[starts]
            return DepthAxis(float(ordered[0]), step, int(rows_after_first[-1]) + 1, row_of_scanline)
        merged = True
    row_of_scanline = np.empty(depth.size, np.int64)
    row_of_scanline[order] = rows_after_first
    return DepthAxis(float(ordered[0]), step, int(rows_after_first[-1]) + 1, row_of_scanline, merged)
