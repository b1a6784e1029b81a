"""``/api/v1/wells``: upload a well log, list, detail, change, delete; its curves.

:class:`WellViewSet` shares :class:`~ingest.rest.viewsets.ImageViewSetBase`'s
rules (who sees a well: public ones, one's own, all for staff; who changes it:
its owner and staff; private headers for a private well), its pagination,
throttles and upload checks (:mod:`ingest.rest.uploads`).
"""

from __future__ import annotations

import io

import numpy as np
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from ingest.curves import curve_window
from ingest.models import Curve, Image, Well
from ingest.rest.serializers import (
    OWNER_USERNAME,
    CurveDataSerializer,
    CurveParams,
    CurveSerializer,
    WellImageSerializer,
    WellListSerializer,
    WellSerializer,
    WellUpdateSerializer,
    WellUploadSerializer,
    curve_data,
)
from ingest.rest.uploads import (
    failed_well_body,
    upload_owner,
    upload_quota_check,
    upload_size_check,
    well_create_from_upload,
)
from ingest.rest.viewsets import ERROR, FORBIDDEN, ImageViewSetBase, VisibleCountPagination
from ingest.selectors import owner_username, visible_images_q, well_curve, well_list
from ingest.storage import storage_reader
from ingest.wells import well_delete
from project.permissions import ImageOwnerOrStaff

#: The media type of a ``.npy`` answer.
NPY = "application/x-npy"


class NpyRenderer(BaseRenderer):
    """``application/x-npy`` (``?format=npy``): the view gives the bytes of a ``.npy`` file."""

    media_type = NPY
    format = "npy"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


#: The image columns a well's detail reads: :class:`WellImageSerializer`'s, and who may see the image.
WELL_IMAGE_COLUMNS = (
    *(name for name in WellImageSerializer.Meta.fields if name != "url"),
    "public",
    "owner",
    "well",
)


class WellOwnerOrStaff(ImageOwnerOrStaff):
    """Unsafe methods on a well (PATCH, DELETE): its owner and staff only (others: 403)."""

    message = "only the well's owner and staff may change or delete it"


MNEMONIC = OpenApiParameter(
    "mnemonic", OpenApiTypes.STR, OpenApiParameter.PATH, description="the curve's mnemonic, as listed"
)


def _count(rows) -> Coalesce:
    """``count(*)`` of ``rows`` (filtered on ``OuterRef``) as a subquery expression (0 for none)."""
    counted = Subquery(
        rows.order_by().values("well").annotate(n=Count("pk")).values("n"),
        output_field=IntegerField(),
    )
    return Coalesce(counted, Value(0))


class WellViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ImageViewSetBase):
    """Wells: upload a LAS 2.0, DLIS or CSV (202, a job), list, detail, change, delete, curves."""

    serializer_class = WellSerializer  # type: ignore[assignment]  # the base's rules, a well's shape
    pagination_class = VisibleCountPagination
    permission_classes = [*ImageViewSetBase.permission_classes[:-1], WellOwnerOrStaff]
    PER_USER_ACTIONS = ("list", "retrieve", "create", "partial_update")

    def get_parsers(self):
        request = getattr(self, "request", None)  # None while drf-spectacular builds the schema
        if getattr(self, "action", None) == "create" or (request is not None and request.method == "POST"):
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    def get_renderers(self):
        if getattr(self, "action", None) == "curve":
            return [JSONRenderer(), NpyRenderer()]
        return super().get_renderers()

    def get_serializer_class(self):
        if getattr(self, "action", None) == "list":
            return WellListSerializer
        return super().get_serializer_class()

    def get_queryset(self):
        user = getattr(self.request, "user", None)
        wells = well_list(user=user).annotate(**{OWNER_USERNAME: owner_username()})
        if getattr(self, "action", None) == "list":
            # Counts by subqueries: one query for the page, whatever the wells hold.
            images = Image.objects.filter(visible_images_q(user), well=OuterRef("pk"))
            curves = Curve.objects.filter(well=OuterRef("pk"))
            return wells.annotate(
                image_count=_count(images),
                curve_count=_count(curves),
            )
        # Only the columns the well's detail answers (and who may see each image): a third of them.
        images = Image.objects.order_by("id").only(*WELL_IMAGE_COLUMNS)
        return wells.prefetch_related(Prefetch("images", queryset=images), "curves")

    def get_object(self) -> Well:  # type: ignore[override]  # a well, by the same rules as an image
        return super().get_object()  # type: ignore[return-value]

    @extend_schema(
        request=WellUploadSerializer,
        responses={
            202: WellSerializer,
            200: WellSerializer,
            413: OpenApiResponse(
                ERROR,
                description="upload_too_large (DJANGO_MAX_UPLOAD_MB) or quota_exceeded (DJANGO_QUOTA_BYTES)",
            ),
            422: OpenApiResponse(
                ERROR,
                description="invalid_well_log (the LAS line, or the DLIS logical record and channel) "
                "or invalid_csv",
            ),
            429: OpenApiResponse(
                ERROR, description="too_many_jobs: DJANGO_MAX_CONCURRENT_JOBS pending or running"
            ),
        },
    )
    def create(self, request: Request) -> Response:
        """Upload a well log (LAS 2.0, DLIS or CSV, told by its content); 202 with the well.

        Its ``status`` and ``progress`` follow the job, and its ``images`` and
        ``curves`` appear as the job makes them. The same bytes uploaded again
        return the existing well (200) unless ``force=true``. With in-process
        tasks (the embedded default) the job has already run: a file that failed
        answers 422 with the line (LAS, CSV) or the logical record and channel (DLIS).
        """
        upload_size_check(int(request.META.get("CONTENT_LENGTH") or 0))  # before the body is read
        upload_quota_check(owner=upload_owner(request))
        upload = WellUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        well, created = well_create_from_upload(data=upload.validated_data, owner=upload_owner(request))
        well = self.get_queryset().get(pk=well.pk)
        body = WellSerializer(well, context={"request": request}).data
        headers = {"Location": body["url"]}
        if well.status == Well.Status.FAILED:
            return Response({**failed_well_body(well), "well": body}, status=422, headers=headers)
        return Response(
            body, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK, headers=headers
        )

    @extend_schema(request=WellUpdateSerializer, responses={200: WellSerializer, 403: FORBIDDEN})
    def partial_update(self, request: Request, pk=None) -> Response:
        """Rename a well or change who may read it (its images too): ``name`` and ``public`` only."""
        well = self.get_object()
        change = WellUpdateSerializer(well, data=request.data, partial=True)
        change.is_valid(raise_exception=True)
        change.save()
        well = self.get_queryset().get(pk=well.pk)
        return Response(WellSerializer(well, context=self.get_serializer_context()).data)

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="deleted, with its images, curves and file"),
            403: FORBIDDEN,
        },
    )
    def destroy(self, request: Request, pk=None) -> Response:
        """Delete a well (owner or staff): its row, images (pyramids), curves and uploaded file. 204."""
        well_delete(well=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: CurveSerializer(many=True)})
    @action(detail=True, url_path="curves", pagination_class=None)
    def curves(self, request: Request, pk=None) -> Response:
        """The well's curves: mnemonic, unit, samples, depth and value ranges."""
        well = self.get_object()
        return Response(CurveSerializer(well.curves.all(), many=True, context={"request": request}).data)

    @extend_schema(
        parameters=[CurveParams, MNEMONIC],
        responses={
            (200, "application/json"): CurveDataSerializer,
            (200, NPY): OpenApiResponse(OpenApiTypes.BINARY, description="float64 (2, n): depth; value"),
        },
    )
    @action(detail=True, url_path=r"curves/(?P<mnemonic>[^/]+)", pagination_class=None)
    def curve(self, request: Request, pk=None, mnemonic: str = "") -> Response:
        """The samples of a curve in a depth range: JSON, or ``npy`` (float64 ``(2, n)``).

        More samples in the range than ``max_points`` are decimated: each of
        ``max_points // 2`` equal depth bins keeps its min and max sample (in
        depth order), so a plot costs no more whatever the curve's length. The
        curve is read by byte ranges (a bucket: ranged GETs, no copy on disk).
        """
        well = self.get_object()
        params = CurveParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        curve = well_curve(well=well, mnemonic=mnemonic)
        if curve is None:
            raise NotFound(f"the well has no curve {mnemonic!r}")
        query = params.validated_data
        window = curve_window(
            storage_reader(curve.file.name),
            depth_min=query.get("depth_min"),
            depth_max=query.get("depth_max"),
            max_points=query["max_points"],
            extent=(curve.depth_min, curve.depth_max),
            name=curve.file.name,
        )
        if request.accepted_renderer.format == "npy":
            buffer = io.BytesIO()
            np.save(buffer, np.stack([window.depth, window.value]))
            return Response(buffer.getvalue(), content_type=NPY)
        return Response(curve_data(curve, window, well.depth_unit))
