"""The classic depth-frame API, as simple Django image processors answer it.

* ``POST /upload-csv/``: multipart ``file`` (and the optional fields of
  ``POST /api/v1/images``), ingested by the same service. 200 with the image id
  once stored (the embedded default runs the job inside the request); 202 with
  the status URL while a worker runs it; 422 with the line and column for a CSV
  that cannot be read.
* ``GET /get-images/<depth_min>/<depth_max>/?colormap=NAME&image=ID``:
  ``{"images": [{"depth": d, "image": "<base64 PNG>"}, ...]}``, one frame per
  scanline in the closed depth range (``frame_rows=K``: K scanlines per frame;
  a frame's depth is its first scanline's).

Auth: ``get-images`` is a read (public unless ``DJANGO_PUBLIC_READ=false``) of
the images the requester may see: public ones, its own, all for staff; a private
image's frames say ``Cache-Control: private`` and ``Vary: Authorization``.
``upload-csv`` is a write and needs a token like every other write, although
classic clients send none (they post a bare multipart form): adding the header
``Authorization: Token <key>`` is their only change. ``DJANGO_CLASSIC_UPLOAD_PUBLIC=true``
lets anonymous uploads in, for deployments whose network is trusted.
"""

from __future__ import annotations

import base64

from django.conf import settings
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ingest.models import Image
from ingest.rest.serializers import ImageUploadSerializer
from ingest.rest.uploads import (
    failed_upload_body,
    image_create_from_upload,
    upload_owner,
    upload_quota_check,
    upload_size_check,
)
from ingest.rest.viewsets import private_response
from ingest.selectors import image_list
from tiles.core.normalize import WindowTooWideError
from tiles.frames import frames_render, frames_window
from tiles.rest.params import (
    NORMALIZE_HELP,
    WINDOW_HELP,
    depth_range_field_check,
    validate_colour,
    validate_normalize,
)
from tiles.services import NORMALIZE_MODES, ImageNotReadyError, resolve_style
from tiles.source import ImageSource

# -- parameters and answers ----------------------------------------------------------


class FramesQueryParams(serializers.Serializer):
    """Query parameters of ``GET /get-images/<depth_min>/<depth_max>/``."""

    colormap = serializers.CharField(
        required=False,
        help_text="colormap name (viridis, YlOrBr, resistivity, ...; GET /api/v1/colormaps lists them) "
        "or a list of colours (#000,#f80,#fff). Without it: grey, the stored values (0..255)",
    )
    image = serializers.IntegerField(
        required=False, min_value=1, help_text="image id; default the newest image whose job succeeded"
    )
    frame_rows = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=65535,
        default=1,
        help_text="scanlines (rows, pixels high) per frame; the last frame holds the remainder",
    )
    min = serializers.FloatField(
        required=False,
        help_text="value mapped to the colormap's first colour (default 0; float images: 2nd percentile)",
    )
    max = serializers.FloatField(
        required=False,
        help_text="value mapped to its last colour (default 255; float images: 98th percentile)",
    )
    normalize = serializers.ChoiceField(
        choices=list(NORMALIZE_MODES),
        required=False,
        help_text=NORMALIZE_HELP.replace("; npy answers the stored values", "")
        + "; frames rank the full-resolution scanlines",
    )
    window = serializers.FloatField(required=False, help_text=WINDOW_HELP)


class FramesParams(FramesQueryParams):
    """The query parameters and the depth range of the path, validated together."""

    depth_min = serializers.FloatField(help_text="shallow end of the closed range, image depth unit")
    depth_max = serializers.FloatField(help_text="deep end of the closed range, image depth unit")

    def validate(self, attrs):
        depth_range_field_check(attrs["depth_min"], attrs["depth_max"])
        validate_colour(attrs, "colormap", attrs.get("colormap"))
        validate_normalize(attrs)
        return attrs


class FrameSerializer(serializers.Serializer):
    """One frame of get-images: its top depth and its PNG as base64 (response schema)."""

    depth = serializers.FloatField(help_text="depth of the frame's first scanline, image depth unit")
    image = serializers.CharField(
        help_text="base64 PNG, frame_rows pixels high (fewer in the last frame), image columns wide"
    )


class FramesSerializer(serializers.Serializer):
    """The get-images response: the frames of one image and their depth unit (response schema)."""

    images = FrameSerializer(many=True, help_text="frames from the shallowest down")
    image_id = serializers.IntegerField(help_text="the image the frames come from")
    depth_unit = serializers.CharField(help_text="unit of every depth (m or ft)")
    frame_rows = serializers.IntegerField(help_text="scanlines per frame")


class ClassicUploadSerializer(serializers.Serializer):
    """The classic upload's response: the job and, once succeeded, the depth axis (response schema)."""

    id = serializers.IntegerField(help_text="image id (use it as ?image= on get-images)")
    status = serializers.CharField(help_text="pending, running, succeeded (200) or failed")
    status_url = serializers.URLField(help_text="GET it to follow the job (status, progress, depth axis)")
    depth_min = serializers.FloatField(allow_null=True, help_text="once succeeded, image depth unit")
    depth_max = serializers.FloatField(allow_null=True, help_text="once succeeded, image depth unit")
    depth_unit = serializers.CharField()
    rows = serializers.IntegerField(allow_null=True, help_text="scanlines (pixels), once succeeded")
    columns = serializers.IntegerField(allow_null=True, help_text="pixels per scanline, once succeeded")


# -- views ------------------------------------------------------------------------


def _image_for_frames(image_id: int | None, user) -> Image:
    """The requested image, or the newest succeeded image ``user`` may see (404 if none)."""
    images = image_list(user=user)
    if image_id is None:
        image = images.filter(status=Image.Status.SUCCEEDED).exclude(file="").first()
        if image is None:
            raise NotFound("no image is ready yet: upload one with POST /upload-csv/")
        return image
    image = images.filter(pk=image_id).first()
    if image is None:
        raise NotFound(f"no image {image_id}")
    if not image.is_ready:
        raise ImageNotReadyError(image)
    return image


class ClassicFramesView(APIView):
    """``GET /get-images/<depth_min>/<depth_max>/``: base64 PNG frames of a depth range."""

    renderer_classes = [JSONRenderer]

    @extend_schema(
        operation_id="classic_frames",
        parameters=[
            OpenApiParameter(
                "depth_min", float, OpenApiParameter.PATH, description="shallow end, image depth unit"
            ),
            OpenApiParameter("depth_max", float, OpenApiParameter.PATH, description="deep end, same unit"),
            FramesQueryParams,
        ],
        responses={200: FramesSerializer},
    )
    def get(self, request: Request, depth_min: str, depth_max: str) -> Response:
        """Frames of scanlines in the closed range [depth_min, depth_max], each a base64 PNG.

        One frame per scanline (1 pixel high, the image's columns wide), or
        ``frame_rows`` scanlines per frame; a frame's depth is its first
        scanline's. 404 when no scanline lies in the range; 400 for a reversed
        range, an unknown colormap, or more frames than ``DJANGO_MAX_FRAMES``.
        """
        query = FramesParams(
            data={**request.query_params.dict(), "depth_min": depth_min, "depth_max": depth_max}
        )
        query.is_valid(raise_exception=True)
        params = query.validated_data
        image = _image_for_frames(params.get("image"), request.user)
        source = ImageSource.for_image(image)
        window = frames_window(source=source, depth_min=params["depth_min"], depth_max=params["depth_max"])
        rendering = resolve_style(
            image=image,
            palette=params["palette_obj"],
            vmin=params.get("min"),
            vmax=params.get("max"),
            normalize=params["normalize"],
            window=params.get("window"),
        )
        try:
            frames = frames_render(
                source=source,
                window=window,
                rendering=rendering,
                frame_rows=params["frame_rows"],
                max_frames=settings.MAX_FRAMES,
            )
        except WindowTooWideError as exc:
            raise serializers.ValidationError({"window": str(exc)}) from None
        response = Response(
            {
                "images": [
                    {"depth": frame.depth, "image": base64.b64encode(frame.png).decode("ascii")}
                    for frame in frames
                ],
                "image_id": image.pk,
                "depth_unit": image.depth_unit,
                "frame_rows": params["frame_rows"],
            }
        )
        return response if image.public else private_response(response)

    def finalize_response(self, request, response, *args, **kwargs):
        """``Vary: Authorization`` on every answer: which images a requester sees depends on who asks."""
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ("Authorization",))
        return response


class ClassicUploadView(APIView):
    """``POST /upload-csv/``: upload a CSV the classic way; 200 with the id once stored."""

    parser_classes = [MultiPartParser, FormParser]
    renderer_classes = [JSONRenderer]

    def get_permissions(self):
        return [AllowAny() if settings.CLASSIC_UPLOAD_PUBLIC else IsAuthenticated()]

    @extend_schema(
        operation_id="classic_upload",
        request={"multipart/form-data": ImageUploadSerializer},
        responses={
            200: OpenApiResponse(ClassicUploadSerializer, description="ingested: the image is ready"),
            202: OpenApiResponse(
                ClassicUploadSerializer, description="stored; a worker ingests it: poll status_url"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        """Upload a CSV (``file``: depth, col1..colN), as ``POST /api/v1/images`` takes it.

        200 with the id once the image is ready (the embedded default runs the
        job inside the request; the same bytes again: the existing image); 202
        with ``status_url`` while a worker runs it; 422 with the line and column
        when the CSV cannot be read. Needs a token unless
        ``DJANGO_CLASSIC_UPLOAD_PUBLIC=true``.
        """
        upload_size_check(int(request.META.get("CONTENT_LENGTH") or 0))
        owner = upload_owner(request)  # None: anonymous, with DJANGO_CLASSIC_UPLOAD_PUBLIC only
        upload_quota_check(owner=owner)
        form = ImageUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        image, _ = image_create_from_upload(data=form.validated_data, owner=owner)
        status_url = request.build_absolute_uri(reverse("image-detail", kwargs={"pk": image.pk}))
        if image.status == Image.Status.FAILED:
            return Response(
                {**failed_upload_body(image), "id": image.pk, "status_url": status_url},
                status=422,
                headers={"Location": status_url},
            )
        body = {
            "id": image.pk,
            "status": image.status,
            "status_url": status_url,
            "depth_min": image.depth_min,
            "depth_max": image.depth_max,
            "depth_unit": image.depth_unit,
            "rows": image.rows,
            "columns": image.columns,
        }
        ready = image.status == Image.Status.SUCCEEDED
        return Response(
            body,
            status=status.HTTP_200_OK if ready else status.HTTP_202_ACCEPTED,
            headers={"Location": status_url},
        )
