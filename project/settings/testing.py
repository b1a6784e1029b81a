"""Unit tests: the embedded default in a throw-away data directory."""

import tempfile
from pathlib import Path

from project.settings.base import *  # noqa: F403

_TMP = Path(tempfile.mkdtemp(prefix="depthtiles-test-")).resolve()
DATA_DIR = _TMP
MEDIA_ROOT = _TMP / "media"
DATA_TEMP_DIR = str(_TMP / "tmp")
STATIC_ROOT = _TMP / "staticfiles"
STATIC_ROOT.mkdir()
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(_TMP / "db.sqlite3")}}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "tiles": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tiles"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests prove the refusal; a test with a local receiver allows it with the settings fixture.
WEBHOOK_ALLOW_PRIVATE = False
