"""``/api/v1/colormaps``: the named colormaps and their legend strips."""

from __future__ import annotations

import numpy as np
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tiles.core.render import render
from tiles.core.style import (
    BOREHOLE_PALETTES,
    COLORMAPS,
    PaletteError,
    Style,
    colormap_names,
    parse_palette,
)
from tiles.rest.viewsets import IMMUTABLE


class LegendParams(serializers.Serializer):
    """Query parameters of a legend strip: its size in pixels and its orientation."""

    width = serializers.IntegerField(required=False, min_value=2, max_value=4096, default=256)
    height = serializers.IntegerField(required=False, min_value=1, max_value=256, default=16)
    vertical = serializers.BooleanField(required=False, default=False)


class ColormapSerializer(serializers.Serializer):
    """One named colormap in the colormap list (response schema)."""

    name = serializers.CharField(help_text="use it as palette= (or colormap= on get-images)")
    group = serializers.ChoiceField(choices=["borehole", "matplotlib"])
    featured = serializers.BooleanField(help_text="offered first by the viewer")
    legend_url = serializers.URLField(help_text="a legend strip (PNG), values 0..255 left to right")


class ColormapListView(APIView):
    """Every named colormap usable as ``palette``, the borehole scales and featured ones first."""

    @extend_schema(responses={200: ColormapSerializer(many=True)})
    def get(self, request: Request) -> Response:
        names = colormap_names()
        return Response(
            [
                {
                    "name": name,
                    "group": "borehole" if name in BOREHOLE_PALETTES else "matplotlib",
                    "featured": name in COLORMAPS,
                    "legend_url": request.build_absolute_uri(f"/api/v1/colormaps/{name}.png"),
                }
                for name in names
            ]
        )


class ColormapLegendView(APIView):
    """A legend strip: values 0..255 left to right (or bottom to top when ``vertical``)."""

    @extend_schema(parameters=[LegendParams], responses={(200, "image/png"): bytes})
    def get(self, request: Request, name: str) -> HttpResponse:
        query = LegendParams(data=request.query_params)
        query.is_valid(raise_exception=True)
        width, height = query.validated_data["width"], query.validated_data["height"]
        try:
            style = Style(palette=parse_palette(name))
        except PaletteError as exc:
            raise NotFound(str(exc)) from None
        ramp = np.linspace(0, 255, width).round().astype(np.uint8)
        values = np.broadcast_to(ramp, (height, width))
        if query.validated_data["vertical"]:
            values = np.flipud(values.T)
        raw = np.dstack([values, np.full(values.shape, 255, np.uint8)])
        content, mime = render(raw, style, "png")
        response = HttpResponse(content, content_type=mime)
        response["Cache-Control"] = IMMUTABLE
        return response
