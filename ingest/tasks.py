"""Celery tasks: thin wrappers that load by id and call a service."""

from celery import shared_task

from ingest.jobs import JobLeaseHeld, jobs_reap
from ingest.services import image_ingest, webhook_deliver


@shared_task(bind=True, acks_late=True, max_retries=None)
def ingest_image(self, image_id: int) -> None:
    """Ingest one image; a delivery of a job another worker holds looks again when its lease lapses.

    Time limits: ``DJANGO_INGEST_SOFT_TIME_LIMIT`` and ``DJANGO_INGEST_TIME_LIMIT``
    (``CELERY_TASK_ANNOTATIONS``). Safe to deliver twice (:mod:`ingest.jobs`).
    """
    try:
        image_ingest(image_id=image_id)
    except JobLeaseHeld as held:
        if self.request.is_eager:  # in-process: the holder is another process; it ends the job
            return
        raise self.retry(countdown=held.seconds + 1) from None


@shared_task
def reap_jobs() -> None:
    """Resume or fail the jobs whose worker died (Celery beat, ``DJANGO_REAP_INTERVAL_SECONDS``)."""
    jobs_reap()


@shared_task(acks_late=True)
def deliver_webhook(image_id: int, attempt: int) -> None:
    """One webhook attempt (retries are queued by the service with a countdown)."""
    webhook_deliver(image_id=image_id, attempt=attempt)
