"""Query parameters of the image endpoints, validated (a bad value is a 400, never a 500)."""

from __future__ import annotations

from rest_framework import serializers

from tiles.core.style import PaletteError, parse_palette
from tiles.services import StyleError, style_json_check

MAX_SIDE = 65535


def validate_colour(attrs: dict, palette_field: str, palette_text: str | None) -> None:
    """Check a colour request; put the parsed palette (or None) in ``attrs["palette_obj"]``.

    Shared by the tile/region parameters (``palette``) and the classic frames
    (``colormap``).

    Args:
        attrs: validated fields with ``min`` and ``max`` (values, optional).
        palette_field: the parameter that named the palette, for the error.
        palette_text: its value (a colormap name or a list of colours), or None.

    Raises:
        serializers.ValidationError: ``min`` above ``max``, or an unknown palette.
    """
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

    Without ``palette`` the output is grey (value and alpha). ``palette`` applies
    to the single band; ``band=1`` is accepted and changes nothing.
    """

    palette = serializers.CharField(
        required=False,
        help_text="colormap name (viridis, YlOrBr, ...) or list of colours (#000,#f80,#fff)",
    )
    cmap = serializers.CharField(required=False, help_text="alias of palette")
    min = serializers.FloatField(
        required=False,
        help_text="value mapped to the first colour (default 0; float images: the 2nd percentile)",
    )
    max = serializers.FloatField(
        required=False,
        help_text="value mapped to the last colour (default 255; float images: the 98th percentile)",
    )
    band = serializers.IntegerField(required=False, min_value=1, max_value=1, help_text="only band 1 exists")
    style = serializers.CharField(
        required=False, help_text="a large_image style (JSON); large_image renders it"
    )

    def validate(self, attrs):
        validate_colour(attrs, "palette", attrs.get("palette") or attrs.get("cmap"))
        if "style" in attrs:
            try:
                attrs["style_json"] = style_json_check(attrs["style"])
            except StyleError as exc:
                raise serializers.ValidationError({"style": str(exc)}) from None
        else:
            attrs["style_json"] = None
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
        if "depth_min" in attrs and "depth_max" in attrs and attrs["depth_min"] > attrs["depth_max"]:
            low, high = attrs["depth_min"], attrs["depth_max"]
            raise serializers.ValidationError(
                {"depth_min": f"depth_min ({low:g}) is greater than depth_max ({high:g})"}
            )
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
    """Histogram options passed to large_image."""

    bins = serializers.IntegerField(required=False, min_value=1, max_value=4096, default=256)
    onlyMinMax = serializers.BooleanField(required=False, default=False)  # noqa: N815 (API name)
    density = serializers.BooleanField(required=False, default=False)
