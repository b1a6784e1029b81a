"""Bounded parameters, through HTTP: list pages, depth bounds, django-large-image's band, request rates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client

REPO = Path(__file__).resolve().parents[1]


# -- list pages -----------------------------------------------------------------------


@pytest.fixture
def three_images(db, sample_image):
    from ingest.models import Image

    for name in ("b", "c"):
        Image.objects.create(name=name, sha256=name * 64, status=Image.Status.PENDING)
    return Image.objects.count()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=4333628726088377435160576&offset=-4522", "limit"),
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=-3", "limit"),
        ("limit=201", "limit"),
        ("limit=1.5", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("offset=99999999999999999999", "offset"),
    ],
)
def test_reads_list_limit_and_offset_out_of_bounds_are_400(anonymous_client, three_images, query, field):
    response = anonymous_client.get(f"/api/v1/images?{query}")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter" and field in error["fields"]


def test_reads_list_pages_within_bounds(anonymous_client, three_images, settings):
    body = anonymous_client.get("/api/v1/images?limit=2&offset=1").json()
    assert body["count"] == 3 and len(body["results"]) == 2
    assert len(anonymous_client.get("/api/v1/images").json()["results"]) == 3  # PAGE_SIZE 50
    assert anonymous_client.get("/api/v1/images?limit=200&offset=2147483647").json()["results"] == []
    settings.API_MAX_LIMIT = 2
    assert anonymous_client.get("/api/v1/images?limit=3").status_code == 400
    assert len(anonymous_client.get("/api/v1/images?limit=2").json()["results"]) == 2


def test_reads_list_bounds_are_in_the_schema(anonymous_client, db):
    schema = anonymous_client.get("/api/schema?format=json").json()
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/images"]["get"]["parameters"]}
    assert parameters["limit"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
    assert parameters["offset"]["minimum"] == 0


# -- django-large-image's info/band ------------------------------------------------------


@pytest.mark.parametrize("band", ["x", "99", "3", "0", "-1", "1e3"])
def test_reads_info_band_unknown_is_400(anonymous_client, sample_image, band):
    response = anonymous_client.get(f"/api/v1/images/{sample_image.pk}/info/band?band={band}")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter" and "band" in error["fields"]


def test_reads_info_band_answers_the_bands_it_has(anonymous_client, sample_image):
    base = f"/api/v1/images/{sample_image.pk}/info/band"
    assert anonymous_client.get(base).json() == {"interpretation": "gray"}
    assert anonymous_client.get(f"{base}?band=2").json() == {"interpretation": "alpha"}


def test_reads_info_band_of_a_cached_image_asks_the_database_nothing(
    anonymous_client, sample_image, django_assert_num_queries
):
    """The ready image's row is loaded once (then cached) and its large_image source is ours, kept open."""
    base = f"/api/v1/images/{sample_image.pk}/info/band"
    assert anonymous_client.get(base).status_code == 200
    with django_assert_num_queries(0):
        assert anonymous_client.get(f"{base}?band=2").json() == {"interpretation": "alpha"}


def test_reads_data_route_loads_the_image_in_one_query(
    anonymous_client, sample_image, django_assert_num_queries
):
    """A data route loads the image row (and its owner) only: no webhook deliveries."""
    with django_assert_num_queries(1):
        response = anonymous_client.get(f"/api/v1/images/{sample_image.pk}/data/region.png?top=0&bottom=10")
    assert response.status_code == 200


# -- huge and non-finite depths ------------------------------------------------------------


def test_reads_huge_depth_bounds_are_answered_never_500(anonymous_client, sample_image):
    base = f"/api/v1/images/{sample_image.pk}/data"
    whole = anonymous_client.get(f"{base}/region.png?depth_min=0&depth_max=1e308")
    assert whole.status_code == 200 and whole["X-Rows"] == "0-5459"
    for query in (
        "region.png?depth_min=1e308&depth_max=1e308",
        "region.png?depth_min=-1e308&depth_max=-1e307",
        "region.png?depth_min=0&depth_max=1e309",
        "region.png?depth_min=-inf&depth_max=0",
        "region.png?depth_min=nan",
        "thumbnail.png?depth_min=1e308",
        "pixel?left=0&depth=1e308",
        "pixel?left=0&depth=-1e308",
    ):
        response = anonymous_client.get(f"{base}/{query}")
        assert response.status_code == 400, (query, response.content[:300])
        assert response.json()["error"]["code"] in ("invalid_depth_range", "invalid_parameter")


def test_reads_classic_frames_huge_depths_are_answered_never_500(anonymous_client, sample_image, settings):
    everything = anonymous_client.get(f"/get-images/0/1e308/?image={sample_image.pk}")
    assert everything.status_code == 200 and len(everything.json()["images"]) == 5460
    settings.MAX_FRAMES = 5000  # an 800,000-scanline log, in small: more frames than allowed
    too_many = anonymous_client.get("/get-images/0/1e308/")
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "output_too_large"
    for path, status, code in (
        ("/get-images/1e308/1e308/", 404, "no_scanline_in_range"),
        ("/get-images/-1e308/-1e307/", 404, "no_scanline_in_range"),
        ("/get-images/0/1e309/", 400, "invalid_parameter"),
        ("/get-images/0/inf/", 400, "invalid_parameter"),
        ("/get-images/nan/1/", 400, "invalid_parameter"),
    ):
        response = anonymous_client.get(path)
        assert response.status_code == status, (path, response.content[:300])
        assert response.json()["error"]["code"] == code


# -- request rates -----------------------------------------------------------------------


@pytest.fixture
def throttle_history():
    """Throttle history lives in the default cache: each test starts with none."""
    caches["default"].clear()
    yield
    caches["default"].clear()


def _is_429(response) -> bool:
    return (
        response.status_code == 429
        and response.json()["error"]["code"] == "throttled"
        and int(response["Retry-After"]) > 0
    )


def test_reads_throttle_off_by_default(anonymous_client, sample_image, throttle_history):
    for _ in range(30):
        assert anonymous_client.get(f"/api/v1/images/{sample_image.pk}").status_code == 200


def test_reads_throttle_anonymous_per_address(sample_image, settings, throttle_history):
    settings.THROTTLE_ANON = "3/minute"
    url = f"/api/v1/images/{sample_image.pk}"
    one = Client(REMOTE_ADDR="192.0.2.1")
    assert [one.get(url).status_code for _ in range(3)] == [200, 200, 200]
    assert _is_429(one.get(url))
    # A forged X-Forwarded-For does not make a new client (DJANGO_NUM_PROXIES=0)...
    assert _is_429(one.get(url, HTTP_X_FORWARDED_FOR="203.0.113.9"))
    # ...another address does.
    assert Client(REMOTE_ADDR="192.0.2.2").get(url).status_code == 200


def test_reads_throttle_behind_a_proxy_uses_its_address(sample_image, settings, throttle_history):
    settings.THROTTLE_ANON = "1/minute"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    url = f"/api/v1/images/{sample_image.pk}"
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    assert proxy.get(url, HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.7").status_code == 200
    assert _is_429(proxy.get(url, HTTP_X_FORWARDED_FOR="2.2.2.2, 198.51.100.7"))  # same client for the proxy
    assert proxy.get(url, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200


def test_reads_throttle_per_user(client, anonymous_client, sample_image, settings, throttle_history):
    settings.THROTTLE_USER = "2/minute"
    url = f"/api/v1/images/{sample_image.pk}"
    assert [client.get(url).status_code for _ in range(2)] == [200, 200]
    assert _is_429(client.get(url))
    assert anonymous_client.get(url).status_code == 200  # THROTTLE_ANON is off


def test_reads_throttle_counts_fast_lane_tiles_once(sample_image, settings, throttle_history):
    """The lane counts each tile it answers, steps aside when the rate is spent, and never counts twice."""
    settings.THROTTLE_ANON = "4/minute"
    tiles = f"/api/v1/images/{sample_image.pk}/tiles"
    anonymous = Client()
    first = anonymous.get(f"{tiles}/5/0/0.png")  # 1: DRF (the image is not yet in the lane's cache)
    assert first.status_code == 200 and "Allow" in first.headers
    lane = anonymous.get(f"{tiles}/5/0/1.png")  # 2: the lane
    assert lane.status_code == 200 and "Allow" not in lane.headers
    bad = anonymous.get(f"{tiles}/5/0/1.png?palette=no-such-map")  # 3: counted by the lane, answered by DRF
    assert bad.status_code == 400 and "Allow" in bad.headers
    assert anonymous.get(f"{tiles}/5/0/2.png").status_code == 200  # 4: the lane
    spent = anonymous.get(f"{tiles}/5/0/3.png")
    assert _is_429(spent) and "Allow" in spent.headers  # DRF's 429, in the JSON shape
    assert _is_429(anonymous.get(f"/api/v1/images/{sample_image.pk}"))  # one rate for every route


def test_reads_throttle_counts_a_browser_session_tile_as_its_user(
    sample_image, settings, throttle_history, django_user_model
):
    """A session cookie (a logged-in browser) is a user to DRF: the lane steps aside, THROTTLE_USER counts."""
    settings.THROTTLE_ANON, settings.THROTTLE_USER = "1/minute", "2/minute"
    tiles = f"/api/v1/images/{sample_image.pk}/tiles"
    assert Client(REMOTE_ADDR="192.0.2.9").get(f"{tiles}/5/0/0.png").status_code == 200  # the lane's cache
    browser = Client()
    browser.force_login(django_user_model.objects.create_user("viewer", password="x" * 12))
    answers = [browser.get(f"{tiles}/5/0/{y}.png") for y in range(3)]
    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    assert all("Allow" in answer.headers for answer in answers)  # the normal stack, not the lane
    assert _is_429(answers[2])  # the user's rate, not the address's
    assert Client().get(f"{tiles}/5/0/0.png").status_code == 200  # the address's rate is untouched


def _production(env: dict, data_dir: Path) -> subprocess.CompletedProcess:
    base = {
        "PATH": os.environ["PATH"],
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "example.org",
        "DJANGO_DATABASE_URL": "postgres://u:p@db:5432/d",
        "DJANGO_CELERY_BROKER_URL": "redis://redis:6379/0",
        "DJANGO_DATA_DIR": str(data_dir),
    }
    code = "import project.settings.production as s; print(repr((s.THROTTLE_ANON, s.THROTTLE_USER)))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env={**base, **env}, capture_output=True, text=True
    )


def test_reads_throttle_production_defaults_and_checked_rates(tmp_path):
    defaults = _production({}, tmp_path)
    assert defaults.stdout.strip() == "('1200/minute', '6000/minute')", defaults.stderr[-800:]
    off = _production({"DJANGO_THROTTLE_ANON": "", "DJANGO_THROTTLE_USER": "50/second"}, tmp_path)
    assert off.stdout.strip() == "('', '50/second')", off.stderr[-800:]
    bad = _production({"DJANGO_THROTTLE_ANON": "lots"}, tmp_path)
    assert bad.returncode != 0 and "DJANGO_THROTTLE_ANON must look like 600/minute" in bad.stderr
