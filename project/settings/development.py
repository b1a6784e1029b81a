"""Local development and ``make demo``: the embedded default, with DEBUG pages.

Name it explicitly (``DJANGO_SETTINGS_MODULE=project.settings.development``, as the
Makefile does): every entry point defaults to production.
"""

from project.settings.base import *  # noqa: F403
from project.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
#: A webhook receiver on the developer's machine is allowed here (base: refused).
WEBHOOK_ALLOW_PRIVATE = env.bool("DJANGO_WEBHOOK_ALLOW_PRIVATE", default=True)
