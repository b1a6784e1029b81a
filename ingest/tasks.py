"""Celery tasks: thin wrappers that load by id and call a service."""

from celery import shared_task

from ingest.services import image_ingest


@shared_task(acks_late=True)
def ingest_image(image_id: int) -> None:
    """Ingest one image (idempotent: a second run rewrites the same pyramid)."""
    image_ingest(image_id=image_id)
