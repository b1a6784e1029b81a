"""Django admin for images: the list, the change page with its strip and GeoJS preview."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from django.test import Client
from PIL import Image as PILImage

from ingest.admin import STRIP_HEIGHT, STRIP_WIDTH
from ingest.models import Image


@pytest.fixture
def staff_client(db, django_user_model) -> Client:
    """A test client logged in (username and password) as a superuser."""
    django_user_model.objects.create_superuser("root", "root@example.org", "a-long-admin-password")
    client = Client()
    assert client.login(username="root", password="a-long-admin-password")
    return client


def test_admin_image_list_shows_status_name_depth_range_created(staff_client, sample_image):
    response = staff_client.get("/admin/ingest/image/")
    assert response.status_code == 200
    html = response.content.decode()
    for column in ("column-name", "column-status", "column-depth_range", "column-created"):
        assert column in html
    assert "sample" in html and "succeeded" in html
    assert "9000.1 – 9546 m, step 0.1" in html


def test_admin_image_change_page_has_strip_and_geojs_preview(staff_client, sample_image):
    response = staff_client.get(f"/admin/ingest/image/{sample_image.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    # Status, depth axis and the (empty) error are on the page.
    assert "succeeded" in html and "Depth axis" in html and "9000.1 – 9546 m" in html
    strip = re.search(r'<img id="image-strip" src="([^"]+)"', html)
    assert strip, "no strip <img> on the change page"
    url = strip.group(1).replace("&amp;", "&")
    assert url == (
        f"/api/v1/images/{sample_image.pk}/data/thumbnail.png?width={STRIP_WIDTH}&height={STRIP_HEIGHT}"
    )
    assert 'id="geojs-preview"' in html
    assert f'data-tiles-url="/api/v1/images/{sample_image.pk}/tiles/{{z}}/{{x}}/{{y}}.png"' in html
    assert 'data-columns="200"' in html and 'data-rows="5460"' in html
    geojs = re.search(r'<script src="([^"]*geo\.min\.js)"', html).group(1)
    assert not geojs.startswith(("http:", "https:", "//")), "GeoJS must come from our static files"
    script = staff_client.get(geojs)
    try:
        assert script.status_code == 200
    finally:
        script.close()

    strip_response = staff_client.get(url)
    assert strip_response.status_code == 200
    assert strip_response["Content-Type"] == "image/png"
    pixels = np.asarray(PILImage.open(io.BytesIO(strip_response.content)))
    assert pixels.shape[:2] == (STRIP_HEIGHT, STRIP_WIDTH)
    tile = staff_client.get(f"/api/v1/images/{sample_image.pk}/tiles/0/0/0.png")
    assert tile.status_code == 200 and tile["Content-Type"] == "image/png"


def test_admin_image_change_page_of_failed_image_shows_error_without_preview(staff_client, write_csv):
    from ingest.services import image_create_from_path, image_ingest

    image, _ = image_create_from_path(path=write_csv(["depth,col1", "1,1", "2,x"]), queue=False)
    image = image_ingest(image_id=image.pk)
    assert image.status == Image.Status.FAILED
    response = staff_client.get(f"/admin/ingest/image/{image.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    error = re.search(r'<span class="errornote" id="image-error">(.*?)</span>', html).group(1)
    assert "(line 3, column col1)" in error
    assert 'id="image-strip"' not in html and 'id="geojs-preview"' not in html
    assert 'id="image-preview-pending"' in html


def test_admin_images_cannot_be_added_by_hand(staff_client):
    assert staff_client.get("/admin/ingest/image/add/").status_code == 403


def test_admin_needs_staff_login(anonymous_client, sample_image):
    response = anonymous_client.get(f"/admin/ingest/image/{sample_image.pk}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
