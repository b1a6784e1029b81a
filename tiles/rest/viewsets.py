"""``/api/v1/images/{id}/...``: serving a ready image, every django-large-image route.

The viewset is django-large-image's ``LargeImageFileDetailMixin`` on
:class:`ingest.rest.viewsets.ImageViewSetBase` (visibility, permissions, private
headers), registered under the ``images`` prefix beside the upload and job
routes of :class:`ingest.rest.viewsets.ImageViewSet`. Routes whose stock behaviour leaks or
misleads (shared/STACK-NOTES.md) are replaced, keeping their URLs:

* ``tiles/{z}/{x}/{y}.{fmt}``: a tile outside the pyramid is 404 (stock: 400);
  ``palette`` works without ``band=1``; nodata stays transparent.
* ``data/region.{fmt}`` and ``data/thumbnail.{fmt}``: also by depth range,
  rendered in memory (stock: one temporary file per request, never deleted);
  thumbnails can be exact ``width`` x ``height`` strips.
* ``data/pixel``: by row or depth, answers the stored value.
* ``tiles/{z}/{x}/{y}/corners``: pixel and depth corners (stock: 500 for
  non-geospatial images).
* ``data/histogram``: computed here from at most ``DJANGO_TILES_MAX_READ_PIXELS``
  pixels (stock: every full-resolution tile); ``info/band``: an unknown band is a
  400 (stock: 500).
* ``normalize=static|dynamic`` and ``window=`` on tiles, regions and thumbnails
  (:mod:`tiles.core.normalize`): the palette index is the value's percentile among
  the scanlines of its level (a dynamic window too wide for the level: 400 naming
  ``window``); ``npy`` stays the stored values.
* every parameter is validated by a serializer: a bad value is a 400.
"""

from __future__ import annotations

import functools
import io
import json

import tifftools  # type: ignore[import-untyped]
from django.http import HttpResponse, HttpResponseNotModified, QueryDict
from django.utils.http import parse_etags
from django_large_image.rest import LargeImageFileDetailMixin
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from ingest.models import Image
from ingest.rest.viewsets import ImageViewSetBase
from ingest.selectors import (
    image_get_ready_cached,
    image_is_visible,
    image_remember_ready,
)
from tiles.core.normalize import WindowTooWideError
from tiles.rest import params
from tiles.services import (
    ImageNotReadyError,
    Rendering,
    cached_render,
    etag_for,
    large_image_source,
    output_size,
    render_key,
    resolve_style,
    style_json_check,
    style_key,
)
from tiles.source import ImageSource

TILE_FORMATS = rf"(?P<fmt>{'|'.join(ImageSource.tile_formats)})"
DATA_FORMATS = rf"(?P<fmt>{'|'.join(ImageSource.data_formats)})"
#: The tile route under ``images/{pk}/`` (the fast lane, :mod:`tiles.middleware`, matches it too).
TILE_ROUTE = rf"tiles/(?P<z>\d+)/(?P<x>\d+)/(?P<y>\d+)\.{TILE_FORMATS}"


class AnyMediaRenderer(BaseRenderer):
    """Lets image routes answer whatever the client accepts; errors are JSON."""

    media_type = "*/*"
    # DRF's own BaseRenderer sets format = None; its stubs declare str (project.schema.AutoSchema reads None).
    format = None  # type: ignore[assignment]
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


#: An image's content never changes for its id: browsers and proxies may keep it.
IMMUTABLE = "public, max-age=31536000, immutable"


def _cached_image_response(request: Request, key: str, produce) -> HttpResponse:
    """Answer 304 for a matching ``If-None-Match``, else the cached or rendered bytes.

    Every image response carries a strong ``ETag`` (from the render key) and
    ``Cache-Control: public, max-age=31536000, immutable``.
    """
    etag = etag_for(key)
    matches = parse_etags(request.headers.get("If-None-Match", ""))
    response: HttpResponse
    if etag in matches or "*" in matches:
        response = HttpResponseNotModified()
    else:
        content, mime = cached_render(key, produce)
        response = HttpResponse(content, content_type=mime)
    response["ETag"] = etag
    response["Cache-Control"] = IMMUTABLE
    return response


def tile_response(request, image: Image, style: dict, *, z: int, x: int, y: int, fmt: str) -> HttpResponse:
    """The answer to a tile request (200 or 304), from the tiles cache or rendered once.

    Shared by :meth:`ImageDataViewSet.tile` and :class:`tiles.middleware.TileFastLaneMiddleware`.

    Args:
        request: the Django (or DRF) request; only ``If-None-Match`` is read.
        image: a ready image.
        style: validated :class:`tiles.rest.params.StyleParams`.
        z: tile level, 0 = the coarsest.
        x: tile column, 0 = the left one.
        y: tile row, 0 = the shallowest.
        fmt: png, jpeg, jpg or webp.

    Raises:
        TileOutOfRangeError: the tile is outside the pyramid.
        StyleError: a large_image ``style`` large_image refuses.
    """
    source = ImageSource.for_image(image)
    rendering = _rendering(image, style)
    _normalize_check(source, rendering, 2.0 ** max(0, source.page(z)))
    key = render_key(image, "tile", z=z, x=x, y=y, fmt=fmt, style=style_key(rendering, style["style_json"]))
    return _cached_image_response(
        request,
        key,
        lambda: source.tile(z=z, x=x, y=y, rendering=rendering, fmt=fmt, style_json=style["style_json"]),
    )


def query_params(serializer_class, query: QueryDict) -> dict:
    """Validated query parameters (memoised: validation is pure and costs ~0.5 ms).

    Raises:
        rest_framework.exceptions.ValidationError: a bad parameter.
    """
    key = tuple(sorted((name, tuple(values)) for name, values in query.lists()))
    return dict(_validated(serializer_class, key))


def _rendering(image: Image, query: dict, fmt: str = "png") -> Rendering:
    """The rendering of validated colour parameters; ``npy`` (stored values) is never normalised."""
    return resolve_style(
        image=image,
        palette=query["palette_obj"],
        vmin=query.get("min"),
        vmax=query.get("max"),
        normalize="none" if fmt == "npy" else query.get("normalize", "none"),
        window=query.get("window"),
    )


def _normalize_check(source: ImageSource, rendering: Rendering, row_scale: float) -> None:
    """A dynamic window too wide for the output's rows: 400 naming ``window``, before any read."""
    try:
        source.normalize_check(rendering, row_scale)
    except WindowTooWideError as exc:
        raise ValidationError({"window": str(exc)}) from None


@functools.lru_cache(maxsize=4096)
def _validated(serializer_class, query: tuple[tuple[str, tuple[str, ...]], ...]) -> dict:
    data = QueryDict(mutable=True)
    for key, values in query:
        data.setlist(key, list(values))
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ImageDataViewSet(LargeImageFileDetailMixin, ImageViewSetBase):
    """Serving a ready image under ``/api/v1/images/{id}/``: tiles, data and info (detail routes only).

    The image routes of :class:`ingest.rest.viewsets.ImageViewSet` (upload, list,
    detail, change, delete) share its prefix, visibility and private headers
    (:class:`ingest.rest.viewsets.ImageViewSetBase`). Every read goes through the
    image's :class:`tiles.source.ImageSource`.
    """

    FILE_FIELD_NAME = "file"

    def perform_content_negotiation(self, request: Request, force: bool = False):
        """Image routes answer their own media type: skip parsing ``Accept`` (~0.2 ms a request)."""
        renderers = self.get_renderers()
        if len(renderers) == 1 and isinstance(renderers[0], AnyMediaRenderer):
            return renderers[0], renderers[0].media_type
        return super().perform_content_negotiation(request, force)

    # -- django-large-image plumbing -----------------------------------------------

    def get_path(self, request: Request, pk: int | None = None) -> str:
        """The pyramid's storage name: :meth:`open_tile_source` reads it by ranged reads (no local file)."""
        image = self.get_object()
        if not image.is_ready:
            raise ImageNotReadyError(image)
        return image.file.name

    def open_tile_source(self, request: Request, path, **kwargs):
        """large_image over our pyramid reader (:func:`tiles.services.large_image_source`).

        ``projection`` and ``source`` do not apply here; a style is checked by our allow-list.
        """
        style = kwargs.get("style")
        return large_image_source(str(path), style_json_check(style) if style else None)

    @extend_schema(summary="A dump of the pyramid's TIFF structure (tifftools), read by ranged reads")
    @action(detail=True, url_path="info/tiffdump")
    def tiffdump(self, request: Request, pk=None, **kwargs):
        """The TIFF structure as tifftools dumps it (stock: a local file only)."""
        output = io.StringIO()
        tifftools.tiff_dump(
            ImageSource.for_image(self._ready_image()).structure_file(), dest=output, outformat="json"
        )
        return Response(json.loads(output.getvalue()))

    def _ready_image(self) -> Image:
        try:
            image_id = int(self.kwargs[self.lookup_field])
        except (KeyError, ValueError):
            image_id = None
        image = image_get_ready_cached(image_id=image_id) if image_id is not None else None
        if image is None or not image_is_visible(image, self.request.user):
            image = self.get_object()  # 404 unless the requester may see it
            if not image.is_ready:
                raise ImageNotReadyError(image)
            image_remember_ready(image)
        self._private = self._private or not image.public
        return image

    @staticmethod
    def _params(serializer_class, request: Request) -> dict:
        """Validated query parameters (:func:`query_params`)."""
        return query_params(serializer_class, request.query_params)

    # -- tiles --------------------------------------------------------------------

    @extend_schema(parameters=[params.StyleParams], responses={(200, "image/png"): bytes})
    @action(
        detail=True,
        url_path=TILE_ROUTE,
        renderer_classes=[AnyMediaRenderer],
    )
    # PLR0917: DRF passes the route's URL kwargs (x, y, z, pk, fmt) by name; the signature is DRF's.
    def tile(self, request: Request, x: str, y: str, z: str, pk=None, fmt: str = "png", **kwargs):  # noqa: PLR0917
        """A 256 x 256 tile; z = 0 is the coarsest level. Outside the pyramid: 404."""
        style = self._params(params.StyleParams, request)
        return tile_response(request, self._ready_image(), style, z=int(z), x=int(x), y=int(y), fmt=fmt)

    @action(detail=True, url_path=r"tiles/(?P<z>\d+)/(?P<x>\d+)/(?P<y>\d+)/corners")
    def tile_corners(self, request: Request, x: str, y: str, z: str, pk=None, **kwargs):
        """Pixel corners of a tile in the full-resolution image, and their depths."""
        source = ImageSource.for_image(self._ready_image())
        return Response(source.corners(int(z), int(x), int(y)))

    # -- data ---------------------------------------------------------------------

    def _window_render(self, request: Request, fmt: str, serializer_class):
        query = self._params(serializer_class, request)
        image = self._ready_image()
        source = ImageSource.for_image(image)
        rendering = _rendering(image, query, fmt)
        window = source.window(
            depth_min=query.get("depth_min"),
            depth_max=query.get("depth_max"),
            top=query.get("top"),
            bottom=query.get("bottom"),
            left=query.get("left"),
            right=query.get("right"),
        )
        width, height = output_size(
            window,
            width=query.get("width"),
            height=query.get("height"),
            max_width=query.get("max_width"),
            max_height=query.get("max_height"),
        )
        _normalize_check(source, rendering, window.height / height)
        key = render_key(
            image,
            "window",
            rows=f"{window.top}-{window.bottom}",
            columns=f"{window.left}-{window.right}",
            size=f"{width}x{height}",
            fmt=fmt,
            style=style_key(rendering, query["style_json"]),
        )
        response = _cached_image_response(
            request,
            key,
            lambda: source.region(
                window=window,
                width=width,
                height=height,
                rendering=rendering,
                fmt=fmt,
                style_json=query["style_json"],
            ),
        )
        for header, value in source.depth_headers(window, height).items():
            response[header] = value
        return response

    @extend_schema(parameters=[params.WindowParams], responses={(200, "image/png"): bytes})
    @action(detail=True, url_path=rf"data/region\.{DATA_FORMATS}", renderer_classes=[AnyMediaRenderer])
    def region(self, request: Request, pk=None, fmt: str = "png", **kwargs):
        """A region by closed depth range or by pixels; native size unless a size is given."""
        return self._window_render(request, fmt, params.WindowParams)

    @extend_schema(parameters=[params.ThumbnailParams], responses={(200, "image/png"): bytes})
    @action(
        detail=True,
        url_path=rf"data/thumbnail\.{DATA_FORMATS}",
        renderer_classes=[AnyMediaRenderer],
    )
    def thumbnail(self, request: Request, pk=None, fmt: str = "png", **kwargs):
        """A thumbnail of a depth range or the whole log: exact or bounded size."""
        return self._window_render(request, fmt, params.ThumbnailParams)

    @extend_schema(parameters=[params.PixelParams])
    @action(detail=True, url_path="data/pixel")
    def pixel(self, request: Request, pk=None, **kwargs):
        """The stored value at a column and a row (or the row nearest a depth); null for nodata."""
        query = self._params(params.PixelParams, request)
        source = ImageSource.for_image(self._ready_image())
        return Response(source.pixel(column=query["left"], row=query.get("top"), depth=query.get("depth")))

    @extend_schema(
        parameters=[params.HistogramParams],
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="Histogram",
                    serializers=[params.HistogramBandSerializer(many=True), params.HistogramMinMaxSerializer],
                    resource_type_field_name=None,
                    many=False,
                ),
                description="one entry per band (1: the values, nodata left out; 2: alpha, uint8 "
                "images); with onlyMinMax=true, lists of min, max, mean and stdev per band",
            )
        },
    )
    @action(detail=True, url_path="data/histogram")
    def histogram(self, request: Request, pk=None, **kwargs):
        """Histogram of the stored values, from at most DJANGO_TILES_MAX_READ_PIXELS pixels.

        All full-resolution tiles when they fit; otherwise evenly spaced tiles, and
        ``sampled`` is true (``coverage``: the fraction of tiles read).
        """
        query = self._params(params.HistogramParams, request)
        return Response(
            ImageSource.for_image(self._ready_image()).histogram(
                bins=query["bins"],
                only_min_max=query["onlyMinMax"],
                density=query["density"],
            )
        )

    # -- django-large-image's info routes, parameters validated -------------------------

    @extend_schema(parameters=[params.BandParams], responses={200: params.BandInfoSerializer})
    @action(detail=True, url_path="info/band")
    def band(self, request: Request, pk=None, **kwargs):
        """One band's information (large_image's); a band the image does not have: 400."""
        query = self._params(params.BandParams, request)
        bands = ImageSource.for_image(self._ready_image()).band_information()
        if query["band"] not in bands:
            raise ValidationError({"band": f"band {query['band']} does not exist; bands: 1..{len(bands)}"})
        return Response(bands[query["band"]])
