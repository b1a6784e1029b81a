"""``/api/v1/images``: upload, list, detail, and every django-large-image route.

The viewset is django-large-image's ``LargeImageFileDetailMixin`` on a DRF
``GenericViewSet``. Routes whose stock behaviour leaks or misleads
(shared/STACK-NOTES.md) are replaced, keeping their URLs:

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
* every parameter is validated by a serializer: a bad value is a 400.
"""

from __future__ import annotations

import functools
from pathlib import Path

import large_image_source_tiff
from django.http import HttpResponse, HttpResponseNotModified, QueryDict
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django_large_image.rest import LargeImageFileDetailMixin
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from ingest.models import Image
from ingest.rest.serializers import ImageSerializer, ImageUpdateSerializer, ImageUploadSerializer
from ingest.rest.uploads import (
    failed_upload_body,
    image_create_from_upload,
    upload_owner,
    upload_quota_check,
    upload_size_check,
)
from ingest.selectors import (
    image_get_ready_cached,
    image_is_visible,
    image_list,
    image_local_path,
    image_remember_ready,
)
from ingest.services import image_delete
from project.permissions import ImageOwnerOrStaff, PublicReadTokenWrite
from tiles.core.depth import rows_for_depth_range
from tiles.rest import params
from tiles.services import (
    ImageNotReadyError,
    Rendering,
    TileOutOfRangeError,
    cached_render,
    etag_for,
    image_histogram,
    output_size,
    pixel_value,
    region_render,
    render_key,
    resolve_style,
    style_key,
    tile_render,
    window_for,
)

TILE_FORMATS = r"(?P<fmt>png|jpeg|jpg|webp)"
DATA_FORMATS = r"(?P<fmt>png|jpeg|jpg|webp|tiff|tif|npy)"


class AnyMediaRenderer(BaseRenderer):
    """Lets image routes answer whatever the client accepts; errors are JSON."""

    media_type = "*/*"
    format = None
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


#: The error shape (``project.schema`` adds it to the components).
ERROR = {"$ref": "#/components/schemas/Error"}
FORBIDDEN = OpenApiResponse(ERROR, description="permission_denied: only the owner and staff may do this")


#: An image's content never changes for its id: browsers and proxies may keep it.
IMMUTABLE = "public, max-age=31536000, immutable"
#: A private image's responses: only the requester's browser keeps them, and asks
#: again each time (a 304 for a matching ETag), so a revoked reader stops reading.
PRIVATE = "private, no-cache"


def private_response(response: HttpResponse) -> HttpResponse:
    """Mark a response that depends on who asks: ``Cache-Control: private``, ``Vary: Authorization``.

    For every response about a private image (and every list a signed-in user
    reads): shared caches must not keep it, nor give it to another requester.
    """
    response["Cache-Control"] = PRIVATE
    patch_vary_headers(response, ("Authorization",))
    return response


def _cached_image_response(request: Request, key: str, produce) -> HttpResponse:
    """Answer 304 for a matching ``If-None-Match``, else the cached or rendered bytes.

    Every image response carries a strong ``ETag`` (from the render key) and
    ``Cache-Control: public, max-age=31536000, immutable``.
    """
    etag = etag_for(key)
    matches = parse_etags(request.headers.get("If-None-Match", ""))
    if etag in matches or "*" in matches:
        response = HttpResponseNotModified()
    else:
        content, mime = cached_render(key, produce)
        response = HttpResponse(content, content_type=mime)
    response["ETag"] = etag
    response["Cache-Control"] = IMMUTABLE
    return response


def tile_response(request, image: Image, style: dict, z: int, x: int, y: int, fmt: str) -> HttpResponse:
    """The answer to a tile request (200 or 304), from the tiles cache or rendered once.

    Shared by :meth:`ImageViewSet.tile` and :class:`tiles.middleware.TileFastLaneMiddleware`.

    Args:
        request: the Django (or DRF) request; only ``If-None-Match`` is read.
        image: a ready image.
        style: validated :class:`tiles.rest.params.StyleParams`.
        z, x, y: tile address (z = 0 the coarsest).
        fmt: png, jpeg, jpg or webp.

    Raises:
        TileOutOfRangeError: the tile is outside the pyramid.
        StyleError: a large_image ``style`` large_image refuses.
    """
    rendering = _rendering(image, style)
    key = render_key(image, "tile", z=z, x=x, y=y, fmt=fmt, style=style_key(rendering, style["style_json"]))
    return _cached_image_response(
        request,
        key,
        lambda: tile_render(
            image=image, z=z, x=x, y=y, rendering=rendering, fmt=fmt, style_json=style["style_json"]
        ),
    )


def query_params(serializer_class, query: QueryDict) -> dict:
    """Validated query parameters (memoised: validation is pure and costs ~0.5 ms).

    Raises:
        rest_framework.exceptions.ValidationError: a bad parameter.
    """
    key = tuple(sorted((name, tuple(values)) for name, values in query.lists()))
    return dict(_validated(serializer_class, key))


def _rendering(image: Image, query: dict) -> Rendering:
    return resolve_style(
        image=image, palette=query["palette_obj"], vmin=query.get("min"), vmax=query.get("max")
    )


@functools.lru_cache(maxsize=4096)
def _validated(serializer_class, query: tuple[tuple[str, tuple[str, ...]], ...]) -> dict:
    data = QueryDict(mutable=True)
    for key, values in query:
        data.setlist(key, list(values))
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ImageViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    LargeImageFileDetailMixin,
    GenericViewSet,
):
    """Depth-indexed images: upload (202, ingested as a job), list, detail, change, delete, tiles, data.

    A request sees public images, its user's own and, for staff, all
    (:func:`ingest.selectors.image_list`): any other id is a 404 on every route.
    The owner and staff may change (PATCH) and delete an image; others who can
    see it get a 403. Responses about a private image say ``Cache-Control:
    private`` and ``Vary: Authorization`` (:func:`private_response`).
    """

    serializer_class = ImageSerializer
    permission_classes = [PublicReadTokenWrite, ImageOwnerOrStaff]
    lookup_value_regex = r"\d+"
    FILE_FIELD_NAME = "file"
    #: Set when the response is about a private image or depends on the user.
    _private = False

    def get_queryset(self):
        user = getattr(self.request, "user", None)
        return image_list(user=user).select_related("owner").prefetch_related("webhook_deliveries")

    def get_object(self) -> Image:
        """The image of the URL, if the requester may see it (else 404); writes: owner or staff (else 403)."""
        image = super().get_object()
        self._private = self._private or not image.public
        return image

    #: JSON answers whose content depends on the user (their private images, their webhooks).
    PER_USER_ACTIONS = ("list", "retrieve", "create", "partial_update")

    def finalize_response(self, request, response, *args, **kwargs):
        """Private headers for a private image, and for a signed-in user's lists and details."""
        response = super().finalize_response(request, response, *args, **kwargs)
        user = getattr(request, "_user", None)  # never authenticate again here
        per_user = getattr(self, "action", None) in self.PER_USER_ACTIONS
        if self._private or (per_user and user is not None and user.is_authenticated):
            return private_response(response)
        if per_user:
            patch_vary_headers(response, ("Authorization",))
        return response

    def perform_content_negotiation(self, request: Request, force: bool = False):
        """Image routes answer their own media type: skip parsing ``Accept`` (~0.2 ms a request)."""
        renderers = self.get_renderers()
        if len(renderers) == 1 and isinstance(renderers[0], AnyMediaRenderer):
            return renderers[0], renderers[0].media_type
        return super().perform_content_negotiation(request, force)

    def get_parsers(self):
        request = getattr(self, "request", None)  # None while drf-spectacular builds the schema
        if getattr(self, "action", None) == "create" or (request is not None and request.method == "POST"):
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    # -- upload -----------------------------------------------------------------

    @extend_schema(
        request=ImageUploadSerializer,
        responses={
            202: ImageSerializer,
            200: ImageSerializer,
            413: OpenApiResponse(
                ERROR,
                description="upload_too_large (DJANGO_MAX_UPLOAD_MB) or quota_exceeded (DJANGO_QUOTA_BYTES)",
            ),
            429: OpenApiResponse(
                ERROR, description="too_many_jobs: DJANGO_MAX_CONCURRENT_JOBS pending or running"
            ),
        },
    )
    def create(self, request: Request) -> Response:
        """Upload a CSV; answers 202 with the image, whose ``status`` follows the job.

        The same bytes uploaded again return the existing image (200) unless
        ``force=true``. With in-process tasks (the embedded default) the job has
        already run: a CSV that failed answers 422 with the line and column.
        """
        upload_size_check(int(request.META.get("CONTENT_LENGTH") or 0))  # before the body is read
        upload_quota_check(owner=upload_owner(request))
        upload = ImageUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        image, created = image_create_from_upload(data=upload.validated_data, owner=upload_owner(request))
        body = ImageSerializer(image, context={"request": request}).data
        headers = {"Location": body["url"]}
        if image.status == Image.Status.FAILED:
            return Response({**failed_upload_body(image), "image": body}, status=422, headers=headers)
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
            headers=headers,
        )

    @extend_schema(request=ImageUpdateSerializer, responses={200: ImageSerializer, 403: FORBIDDEN})
    def partial_update(self, request: Request, pk=None) -> Response:
        """Rename an image or change who may read it: ``name`` and ``public`` only (owner or staff).

        Any other field is a 400 naming it.
        """
        image = self.get_object()
        change = ImageUpdateSerializer(image, data=request.data, partial=True)
        change.is_valid(raise_exception=True)
        change.save()
        return Response(ImageSerializer(image, context=self.get_serializer_context()).data)

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="deleted, with everything made from it"), 403: FORBIDDEN},
    )
    def destroy(self, request: Request, pk=None) -> Response:
        """Delete an image (owner or staff): its row, pyramid, CSV and cached outputs. 204."""
        image_delete(image=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    # -- django-large-image plumbing -----------------------------------------------

    def get_path(self, request: Request, pk: int | None = None) -> Path:
        """The pyramid on the local disk (no symlinked cache copy, unlike the stock mixin).

        With object storage, the read-through cached copy (:func:`image_local_path`).
        """
        image = self.get_object()
        if not image.is_ready:
            raise ImageNotReadyError(image)
        return image_local_path(image)

    def open_tile_source(self, request: Request, path, **kwargs):
        """Always the ``tiff`` source; ``projection`` and ``source`` do not apply here."""
        kwargs.pop("projection", None)
        return large_image_source_tiff.open(str(path), **kwargs)

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
        url_path=rf"tiles/(?P<z>\d+)/(?P<x>\d+)/(?P<y>\d+)\.{TILE_FORMATS}",
        renderer_classes=[AnyMediaRenderer],
    )
    def tile(self, request: Request, x: str, y: str, z: str, pk=None, fmt: str = "png", **kwargs):
        """A 256 x 256 tile; z = 0 is the coarsest level. Outside the pyramid: 404."""
        style = self._params(params.StyleParams, request)
        return tile_response(request, self._ready_image(), style, int(z), int(x), int(y), fmt)

    @action(detail=True, url_path=r"tiles/(?P<z>\d+)/(?P<x>\d+)/(?P<y>\d+)/corners")
    def tile_corners(self, request: Request, x: str, y: str, z: str, pk=None, **kwargs):
        """Pixel corners of a tile in the full-resolution image, and their depths."""
        image = self._ready_image()
        source = self.get_tile_source(request, pk, style=False)
        z, x, y = int(z), int(x), int(y)
        if z >= source.levels:
            raise TileOutOfRangeError(f"level {z} is outside the pyramid (0..{source.levels - 1})")
        scale = 2 ** (source.levels - 1 - z)
        span = source.tileWidth * scale
        xmin, ymin = x * span, y * span
        if xmin >= image.columns or ymin >= image.rows:
            raise TileOutOfRangeError(f"tile z={z} x={x} y={y} is outside the image")
        xmax, ymax = min(image.columns, xmin + span), min(image.rows, ymin + span)
        return Response(
            {
                "xmin": xmin,
                "xmax": xmax,
                "ymin": ymin,
                "ymax": ymax,
                "depth_top": image.depth_min + ymin * image.depth_step,
                "depth_bottom": image.depth_min + (ymax - 1) * image.depth_step,
                "depth_unit": image.depth_unit,
            }
        )

    # -- data ---------------------------------------------------------------------

    def _window_render(self, request: Request, fmt: str, serializer_class):
        query = self._params(serializer_class, request)
        image = self._ready_image()
        rendering = _rendering(image, query)
        window = window_for(
            image=image,
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
            lambda: region_render(
                image=image,
                window=window,
                width=width,
                height=height,
                rendering=rendering,
                fmt=fmt,
                style_json=query["style_json"],
            ),
        )
        # Output row r stands for the depth X-Depth-Min + r * X-Depth-Step (the centre of
        # the scanlines it averages; at native size, exactly the scanline's depth).
        rows_per_output_row = window.height / height
        step = image.depth_step * rows_per_output_row
        first = image.depth_min + (window.top + (rows_per_output_row - 1) / 2) * image.depth_step
        response["X-Depth-Min"] = repr(round(first, 9))
        response["X-Depth-Max"] = repr(round(first + (height - 1) * step, 9))
        response["X-Depth-Step"] = repr(round(step, 12))
        response["X-Depth-Unit"] = image.depth_unit
        response["X-Rows"] = f"{window.top}-{window.bottom - 1}"
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
        image = self._ready_image()
        if "depth" in query:
            half = image.depth_step / 2
            row, _ = rows_for_depth_range(
                depth_min=image.depth_min,
                depth_step=image.depth_step,
                rows=image.rows,
                range_min=query["depth"] - half,
                range_max=query["depth"] + half,
            )
        else:
            row = query["top"]
        value = pixel_value(image=image, row=row, column=query["left"])
        return Response(
            {
                "row": row,
                "column": query["left"],
                "depth": image.depth_min + row * image.depth_step,
                "depth_unit": image.depth_unit,
                "value": value,
                "bands": {"1": value},
            }
        )

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
            image_histogram(
                image=self._ready_image(),
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
        self._ready_image()
        bands = self.get_tile_source(request, pk, style=False).getBandInformation()
        if query["band"] not in bands:
            raise ValidationError({"band": f"band {query['band']} does not exist; bands: 1..{len(bands)}"})
        return Response(bands[query["band"]])
