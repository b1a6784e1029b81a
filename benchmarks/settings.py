"""Settings of the serving benchmark: the embedded default, DEBUG off, bench URLs."""

from project.settings.base import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "benchmarks.urls"
LOGGING = {"version": 1, "disable_existing_loggers": True}
