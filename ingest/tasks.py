"""Celery tasks: thin wrappers that load by id and call a service."""

from celery import shared_task
from celery.exceptions import Retry
from django.conf import settings

from ingest.jobs import JobLeaseHeld, jobs_reap
from ingest.models import Well
from ingest.services import image_ingest, webhook_deliver
from ingest.wells import well_ingest


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


@shared_task(bind=True, acks_late=True, max_retries=None)
def ingest_well(self, well_id: int) -> None:
    """Run the job of one well (its images and curves); as :func:`ingest_image` for a held lease.

    Time limits: those of ``ingest_image`` (``CELERY_TASK_ANNOTATIONS``).
    """
    try:
        well_ingest(well_id=well_id)
    except JobLeaseHeld as held:
        if self.request.is_eager:
            return
        raise self.retry(countdown=held.seconds + 1) from None


@shared_task
def reap_jobs() -> None:
    """Resume or fail the images' and wells' jobs whose worker died (``DJANGO_REAP_INTERVAL_SECONDS``)."""
    jobs_reap()
    jobs_reap(model=Well)


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
