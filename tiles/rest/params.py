"""Query parameters of the image endpoints, validated (a bad value is a 400, never a 500)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.settings import api_settings

from ingest.axis import DepthRangeError, depth_range_check
from tiles.core.style import SIGNIFICANT_DIGITS, PaletteError, parse_palette, round_significant
from tiles.services import NORMALIZE_MODES, style_json_check

MAX_SIDE = 65535

#: Longest ``style`` (characters): URL-encoded (up to 3 bytes a character) it still fits
#: gunicorn's request line (``limit_request_line`` 8190 in gunicorn.conf.py) with the path.
STYLE_MAX_LENGTH = 2048

_ROUNDED = f"; rounded to {SIGNIFICANT_DIGITS} significant digits"

#: Longest dynamic window accepted by the parameter (depth unit); the real bound is in
#: rows of the level (4,097, :data:`tiles.core.normalize.MAX_HALF_ROWS`), checked per request.
WINDOW_MAX = 1e6

NORMALIZE_HELP = (
    "static or dynamic normalisation (histogram equalisation): the palette index of a value is "
    "min(255, floor(256 p)), p its mid-rank percentile among the values of the whole level (static) "
    "or of the scanlines of the same level within window/2 of its depth (dynamic); nodata excluded "
    "and transparent; min and max do not apply; npy answers the stored values. Default none"
)
WINDOW_HELP = (
    "dynamic window length in the image's depth unit (default 0.6 for m, 2 for ft); > 0, at most "
    "4,097 scanlines of the level (2,048 on each side), else 400; ignored unless normalize=dynamic"
)


def validate_normalize(attrs: dict) -> None:
    """Check ``normalize`` and ``window``; drop ``window`` unless dynamic (one cache key).

    Raises:
        serializers.ValidationError: a window not > 0 or beyond :data:`WINDOW_MAX`.
    """
    attrs.setdefault("normalize", "none")
    window = attrs.get("window")
    if window is not None and not (0 < window <= WINDOW_MAX):  # NaN fails too
        raise serializers.ValidationError({"window": f"window must be > 0 and at most {WINDOW_MAX:g}"})
    if attrs["normalize"] != "dynamic":
        attrs["window"] = None
    elif window is not None:
        attrs["window"] = round_significant(window)


def depth_range_field_check(depth_min: float, depth_max: float) -> None:
    """:func:`ingest.axis.depth_range_check` as a serializer error naming the bad bound.

    Raises:
        serializers.ValidationError: a bound not finite, or ``depth_min > depth_max``.
    """
    try:
        depth_range_check(depth_min, depth_max)
    except DepthRangeError as exc:
        raise serializers.ValidationError(
            {exc.field or api_settings.NON_FIELD_ERRORS_KEY: str(exc)}
        ) from None


def validate_colour(attrs: dict, palette_field: str, palette_text: str | None) -> None:
    """Check a colour request; put the parsed palette (or None) in ``attrs["palette_obj"]``.

    Shared by the tile/region parameters (``palette``) and the classic frames
    (``colormap``).

    ``min`` and ``max`` are rounded to 6 significant digits
    (:func:`tiles.core.style.round_significant`) before anything uses them: equal
    values key the tiles cache once, and the pixels are those of the rounded value.

    Args:
        attrs: validated fields with ``min`` and ``max`` (values, optional).
        palette_field: the parameter that named the palette, for the error.
        palette_text: its value (a colormap name or a list of colours), or None.

    Raises:
        serializers.ValidationError: ``min`` above ``max``, or an unknown palette.
    """
    for name in ("min", "max"):
        if attrs.get(name) is not None:
            attrs[name] = round_significant(attrs[name])
    vmin, vmax = attrs.get("min"), attrs.get("max")
    if vmin is not None and vmax is not None and vmin > vmax:
        raise serializers.ValidationError({"min": f"min ({vmin:g}) is greater than max ({vmax:g})"})
    attrs["palette_obj"] = None
    if palette_text:
        try:
            attrs["palette_obj"] = parse_palette(palette_text)
        except PaletteError as exc:
            raise serializers.ValidationError({palette_field: str(exc)}) from None


class StyleParams(serializers.Serializer):
    """Colour parameters shared by tiles, regions and thumbnails.

    Without a colour the output is grey (value and alpha); the colour applies to
    the single band; ``band=1`` is accepted and changes nothing. Names follow the
    project's terms: ``colormap`` for a named mapping (as the classic API and the
    viewer say), ``palette`` for a list of colours; each accepts both (``palette``
    was the API's only name), and ``cmap`` stays an alias. When several are
    given, ``palette`` wins, then ``colormap``, then ``cmap``.
    """

    palette = serializers.CharField(
        required=False,
        help_text="list of colours (#000,#f80,#fff) or a colormap name (viridis, YlOrBr, ...)",
    )
    colormap = serializers.CharField(
        required=False,
        help_text="colormap name (viridis, YlOrBr, ...; GET /api/v1/colormaps) or a list of colours; "
        "palette wins when both are given",
    )
    cmap = serializers.CharField(required=False, help_text="alias of colormap")
    min = serializers.FloatField(
        required=False,
        help_text="value mapped to the first colour (default 0; float images: the 2nd percentile)" + _ROUNDED,
    )
    max = serializers.FloatField(
        required=False,
        help_text="value mapped to the last colour (default 255; float images: the 98th percentile)"
        + _ROUNDED,
    )
    band = serializers.IntegerField(required=False, min_value=1, max_value=1, help_text="only band 1 exists")
    # The API's (large_image's) name. DRF's SerializerMetaclass takes declared fields out of the
    # class attributes, so this does not override Field.style; the stubs cannot express that.
    style = serializers.CharField(  # type: ignore[assignment]
        required=False,
        max_length=STYLE_MAX_LENGTH,
        help_text="a large_image style (JSON), rendered by large_image: one band entry or "
        '{"bands": [entry, ...]}; entry keys band, palette, min, max, nodata, composite, clamp, '
        "scheme only (anything else, function included: 400 invalid_style)",
    )
    normalize = serializers.ChoiceField(
        choices=list(NORMALIZE_MODES), required=False, help_text=NORMALIZE_HELP
    )
    window = serializers.FloatField(required=False, help_text=WINDOW_HELP)

    def validate(self, attrs):
        name = next((name for name in ("palette", "colormap", "cmap") if attrs.get(name)), "palette")
        validate_colour(attrs, name, attrs.get(name))
        validate_normalize(attrs)
        if attrs["normalize"] != "none" and "style" in attrs:
            raise serializers.ValidationError(
                {
                    "normalize": "normalize cannot be combined with a large_image style: "
                    "use palette or colormap"
                }
            )
        # StyleError propagates: 400 invalid_style naming the key (project/exceptions.py).
        attrs["style_json"] = style_json_check(attrs["style"]) if "style" in attrs else None
        return attrs


class WindowParams(StyleParams):
    """Where: a closed depth range (image unit) or a pixel window; default the whole image."""

    depth_min = serializers.FloatField(required=False, help_text="shallow end, in the image's depth unit")
    depth_max = serializers.FloatField(required=False, help_text="deep end, in the image's depth unit")
    top = serializers.IntegerField(required=False, min_value=0, help_text="first row (pixels)")
    bottom = serializers.IntegerField(required=False, min_value=1, help_text="row after the last (pixels)")
    left = serializers.IntegerField(required=False, min_value=0, help_text="first column (pixels)")
    right = serializers.IntegerField(required=False, min_value=1, help_text="column after the last (pixels)")
    units = serializers.ChoiceField(
        choices=["pixels", "base_pixels"],
        required=False,
        help_text="only pixels: images are not geospatial",
    )
    width = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIDE)
    height = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIDE)
    max_width = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIDE)
    max_height = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIDE)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "depth_min" in attrs and "depth_max" in attrs:
            depth_range_field_check(attrs["depth_min"], attrs["depth_max"])
        if "top" in attrs and "bottom" in attrs and attrs["top"] >= attrs["bottom"]:
            raise serializers.ValidationError({"top": "top must be less than bottom"})
        if "left" in attrs and "right" in attrs and attrs["left"] >= attrs["right"]:
            raise serializers.ValidationError({"left": "left must be less than right"})
        return attrs


class ThumbnailParams(WindowParams):
    """A thumbnail: exact ``width`` x ``height``, or within ``max_width`` x ``max_height``.

    ``max_width`` and ``max_height`` default to 256 and keep the aspect ratio.
    """

    max_width = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIDE, default=256)
    max_height = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIDE, default=256)


class PixelParams(serializers.Serializer):
    """One pixel: ``left`` (column) and either ``top`` (row) or ``depth``."""

    left = serializers.IntegerField(min_value=0, help_text="column (pixels)")
    top = serializers.IntegerField(required=False, min_value=0, help_text="row (pixels)")
    depth = serializers.FloatField(required=False, help_text="depth in the image's unit (nearest row)")

    def validate(self, attrs):
        if ("top" in attrs) == ("depth" in attrs):
            raise serializers.ValidationError({"top": "give exactly one of top (row) or depth"})
        return attrs


class HistogramParams(serializers.Serializer):
    """Histogram options (large_image's names and defaults)."""

    bins = serializers.IntegerField(required=False, min_value=1, max_value=4096, default=256)
    onlyMinMax = serializers.BooleanField(required=False, default=False)  # noqa: N815 (API name)
    density = serializers.BooleanField(required=False, default=False)


class BandParams(serializers.Serializer):
    """``info/band``: one band, 1-based (1 = the values; 2 = alpha on uint8 images)."""

    band = serializers.IntegerField(
        required=False, min_value=1, max_value=64, default=1, help_text="band number, 1-based"
    )


class HistogramBandSerializer(serializers.Serializer):
    """One band of ``data/histogram`` (large_image's entry, plus how much was read)."""

    min = serializers.FloatField(allow_null=True, help_text="smallest value (null: no value in the band)")
    max = serializers.FloatField(allow_null=True, help_text="largest value")
    mean = serializers.FloatField(allow_null=True)
    stdev = serializers.FloatField(allow_null=True, help_text="population standard deviation")
    range = serializers.ListField(child=serializers.FloatField(), help_text="[min, max + 1]: the bins' span")
    hist = serializers.ListField(
        child=serializers.FloatField(), help_text="count per bin (density=true: fraction of samples)"
    )
    bin_edges = serializers.ListField(child=serializers.FloatField(), help_text="bins + 1 edges")
    bins = serializers.IntegerField()
    density = serializers.BooleanField()
    samples = serializers.FloatField(help_text="values counted")
    sampled = serializers.BooleanField(
        help_text="true: only some full-resolution tiles were read (DJANGO_TILES_MAX_READ_PIXELS), "
        "evenly spaced over the image"
    )
    coverage = serializers.FloatField(help_text="full-resolution tiles read / tiles stored (0..1]")


class HistogramMinMaxSerializer(serializers.Serializer):
    """``data/histogram?onlyMinMax=true``: one entry per band in each list."""

    min = serializers.ListField(child=serializers.FloatField(allow_null=True))
    max = serializers.ListField(child=serializers.FloatField(allow_null=True))
    mean = serializers.ListField(child=serializers.FloatField(allow_null=True))
    stdev = serializers.ListField(child=serializers.FloatField(allow_null=True))
    sampled = serializers.BooleanField()
    coverage = serializers.FloatField()


class BandInfoSerializer(serializers.Serializer):
    """``info/band``: large_image's information about one band (statistics are not computed)."""

    interpretation = serializers.CharField(help_text="gray (the values) or alpha")
