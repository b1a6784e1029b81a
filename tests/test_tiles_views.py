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
