"""The lists' fast serializers answer exactly what DRF's own ``to_representation`` answers."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from rest_framework import serializers

from ingest.models import Curve, Image, WebhookDelivery, Well
from ingest.rest.serializers import (
    CurveSerializer,
    ImageSerializer,
    PlainColumnsMixin,
    WellImageSerializer,
)

pytestmark = pytest.mark.django_db


def test_plain_columns_answer_as_drf(sample_image):
    owner = get_user_model().objects.create(username="alice")
    well = Well.objects.create(name="W", owner=owner, format="las", sha256="w", bit_size=8.5)
    curve = Curve.objects.create(well=well, mnemonic="GR", unit="gAPI", samples=3, depth_min=1, value_max=2.5)
    bare = Image.objects.create(name="bare", owner=owner, well=well, sha256="b", depth_min=0, rows=0)
    WebhookDelivery.objects.create(
        image=sample_image, attempt=1, url="https://x.test", event_status="s", duration=1
    )
    request = RequestFactory().get("/api/v1/images", HTTP_HOST="testserver")
    request.user = owner
    cases = [(ImageSerializer, image) for image in (sample_image, bare, Image.objects.get(pk=bare.pk))]
    cases += [(WellImageSerializer, bare), (CurveSerializer, curve)]
    for serializer_class, row in cases:
        serializer = serializer_class(context={"request": request})
        fast = PlainColumnsMixin.to_representation(serializer, row)
        stock = serializers.ModelSerializer.to_representation(serializer, row)
        assert fast == stock
        assert [type(value) for value in fast.values()] == [type(value) for value in stock.values()]
        assert list(fast) == list(stock)


def test_routes_are_each_rows_own(sample_image):
    request = RequestFactory().get("/api/v1/images", HTTP_HOST="testserver")
    request.user = get_user_model().objects.create(username="bob")
    other = Image.objects.create(name="other", sha256="o")
    rows = ImageSerializer([sample_image, other], many=True, context={"request": request}).data
    for row, image in zip(rows, (sample_image, other), strict=True):
        assert row["url"] == f"http://testserver/api/v1/images/{image.pk}"
        assert row["viewer_url"] == f"http://testserver/images/{image.pk}"
    assert ImageSerializer(other).data["url"] == f"/api/v1/images/{other.pk}"


def test_annotated_owner_and_well_answer_as_drf(sample_image):
    """The viewsets' rows (the owner's username annotated, no user object) answer as DRF's on full rows."""
    from django.db.models import F

    from ingest.rest.serializers import OWNER_USERNAME, WellListSerializer, WellSerializer

    owner = get_user_model().objects.create(username="carol")
    well = Well.objects.create(name="W", owner=owner, format="las", sha256="w", header={"WELL": "A"})
    Image.objects.filter(pk=sample_image.pk).update(owner=owner, well=well)
    request = RequestFactory().get("/api/v1/images", HTTP_HOST="testserver")
    request.user = owner
    annotated = {OWNER_USERNAME: F("owner__username")}
    image = Image.objects.annotate(**annotated).get(pk=sample_image.pk)
    assert getattr(image, OWNER_USERNAME) == "carol"
    full_well = Well.objects.get(pk=well.pk)
    full_well.image_count = full_well.curve_count = 0
    for serializer_class, row, plain in (
        (ImageSerializer, image, Image.objects.get(pk=sample_image.pk)),
        (WellSerializer, Well.objects.annotate(**annotated).get(pk=well.pk), Well.objects.get(pk=well.pk)),
    ):
        serializer = serializer_class(context={"request": request})
        assert PlainColumnsMixin.to_representation(serializer, row) == (
            serializers.ModelSerializer.to_representation(serializer, plain)
        )
    serializer = WellListSerializer(context={"request": request})
    assert serializer.to_representation(full_well) == (
        serializers.ModelSerializer.to_representation(serializer, full_well)
    )


def test_routes_keep_a_host_that_holds_the_marker(settings):
    """Each row's id goes where the id goes, whatever digits the host holds."""
    settings.ALLOWED_HOSTS = ["2147483647.example.com"]
    request = RequestFactory().get("/api/v1/images", HTTP_HOST="2147483647.example.com")
    image = Image(pk=12)
    serializer = ImageSerializer(context={"request": request})
    assert serializer.get_url(image) == "http://2147483647.example.com/api/v1/images/12"
    assert serializer.get_viewer_url(image) == "http://2147483647.example.com/images/12"
