"""ASGI entry point (e.g. ``uvicorn project.asgi:application``); production settings by default."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.production")
application = get_asgi_application()
