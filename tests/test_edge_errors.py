"""Errors: JSON with a request id on the API's paths whatever raised them, DEBUG or not.

Exceptions are planted with monkeypatch in a DRF view, a plain Django view and a
middleware. Production-like means ``DEBUG = False`` (the production module itself
needs a database URL and a broker; tests/test_edge_settings.py imports it).
"""

import logging
import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

DEBUG_MODES = pytest.mark.parametrize("debug", [True, False], ids=["development", "production"])


class Boom(RuntimeError):
    """A bug nobody expected; its text must not reach the client."""


def boom(*args, **kwargs):
    raise Boom("secret detail: postgres://user:hunter2@db:5432")


@pytest.fixture
def plain_client():
    """A test client that answers as the server would instead of re-raising the view's exception."""
    return Client(raise_request_exception=False)


def assert_server_error(response, caplog):
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert body == {
        "error": {
            "code": "server_error",
            "message": "internal server error; quote the request_id when you report it",
            "request_id": request_id,
        }
    }
    assert b"hunter2" not in response.content and b"Traceback" not in response.content
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert logged, "the exception was not logged with its traceback"
    assert any(r.exc_info[0] is Boom and getattr(r, "request_id", None) == request_id for r in logged)


@DEBUG_MODES
def test_edge_drf_view_exception_is_a_json_500_with_request_id(
    plain_client, settings, monkeypatch, caplog, debug
):
    from tiles.rest.colormaps import ColormapListView

    settings.DEBUG = debug
    monkeypatch.setattr(ColormapListView, "get", boom)
    assert_server_error(plain_client.get("/api/v1/colormaps", HTTP_ACCEPT="text/html"), caplog)


@DEBUG_MODES
def test_edge_django_view_exception_is_a_json_500_with_request_id(
    plain_client, settings, monkeypatch, caplog, debug
):
    settings.DEBUG = debug
    monkeypatch.setattr("project.health.JsonResponse", boom)
    assert_server_error(plain_client.get("/healthz", HTTP_ACCEPT="text/html"), caplog)


@DEBUG_MODES
def test_edge_middleware_exception_on_an_api_path_is_a_json_500(
    plain_client, settings, monkeypatch, caplog, debug
):
    """Django answers a middleware's exception itself (debug page or handler500); it is reshaped."""
    from django.middleware.common import CommonMiddleware

    settings.DEBUG = debug
    monkeypatch.setattr(CommonMiddleware, "process_request", boom)
    assert_server_error(plain_client.get("/api/v1/images", HTTP_ACCEPT="text/html"), caplog)


@DEBUG_MODES
def test_edge_tile_fast_lane_exception_is_a_json_500(plain_client, settings, monkeypatch, caplog, debug):
    """The lane answers before DRF and the other middleware; its exceptions are reshaped too."""
    settings.DEBUG = debug
    monkeypatch.setattr("tiles.middleware.image_get_ready_cached", boom)
    assert_server_error(plain_client.get("/api/v1/images/1/tiles/0/0/0.png", HTTP_ACCEPT="text/html"), caplog)


@DEBUG_MODES
def test_edge_classic_frames_exception_is_a_json_500(plain_client, settings, monkeypatch, caplog, debug):
    from tiles.rest.classic import ClassicFramesView

    settings.DEBUG = debug
    monkeypatch.setattr(ClassicFramesView, "get", boom)
    assert_server_error(plain_client.get("/get-images/0/1/"), caplog)


def test_edge_html_page_exception_in_production_is_no_debug_page(plain_client, settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setattr("tiles.views.image_list", boom)
    response = plain_client.get("/", HTTP_ACCEPT="text/html")
    assert response.status_code == 500
    assert b"Traceback" not in response.content and b"hunter2" not in response.content
    assert response["X-Request-ID"]


@DEBUG_MODES
@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api/v2/images", "/get-images/1/", "/api/v1/images/x"]
)
def test_edge_unknown_api_path_is_a_json_404(anonymous_client, settings, debug, path):
    settings.DEBUG = debug
    response = anonymous_client.get(path, HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


@DEBUG_MODES
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/healthz", {"GET", "HEAD"}),
        ("POST", "/healthz", {"GET", "HEAD"}),
        ("DELETE", "/readyz", {"GET", "HEAD"}),
        ("TRACE", "/api/v1/images", {"GET", "POST", "HEAD", "OPTIONS"}),
        ("PUT", "/api/v1/colormaps", {"GET", "HEAD", "OPTIONS"}),
        ("TRACE", "/get-images/0/1/", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_edge_method_not_in_the_schema_is_a_json_405(client, settings, debug, method, path, allowed):
    settings.DEBUG = debug
    accept = "application/json" if path.startswith("/get-images/") else "text/html"
    response = client.generic(method, path, HTTP_ACCEPT=accept)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert {m.strip() for m in response["Allow"].split(",")} >= allowed - {"HEAD"}
    assert method not in response["Allow"]


def test_edge_put_on_an_image_is_405(client, sample_image):
    response = client.put(f"/api/v1/images/{sample_image.pk}", b"{}", content_type="application/json")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"


def test_edge_every_response_has_its_own_request_id(anonymous_client):
    ids = {anonymous_client.get("/healthz")["X-Request-ID"] for _ in range(3)}
    ids.add(anonymous_client.get("/api/v1/colormaps")["X-Request-ID"])
    assert len(ids) == 4


def test_edge_readyz_names_the_failed_dependency_without_its_text(anonymous_client, monkeypatch, caplog):
    from project import health

    monkeypatch.setitem(health.CHECKS, "database", boom)
    response = anonymous_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "unavailable"
    assert body["checks"]["cache"] == "ok"
    assert body["error"] == {"code": "not_ready", "message": "not reachable: database"}
    assert b"hunter2" not in response.content and b"Boom" not in response.content
    assert any(r.exc_info and r.exc_info[0] is Boom for r in caplog.records)
