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

import math
from dataclasses import dataclass, field

import numpy as np

#: How far (as a fraction of the step) a scanline may sit from its row.
STEP_TOLERANCE = 0.01

#: Slack, in rows, for floating-point error when a bound falls on a row's depth
#: (9100.0 must select the row written as 9100.0 although 0.1 is inexact).
ROW_EPSILON = 1e-6


class DepthRangeError(ValueError):
    """A depth range that selects no row, or is malformed (``depth_min > depth_max``).

    Attributes:
        field: the request parameter at fault (``depth_min`` or ``depth_max``), or
            None when the range is well formed but misses the image.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def depth_range_check(range_min: float, range_max: float) -> None:
    """Refuse a malformed closed depth range: a bound that is not finite, or ``range_min > range_max``.

    The one range check of the project: the API's and the classic API's query
    serializers and :meth:`DepthAxis.rows_for` all call it.

    Args:
        range_min: shallow end (the image's depth unit).
        range_max: deep end, same unit.

    Raises:
        DepthRangeError: with ``field`` naming the bad bound.
    """
    for name, value in (("depth_min", range_min), ("depth_max", range_max)):
        if not math.isfinite(value):
            raise DepthRangeError(f"{name} must be a finite number", field=name)
    if range_min > range_max:
        raise DepthRangeError(
            f"depth_min ({range_min:g}) is greater than depth_max ({range_max:g})", field="depth_min"
        )


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

    The only depth <-> row arithmetic in Python (its mirror for the viewer is
    ``static/tiles/viewer/axis.js``): ingest builds it from the scanlines
    (:func:`depth_axis_from_depths`); serving builds it from an image's row
    (``DepthAxis(image.depth_min, image.depth_step, image.rows)``, no scanlines).

    Attributes:
        depth_min: depth of row 0, in the file's depth unit.
        depth_step: depth between consecutive rows (> 0; 1.0 for a single row).
        rows: number of image rows, gap rows included.
        row_of_scanline: ``(n,) int64``: the row of each scanline, in file order;
            -1 for a duplicate left out (``on_duplicate`` first or last). Empty
            for an axis read back from a stored image.
        merged: True when some row holds several scanlines (``on_duplicate=mean``).
    """

    depth_min: float
    depth_step: float
    rows: int
    row_of_scanline: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64), compare=False)
    merged: bool = False

    def depth(self, row: float) -> float:
        """The depth of row ``row``, ``depth_min + row * depth_step`` (0 = shallowest; may be fractional)."""
        return self.depth_min + row * self.depth_step

    @property
    def depth_max(self) -> float:
        """Depth of the last row (rounded to 9 decimals against float noise)."""
        return round(self.depth(self.rows - 1), 9)

    def rows_for(self, range_min: float, range_max: float) -> tuple[int, int]:
        """Rows whose depth lies in the closed range ``[range_min, range_max]``.

        Args:
            range_min: shallow end of the range, in the axis's unit.
            range_max: deep end of the range, same unit.

        Returns:
            ``(first, stop)``: rows ``first <= r < stop``, clipped to the axis.

        Raises:
            DepthRangeError: a malformed range (:func:`depth_range_check`), or a
                range that contains no row (``field`` None).
        """
        depth_range_check(range_min, range_max)
        # Row positions as floats, clamped to the axis before any int conversion: a bound
        # like 1e308 gives an infinite position, which math.floor cannot convert.
        low = min(max((range_min - self.depth_min) / self.depth_step - ROW_EPSILON, -1.0), float(self.rows))
        high = min(max((range_max - self.depth_min) / self.depth_step + ROW_EPSILON, -1.0), float(self.rows))
        first = max(0, math.ceil(low))
        last = min(self.rows - 1, math.floor(high))
        if first > last:
            raise DepthRangeError(
                f"no scanline lies in the depth range {range_min:g}..{range_max:g}; "
                f"the image spans {self.depth_min:g}..{self.depth(self.rows - 1):g}"
            )
        return first, last + 1

    def row_nearest(self, depth: float) -> int:
        """The row whose depth is nearest ``depth`` (within half a step).

        Raises:
            DepthRangeError: no row within half a step, or ``depth`` not finite.
        """
        half = self.depth_step / 2
        return self.rows_for(depth - half, depth + half)[0]

    def output_depths(self, top: int, bottom: int, height: int) -> tuple[float, float, float]:
        """Depths of an output of ``height`` rows resampled from rows ``top..bottom - 1``.

        Output row ``r`` stands for the centre of the rows it averages:
        ``first + r * step`` with ``step = depth_step * (bottom - top) / height``
        (at native size, exactly each row's depth). These are a window's
        ``X-Depth-Min``, ``X-Depth-Max`` and ``X-Depth-Step``.

        Returns:
            ``(first, last, step)``: depths of output rows 0 and ``height - 1``, and the step.
        """
        rows_per_output_row = (bottom - top) / height
        step = self.depth_step * rows_per_output_row
        first = self.depth(top + (rows_per_output_row - 1) / 2)
        return first, first + (height - 1) * step, step

    def source_rows(self) -> np.ndarray:
        """``(rows,) int64``: for each image row, its scanline (file order) or -1 (gap).

        Only for an axis that is not ``merged`` (one scanline per row at most).
        """
        source = np.full(self.rows, -1, np.int64)
        kept = np.flatnonzero(self.row_of_scanline >= 0)
        source[self.row_of_scanline[kept]] = kept
        return source


def _typical_step(positive: np.ndarray, resample: bool) -> float:
    """The step of the grid: the most common spacing, or the median one to resample.

    The most common spacing (ties: the smallest) suits a regular log, whose gaps
    then cannot skew it; a log to resample takes the median spacing. Spacings are
    compared to 9 significant digits (float noise).
    """
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
    *,
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
        _check_size(positions, ordered, order, step, max_rows=max_rows, max_gap_rows=max_gap_rows)
        rows_after_first = positions.astype(np.int64)
    else:
        # Whole steps between neighbours, then the step refined over the whole span
        # so that rounding errors do not add up along a long log.
        whole_steps = np.rint(spacing / step)
        positions = np.concatenate([[0.0], np.cumsum(whole_steps)])
        _check_size(positions, ordered, order, step, max_rows=max_rows, max_gap_rows=max_gap_rows)
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
