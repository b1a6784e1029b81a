"""The ingest app: CSV uploads become pyramidal TIFFs."""

from django.apps import AppConfig


class IngestConfig(AppConfig):
    """Django's registration of the ingest app."""

    name = "ingest"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        # Register the tasks in every process, so services queue them by name (ingest/queue.py).
        from ingest import tasks  # noqa: F401
