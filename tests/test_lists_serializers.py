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
