"""Celery tasks: thin wrappers that load by id and call a service."""

from celery import shared_task

from ingest.services import image_ingest, webhook_deliver


@shared_task(acks_late=True)
def ingest_image(image_id: int) -> None:
    """Ingest one image (idempotent: a second run rewrites the same pyramid)."""
    image_ingest(image_id=image_id)


@shared_task(acks_late=True)
def deliver_webhook(image_id: int, attempt: int) -> None:
    """One webhook attempt (retries are queued by the service with a countdown)."""
    webhook_deliver(image_id=image_id, attempt=attempt)
