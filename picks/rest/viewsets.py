"""``/api/v1/images/{id}/picks...`` and ``/api/v1/wells/{id}/survey``.

Who may do what (the image rules of :mod:`project.permissions`):

* an image's picks are read by whoever may see the image (a private image's
  picks: its owner and staff; others get 404, as for the image);
* a fit (``POST .../picks/fit``) writes nothing: whoever may read the image may ask;
* a pick is created by the image's manager (its owner, staff); changed and
  deleted by the image's manager or the pick's author; others who see the
  image get 403;
* a well's survey is read by whoever may see the well, replaced by its owner and staff.
"""

from __future__ import annotations

import csv
import io

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from ingest.models import Image, Well
from ingest.reader import CsvFormatError
from ingest.rest.viewsets import ERROR, FORBIDDEN, private_response
from ingest.selectors import image_can_manage, image_list, well_list
from picks import core
from picks.models import Pick
from picks.rest.serializers import (
    FitRequestSerializer,
    FitSerializer,
    PickListParams,
    PickSerializer,
    PickWriteSerializer,
    SurveySerializer,
    SurveyUploadSerializer,
)
from picks.selectors import (
    pick_can_change,
    pick_context,
    pick_geometries,
    pick_list,
    well_survey,
)
from picks.services import (
    MAX_SURVEY_BYTES,
    MAX_SURVEY_STATIONS,
    PickError,
    pick_create,
    pick_delete,
    pick_fit,
    pick_update,
    survey_replace,
)
from project.exceptions import error_body

IMAGE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="image id")
PICK_ID = OpenApiParameter("pick_id", int, OpenApiParameter.PATH, description="pick id (of that image)")
WELL_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="well id")


class PublicReadOrFit(BasePermission):
    """Reads and fits for anyone when ``PUBLIC_READ`` (a fit writes nothing); other writes need a token."""

    def has_permission(self, request, view) -> bool:
        if (
            request.method in SAFE_METHODS or getattr(view, "action", None) == "fit"
        ) and settings.PUBLIC_READ:
            return True
        return bool(request.user and request.user.is_authenticated)


def _as_validation_error(exc: PickError) -> serializers.ValidationError:
    return serializers.ValidationError({exc.field or "non_field_errors": [str(exc)]})


class PickViewSet(GenericViewSet):
    """Picks of one image: fit, list, create, detail, change, delete (routes in ``project/urls.py``)."""

    serializer_class = PickSerializer
    permission_classes = [PublicReadOrFit]
    parser_classes = [JSONParser]
    _private = False

    def get_queryset(self):
        return Pick.objects.none()  # picks are read through the image (get_image, pick_list)

    def get_image(self) -> Image:
        """The image of the URL if the requester may see it (else 404)."""
        user = getattr(self.request, "user", None)
        image = image_list(user=user).select_related("well").filter(pk=self.kwargs["pk"]).first()
        if image is None:
            raise NotFound("no such image")
        self._private = self._private or not image.public
        return image

    def get_pick(self, image: Image) -> Pick:
        """The pick of the URL, of that image (else 404)."""
        pick = Pick.objects.select_related("author").filter(image=image, pk=self.kwargs["pick_id"]).first()
        if pick is None:
            raise NotFound("no such pick on this image")
        pick.image = image  # the row already loaded (and checked visible)
        return pick

    def finalize_response(self, request, response, *args, **kwargs):
        """A private image's picks: ``Cache-Control: private``, ``Vary: Authorization``."""
        response = super().finalize_response(request, response, *args, **kwargs)
        return private_response(response) if self._private else response

    def _answer(self, image: Image, pick: Pick, status_code: int = 200) -> Response:
        context = {"request": self.request, "pick_context": pick_context(image)}
        return Response(PickSerializer(pick, context=context).data, status=status_code)

    @extend_schema(
        parameters=[IMAGE_ID],
        request=FitRequestSerializer,
        responses={200: FitSerializer},
        description="Fit a sinusoid to points (azimuth/depth or column/row); writes nothing.",
    )
    def fit(self, request: Request, pk=None) -> Response:
        """The least-squares sinusoid through the points, and the plane's dip (null without a diameter)."""
        image = self.get_image()
        body = FitRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = pick_fit(image=image, points=body.validated_data["points"])
        except PickError as exc:
            raise _as_validation_error(exc) from None
        fit = result.fit
        return Response(
            {
                "depth": fit.depth,
                "amplitude": fit.amplitude,
                "dip_azimuth": fit.dip_azimuth,
                "dip": result.dip,
                "rms": fit.rms,
                "points": result.points,
                "depth_unit": image.depth_unit,
                "diameter": result.diameter,
            }
        )

    @extend_schema(parameters=[IMAGE_ID, PickListParams], responses={200: PickSerializer(many=True)})
    def list(self, request: Request, pk=None) -> Response:
        """The image's picks, shallowest first, filtered by ``depth_min``/``depth_max`` and ``kind``."""
        image = self.get_image()
        params = PickListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        picks = pick_list(image=image, **params.validated_data)
        page = list(self.paginate_queryset(picks) or [])
        shared = pick_context(image)
        context = {"request": request, "pick_context": shared, "geometries": pick_geometries(page, shared)}
        return self.get_paginated_response(PickSerializer(page, many=True, context=context).data)

    @extend_schema(
        parameters=[IMAGE_ID],
        request=PickWriteSerializer,
        responses={201: PickSerializer, 403: FORBIDDEN},
    )
    def create(self, request: Request, pk=None) -> Response:
        """Create a pick (the image's owner or staff): from points (fitted), or depth, dip, dip azimuth."""
        image = self.get_image()
        if not image_can_manage(image, request.user):
            raise PermissionDenied("only the image's owner and staff may pick it")
        body = PickWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            pick = pick_create(image=image, author=request.user, data=body.validated_data)
        except PickError as exc:
            raise _as_validation_error(exc) from None
        response = self._answer(image, pick, status.HTTP_201_CREATED)
        response["Location"] = response.data["url"]
        return response

    @extend_schema(parameters=[IMAGE_ID, PICK_ID], responses={200: PickSerializer})
    def retrieve(self, request: Request, pk=None, pick_id=None) -> Response:
        """One pick."""
        image = self.get_image()
        return self._answer(image, self.get_pick(image))

    @extend_schema(
        parameters=[IMAGE_ID, PICK_ID],
        request=PickWriteSerializer,
        responses={200: PickSerializer, 403: FORBIDDEN},
    )
    def partial_update(self, request: Request, pk=None, pick_id=None) -> Response:
        """Change a pick (the image's owner, staff, the pick's author); new points are fitted again."""
        image = self.get_image()
        pick = self._changeable(image)
        body = PickWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        try:
            pick = pick_update(pick=pick, data=body.validated_data)
        except PickError as exc:
            raise _as_validation_error(exc) from None
        return self._answer(image, pick)

    @extend_schema(
        parameters=[IMAGE_ID, PICK_ID],
        request=None,
        responses={204: OpenApiResponse(description="deleted"), 403: FORBIDDEN},
    )
    def destroy(self, request: Request, pk=None, pick_id=None) -> Response:
        """Delete a pick (the image's owner, staff, the pick's author). 204."""
        pick_delete(pick=self._changeable(self.get_image()))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _changeable(self, image: Image) -> Pick:
        pick = self.get_pick(image)
        if not pick_can_change(
            pick, self.request.user, manages_image=image_can_manage(image, self.request.user)
        ):
            raise PermissionDenied("only the image's owner, staff and the pick's author may change it")
        return pick


class CsvRenderer(BaseRenderer):
    """``text/csv``: the view answers the bytes itself; errors are JSON."""

    media_type = "text/csv"
    format = None  # type: ignore[assignment]  # no ?format= (DRF's BaseRenderer: None; its stubs say str)
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class CsvNegotiation(BaseContentNegotiation):
    """The CSV route answers CSV whatever the ``Accept`` header or a ``?format=`` says (errors: JSON)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


#: Characters that make a spreadsheet read a cell as a formula (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: The export's columns after the depth (degrees unless said).
CSV_COLUMNS = (
    "dip",
    "dip_azimuth",
    "amplitude_{unit}",
    "true_dip",
    "true_dip_azimuth",
    "kind",
    "confidence",
    "comment",
    "author",
    "created",
)


def _text_cell(value: str) -> str:
    """A text cell a spreadsheet will not run: a leading formula character gets a ``'`` before it."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def _number_cell(value: float | None) -> str:
    return "" if value is None else repr(float(value))


class PickCsvView(PickViewSet):
    """``GET /api/v1/images/{id}/picks.csv``: the image's picks as CSV, shallowest first."""

    renderer_classes = [CsvRenderer]
    content_negotiation_class = CsvNegotiation

    @extend_schema(
        parameters=[IMAGE_ID, PickListParams],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="the picks as CSV")},
    )
    def export(self, request: Request, pk=None) -> HttpResponse:
        """The picks as CSV, with the list's filters: every pick, shallowest first, unpaginated.

        Columns: ``depth_<unit>`` (m or ft), ``dip``, ``dip_azimuth``,
        ``amplitude_<unit>``, ``true_dip``, ``true_dip_azimuth`` (angles in
        degrees), ``kind``, ``confidence``, ``comment``, ``author``, ``created`` (ISO 8601).

        A cell is empty where the value is unknown (a dip without a diameter, a
        true dip without a survey). Text cells starting with ``=``, ``+``,
        ``-``, ``@``, a tab or a carriage return get a leading ``'``, so a
        spreadsheet shows rather than runs them.
        """
        image = self.get_image()
        params = PickListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        context = pick_context(image)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        unit = image.depth_unit
        writer.writerow([f"depth_{unit}", *(name.format(unit=unit) for name in CSV_COLUMNS)])
        picks = list(pick_list(image=image, **params.validated_data))  # at most MAX_PICKS_PER_IMAGE
        geometries = pick_geometries(picks, context)
        for pick in picks:
            geometry = geometries[pick.pk]
            writer.writerow(
                [
                    repr(pick.depth),
                    _number_cell(geometry["dip"]),
                    repr(pick.dip_azimuth),
                    _number_cell(geometry["amplitude"]),
                    _number_cell(geometry["true_dip"]),
                    _number_cell(geometry["true_dip_azimuth"]),
                    pick.kind,
                    pick.confidence,
                    _text_cell(pick.comment),
                    _text_cell(pick.author.username if pick.author else ""),
                    pick.created.isoformat(),
                ]
            )
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="image-{image.pk}-picks.csv"'
        return response


class SurveyView(APIView):
    """``GET``/``POST /api/v1/wells/{id}/survey``: a well's deviation survey (CSV in, JSON out)."""

    parser_classes = [MultiPartParser, FormParser]
    _private = False

    def get_well(self) -> Well:
        """The well of the URL if the requester may see it (else 404)."""
        well = well_list(user=getattr(self.request, "user", None)).filter(pk=self.kwargs["pk"]).first()
        if well is None:
            raise NotFound("no such well")
        self._private = self._private or not well.public
        return well

    def finalize_response(self, request, response, *args, **kwargs):
        """A private well's survey: ``Cache-Control: private``, ``Vary: Authorization``."""
        response = super().finalize_response(request, response, *args, **kwargs)
        return private_response(response) if self._private else response

    def _answer(self, well: Well, status_code: int = 200) -> Response:
        found = well_survey(well, max_stations=MAX_SURVEY_STATIONS)
        uploaded = found.survey if found is not None else None
        stations = (
            zip(found.arrays.md, found.arrays.inclination, found.arrays.azimuth, strict=True) if found else []
        )
        body = {
            "well": well.pk,
            "depth_unit": well.depth_unit,
            "source": found.source if found is not None else None,
            "stations": [
                {"md": float(md), "inclination": float(inc), "azimuth": float(azi)}
                for md, inc, azi in stations
            ],
            "author": uploaded.author.username if uploaded and uploaded.author else None,
            "created": uploaded.created if uploaded else None,
        }
        return Response(SurveySerializer(body).data, status=status_code)

    @extend_schema(parameters=[WELL_ID], responses={200: SurveySerializer})
    def get(self, request: Request, pk=None) -> Response:
        """The survey the well's picks use: uploaded, else from its DEVI/HAZI (INCL/AZIM) curves, else none.

        ``source`` is ``upload``, ``curves`` or null (then ``stations`` is empty).
        """
        return self._answer(self.get_well())

    @extend_schema(
        parameters=[WELL_ID],
        request={
            "multipart/form-data": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "CSV, header md,inclination,azimuth (the well's depth unit; degrees)",
                    }
                },
            }
        },
        responses={
            201: SurveySerializer,
            403: FORBIDDEN,
            413: OpenApiResponse(
                ERROR, description=f"upload_too_large: the CSV is larger than {MAX_SURVEY_BYTES} bytes"
            ),
            422: OpenApiResponse(ERROR, description="invalid_csv: the line and column at fault"),
        },
    )
    def post(self, request: Request, pk=None) -> Response:
        """Replace the well's survey by a CSV (owner or staff): md, inclination, azimuth stations.

        Measured depths in the well's depth unit, increasing; inclination 0..180
        and azimuth 0..360 degrees; 2 to 10,000 stations; the file up to 1 MiB.
        """
        well = self.get_well()
        if not image_can_manage(well, request.user):
            raise PermissionDenied("only the well's owner and staff may change its survey")
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_SURVEY_BYTES + 64 * 1024:
            return _too_large()
        upload = SurveyUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        if file.size > MAX_SURVEY_BYTES:
            return _too_large()
        try:
            text = file.read(MAX_SURVEY_BYTES + 1).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CsvFormatError("the file is not UTF-8 text") from exc
        md, inclination, azimuth = core.read_survey_csv(text, max_stations=MAX_SURVEY_STATIONS)
        try:
            survey_replace(well=well, author=request.user, md=md, inclination=inclination, azimuth=azimuth)
        except (core.SurveyError, PickError) as exc:  # read_survey_csv checks the same: a safety net
            raise CsvFormatError(str(exc)) from None
        return self._answer(well, status.HTTP_201_CREATED)


def _too_large() -> Response:
    return Response(
        error_body("upload_too_large", f"the survey CSV is larger than {MAX_SURVEY_BYTES:,} bytes"),
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )
