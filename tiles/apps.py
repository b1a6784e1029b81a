"""The tiles app's configuration."""

from django.apps import AppConfig


class TilesConfig(AppConfig):
    """Django's registration of the tiles app."""

    name = "tiles"
    verbose_name = "Tiles"

    def ready(self) -> None:
        from tiles import source  # noqa: F401 - connects forget() to every change of an image
