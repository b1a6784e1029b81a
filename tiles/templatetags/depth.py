"""Template filters for depths: as many decimals as the depth step has."""

from django import template

register = template.Library()


def depth_decimals(step: float | None) -> int:
    """Decimals needed to write multiples of ``step`` exactly (0.1 -> 1, 0.0025 -> 4, 1 -> 0)."""
    if not step:
        return 1
    for decimals in range(7):
        if abs(round(step, decimals) - step) <= 1e-9 * max(1.0, abs(step)):
            return decimals
    return 6


@register.filter
def depth(value: float | None, step: float | None) -> str:
    """``{{ image.depth_min|depth:image.depth_step }}`` -> ``9000.1``."""
    if value is None:
        return ""
    return f"{value:.{depth_decimals(step)}f}"
