"""Operations: health probes and CORS for dashboards on other origins."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz(anonymous_client):
    response = anonymous_client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_all_ok(anonymous_client):
    response = anonymous_client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok", "storage": "ok"}


def test_readyz_names_the_broker_that_is_down(anonymous_client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from project.celery import app

    app.conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens on port 9
    try:
        response = anonymous_client.get("/readyz")
    finally:
        app.conf.broker_url = "memory://"
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"].startswith("unavailable")
    assert body["checks"]["database"] == "ok"
    assert body["error"]["message"] == "not reachable: broker"


def test_readyz_names_the_storage_that_is_not_writable(anonymous_client, settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    settings.MEDIA_ROOT = blocker / "media"
    response = anonymous_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["message"] == "not reachable: storage"


def test_cors_allows_configured_origin_to_read_with_etag_exposed(anonymous_client, sample_image, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://dash.example.org"]
    url = f"/api/v1/images/{sample_image.pk}/tiles/0/0/0.png"
    response = anonymous_client.get(url, HTTP_ORIGIN="https://dash.example.org")
    assert response["Access-Control-Allow-Origin"] == "https://dash.example.org"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    other = anonymous_client.get(url, HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in other
    preflight = anonymous_client.options(
        "/api/v1/images", HTTP_ORIGIN="https://dash.example.org", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "POST" not in preflight.get("Access-Control-Allow-Methods", "")
