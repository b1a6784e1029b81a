"""API tokens (django-rest-knox): hashed at rest, expiring, revocable; createtoken prints one."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from tests.conftest import make_token

pytestmark = pytest.mark.django_db


def test_token_is_stored_as_a_digest_only(db):
    key = make_token("alice")
    (token,) = AuthToken.objects.all()
    stored = " ".join(
        str(value)
        for value in AuthToken.objects.values_list(*[f.attname for f in AuthToken._meta.fields]).get()
    )
    assert key not in stored  # only the first 15 characters (the lookup key) and a SHA-512 digest
    assert len(token.digest) == 128 and token.token_key == key[:15]
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/images").status_code == 200


def test_token_expires_after_the_ttl(db, settings):
    key = make_token("alice")
    token = AuthToken.objects.get()
    assert token.expiry - timezone.now() == pytest.approx(
        timedelta(hours=settings.TOKEN_TTL_HOURS), abs=timedelta(minutes=1)
    )
    assert settings.TOKEN_TTL_HOURS == 720
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/images")
    assert response.status_code == 401 and response.json()["error"]["code"] == "authentication_failed"
    assert not AuthToken.objects.exists()  # knox deletes an expired token when it is seen


def test_token_ttl_zero_never_expires(db, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": None}  # DJANGO_TOKEN_TTL_HOURS=0
    key = make_token("alice")
    assert AuthToken.objects.get().expiry is None
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/images").status_code == 200


def test_logout_revokes_the_token_it_is_sent_with(db):
    key, other = make_token("alice"), make_token("alice")
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/images").status_code == 401
    assert client.post("/api/v1/auth/logout").status_code == 401
    # Only that token: alice's other token still works.
    assert Client(HTTP_AUTHORIZATION=f"Token {other}").get("/api/v1/images").status_code == 200
    assert Client().post("/api/v1/auth/logout").status_code == 401


def test_createtoken_prints_a_new_working_token(db, capsys):
    call_command("createtoken", "demo")
    key = capsys.readouterr().out.strip()
    assert len(key) == 64
    user = get_user_model().objects.get(username="demo")
    assert not user.has_usable_password()
    assert AuthToken.objects.get().user == user
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/images").status_code == 200


def test_bad_or_malformed_tokens_are_401(db):
    make_token("alice")
    for header in ("Token nope", "Token " + "0" * 64, "Token", "Bearer abc"):
        response = Client(HTTP_AUTHORIZATION=header).post("/api/v1/images")
        assert response.status_code == 401, header
