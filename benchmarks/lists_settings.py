"""The production settings with persistent database connections (``CONN_MAX_AGE=60``): lists benchmark."""

from project.settings.production import *  # noqa: F403
from project.settings.production import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
