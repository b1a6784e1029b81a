"""Colormaps, palettes and the lookup tables that apply them.

Pure module. A style maps one uint8 band to colour: values ``vmin..vmax`` spread
linearly over the palette, values outside are clamped to its ends, and nodata
(alpha 0) stays transparent. The palette colours and the interpolation are
large_image's (``getPaletteColors`` and ``np.interp`` over evenly spaced stops,
see large_image ``TileSource._applyStyle``), so a style rendered here matches the
same style rendered by large_image. For uint8 data the whole mapping is a
256-entry lookup table, built once per style.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from large_image.tilesource.utilities import getPaletteColors

#: Borehole-image colour scales (dark = low value, e.g. conductive; light =
#: high, resistive), as resistivity image logs are conventionally shown: black
#: through browns, orange and yellow to near white.
BOREHOLE_PALETTES: dict[str, tuple[str, ...]] = {
    "resistivity": (
        "#000000",
        "#3d1c02",
        "#7a3b05",
        "#b0620f",
        "#d98c1f",
        "#f0b941",
        "#fadf7f",
        "#fff8e1",
    ),
}
BOREHOLE_PALETTES["resistivity_r"] = tuple(reversed(BOREHOLE_PALETTES["resistivity"]))

#: Named colormaps offered first (the viewer's list); any matplotlib name works too.
COLORMAPS = (
    "gray",
    "resistivity",
    "resistivity_r",
    "gray_r",
    "viridis",
    "magma",
    "inferno",
    "plasma",
    "cividis",
    "YlOrBr",
    "YlOrBr_r",
    "copper",
    "afmhot",
    "RdYlBu",
    "Spectral",
)


def colormap_names() -> list[str]:
    """Every named colormap: ours and the featured first, then matplotlib's, sorted."""
    import matplotlib

    rest = sorted(set(matplotlib.colormaps) - set(COLORMAPS), key=str.lower)
    return list(COLORMAPS) + rest


class PaletteError(ValueError):
    """A palette that is neither a known colormap name nor a list of colours."""


@dataclass(frozen=True)
class Style:
    """How to colour a uint8 band.

    Attributes:
        palette: ``(n, 4) uint8`` RGBA stops as a tuple of tuples, or None for
            plain grey (the stored values, untouched).
        vmin: value mapped to the first stop.
        vmax: value mapped to the last stop.
    """

    palette: tuple[tuple[int, int, int, int], ...] | None = None
    vmin: float = 0.0
    vmax: float = 255.0

    @property
    def is_grey(self) -> bool:
        """True when the output is the stored value itself (grey + alpha)."""
        return self.palette is None and self.vmin == 0 and self.vmax == 255


#: matplotlib colormaps whose names are also CSS colours (and their reverses).
_CSS_NAMED_COLORMAPS = frozenset({"gray", "grey", "pink", "gray_r", "grey_r", "pink_r"})


@functools.lru_cache(maxsize=1024)
def parse_palette(text: str) -> tuple[tuple[int, int, int, int], ...]:
    """Read a palette parameter.

    Args:
        text: a colormap name (ours in :data:`BOREHOLE_PALETTES`, matplotlib's,
            or palettable's as large_image reads them; ``gray``, ``grey`` and
            ``pink`` are matplotlib's maps, not large_image's black-to-CSS-colour
            ramps), a JSON list of colours
            (``["#000", "#f80"]``), or a comma-separated list (``#000,#f80,#fff``).

    Returns:
        RGBA stops, each channel 0..255.

    Raises:
        PaletteError: unknown name or unreadable colour.

    Cached: large_image rebuilds a named palette on every call (about 20 ms).
    """
    text = text.strip()
    value: str | list[str] = text
    if text in BOREHOLE_PALETTES:
        value = list(BOREHOLE_PALETTES[text])
    elif text in _CSS_NAMED_COLORMAPS:
        # large_image reads these as one CSS colour (black -> that colour); users mean matplotlib's map.
        stops = matplotlib.colormaps[text](np.linspace(0.0, 1.0, 256))
        value = [matplotlib.colors.to_hex(stop) for stop in stops]
    elif text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PaletteError(f"palette is not a valid JSON list: {exc.msg}") from None
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise PaletteError("a palette list must hold colour strings")
    elif "," in text:
        value = [part.strip() for part in text.split(",")]
    try:
        colours = getPaletteColors(value)
    except (ValueError, TypeError, KeyError):
        raise PaletteError(
            f"unknown palette {text!r}: use a colormap name such as 'viridis' "
            "or a list of colours such as #000,#f80,#fff"
        ) from None
    # getPaletteColors answers an (n, 4) RGBA array.
    return tuple((int(r), int(g), int(b), int(a)) for r, g, b, a in np.asarray(colours))


@functools.lru_cache(maxsize=256)
def lookup_table(style: Style) -> np.ndarray:
    """The 256-entry table of a style.

    Returns:
        ``(256, 4) uint8`` RGBA for a palette style, ``(256, 1) uint8`` for grey.
        Entry ``v`` is the colour of the stored value ``v``.
    """
    values = np.arange(256, dtype=np.float64)
    delta = style.vmax - style.vmin if style.vmax != style.vmin else 1.0
    position = np.clip((values - style.vmin) / delta, 0.0, 1.0)
    if style.palette is None:
        return np.round(position * 255).astype(np.uint8).reshape(256, 1)
    stops = np.asarray(style.palette, dtype=np.float64)
    base = np.linspace(0, 1, len(stops), endpoint=True)
    table = np.empty((256, 4), np.uint8)
    for channel in range(4):
        table[:, channel] = np.clip(np.interp(position, base, stops[:, channel]), 0, 255).astype(np.uint8)
    return table


def apply_style(raw: np.ndarray, style: Style) -> np.ndarray:
    """Colour a window of the pyramid.

    Args:
        raw: ``(h, w, 2) uint8``: stored value and alpha (0 = nodata).
        style: the style.

    Returns:
        ``(h, w, 2) uint8`` grey + alpha for a grey style, ``(h, w, 4) uint8``
        RGBA for a palette; nodata pixels have alpha 0.
    """
    value, alpha = raw[..., 0], raw[..., 1]
    if style.is_grey:
        return raw
    table = lookup_table(style)
    if style.palette is None:
        return np.dstack([table[value][..., 0], alpha])
    # one 32-bit gather per pixel (RGBA packed), then the alpha byte
    packed = np.ascontiguousarray(table).view(np.uint32).ravel()
    out: np.ndarray = packed[value].view(np.uint8).reshape(*value.shape, 4)
    if (table[:, 3] == 255).all():
        out[..., 3] = alpha  # the palette is opaque: alpha is the pixel's
    else:
        out[..., 3] = (out[..., 3].astype(np.uint16) * alpha // 255).astype(np.uint8)
    return out


class StyleError(ValueError):
    """A large_image ``style`` we refuse: not JSON, a key off the allow-list, or a bad value."""


#: What a large_image style may hold here (large_image ``TileSource.__init__``'s
#: style documentation and ``TileSource._applyStyle``): the keys of one band
#: entry, used at the top level or in each entry of ``bands``. Left out on purpose:
#: ``function`` (large_image imports the named module and calls it: code from a
#: URL), ``frame`` and ``framedelta`` (our images have one frame), ``dtype`` and
#: ``axis`` (our encoders take 8-bit channels), ``icc`` (no ICC profiles).
STYLE_BAND_KEYS = frozenset({"band", "palette", "min", "max", "nodata", "composite", "clamp", "scheme"})

#: Band names large_image resolves for a grey + alpha or grey image.
STYLE_BAND_NAMES = frozenset({"gray", "alpha"})

#: Words ``min``/``max`` may be instead of a number (``_getMinMax``); ``min:``,
#: ``max:`` and ``auto:`` may be followed by a histogram threshold in [0, 1].
STYLE_RANGE_WORDS = frozenset({"auto", "min", "max", "full"})

#: At most this many entries in ``bands``, colours in a palette list, characters in a colour or name.
STYLE_MAX_BANDS = 16
STYLE_MAX_COLOURS = 256
STYLE_MAX_NAME = 100

#: Significant digits kept of a float ``min``/``max`` (and ``nodata``): equal
#: values give one cache key, and the rendering uses the value the key names.
SIGNIFICANT_DIGITS = 6


def round_significant(value: float) -> float:
    """``value`` rounded to :data:`SIGNIFICANT_DIGITS` significant digits (``1.00000000001`` -> ``1.0``)."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


#: Largest magnitude of a number in a style: beyond any measured value, and far enough
#: from float64's limit that large_image's ``(value - min) / (max - min) * 255`` stays finite.
STYLE_MAX_NUMBER = 1e30


def _finite_number(value: object, where: str, key: str, *, rounded: bool = True) -> float:
    """``value`` checked, as a float, rounded (:func:`round_significant`) unless ``rounded`` is False."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StyleError(f"style {where}: {key} must be a number, not {json.dumps(value)[:40]}")
    if not (np.isfinite(value) and abs(value) <= STYLE_MAX_NUMBER):
        raise StyleError(f"style {where}: {key} must be a finite number within +-{STYLE_MAX_NUMBER:g}")
    return round_significant(float(value)) if rounded else float(value)


def _range_value(value: object, where: str, key: str) -> float | str:
    if isinstance(value, str):
        word, _, threshold = value.partition(":")
        if word in STYLE_RANGE_WORDS and not threshold:
            return value
        if word in {"min", "max", "auto"} and threshold:
            try:
                fraction = float(threshold)
            except ValueError:
                fraction = -1.0
            if 0.0 <= fraction <= 1.0:
                return value
        raise StyleError(
            f"style {where}: {key} must be a number, auto, min, max, full, or min:/max:/auto: "
            f"followed by a fraction in [0, 1]; not {value[:40]!r}"
        )
    return _finite_number(value, where, key)


def _palette_value(value: object, where: str) -> str | list[str]:
    if isinstance(value, str):
        colours = [value]
    elif isinstance(value, list) and 1 <= len(value) <= STYLE_MAX_COLOURS:
        colours = value
    else:
        raise StyleError(
            f"style {where}: palette must be a colormap name, a colour, or a list of 1 to "
            f"{STYLE_MAX_COLOURS} colour strings"
        )
    for colour in colours:
        # A name is looked up as an attribute path of palettable: no dunders.
        if not isinstance(colour, str) or not 1 <= len(colour) <= STYLE_MAX_NAME or "__" in colour:
            raise StyleError(f"style {where}: palette entries must be colour strings or a colormap name")
    try:
        getPaletteColors(value)
    except (ValueError, TypeError, KeyError, AttributeError):
        shown = json.dumps(value)[:60]
        raise StyleError(f"style {where}: palette {shown} is not a colormap or colours") from None
    return value


def _band_entry(entry: object, where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise StyleError(f"style {where}: must be a JSON object")
    for key in entry:
        if key not in STYLE_BAND_KEYS:
            raise StyleError(
                f"style {where}: key {key!r} is not allowed; allowed keys: "
                + ", ".join(sorted(STYLE_BAND_KEYS | ({"bands"} if where == "top level" else set())))
            )
    out = {key: _band_value(key, value, where) for key, value in entry.items()}
    low, high = out.get("min"), out.get("max")
    if (
        isinstance(low, float)
        and isinstance(high, float)
        and low != high
        and abs(high - low) < 1e-9 * max(1.0, abs(low), abs(high))
    ):
        raise StyleError(f"style {where}: min and max are too close to map values between them")
    return out


def _band_value(key: str, value: Any, where: str) -> Any:
    """One checked value of a band entry, whose key is in :data:`STYLE_BAND_KEYS`."""
    if key == "palette":
        return _palette_value(value, where)
    if key in ("min", "max"):
        return _range_value(value, where, key)
    if key == "nodata":
        # large_image masks the values equal to nodata: rounding it would stop the mask.
        return None if value is None else _finite_number(value, where, key, rounded=False)
    if key == "band":
        if isinstance(value, bool) or not (
            (isinstance(value, int) and 1 <= value <= 64) or value in STYLE_BAND_NAMES
        ):
            raise StyleError(
                f"style {where}: band must be a band number (1 = the values) or one of "
                f"{', '.join(sorted(STYLE_BAND_NAMES))}; not {json.dumps(value)[:40]}"
            )
    elif key == "composite":
        if value not in ("lighten", "multiply"):
            raise StyleError(f"style {where}: composite must be lighten or multiply")
    elif key == "clamp":
        if not isinstance(value, bool):
            raise StyleError(f"style {where}: clamp must be true or false")
    elif value not in ("linear", "discrete"):  # scheme
        raise StyleError(f"style {where}: scheme must be linear or discrete")
    return value


def large_image_style(value: object) -> dict[str, Any]:
    """Check a large_image style against the allow-list and normalise it.

    Args:
        value: the decoded ``style`` JSON: one band entry (keys of
            :data:`STYLE_BAND_KEYS`), or ``{"bands": [entry, ...]}``.

    Returns:
        The same style with min and max rounded (:func:`round_significant`), so
        equal styles serialise equally; nodata is kept exact (large_image masks
        the values equal to it).

    Raises:
        StyleError: not an object, a key off the allow-list (``function``
            among them) or a bad value; the message names the key and where it
            is (``top level`` or ``bands[i]``).
    """
    if not isinstance(value, dict):
        raise StyleError("style must be a JSON object")
    if "bands" not in value:
        return _band_entry(value, "top level")
    extra = sorted(set(value) - {"bands"})
    if extra:
        raise StyleError(
            f"style top level: key {extra[0]!r} is not allowed beside bands; put band keys "
            "in each entry of bands"
        )
    bands = value["bands"]
    if not isinstance(bands, list) or not 1 <= len(bands) <= STYLE_MAX_BANDS:
        raise StyleError(f"style top level: bands must be a list of 1 to {STYLE_MAX_BANDS} objects")
    return {"bands": [_band_entry(entry, f"bands[{i}]") for i, entry in enumerate(bands)]}


def style_bands(style: dict[str, Any]) -> list[int | str | None]:
    """The ``band`` of every entry of a checked style (None where unset)."""
    return [entry.get("band") for entry in style.get("bands", [style])]
