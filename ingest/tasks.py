"""Celery tasks: thin wrappers that load by id and call a service."""

from celery import shared_task
from celery.exceptions import Retry
from django.conf import settings

from ingest.services import image_ingest, webhook_deliver


@shared_task(acks_late=True)
def ingest_image(image_id: int) -> None:
    """Ingest one image (idempotent: a second run rewrites the same pyramid)."""
    image_ingest(image_id=image_id)


@shared_task(bind=True, acks_late=True)
def deliver_webhook(self, image_id: int, attempt: int = 1) -> Retry | None:
    """One webhook attempt; a failure is retried by Celery after the service's backoff.

    A worker re-queues the next attempt with Celery's own retry and its countdown, so
    no process sleeps. Tasks run in-process (``CELERY_TASK_ALWAYS_EAGER``, the embedded
    default) have no scheduler: the ``Retry`` is returned instead of raised, and Celery's
    eager ``apply`` runs the next attempt at once, without the countdown.
    """
    _, countdown = webhook_deliver(image_id=image_id, attempt=attempt)
    if countdown is None:
        return None
    return self.retry(
        args=(image_id, attempt + 1),
        countdown=countdown,
        max_retries=settings.WEBHOOK_MAX_ATTEMPTS,
        throw=not self.request.is_eager,
    )
