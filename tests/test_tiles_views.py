"""The HTML pages render, and load nothing from the internet."""

import re

import pytest

pytestmark = pytest.mark.django_db


def external_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)


def test_list_page_shows_image_with_strip(client, sample_image):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert sample_image.name in html
    assert f"/images/{sample_image.pk}" in html
    assert f"/api/v1/images/{sample_image.pk}/data/thumbnail.png" in html
    assert external_urls(html) == []


def test_viewer_page_uses_local_geojs_and_config(client, sample_image):
    response = client.get(f"/images/{sample_image.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/django_large_image/js/geojs/1.8.3/geo.min.js" in html
    assert 'id="viewer-config"' in html
    assert external_urls(html) == []
    config = response.context["viewer_config"]
    assert config["depth_unit"] == "m" and config["rows"] == 5460


def test_viewer_page_unknown_image_is_404(client):
    assert client.get("/images/12345").status_code == 404


def test_list_page_is_paginated_newest_first(client):
    from ingest.models import Image

    images = [Image.objects.create(name=f"log-{i:02d}") for i in range(45)]
    newest_first = [image.name for image in reversed(images)]

    def names(response) -> list[str]:
        return [image.name for image in response.context["images"]]

    first = client.get("/")
    assert names(first) == newest_first[:20]
    html = first.content.decode()
    assert 'href="?page=2"' in html and 'href="?page=3"' in html
    assert names(client.get("/?page=3")) == newest_first[40:]
    # Out of range: the last page; not a number: the first.
    assert names(client.get("/?page=99")) == newest_first[40:]
    assert names(client.get("/?page=abc")) == newest_first[:20]


def test_list_page_embed_url_is_the_thumbnail_of_the_depth_range(client, sample_image):
    response = client.get("/")
    html = response.content.decode()
    url = (
        f"http://testserver/api/v1/images/{sample_image.pk}/data/thumbnail.png"
        "?depth_min=9000.1&amp;depth_max=9546.0&amp;width=64&amp;height=400"
    )
    assert url in html
    strip = client.get(url.removeprefix("http://testserver").replace("&amp;", "&"))
    assert strip.status_code == 200 and strip["Content-Type"] == "image/png"
    assert 'id="upload-form"' in html and 'data-upload-url="/api/v1/images"' in html


def test_viewer_page_config_has_the_value_range_and_endpoints(client, sample_image):
    config = client.get(f"/images/{sample_image.pk}").context["viewer_config"]
    assert config["dtype"] == "uint8"
    assert config["value_min"] == sample_image.value_min and config["value_max"] == sample_image.value_max
    assert config["colormaps_url"] == "/api/v1/colormaps"
    assert config["region_url"] == f"/api/v1/images/{sample_image.pk}/data/region"
    assert config["region_formats"] == ["png", "jpeg", "webp", "tiff", "npy"]


@pytest.mark.parametrize("method", ["TRACE", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/", "/images/1"])
def test_pages_answer_get_and_head_only(anonymous_client, db, method, path):
    response = anonymous_client.generic(method, path)
    assert response.status_code == 405
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
