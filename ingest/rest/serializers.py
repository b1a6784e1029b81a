"""HTTP shapes of an image and of an upload."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.validators import URLValidator
from django.urls import reverse
from rest_framework import serializers

from ingest.axis import ON_DUPLICATE
from ingest.models import Image, WebhookDelivery
from ingest.selectors import image_can_manage
from ingest.webhooks import validate_webhook_url


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


class ImageSerializer(serializers.ModelSerializer):
    """An image with its job status and depth axis (depth in ``depth_unit``).

    ``webhook_url`` and ``webhook_deliveries`` (a webhook URL is often a secret,
    and its delivery log tells what answered it) are null for anyone but the
    image's owner and staff: one shape for all, so the schema holds for all.
    """

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
        ]
        read_only_fields = fields

    def to_representation(self, image: Image) -> dict:
        data = super().to_representation(image)
        request = self.context.get("request")
        if request is None or not image_can_manage(image, request.user):
            data["webhook_url"] = None
            data["webhook_deliveries"] = None
        elif not image.webhook_url:
            data["webhook_url"] = None
        return data

    def get_url(self, image: Image) -> str:
        path = reverse("image-detail", kwargs={"pk": image.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_viewer_url(self, image: Image) -> str:
        path = reverse("image-viewer", kwargs={"pk": image.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_error(self, image: Image) -> dict | None:
        if not image.error:
            return None
        return {
            "message": image.error,
            "line": image.error_line,
            "column": image.error_column or None,
        }


class ImageUpdateSerializer(serializers.ModelSerializer):
    """``PATCH /api/v1/images/{id}``: the owner (or staff) renames it or changes who may read it.

    Any other field is refused with a 400 naming it.
    """

    CHANGEABLE = ("name", "public")

    class Meta:
        model = Image
        fields = ["name", "public"]
        extra_kwargs = {
            "name": {"required": False, "allow_blank": False, "max_length": 255},
            "public": {"required": False, "help_text": "readable by anyone; false: owner and staff only"},
        }

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.CHANGEABLE))
        if unknown:
            raise serializers.ValidationError(
                {name: f"cannot be changed; only {' and '.join(self.CHANGEABLE)} can" for name in unknown}
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
