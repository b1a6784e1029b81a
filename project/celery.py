"""The Celery application.

Configuration comes from Django settings (``CELERY_*`` names). Job state lives in
our database, so no result backend is configured; tasks acknowledge late and run
one at a time per worker process (Resonant's defaults).

Imported by ``project/__init__.py``, so it runs before ``wsgi.py`` or ``asgi.py``: its
default settings module is theirs, production (never development by accident).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.production")

app = Celery("depthtiles")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
