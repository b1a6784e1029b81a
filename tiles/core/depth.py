"""Depth <-> row arithmetic on a regular depth axis.

Pure module. Row ``r`` (0 = shallowest) stands for the depth
``depth_min + r * depth_step``; ``rows`` rows span ``depth_min..depth_max``.
"""

from __future__ import annotations

import math

#: Slack, in rows, for floating-point error when a bound falls on a row's depth
#: (9100.0 must select the row written as 9100.0 although 0.1 is inexact).
ROW_EPSILON = 1e-6


class DepthRangeError(ValueError):
    """A depth range that selects no row, or is malformed (``depth_min > depth_max``)."""


def rows_for_depth_range(
    *, depth_min: float, depth_step: float, rows: int, range_min: float, range_max: float
) -> tuple[int, int]:
    """Rows whose depth lies in the closed range ``[range_min, range_max]``.

    Args:
        depth_min: depth of row 0 (the image's unit).
        depth_step: depth between rows, > 0.
        rows: number of rows in the image.
        range_min: shallow end of the range, same unit.
        range_max: deep end of the range, same unit.

    Returns:
        ``(first, stop)``: rows ``first <= r < stop``, clipped to the image.

    Raises:
        DepthRangeError: ``range_min > range_max``, a bound that is not finite,
            or a range that contains no row of the image.
    """
    if not (math.isfinite(range_min) and math.isfinite(range_max)):
        raise DepthRangeError("depth_min and depth_max must be finite numbers")
    if range_min > range_max:
        raise DepthRangeError(f"depth_min ({range_min:g}) is greater than depth_max ({range_max:g})")
    # Row positions as floats, clamped to the image before any int conversion: a bound
    # like 1e308 gives an infinite position, which math.floor cannot convert.
    low = min(max((range_min - depth_min) / depth_step - ROW_EPSILON, -1.0), float(rows))
    high = min(max((range_max - depth_min) / depth_step + ROW_EPSILON, -1.0), float(rows))
    first = max(0, math.ceil(low))
    last = min(rows - 1, math.floor(high))
    if first > last:
        depth_max = depth_min + (rows - 1) * depth_step
        raise DepthRangeError(
            f"no scanline lies in the depth range {range_min:g}..{range_max:g}; "
            f"the image spans {depth_min:g}..{depth_max:g}"
        )
    return first, last + 1
