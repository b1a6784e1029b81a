"""Production by default: every entry point, the HTTPS settings, ``check --deploy``, errors for real.

Each case runs a fresh interpreter (the settings module is chosen once per process)
with no ``DJANGO_*`` variable but those it names.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

SECRET = "x" * 20 + "a-long-random-production-key-for-the-deploy-check-0123456789"


def run(args: list[str], tmp_path, **variables) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(DJANGO_DATA_DIR=str(tmp_path), **variables)
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def production_env(tmp_path) -> dict[str, str]:
    """What production needs: a secret key, hosts, a database; tasks in-process (no broker here)."""
    return {
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "tiles.example.com,testserver",
        "DJANGO_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_CELERY_TASK_ALWAYS_EAGER": "true",
    }


SETUP = "import django; django.setup(); from django.conf import settings; print(settings.SETTINGS_MODULE)"


@pytest.mark.parametrize(
    "args",
    [
        ["manage.py", "check"],
        ["-c", "import project.wsgi"],
        ["-c", "import project.asgi"],
        ["-c", "import project.celery; " + SETUP],  # what `celery -A project` loads
        ["-c", "import project; " + SETUP],
    ],
    ids=["manage.py", "wsgi", "asgi", "celery", "project"],
)
def test_edge_entry_points_default_to_production(tmp_path, args):
    result = run(args, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured: production settings need: DJANGO_SECRET_KEY" in result.stderr
    with_env = run(args, tmp_path, **production_env(tmp_path))
    assert with_env.returncode == 0, with_env.stderr


def test_edge_check_deploy_passes_and_fails_on_a_real_warning(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    no_hsts = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        DJANGO_SECURE_HSTS_SECONDS="0",
        **production_env(tmp_path),
    )
    assert no_hsts.returncode != 0 and "security.W004" in no_hsts.stderr


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
import project.health

client = Client(raise_request_exception=False)
https = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "tiles.example.com"}
ok = client.get("/healthz", **https)
trace = client.generic("TRACE", "/healthz", **https)
missing = client.get("/api/v1/no-such-route", HTTP_ACCEPT="text/html", **https)
def boom(*args, **kwargs):
    raise RuntimeError("secret detail")
project.health.JsonResponse = boom
broken = client.get("/healthz", HTTP_ACCEPT="text/html", **https)
print(json.dumps({
    "module": settings.SETTINGS_MODULE,
    "debug": settings.DEBUG,
    "proxy": list(settings.SECURE_PROXY_SSL_HEADER),
    "cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "trusted": settings.CSRF_TRUSTED_ORIGINS,
    "hsts": ok.headers.get("Strict-Transport-Security"),
    "nosniff": ok.headers.get("X-Content-Type-Options"),
    "request_id": ok.headers.get("X-Request-ID"),
    "trace": [trace.status_code, trace.headers["Content-Type"], trace.json()["error"]["code"]],
    "missing": [missing.status_code, missing.headers["Content-Type"], missing.json()["error"]["code"]],
    "broken": [broken.status_code, broken.headers["Content-Type"], broken.json()["error"]],
    "broken_id": broken.headers["X-Request-ID"],
}))
"""


def test_edge_production_settings_over_http(tmp_path):
    env = production_env(tmp_path)
    result = run(
        ["-c", PROBE],
        tmp_path,
        DJANGO_SETTINGS_MODULE="project.settings.production",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://tiles.example.com",
        **env,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["module"] == "project.settings.production" and seen["debug"] is False
    assert seen["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert seen["cookies"] == [True, True]
    assert seen["trusted"] == ["https://tiles.example.com"]
    assert seen["hsts"] == "max-age=31536000; includeSubDomains"
    assert seen["nosniff"] == "nosniff"
    assert len(seen["request_id"]) == 32
    assert seen["trace"] == [405, "application/json", "method_not_allowed"]
    assert seen["missing"] == [404, "application/json", "not_found"]
    status, content_type, error = seen["broken"]
    assert (status, content_type, error["code"]) == (500, "application/json", "server_error")
    assert error["request_id"] == seen["broken_id"] and "secret detail" not in result.stdout
    assert "secret detail" in result.stderr  # logged, with the traceback
    assert f"[{seen['broken_id']}]" in result.stderr


def test_edge_makefile_and_readme_name_their_settings():
    makefile = (REPO / "Makefile").read_text()
    assert "export DJANGO_SETTINGS_MODULE := project.settings.development" in makefile
    assert "DJANGO_SETTINGS_MODULE=project.settings.testing $(VENV)/bin/pytest" in makefile
    readme = (REPO / "README.md").read_text()
    session = readme[readme.index("### Example client session") :]
    manage_lines = [line for line in session.split("```")[1].splitlines() if "manage.py" in line]
    assert manage_lines and all(
        "DJANGO_SETTINGS_MODULE=project.settings.development" in x for x in manage_lines
    )
