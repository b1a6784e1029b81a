"""HTTP shapes of an image, a well, a curve and of their uploads."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.validators import URLValidator
from django.db.models.manager import BaseManager
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import BigIntegerField, SkipField  # type: ignore[attr-defined]  # not in the stubs
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from ingest.axis import ON_DUPLICATE
from ingest.curves import CurveWindow
from ingest.models import Curve, Image, WebhookDelivery, Well
from ingest.selectors import image_can_manage, image_is_visible, webhook_deliveries_of
from ingest.webhooks import validate_webhook_url

#: DRF fields whose answer is the column's value itself, cast (``to_representation`` is the cast).
_PLAIN_FIELDS: dict[type, type] = {
    serializers.CharField: str,
    serializers.FloatField: float,
    serializers.IntegerField: int,
    serializers.BooleanField: bool,
}

#: DRF fields whose answer depends on the row alone (never on the serializer's context or
#: request): one instance of each, bound to a serializer made once per class, serves every
#: request. Any other field (nested serializers, hyperlinks) is bound per serializer, as in DRF.
_CONTEXT_FREE_FIELDS = (
    BigIntegerField,
    serializers.DateTimeField,
    serializers.ChoiceField,
    serializers.JSONField,
    serializers.URLField,
    serializers.SlugRelatedField,
    serializers.PrimaryKeyRelatedField,
)

#: A primary key no row has: a route is reversed once per serializer, then each row's pk put in its place.
_PK_MARKER = 2**31 - 1

#: How :class:`PlainColumnsMixin` answers a field: read and cast, a method of the serializer, a field,
#: the row's annotation (else the field).
_PLAIN, _METHOD, _FIELD, _ANNOTATED = 0, 1, 2, 3

#: The username of a row's owner, annotated by the viewsets (``F("owner__username")``): the
#: ``owner`` field's answer without a user object per row.
OWNER_USERNAME = "owner_username"

#: No such attribute on the row.
_MISSING = object()

#: Serializer class -> its row plan: ``(field name, kind, how)`` in the fields' order.
_ROW_PLANS: dict[type, list[tuple[str, int, Any]]] = {}


class PlainColumnsMixin:
    """A serializer's answer, as DRF's, without its per-field machinery for plain columns.

    DRF builds a serializer's fields for every request (36 fields: 2 ms) and asks
    every field for its attribute and its representation through several calls
    each (36 fields x 50 rows: half the time of a list page). Here the fields are
    read once per class into a plan: fields of the types in :data:`_PLAIN_FIELDS`
    whose source is a plain attribute are read with one ``getattr`` and cast as
    DRF casts them; ``SerializerMethodField`` calls this serializer's method;
    fields of :data:`_CONTEXT_FREE_FIELDS` answer through DRF's own calls on the
    class's one instance; every other field (nested serializers, hyperlinks) goes
    through this serializer's own fields, as in DRF. The shape (and so the
    schema) is unchanged (``tests/test_lists_serializers.py`` compares with DRF).
    """

    #: Field name -> the row's attribute that answers it when the queryset annotated it (a value
    #: ready for JSON, the field's own answer); a row without it is answered by the field.
    ANNOTATED: dict[str, str] = {}

    def to_representation(self, instance) -> dict:
        return self.represent(instance)

    def represent(self, instance, *, nulls: tuple[str, ...] = ()) -> dict:
        """DRF's ``to_representation`` of ``instance``; the fields named in ``nulls`` are None, unread."""
        data: dict = {}
        for name, kind, how in self._row_plan():
            if name in nulls:
                data[name] = None
            elif kind == _PLAIN:
                value = getattr(instance, how[0])
                data[name] = None if value is None else how[1](value)
            elif kind == _METHOD:
                data[name] = getattr(self, how)(instance)
            elif kind == _ANNOTATED and (value := getattr(instance, how[0], _MISSING)) is not _MISSING:
                data[name] = value
            else:
                shared = how[1] if kind == _ANNOTATED else how
                field = shared if shared is not None else self.fields[name]  # type: ignore[attr-defined]
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
                check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
                data[name] = None if check is None else field.to_representation(attribute)
        return data

    def _row_plan(self) -> list[tuple[str, int, Any]]:
        plan = _ROW_PLANS.get(type(self))
        if plan is None:
            plan = []
            prototype = type(self)()  # fields bound to no request: only context-free ones are kept
            for field in prototype._readable_fields:  # type: ignore[attr-defined]  # noqa: SLF001 - DRF's list
                read = _plain_read(field) if _plain_source(field.source) else None
                if read is not None:
                    plan.append((field.field_name, _PLAIN, read))
                elif isinstance(field, serializers.SerializerMethodField):
                    plan.append((field.field_name, _METHOD, field.method_name))  # type: ignore[arg-type]
                elif field.field_name in self.ANNOTATED:
                    answer = self.ANNOTATED[field.field_name]
                    plan.append((field.field_name, _ANNOTATED, (answer, _context_free(field))))
                else:
                    plan.append((field.field_name, _FIELD, _context_free(field)))
            _ROW_PLANS[type(self)] = plan
        return plan

    def route(self, name: str, pk: int) -> str:
        """``reverse(name, kwargs={"pk": pk})``, absolute with a request: built once per serializer and route.

        The route of :data:`_PK_MARKER` is reversed and made absolute once; each
        row's answer is that URL with the row's ``pk`` in the marker's place (the
        last occurrence: the host cannot hold it there).
        """
        routes = self.__dict__.setdefault("_routes", {})
        parts = routes.get(name)
        if parts is None:
            url = _absolute(self.context.get("request"), reverse(name, kwargs={"pk": _PK_MARKER}))  # type: ignore[attr-defined]
            head, _, tail = url.rpartition(str(_PK_MARKER))
            parts = routes[name] = (head, tail)
        return f"{parts[0]}{pk}{parts[1]}"


def _context_free(field: serializers.Field) -> serializers.Field | None:
    """``field`` if its answer depends on the row alone (:data:`_CONTEXT_FREE_FIELDS`), else None."""
    return field if type(field) in _CONTEXT_FREE_FIELDS else None


def _plain_read(field) -> tuple[str, Callable] | None:
    """``(attribute, cast)`` answering ``field`` as DRF does for a non-null value, or None (DRF's calls).

    The types of :data:`_PLAIN_FIELDS`; a ``ChoiceField`` (DRF's lookup of the
    value's string among the choices); a ``BigIntegerField`` that answers
    numbers (``COERCE_BIGINT_TO_STRING`` off, read when the plan is made); a
    ``PrimaryKeyRelatedField`` of a foreign key (its ``<name>_id`` column, as DRF's
    ``PKOnlyObject``).
    """
    kind = type(field)
    if kind in _PLAIN_FIELDS:
        return field.source, _PLAIN_FIELDS[kind]
    if kind is serializers.ChoiceField:
        choices = field.choice_strings_to_values
        return field.source, lambda value: choices.get(str(value), value)
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
    if kind is BigIntegerField and not coerce:
        return field.source, int
    if kind is serializers.PrimaryKeyRelatedField and field.pk_field is None:
        model = field.parent.Meta.model
        return model._meta.get_field(field.source).attname, _same  # noqa: SLF001 - Django's model API
    return None


def _same(value):
    return value


def _plain_source(source: str) -> bool:
    return source != "*" and "." not in source


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One webhook attempt and what the receiver answered."""

    class Meta:
        model = WebhookDelivery
        fields = [
            "attempt",
            "url",
            "event_status",
            "status_code",
            "delivered",
            "error",
            "duration",
            "created",
        ]
        read_only_fields = fields


#: Answered as their value for the image's owner and staff only; None for anyone else.
OWNER_ONLY = ("webhook_url", "webhook_deliveries")

#: The attribute :class:`ImageListSerializer` puts an image's webhook deliveries in (a list).
DELIVERIES = "_webhook_deliveries"

#: Deliveries as :class:`ImageSerializer` answers them (they depend on no request: one for all).
_DELIVERIES = WebhookDeliverySerializer(many=True, read_only=True)


class ImageListSerializer(serializers.ListSerializer):
    """Many images: the webhook deliveries of those the requester manages are read first, in one query.

    Only an image's owner and staff read its deliveries (:data:`OWNER_ONLY`): a
    page of other people's images asks for none, a page with some of the
    requester's own asks once for theirs (:func:`ingest.selectors.webhook_deliveries_of`).
    """

    def to_representation(self, data) -> list[dict]:
        images = list(data.all() if isinstance(data, BaseManager) else data)
        request = self.context.get("request")
        if request is not None:
            managed = {image.pk: image for image in images if image_can_manage(image, request.user)}
            for pk, deliveries in webhook_deliveries_of(image_ids=list(managed)).items():
                setattr(managed[pk], DELIVERIES, deliveries)
        return [self.child.to_representation(image) for image in images]  # type: ignore[union-attr]


class ImageSerializer(PlainColumnsMixin, serializers.ModelSerializer):
    """An image with its job status and depth axis (depth in ``depth_unit``).

    ``webhook_url`` and ``webhook_deliveries`` (a webhook URL is often a secret,
    and its delivery log tells what answered it) are null for anyone but the
    image's owner and staff: one shape for all, so the schema holds for all.
    """

    ANNOTATED = {"owner": OWNER_USERNAME}

    url = serializers.SerializerMethodField()
    viewer_url = serializers.SerializerMethodField()
    owner: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="the uploader's username (null: an anonymous classic upload)",
    )
    public = serializers.BooleanField(
        read_only=True, help_text="readable by anyone; false: only by its owner and staff"
    )
    duration = serializers.FloatField(read_only=True, help_text="seconds the job ran")
    error = serializers.SerializerMethodField()
    webhook_url = serializers.URLField(
        read_only=True,
        allow_null=True,
        help_text="owner and staff only (null for others, and when there is none)",
    )
    webhook_deliveries = WebhookDeliverySerializer(
        many=True,
        read_only=True,
        allow_null=True,
        help_text="every attempt to call webhook_url; owner and staff only (null for others)",
    )

    class Meta:
        model = Image
        fields = [
            "id",
            "name",
            "owner",
            "public",
            "status",
            "progress",
            "error",
            "url",
            "viewer_url",
            "depth_min",
            "depth_max",
            "depth_step",
            "depth_unit",
            "rows",
            "columns",
            "levels",
            "dtype",
            "value_min",
            "value_max",
            "value_p2",
            "value_p98",
            "rows_read",
            "rows_dropped",
            "bytes_read",
            "source_size",
            "sha256",
            "created",
            "started",
            "finished",
            "duration",
            "options",
            "webhook_url",
            "webhook_deliveries",
            "well",
            "value_unit",
            "azimuth_offset",
            "borehole_diameter",
        ]
        read_only_fields = fields
        extra_kwargs = {"well": {"help_text": "id of the well the image belongs to (null: none)"}}
        list_serializer_class = ImageListSerializer

    def to_representation(self, image: Image) -> dict:
        request = self.context.get("request")
        if request is None or not image_can_manage(image, request.user):
            return self.represent(image, nulls=OWNER_ONLY)  # the webhook's columns are not even read
        data = self.represent(image, nulls=("webhook_deliveries",))
        if not image.webhook_url:
            data["webhook_url"] = None
        deliveries = getattr(image, DELIVERIES, None)  # read by ImageListSerializer, else asked for now
        data["webhook_deliveries"] = _DELIVERIES.to_representation(
            image.webhook_deliveries.all() if deliveries is None else deliveries
        )
        return data

    def get_url(self, image: Image) -> str:
        return self.route("image-detail", image.pk)

    def get_viewer_url(self, image: Image) -> str:
        return self.route("image-viewer", image.pk)

    def get_error(self, image: Image) -> dict | None:
        if not image.error:
            return None
        return {
            "message": image.error,
            "line": image.error_line,
            "column": image.error_column or None,
        }


#: Longest ``name`` filter of a list (a name is at most 255 characters; 100 is plenty to search).
NAME_FILTER_MAX = 100


class WellListParams(serializers.Serializer):
    """Filters of ``GET /api/v1/wells`` (and of the images list): all optional, all combined (AND).

    They narrow what the requester may see, never widen it; an owner or a well
    that does not exist gives an empty list; an empty value (``?name=``, as an
    HTML form sends it) is no filter. ``name`` is a case-insensitive substring
    (``icontains``; a trigram index serves it on PostgreSQL), 1..100 characters.
    """

    owner = serializers.CharField(
        required=False,
        max_length=150,
        allow_blank=False,
        help_text="only those uploaded by this username (exact spelling)",
    )
    status = serializers.ChoiceField(
        choices=Image.Status.choices, required=False, help_text="only those whose job has this status"
    )
    name = serializers.CharField(
        required=False,
        min_length=1,
        max_length=NAME_FILTER_MAX,
        allow_blank=False,
        help_text=f"only those whose name contains this text, case-insensitive (1..{NAME_FILTER_MAX} chars)",
    )


class ImageListParams(WellListParams):
    """Filters of ``GET /api/v1/images``: those of the wells list, and ``well``."""

    well = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text="only the images of the well with this id"
    )


class ImageUpdateSerializer(serializers.ModelSerializer):
    """``PATCH /api/v1/images/{id}``: the owner (or staff) renames it or changes who may read it.

    Any other field is refused with a 400 naming it.
    """

    CHANGEABLE = ("name", "public", "azimuth_offset", "borehole_diameter")

    class Meta:
        model = Image
        fields = ["name", "public", "azimuth_offset", "borehole_diameter"]
        extra_kwargs = {
            "name": {"required": False, "allow_blank": False, "max_length": 255},
            "public": {"required": False, "help_text": "readable by anyone; false: owner and staff only"},
            "azimuth_offset": {"required": False, "min_value": -360, "max_value": 360},
            "borehole_diameter": {
                "required": False,
                "allow_null": True,
                "min_value": 0.001,
                "max_value": 100,
            },
        }

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.CHANGEABLE))
        if unknown:
            raise serializers.ValidationError(
                {name: f"cannot be changed; only {', '.join(self.CHANGEABLE)} can" for name in unknown}
            )
        return attrs

    def update(self, instance: Image, validated_data: dict) -> Image:
        """Write the changed columns only.

        A full-row save would write back the job's columns (status, attempts,
        lease, file, the depth axis, dedupe_key) as they were read, undoing a job
        that finished meanwhile.
        """
        for name, value in validated_data.items():
            setattr(instance, name, value)
        if validated_data:
            instance.save(update_fields=list(validated_data))
        return instance


class ImageUploadSerializer(serializers.Serializer):
    """``POST /api/v1/images``: multipart form."""

    file = serializers.FileField(allow_empty_file=True, help_text="the CSV: depth, col1..colN")
    name = serializers.CharField(required=False, max_length=255, allow_blank=False)
    depth_unit = serializers.ChoiceField(choices=Image.DepthUnit.choices, default=Image.DepthUnit.METRE)
    force = serializers.BooleanField(
        default=False, help_text="ingest again even if the same bytes were already ingested"
    )
    public = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="readable by anyone (default DJANGO_PUBLIC_READ); false: only by you and staff",
    )
    on_duplicate = serializers.ChoiceField(
        choices=ON_DUPLICATE,
        default="error",
        help_text="scanlines on one row: error (422 naming both lines), first, last or mean",
    )
    resample = serializers.BooleanField(
        default=False, help_text="snap irregular depths to the nearest row of a regular grid"
    )
    target_width = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=65535,
        help_text="resample each scanline to this many columns (area average), e.g. 150",
    )
    webhook_url = serializers.URLField(
        required=False,
        allow_blank=True,
        validators=[URLValidator(schemes=["http", "https"]), validate_webhook_url],
        max_length=1000,
        help_text="POSTed when the job ends, signed: X-Signature-256: sha256=<HMAC of the body>",
    )
    well = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="id of a well you may change: the image belongs to it",
    )


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request else path


class WellImageSerializer(PlainColumnsMixin, serializers.ModelSerializer):
    """One image of a well, as the well's detail lists it (the image's own route has the rest)."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = Image
        fields = [
            "id",
            "name",
            "url",
            "columns",
            "rows",
            "status",
            "value_unit",
            "depth_min",
            "depth_max",
            "depth_step",
            "dtype",
        ]
        read_only_fields = fields

    def get_url(self, image: Image) -> str:
        return self.route("image-detail", image.pk)


class CurveSerializer(PlainColumnsMixin, serializers.ModelSerializer):
    """A curve of a well: its unit, samples and ranges (depth in the well's ``depth_unit``)."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = Curve
        fields = [
            "mnemonic",
            "unit",
            "description",
            "samples",
            "depth_min",
            "depth_max",
            "value_min",
            "value_max",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, curve: Curve) -> str:
        path = reverse("well-curve", kwargs={"pk": curve.well_id, "mnemonic": curve.mnemonic})
        return _absolute(self.context.get("request"), path)


class WellSerializer(PlainColumnsMixin, serializers.ModelSerializer):
    """A well with its job, header facts, images and curves (depths in ``depth_unit``).

    ``error`` is the job's error in words ("" none), ``error_line`` the LAS or
    CSV line, ``error_where`` the curve, or the DLIS logical record and channel.
    """

    ANNOTATED = {"owner": OWNER_USERNAME}

    url = serializers.SerializerMethodField()
    owner: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="the uploader's username"
    )
    public = serializers.BooleanField(
        read_only=True, help_text="readable by anyone; false: only by its owner and staff"
    )
    images = serializers.SerializerMethodField()
    curves = CurveSerializer(many=True, read_only=True)

    class Meta:
        model = Well
        fields = [
            "id",
            "url",
            "name",
            "owner",
            "public",
            "format",
            "status",
            "progress",
            "error",
            "error_line",
            "error_where",
            "well_name",
            "uwi",
            "field",
            "company",
            "depth_unit",
            "start",
            "stop",
            "step",
            "bit_size",
            "header",
            "created",
            "finished",
            "images",
            "curves",
        ]
        read_only_fields = fields

    def to_representation(self, well: Well) -> dict:
        """DRF's answer; the curves by a :class:`CurveSerializer` of this request (no field per request)."""
        data = self.represent(well, nulls=("curves",))
        if "curves" in data:  # the detail's (the list answers a count)
            curves = CurveSerializer(many=True, read_only=True, context=self.context)
            data["curves"] = curves.to_representation(well.curves.all())
        return data

    def get_url(self, well: Well) -> str:
        return self.route("well-detail", well.pk)

    @extend_schema_field(WellImageSerializer(many=True))
    def get_images(self, well: Well) -> list[dict]:
        """The well's images the requester may see, in the order the file gives them."""
        request = self.context.get("request")
        user = getattr(request, "user", None)
        images = [image for image in well.images.all() if image_is_visible(image, user)]
        return list(WellImageSerializer(images, many=True, context=self.context).data)


class WellListSerializer(WellSerializer):
    """A well in the list: as its detail, with the counts of its images and curves instead of them.

    A page of 50 wells of 50 images each would otherwise serialise 2,500 images;
    the detail (``GET /api/v1/wells/{id}``) lists them.
    """

    image_count = serializers.IntegerField(read_only=True, help_text="images of the well you may see")
    curve_count = serializers.IntegerField(read_only=True, help_text="curves of the well")

    class Meta(WellSerializer.Meta):
        fields = [
            *(name for name in WellSerializer.Meta.fields if name not in ("images", "curves")),
            "image_count",
            "curve_count",
        ]
        read_only_fields = fields


class WellUpdateSerializer(ImageUpdateSerializer):
    """``PATCH /api/v1/wells/{id}``: the owner (or staff) renames it or changes who may read it.

    ``public`` applies to the images the well's job made too. Any other field is a 400 naming it.
    """

    class Meta:
        model = Well
        fields = ["name", "public"]
        extra_kwargs = {
            "name": {"required": False, "allow_blank": False, "max_length": 255},
            "public": {"required": False, "help_text": "readable by anyone; false: owner and staff only"},
        }

    def update(self, instance, validated_data: dict):
        well = super().update(instance, validated_data)
        if "public" in validated_data:
            Image.objects.filter(well_id=well.pk, source="").update(public=validated_data["public"])
        return well


class WellUploadSerializer(serializers.Serializer):
    """``POST /api/v1/wells``: multipart form (the format is told by the content)."""

    file = serializers.FileField(allow_empty_file=True, help_text="a LAS 2.0, DLIS or CSV file")
    name = serializers.CharField(required=False, max_length=255, allow_blank=False)
    depth_unit = serializers.ChoiceField(
        choices=Well.DepthUnit.choices,
        default=Well.DepthUnit.METRE,
        help_text="a CSV's depth unit (LAS and DLIS say theirs)",
    )
    force = serializers.BooleanField(
        default=False, help_text="a new well even if the same bytes were uploaded"
    )
    public = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="readable by anyone (default DJANGO_PUBLIC_READ); false: only by you and staff",
    )
    on_duplicate = serializers.ChoiceField(
        choices=ON_DUPLICATE,
        default="error",
        help_text="samples on one image row: error (422 naming them), first, last or mean",
    )
    resample = serializers.BooleanField(
        default=False, help_text="snap irregular depths to the nearest row of a regular grid"
    )


class CurveParams(serializers.Serializer):
    """``GET /api/v1/wells/{id}/curves/{mnemonic}``: the depth range and the most points answered."""

    depth_min = serializers.FloatField(required=False, help_text="shallow end, in the well's depth unit")
    depth_max = serializers.FloatField(required=False, help_text="deep end, in the well's depth unit")
    max_points = serializers.IntegerField(
        required=False,
        default=2000,
        min_value=2,
        max_value=100_000,
        help_text="the most samples answered; more in the range: min and max of each depth bin",
    )
    format = serializers.ChoiceField(
        choices=["json", "npy"],
        required=False,
        help_text="npy: a float64 (2, n) array, row 0 depth, row 1 value (or Accept: application/x-npy)",
    )

    def validate(self, attrs):
        low, high = attrs.get("depth_min"), attrs.get("depth_max")
        for name, value in (("depth_min", low), ("depth_max", high)):
            if value is not None and not math.isfinite(value):
                raise serializers.ValidationError({name: "must be a finite number"})
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"depth_min": "depth_min must not be more than depth_max"})
        return attrs


class CurveDataSerializer(serializers.Serializer):
    """The samples of a curve in a depth range (JSON)."""

    mnemonic = serializers.CharField()
    unit = serializers.CharField(help_text="unit of the values ('' unknown)")
    depth_unit = serializers.ChoiceField(choices=Well.DepthUnit.choices)
    samples = serializers.IntegerField(help_text="samples of the curve in the range")
    decimated = serializers.BooleanField(help_text="true: min and max of each depth bin are answered")
    depth = serializers.ListField(child=serializers.FloatField(), help_text="increasing depths")
    value = serializers.ListField(
        child=serializers.FloatField(allow_null=True), help_text="values; null for nodata"
    )


def curve_data(curve: Curve, window: CurveWindow, depth_unit: str) -> dict:
    """The JSON of a curve window (:class:`CurveDataSerializer`'s shape; NaN as null)."""
    return {
        "mnemonic": curve.mnemonic,
        "unit": curve.unit,
        "depth_unit": depth_unit,
        "samples": window.samples,
        "decimated": window.decimated,
        "depth": window.depth.tolist(),
        "value": [None if math.isnan(value) else value for value in window.value.tolist()],
    }
