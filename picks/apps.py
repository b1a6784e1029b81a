"""The picks app: planes picked on images as sinusoids, their dips, and wells' deviation surveys."""

from django.apps import AppConfig


class PicksConfig(AppConfig):
    """Django's registration of the picks app."""

    name = "picks"
    verbose_name = "Picks"
