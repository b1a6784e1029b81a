"""The ingest app: CSV uploads become pyramidal TIFFs."""

from django.apps import AppConfig


class IngestConfig(AppConfig):
    """Django's registration of the ingest app."""

    name = "ingest"
    verbose_name = "Ingestion"
