"""Writes need a token, reads are public unless DJANGO_PUBLIC_READ=false, big uploads are 413."""

import pytest
from django.core.management import call_command

from ingest.models import Image

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_without_token_is_401_and_keeps_nothing(anonymous_client, write_csv, settings):
    with open(write_csv(["depth,col1", "1,2"]), "rb") as f:
        response = anonymous_client.post("/api/v1/images", {"file": f})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert Image.objects.count() == 0


def test_upload_with_bad_token_is_401(anonymous_client, write_csv):
    with open(write_csv(["depth,col1", "1,2"]), "rb") as f:
        response = anonymous_client.post("/api/v1/images", {"file": f}, HTTP_AUTHORIZATION="Token nope")
    assert response.status_code == 401


def test_createtoken_command_token_can_upload(anonymous_client, write_csv, capsys):
    call_command("createtoken", "alice")
    token = capsys.readouterr().out.strip()
    call_command("createtoken", "alice")
    second = capsys.readouterr().out.strip()
    assert second != token  # a new knox token each time; both work until revoked or expired
    with open(write_csv(["depth,col1", "1,2", "2,3"]), "rb") as f:
        response = anonymous_client.post("/api/v1/images", {"file": f}, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 202
    assert response.json()["owner"] == "alice"
    detail = anonymous_client.get(response.json()["url"], HTTP_AUTHORIZATION=f"Token {second}")
    assert detail.status_code == 200


def test_reads_are_public_by_default(anonymous_client, sample_image):
    assert anonymous_client.get("/api/v1/images").status_code == 200
    assert anonymous_client.get(f"/api/v1/images/{sample_image.pk}/tiles/0/0/0.png").status_code == 200


def test_reads_need_a_token_when_not_public(anonymous_client, client, sample_image, settings):
    settings.PUBLIC_READ = False
    assert anonymous_client.get("/api/v1/images").status_code == 401
    assert anonymous_client.get(f"/api/v1/images/{sample_image.pk}/tiles/0/0/0.png").status_code == 401
    assert client.get(f"/api/v1/images/{sample_image.pk}/tiles/0/0/0.png").status_code == 200


def test_upload_over_the_limit_is_413_before_reading(client, sample_csv, settings):
    settings.MAX_UPLOAD_MB = 1  # the sample is 4.2 MB
    with open(sample_csv, "rb") as f:
        response = client.post("/api/v1/images", {"file": f})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "upload_too_large" and "limit is 1 MB" in error["message"]
    assert Image.objects.count() == 0
