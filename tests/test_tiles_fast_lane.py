"""The tile fast lane answers exactly what the full stack answers, and only when it may."""

import io

import numpy as np
import pytest
from django.test import Client
from PIL import Image as PILImage

pytestmark = pytest.mark.django_db

LANE = "tiles.middleware.TileFastLaneMiddleware"

TILE_QUERIES = [
    "5/0/3.png?palette=viridis",
    "5/0/21.png?palette=viridis",  # the last row band: nodata transparent
    "5/0/3.png?palette=%23000,%23f80,%23fff&min=40&max=200",
    "5/0/3.png",  # grey
    "4/0/2.png?palette=resistivity&min=30",
    "1/0/0.png?palette=magma",  # a zoom large_image synthesizes
    "5/0/3.jpeg?palette=viridis",
    "5/0/3.webp?palette=YlOrBr",
    "5/0/99.png?palette=viridis",  # outside the pyramid: 404 JSON
    "5/0/3.png?palette=not-a-colormap",  # 400 JSON
    "5/0/3.png?min=abc",  # 400 JSON
]


def _without_lane(settings) -> Client:
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != LANE]
    return Client()


def _comparable(response) -> dict:
    per_request = ("Allow", "Vary", "X-Request-ID")
    headers = {name: value for name, value in response.headers.items() if name not in per_request}
    vary = {part.strip().lower() for part in response.headers.get("Vary", "").split(",") if part.strip()}
    vary.discard("cookie")
    return {"status": response.status_code, "body": response.content, "headers": headers, "vary": vary}


def _remember(sample_image):
    """The lane serves images the in-process cache knows; the normal path puts them there."""
    assert Client().get(f"/api/v1/images/{sample_image.pk}/tiles/5/0/0.png").status_code == 200


@pytest.mark.parametrize("query", TILE_QUERIES)
def test_lane_answers_what_the_full_stack_answers(sample_image, settings, query):
    url = f"/api/v1/images/{sample_image.pk}/tiles/{query}"
    _remember(sample_image)
    fast = Client().get(url)
    full = _without_lane(settings).get(url)
    assert _comparable(fast) == _comparable(full)
    assert "origin" in _comparable(fast)["vary"]  # shared caches keep CORS answers apart
    if fast.status_code == 200:
        assert "Allow" not in fast.headers  # answered by the lane, not by DRF
        assert fast["Cache-Control"] == "public, max-age=31536000, immutable"
        assert fast["X-Content-Type-Options"] == "nosniff" and fast["X-Frame-Options"] == "DENY"
        if query.startswith("5/0/21.png"):
            pixels = np.asarray(PILImage.open(io.BytesIO(fast.content)).convert("RGBA"))
            assert (pixels[84:, :, 3] == 0).all() and (pixels[:84, :200, 3] == 255).all()
    else:
        assert "Allow" in fast.headers  # errors come from the normal stack, in its JSON shape
        assert fast.json()["error"]["code"] in ("tile_out_of_range", "invalid_parameter")


def test_lane_answers_304_for_a_matching_etag(sample_image, settings):
    url = f"/api/v1/images/{sample_image.pk}/tiles/5/0/3.png?palette=viridis"
    _remember(sample_image)
    etag = Client().get(url)["ETag"]
    again = Client().get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag and "Allow" not in again.headers
    assert _comparable(again) == _comparable(_without_lane(settings).get(url, HTTP_IF_NONE_MATCH=etag))


def test_lane_leaves_tokens_origins_and_private_reads_to_the_full_stack(sample_image, settings, api_token):
    url = f"/api/v1/images/{sample_image.pk}/tiles/5/0/3.png?palette=viridis"
    _remember(sample_image)
    with_token = Client(HTTP_AUTHORIZATION=f"Token {api_token}").get(url)
    assert with_token.status_code == 200 and "Allow" in with_token.headers
    settings.CORS_ALLOWED_ORIGINS = ["https://dash.example.org"]
    cross = Client().get(url, HTTP_ORIGIN="https://dash.example.org")
    assert cross.status_code == 200 and cross["Access-Control-Allow-Origin"] == "https://dash.example.org"
    settings.PUBLIC_READ = False
    anonymous = Client().get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"


def test_lane_refuses_hosts_django_refuses(sample_image):
    _remember(sample_image)
    url = f"/api/v1/images/{sample_image.pk}/tiles/5/0/3.png"
    assert Client().get(url, HTTP_HOST="evil.example.com").status_code == 400


def test_lane_pattern_is_the_viewsets_tile_route():
    """The lane's path pattern names the route the URLconf really serves (no lane for a moved route)."""
    from django.urls import reverse

    from tiles.middleware import TILE_PATH

    path = reverse("image-tile", kwargs={"pk": 7, "z": 5, "x": 0, "y": 3, "fmt": "webp"})
    match = TILE_PATH.match(path)
    assert match and match.groupdict() == {"pk": "7", "z": "5", "x": "0", "y": "3", "fmt": "webp"}
