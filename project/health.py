"""Liveness and readiness probes (Kubernetes-style), outside the API's auth and throttling.

Both answer ``GET`` and ``HEAD`` only (other methods: 405). ``/readyz`` names the
dependency that failed, never the exception's text (host names, ports, credentials
in a URL): that goes to the log, with the request id.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from ingest.storage import storage_check

logger = logging.getLogger(__name__)


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """``GET /healthz``: the process answers (no dependency is checked)."""
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    for alias in ("default", settings.TILES_CACHE_ALIAS):
        cache = caches[alias]
        key = f"readyz:{uuid.uuid4().hex}"
        cache.set(key, 1, timeout=10)
        if cache.get(key) != 1:
            raise RuntimeError(f"cache {alias!r} did not return what was stored")
        cache.delete(key)


def _broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # tasks run in-process: no broker to reach
    from project.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "storage": storage_check}


@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """``GET /readyz``: database, caches, broker and storage reachable; 503 naming any that is not."""
    results, failed = {}, []
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception:
            logger.exception("readiness check %r failed", name)
            results[name] = "unavailable"
            failed.append(name)
    body = {"status": "ok" if not failed else "unavailable", "checks": results}
    if failed:
        body["error"] = {"code": "not_ready", "message": f"not reachable: {', '.join(failed)}"}
    return JsonResponse(body, status=503 if failed else 200)
