"""The life of an ingestion job on its row: claim, lease, finish, reap.

A job's state lives on its row, an :class:`~ingest.models.Image`'s or a
:class:`~ingest.models.Well`'s (``model``; the columns of
:class:`~ingest.models.JobFields`), and every change
is one conditional ``UPDATE ... WHERE status IN (...)``, so a late or duplicate
delivery of a job changes nothing it should not:

* a delivery **claims** the job (:func:`job_claim`): ``pending``, or ``running``
  under a lapsed lease, becomes ``running`` with ``attempts + 1`` and a fresh
  lease. A finished job is left alone; a job running under a live lease is
  left to its worker (:class:`JobLeaseHeld`: the task tries again when the
  lease would lapse); a job already started ``DJANGO_MAX_ATTEMPTS`` times ends
  ``failed``: each start that did not finish killed its worker.
* while the attempt runs, a thread renews its **lease** every third of
  ``DJANGO_JOB_LEASE_SECONDS`` (:func:`job_lease`), as long as its process lives;
  the attempt stops (:class:`JobSuperseded`) when its row no longer names it.
* the attempt **finishes** (:func:`job_finish`) only if the row still names it
  (``status = running AND attempts = <its number>``).
* the **reaper** (:func:`jobs_reap`, a Celery beat entry every
  ``DJANGO_REAP_INTERVAL_SECONDS``) puts a job whose lease lapsed (its worker
  died: SIGKILL, out of memory, a lost node) back to ``pending`` and queues it,
  or ends it ``failed`` when its attempts are spent.

With RabbitMQ as the broker, a job whose worker dies is also redelivered at
once; it waits for the lease to lapse, then resumes. Either way a dead worker's
job resumes within ``DJANGO_JOB_LEASE_SECONDS`` plus a reaper period.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from ingest.models import Image, JobFields, Well

logger = logging.getLogger(__name__)


class JobLeaseHeld(Exception):
    """The job runs under a live lease: another worker has it.

    Attributes:
        seconds: until the lease would lapse (when to look again).
    """

    def __init__(self, seconds: float):
        super().__init__(f"the job runs under a lease for {seconds:.1f} s more")
        self.seconds = seconds


class JobAttemptsSpent(Exception):
    """The job was started ``DJANGO_MAX_ATTEMPTS`` times; this claim ended it ``failed``."""


class JobSuperseded(Exception):
    """The row no longer names this attempt (resumed by another, failed or deleted)."""


def _lapsed(now) -> Q:
    return Q(lease_expires__lt=now) | Q(lease_expires__isnull=True)


def attempts_spent_message(attempts: int) -> str:
    """The error of a job ended for starting ``attempts`` times without finishing."""
    return (
        f"the job killed its worker {attempts} times (started {attempts} times, never finished: "
        "out of memory or killed); it is not retried"
    )


def _job_rows(model: type[JobFields]):
    """The rows whose job :mod:`ingest.jobs` runs: every well; the images but those a well's job makes."""
    if model is Image:
        return Image.objects.exclude(well__isnull=False, source="")
    return model.objects.all()


def job_claim(*, pk: int, model: type[JobFields] = Image) -> int | None:
    """Start an attempt of the job of the row ``pk`` of ``model`` (an image's, a well's).

    Returns:
        The attempt's number (``attempts`` after the increment), or None
        when there is nothing to run: the row is gone or the job finished.

    Raises:
        JobLeaseHeld: the job runs under a live lease.
        JobAttemptsSpent: the job was started ``DJANGO_MAX_ATTEMPTS`` times
            without finishing; this call ended it ``failed``.
    """
    now = timezone.now()
    lease = timedelta(seconds=settings.JOB_LEASE_SECONDS)
    states = model.Status
    startable = (
        _job_rows(model)
        .filter(pk=pk, attempts__lt=settings.MAX_ATTEMPTS)
        .filter(Q(status=states.PENDING) | (Q(status=states.RUNNING) & _lapsed(now)))
    )
    with transaction.atomic():
        claimed = startable.update(
            status=states.RUNNING,
            attempts=F("attempts") + 1,
            lease_expires=now + lease,
            progress=0.0,
            started=now,
            finished=None,
            error="",
            error_line=None,
            **model.ERROR_WHERE,
        )
        if claimed:
            return model.objects.values_list("attempts", flat=True).get(pk=pk)
    row = _job_rows(model).filter(pk=pk).values("status", "lease_expires", "attempts").first()
    if row is None or row["status"] in (states.SUCCEEDED, states.FAILED):
        return None
    if row["status"] == states.RUNNING and row["lease_expires"] and row["lease_expires"] >= now:
        raise JobLeaseHeld((row["lease_expires"] - now).total_seconds())
    if job_fail_spent(pk=pk, model=model):
        raise JobAttemptsSpent(attempts_spent_message(row["attempts"]))
    return None


def job_fail_spent(*, pk: int, model: type[JobFields] = Image) -> bool:
    """End ``failed`` a job not running under a live lease whose attempts are spent.

    Returns:
        True when this call ended it (queue its webhook then).
    """
    now = timezone.now()
    attempts = settings.MAX_ATTEMPTS
    states = model.Status
    return bool(
        _job_rows(model)
        .filter(pk=pk, attempts__gte=attempts)
        .filter(Q(status=states.PENDING) | (Q(status=states.RUNNING) & _lapsed(now)))
        .update(
            status=states.FAILED,
            lease_expires=None,
            finished=now,
            error=attempts_spent_message(attempts),
            error_line=None,
            **model.ERROR_WHERE,
        )
    )


def job_finish(*, pk: int, attempt: int, model: type[JobFields] = Image, **fields) -> bool:
    """Record the end of an attempt, only if the row still names it.

    Args:
        pk: the row (an image, or a well with ``model=Well``).
        model: :class:`~ingest.models.Image` or :class:`~ingest.models.Well`.
        attempt: the attempt's number (from :func:`job_claim`).
        **fields: columns to set (``status`` and what goes with it).

    Returns:
        True when recorded; False when the row is gone or another attempt owns it.
    """
    return bool(
        model.objects.filter(pk=pk, status=model.Status.RUNNING, attempts=attempt).update(
            lease_expires=None, finished=timezone.now(), **fields
        )
    )


class _Lease:
    """The lease of one attempt, renewed by a thread while the process lives."""

    def __init__(self, pk: int, attempt: int, model: type[JobFields]):
        self.pk, self.attempt, self.model = pk, attempt, model
        self.seconds = settings.JOB_LEASE_SECONDS
        self.stopped = threading.Event()
        self.lost = threading.Event()
        name = f"lease-{model.__name__.lower()}-{pk}-{attempt}"
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def renew(self) -> bool:
        """Push the lease ``JOB_LEASE_SECONDS`` ahead; False when the row no longer names us."""
        return bool(
            self.model.objects.filter(
                pk=self.pk, status=self.model.Status.RUNNING, attempts=self.attempt
            ).update(lease_expires=timezone.now() + timedelta(seconds=self.seconds))
        )

    def _run(self) -> None:
        try:
            while not self.stopped.wait(self.seconds / 3):
                try:
                    if not self.renew():
                        self.lost.set()
                        return
                except Exception:  # a database blip: try again at the next beat
                    logger.warning("lease of %s %s not renewed", self.model.__name__, self.pk, exc_info=True)
                    close_old_connections()
        finally:
            connection.close()  # this thread's own connection

    def check(self) -> None:
        """Raise :class:`JobSuperseded` once the row no longer names this attempt."""
        if self.lost.is_set():
            raise JobSuperseded(f"{self.model.__name__} {self.pk}: attempt {self.attempt} was superseded")


@contextlib.contextmanager
def job_lease(*, pk: int, attempt: int, model: type[JobFields] = Image) -> Iterator[_Lease]:
    """Hold the lease of an attempt for the ``with`` block (renewed every third of it).

    Yields:
        The lease; call its ``check()`` often (a progress callback) to stop
        once another attempt owns the row.
    """
    lease = _Lease(pk, attempt, model)
    # Inside a transaction (a job run in a test's), the row is seen by no other connection:
    # nobody else can take the job over, and the thread's renewals would not find the row.
    renewing = not connection.in_atomic_block
    if renewing:
        lease.thread.start()
    try:
        yield lease
    finally:
        lease.stopped.set()
        if renewing:
            lease.thread.join()


def _reap_hooks(model: type[JobFields]):
    """(queue the job, remove what its attempts left, queue its webhook or None) of ``model``."""
    if model is Well:
        from ingest.wells import queue_well_ingest, well_leftovers_remove

        return queue_well_ingest, well_leftovers_remove, None
    from ingest.services import _queue_ingest, _queue_webhook, job_partials_remove

    return _queue_ingest, lambda pk: job_partials_remove(image_id=pk), _queue_webhook


def jobs_reap(*, model: type[JobFields] = Image) -> dict[str, list[int]]:
    """Resume or fail the running jobs of ``model`` whose lease lapsed (their worker died).

    A job with attempts left goes back to ``pending`` and is queued again; a job
    whose attempts are spent ends ``failed`` (:func:`attempts_spent_message`), the
    partial files (a well's: its images and curves) its attempts left are removed
    and its webhook is queued. Each change is conditional, so two reapers at once,
    or a worker renewing meanwhile, change nothing twice. The images a well's job
    makes are its well's (reaped with it), not jobs of their own.

    Args:
        model: :class:`~ingest.models.Image` or :class:`~ingest.models.Well`
            (the beat task reaps both).

    Returns:
        ``{"resumed": [ids], "failed": [ids]}``.
    """
    queue, leftovers_remove, queue_webhook = _reap_hooks(model)
    now = timezone.now()
    resumed, failed = [], []
    states = model.Status
    lapsed = _job_rows(model).filter(status=states.RUNNING).filter(_lapsed(now))
    hooked = "webhook_url" if model is Image else "pk"
    for pk, attempts, webhook_url in lapsed.values_list("pk", "attempts", hooked):
        if attempts >= settings.MAX_ATTEMPTS:
            if job_fail_spent(pk=pk, model=model):
                failed.append(pk)
                leftovers_remove(pk)
                if queue_webhook is not None and webhook_url:
                    transaction.on_commit(functools.partial(queue_webhook, pk, 1))
            continue
        with transaction.atomic():
            again = (
                model.objects.filter(pk=pk, status=states.RUNNING, attempts=attempts)
                .filter(_lapsed(now))
                .update(status=states.PENDING, lease_expires=None)
            )
            if again:
                resumed.append(pk)
                transaction.on_commit(functools.partial(queue, pk))
    if resumed or failed:
        logger.warning(
            "reaper: %s resumed %s, failed %s (their lease lapsed)", model.__name__, resumed, failed
        )
    return {"resumed": resumed, "failed": failed}
