"""Request and answer shapes of the picks and survey routes (every field bounded)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from picks.models import Confidence, Pick
from picks.selectors import PickContext, pick_context, pick_geometries
from picks.services import MAX_COMMENT, MAX_DIP, MAX_POINTS, MIN_POINTS

#: Largest magnitude of a depth, a row or a column in a request (any real log is far inside).
MAX_COORDINATE = 1e9
#: Azimuths are taken mod 360; a request may give them in -720..720 degrees.
MAX_AZIMUTH = 720.0
#: Largest amplitude given by hand (depth unit).
MAX_AMPLITUDE = 1e6


class PointSerializer(serializers.Serializer):
    """One point on the unrolled wall: ``{"azimuth", "depth"}`` or ``{"column", "row"}``."""

    azimuth = serializers.FloatField(
        required=False, min_value=-MAX_AZIMUTH, max_value=MAX_AZIMUTH, help_text="degrees (mod 360)"
    )
    depth = serializers.FloatField(
        required=False,
        min_value=-MAX_COORDINATE,
        max_value=MAX_COORDINATE,
        help_text="the image's depth unit",
    )
    column = serializers.FloatField(
        required=False,
        min_value=-MAX_COORDINATE,
        max_value=MAX_COORDINATE,
        help_text="pixel column (fractional allowed; column c is centred on (c + 0.5) * 360 / columns)",
    )
    row = serializers.FloatField(
        required=False,
        min_value=-MAX_COORDINATE,
        max_value=MAX_COORDINATE,
        help_text="pixel row (0 = shallowest; fractional allowed)",
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key)[:40] for key in set(data) - {"azimuth", "depth", "column", "row"})
            if unknown:
                raise serializers.ValidationError(
                    f"unknown keys {unknown}: give azimuth and depth, or column and row"
                )
        return super().to_internal_value(data)

    def validate(self, attrs):
        wall = "azimuth" in attrs and "depth" in attrs and not {"column", "row"} & set(attrs)
        pixel = "column" in attrs and "row" in attrs and not {"azimuth", "depth"} & set(attrs)
        if not (wall or pixel):
            raise serializers.ValidationError("give azimuth and depth, or column and row (one pair)")
        return attrs


def _points_field(min_length: int) -> serializers.ListField:
    return serializers.ListField(
        child=PointSerializer(),
        required=min_length > 0,
        min_length=min_length,
        max_length=MAX_POINTS,
        help_text=f"points on the wall ({MIN_POINTS}..{MAX_POINTS}) at three distinct azimuths at least",
    )


class FitRequestSerializer(serializers.Serializer):
    """``POST /api/v1/images/{id}/picks/fit``: the points to fit."""

    points = _points_field(MIN_POINTS)


class FitSerializer(serializers.Serializer):
    """The least-squares sinusoid ``depth(θ) = depth + amplitude · cos(θ - dip_azimuth)``."""

    depth = serializers.FloatField(help_text="d0, the centre line's depth (depth unit)")
    amplitude = serializers.FloatField(help_text="half the trough-to-peak height (depth unit)")
    dip_azimuth = serializers.FloatField(help_text="azimuth of the deepest point, degrees [0, 360)")
    dip = serializers.FloatField(allow_null=True, help_text="degrees 0..90; null: the diameter is unknown")
    rms = serializers.FloatField(help_text="RMS of the depth residuals (depth unit)")
    points = serializers.ListField(
        child=serializers.DictField(child=serializers.FloatField()),
        help_text='the points fitted, as [{"azimuth", "depth"}]',
    )
    depth_unit = serializers.CharField(help_text="m or ft")
    diameter = serializers.FloatField(allow_null=True, help_text="borehole diameter used (depth unit)")


class PickListParams(serializers.Serializer):
    """Filters of ``GET /api/v1/images/{id}/picks``: a closed depth range and a kind."""

    depth_min = serializers.FloatField(
        required=False,
        min_value=-MAX_COORDINATE,
        max_value=MAX_COORDINATE,
        help_text="shallowest pick depth, in the image's depth unit",
    )
    depth_max = serializers.FloatField(
        required=False,
        min_value=-MAX_COORDINATE,
        max_value=MAX_COORDINATE,
        help_text="deepest pick depth, in the image's depth unit",
    )
    kind = serializers.ChoiceField(choices=settings.PICK_KINDS, required=False, help_text="only this kind")

    def validate(self, attrs):
        if "depth_min" in attrs and "depth_max" in attrs and attrs["depth_min"] > attrs["depth_max"]:
            raise serializers.ValidationError({"depth_min": "depth_min is greater than depth_max"})
        return attrs


class PickWriteSerializer(serializers.Serializer):
    """``POST`` and ``PATCH`` of a pick: points to fit, or its geometry by hand; kind, confidence, comment.

    Any other field is a 400 naming it. With ``points`` no geometry field may be
    given (they are fitted); by hand give ``depth`` (on create), ``dip_azimuth``
    (default 0) and ``dip`` or ``amplitude`` (default dip 0).
    """

    WRITABLE = ("depth", "dip", "dip_azimuth", "amplitude", "kind", "confidence", "comment", "points")

    depth = serializers.FloatField(
        required=False,
        min_value=-MAX_COORDINATE,
        max_value=MAX_COORDINATE,
        help_text="centre line depth (depth unit)",
    )
    dip = serializers.FloatField(required=False, min_value=0, max_value=MAX_DIP, help_text="degrees")
    dip_azimuth = serializers.FloatField(
        required=False, min_value=-MAX_AZIMUTH, max_value=MAX_AZIMUTH, help_text="degrees (mod 360)"
    )
    amplitude = serializers.FloatField(
        required=False, min_value=0, max_value=MAX_AMPLITUDE, help_text="half trough-to-peak (depth unit)"
    )
    kind = serializers.ChoiceField(choices=settings.PICK_KINDS, required=False)
    confidence = serializers.ChoiceField(choices=Confidence.choices, required=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=MAX_COMMENT)
    points = _points_field(0)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.WRITABLE))
        if unknown:
            raise serializers.ValidationError(
                {name: f"cannot be set; only {', '.join(self.WRITABLE)} can" for name in unknown}
            )
        return attrs


class PickSerializer(serializers.ModelSerializer):
    """A pick as answered.

    The context carries the image's :class:`PickContext` (``pick_context``) and,
    for a list, every pick's geometry computed at once (``geometries``:
    :func:`picks.selectors.pick_geometries`).

    ``dip`` and ``amplitude`` are both given when the diameter is known (else the
    one the pick was given by); ``true_dip`` and ``true_dip_azimuth`` when the
    image's well has a survey covering the pick's depth (null otherwise).
    """

    url = serializers.SerializerMethodField(help_text="this pick's URL")
    image = serializers.IntegerField(source="image_id", read_only=True)
    author = serializers.CharField(
        source="author.username", read_only=True, allow_null=True, help_text="who picked it"
    )
    depth_unit = serializers.SerializerMethodField(help_text="m or ft: the image's depth unit")
    dip = serializers.FloatField(allow_null=True, help_text="degrees 0..90; null: diameter unknown")
    amplitude = serializers.FloatField(allow_null=True, help_text="half trough-to-peak (depth unit)")
    true_dip = serializers.FloatField(allow_null=True, help_text="geographic dip, degrees (null: no survey)")
    true_dip_azimuth = serializers.FloatField(
        allow_null=True, help_text="geographic dip azimuth, degrees from north (null: no survey)"
    )
    points = serializers.ListField(
        child=serializers.DictField(child=serializers.FloatField()),
        help_text='the points it was fitted from, [{"azimuth", "depth"}] ([] if none)',
    )

    class Meta:
        model = Pick
        fields = [
            "id",
            "url",
            "image",
            "depth",
            "depth_unit",
            "dip",
            "dip_azimuth",
            "amplitude",
            "true_dip",
            "true_dip_azimuth",
            "kind",
            "confidence",
            "comment",
            "points",
            "rms",
            "author",
            "created",
            "updated",
        ]
        read_only_fields = fields

    def to_representation(self, pick: Pick) -> dict:
        body = super().to_representation(pick)
        geometries = self.context.get("geometries") or {}
        if pick.pk not in geometries:
            geometries = pick_geometries([pick], self._pick_context(pick))
        body.update(geometries[pick.pk])
        return body

    def get_url(self, pick: Pick) -> str:
        path = reverse("image-pick-detail", kwargs={"pk": pick.image_id, "pick_id": pick.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_depth_unit(self, pick: Pick) -> str:
        return self._pick_context(pick).depth_unit

    def _pick_context(self, pick: Pick) -> PickContext:
        """The image's context from the serializer's, else read from the pick's image."""
        context = self.context.get("pick_context")
        return context if context is not None else pick_context(pick.image)


class StationSerializer(serializers.Serializer):
    """One survey station."""

    md = serializers.FloatField(help_text="measured depth (the well's depth unit)")
    inclination = serializers.FloatField(help_text="degrees from vertical")
    azimuth = serializers.FloatField(help_text="degrees clockwise from north")


class SurveySerializer(serializers.Serializer):
    """A well's deviation survey."""

    well = serializers.IntegerField(help_text="the well's id")
    depth_unit = serializers.CharField(help_text="m or ft: the well's depth unit (of md)")
    # The API's name. DRF's SerializerMetaclass takes declared fields out of the class
    # attributes, so this does not override Field.source; the stubs cannot express that.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["upload", "curves"],
        allow_null=True,
        help_text="upload (POSTed CSV), curves (the well's DEVI/HAZI or INCL/AZIM curves) or null: none",
    )
    stations = StationSerializer(many=True)
    author = serializers.CharField(allow_null=True, help_text="who uploaded it (null: not uploaded)")
    created = serializers.DateTimeField(
        allow_null=True, help_text="when it was uploaded (null: not uploaded)"
    )


class SurveyUploadSerializer(serializers.Serializer):
    """``POST /api/v1/wells/{id}/survey``: a CSV file with a header ``md,inclination,azimuth``."""

    file = serializers.FileField(help_text="CSV: md,inclination,azimuth (header first), up to 1 MiB")
