from django.apps import AppConfig


class TilesConfig(AppConfig):
    name = "tiles"
    verbose_name = "Tiles"

    def ready(self) -> None:
        from tiles import source  # noqa: F401 - connects forget() to every change of an image
