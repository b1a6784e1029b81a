"""Production: fail fast on missing secrets; PostgreSQL, Redis and a real worker.

Importing these settings raises ``ImproperlyConfigured`` naming every variable that is
missing, so a misconfigured pod or container stops at start-up instead of serving with
a development key, SQLite or an in-memory broker:

* ``DJANGO_SECRET_KEY``: set, and not the development default (``insecure...``);
* ``DJANGO_ALLOWED_HOSTS``: at least one host;
* ``DJANGO_DATABASE_URL``: set (no SQLite fallback);
* ``DJANGO_CELERY_BROKER_URL``: set, not ``memory://``, unless tasks run eagerly;
* with ``DJANGO_STORAGE=s3``: ``DJANGO_S3_BUCKET`` (checked in base).

Every entry point (``manage.py``, ``project/wsgi.py``, ``project/asgi.py``, the Celery
app) defaults to these settings; development and tests name theirs explicitly.

HTTPS sits in front (a TLS-terminating proxy or ingress that sets
``X-Forwarded-Proto``, ``DJANGO_SECURE_PROXY_SSL_HEADER``): session and CSRF cookies
are secure, HSTS is sent (``DJANGO_SECURE_HSTS_*``), ``DJANGO_CSRF_TRUSTED_ORIGINS``
lists the public origins. ``manage.py check --deploy`` passes with no warning but two
silenced on purpose: W008 while ``DJANGO_SECURE_SSL_REDIRECT`` is false (the proxy
redirects HTTP; probes reach the pod on plain HTTP) and W021 while
``DJANGO_SECURE_HSTS_PRELOAD`` is false (joining browsers' preload list is the domain
owner's decision).

Defaults that differ from the embedded ones: request rates ``DJANGO_THROTTLE_ANON=1200/minute``
and ``DJANGO_THROTTLE_USER=6000/minute`` (set them empty to turn throttling off).
"""

from django.core.exceptions import ImproperlyConfigured

from project.settings.base import *  # noqa: F403
from project.settings.base import (
    SECURE_HSTS_PRELOAD,
    SECURE_PROXY_HEADER_NAME,
    SECURE_SSL_REDIRECT,
    env,
    throttle_rate,
)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
DEBUG = False
CELERY_TASK_ALWAYS_EAGER = env.bool("DJANGO_CELERY_TASK_ALWAYS_EAGER", default=False)
# Request rates (project/throttling.py), on unless set empty: 20 requests a second per client
# address without a token (a viewer panning fetches tiles by the dozen), 100 per user with one.
THROTTLE_ANON = throttle_rate("DJANGO_THROTTLE_ANON", "1200/minute")
THROTTLE_USER = throttle_rate("DJANGO_THROTTLE_USER", "6000/minute")

if SECURE_PROXY_HEADER_NAME:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + SECURE_PROXY_HEADER_NAME.upper().replace("-", "_"), "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SILENCED_SYSTEM_CHECKS = []
if not SECURE_SSL_REDIRECT:
    SILENCED_SYSTEM_CHECKS.append("security.W008")
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")

_missing = []
if not SECRET_KEY or SECRET_KEY.startswith("insecure"):
    _missing.append("DJANGO_SECRET_KEY (a long random string, not the development default)")
if not ALLOWED_HOSTS:
    _missing.append("DJANGO_ALLOWED_HOSTS (comma-separated host names)")
if not env.str("DJANGO_DATABASE_URL", default=""):
    _missing.append("DJANGO_DATABASE_URL (e.g. postgres://user:password@host:5432/db)")
_broker = env.str("DJANGO_CELERY_BROKER_URL", default="")
if not CELERY_TASK_ALWAYS_EAGER and (not _broker or _broker.startswith("memory://")):
    _missing.append("DJANGO_CELERY_BROKER_URL (e.g. amqp://user:password@rabbitmq:5672//, not memory://)")
if _missing:
    raise ImproperlyConfigured("production settings need: " + "; ".join(_missing))
