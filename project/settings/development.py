"""Local development and ``make demo``: the embedded default, with DEBUG pages."""

from project.settings.base import *  # noqa: F403

DEBUG = True
