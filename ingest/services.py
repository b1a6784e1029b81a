"""Writes on images: create one from an upload, run its ingestion job."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum

from ingest.jobs import JobAttemptsSpent, JobSuperseded, job_claim, job_finish, job_lease
from ingest.models import Image, WebhookDelivery, Well
from ingest.pipeline import DEFAULT_OPTIONS, IngestLimits, IngestOptions, IngestResult, csv_to_pyramid
from ingest.queue import DELIVER_WEBHOOK, INGEST_IMAGE, task_queue
from ingest.reader import CsvFormatError, read_header
from ingest.signals import send_pyramid_stored
from ingest.storage import storage_delete, storage_fetch, storage_put
from ingest.webhooks import post_json

logger = logging.getLogger(__name__)

_COPY_CHUNK = 4 << 20


def _scratch_dir() -> Path:
    path = Path(settings.DATA_DIR) / "scratch"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _spool_upload(stream: BinaryIO) -> tuple[Path, str, int]:
    """Copy an upload into ``DATA_DIR/scratch`` while hashing it.

    Returns:
        (local path, sha256 hex digest, size in bytes). The caller stores or deletes the file.
    """
    path = _scratch_dir() / f"upload-{uuid.uuid4().hex}.csv.partial"
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "wb") as out:
            while chunk := stream.read(_COPY_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest(), size


class QuotaExceededError(Exception):
    """Storing an upload would take its owner over ``DJANGO_QUOTA_BYTES``."""

    def __init__(self, message: str, *, limit: int):
        super().__init__(message)
        self.limit = limit


class TooManyJobsError(Exception):
    """Its owner already has ``DJANGO_MAX_CONCURRENT_JOBS`` jobs pending or running."""

    def __init__(self, message: str, *, limit: int):
        super().__init__(message)
        self.limit = limit


def dedupe_key_for(*, sha256: str, options: dict) -> str:
    """The dedupe key of an upload: sha256 over the CSV's sha256 and the options (sorted JSON).

    Args:
        sha256: hex digest of the uploaded bytes.
        options: the input policy (``asdict(IngestOptions)``).

    Returns:
        64 hex digits.
    """
    text = sha256 + json.dumps(options, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _owned(owner) -> dict:
    """The filter of an owner's images (``owner=None``: the anonymous uploads, as one owner)."""
    return {"owner": owner} if owner is not None else {"owner__isnull": True}


def quota_check(*, owner, size: int | None) -> None:
    """Refuse an upload of ``size`` bytes over its owner's quotas, before anything is stored.

    Staff are not exempt: a quota protects the disk and the workers, whoever fills
    them. Anonymous classic uploads (``DJANGO_CLASSIC_UPLOAD_PUBLIC``) share one quota.

    Args:
        owner: the uploader (None: anonymous).
        size: the upload's bytes; None before they are known (the body not read
            yet): then only an owner whose images already fill the quota is refused.

    Raises:
        TooManyJobsError: ``MAX_CONCURRENT_JOBS`` jobs of the owner are pending or running.
        QuotaExceededError: the owner's stored uploads (images' CSVs and wells' files)
            plus ``size`` exceed ``QUOTA_BYTES``.
    """
    images = Image.objects.filter(**_owned(owner))
    wells = Well.objects.filter(**_owned(owner))
    active = [Image.Status.PENDING, Image.Status.RUNNING]
    jobs_limit = settings.MAX_CONCURRENT_JOBS
    if jobs_limit > 0:
        # A well's images are its job's, not jobs of their own (they have no source).
        running = images.filter(status__in=active).exclude(source="").count()
        running += wells.filter(status__in=active).count()
        if running >= jobs_limit:
            raise TooManyJobsError(
                f"{running} jobs are pending or running; at most {jobs_limit} at once "
                "(DJANGO_MAX_CONCURRENT_JOBS): wait for one to end",
                limit=jobs_limit,
            )
    bytes_limit = settings.QUOTA_BYTES
    if bytes_limit > 0:
        stored = images.aggregate(total=Sum("source_size"))["total"] or 0
        stored += wells.aggregate(total=Sum("source_size"))["total"] or 0
        if size is None and stored >= bytes_limit:
            raise QuotaExceededError(
                f"your uploads already take {stored} bytes; the quota is {bytes_limit} bytes "
                "(DJANGO_QUOTA_BYTES): delete images or wells first",
                limit=bytes_limit,
            )
        if size is not None and stored + size > bytes_limit:
            raise QuotaExceededError(
                f"storing this upload ({size} bytes) would bring your uploads to {stored + size} bytes; "
                f"the quota is {bytes_limit} bytes (DJANGO_QUOTA_BYTES): delete images or wells first",
                limit=bytes_limit,
            )


def _existing(*, owner, dedupe_key: str) -> Image | None:
    """The owner's image with this dedupe key, or None; a failed one gives its key up (not deduped)."""
    image = Image.objects.filter(**_owned(owner), dedupe_key=dedupe_key).order_by("-created").first()
    if image is not None and image.status == Image.Status.FAILED:
        Image.objects.filter(pk=image.pk).update(dedupe_key=None)
        return None
    return image


def image_create(
    *,
    stream: BinaryIO,
    name: str,
    owner=None,
    depth_unit: str = Image.DepthUnit.METRE,
    force: bool = False,
    queue: bool = True,
    webhook_url: str = "",
    options: IngestOptions = DEFAULT_OPTIONS,
    public: bool | None = None,
    well: Well | None = None,
) -> tuple[Image, bool]:
    """Store an uploaded CSV and queue its ingestion.

    The header is checked at once, so an upload without a ``depth`` column (or
    an empty or binary file) is refused here and nothing is kept. Dedupe is per
    owner: the same bytes with the same options uploaded again by the same owner
    (same ``dedupe_key``) return the owner's existing image as it is (its name,
    ``public`` flag and webhook; PATCH changes them) unless ``force``; another
    owner's upload is a new image with its own name and webhook. Two
    concurrent same uploads of one owner make one image: the database's unique
    constraint on (owner, dedupe_key) refuses the second row, which then returns
    the first. A job that failed gives its key up (the next same upload is a new
    image, cleared here when met, whoever marked the job failed). The quotas are
    checked once the upload's size is known and before it is stored. The CSV is
    kept in the storage as ``uploads/<uuid>.csv`` (a bucket with
    ``DJANGO_STORAGE=s3``, so a worker on another machine can read it).

    Args:
        stream: the CSV bytes (an open binary file or an uploaded file).
        name: display name.
        owner: the uploading user; None only for an anonymous classic upload.
        depth_unit: "m" or "ft".
        force: ingest again even if the same bytes were already ingested (no dedupe key).
        queue: queue the ingestion task once the row is committed; False leaves
            it to the caller (the ``ingest`` command runs it in-process).
        webhook_url: POSTed (signed) when the job ends.
        options: the input policy (same bytes with other options is another image).
        public: readable by anyone; None: ``DJANGO_PUBLIC_READ``.
        well: the well the image belongs to (the caller checked the owner may manage it).

    Returns:
        (image, created): ``created`` is False when an existing image was returned.

    Raises:
        CsvFormatError: the header cannot be read (line 1 and the column).
        TooManyJobsError: the owner has ``DJANGO_MAX_CONCURRENT_JOBS`` jobs pending or running.
        QuotaExceededError: the upload would take the owner over ``DJANGO_QUOTA_BYTES``.
    """
    spooled, sha256, size = _spool_upload(stream)
    option_values = asdict(options)
    keyed = option_values if well is None else {**option_values, "well": well.pk}  # one per well
    dedupe_key = None if force else dedupe_key_for(sha256=sha256, options=keyed)
    try:
        read_header(spooled, max_line_bytes=settings.MAX_LINE_BYTES, max_columns=settings.MAX_COLUMNS)
        if dedupe_key is not None and (existing := _existing(owner=owner, dedupe_key=dedupe_key)):
            return existing, False
        quota_check(owner=owner, size=size)
        # Stored whole under its final name before any row points at it.
        source_name = storage_put(spooled, f"uploads/{uuid.uuid4().hex}.csv")
    finally:
        spooled.unlink(missing_ok=True)
    fields = {} if public is None else {"public": public}
    try:
        with transaction.atomic():
            # Again, under a lock on the owner's row: uploads of one owner started
            # together all passed the first check (before their bytes were stored);
            # here they are counted one after the other (PostgreSQL: SELECT ... FOR
            # UPDATE; SQLite serialises writing transactions anyway).
            if owner is not None:
                type(owner).objects.select_for_update().filter(pk=owner.pk).first()
            quota_check(owner=owner, size=size)
            image = Image.objects.create(
                name=name,
                owner=owner,
                dedupe_key=dedupe_key,
                source=source_name,
                source_size=size,
                sha256=sha256,
                depth_unit=depth_unit,
                webhook_url=webhook_url,
                options=option_values,
                well=well,
                **fields,
            )
            if queue:
                transaction.on_commit(lambda: _queue_ingest(image.pk))
    except IntegrityError:
        storage_delete(source_name)  # no row points at it: no orphan
        existing = _existing(owner=owner, dedupe_key=dedupe_key) if dedupe_key else None
        if existing is None:
            raise
        return existing, False  # a concurrent same upload of this owner made the row first
    except BaseException:
        storage_delete(source_name)  # no row points at it: no orphan
        raise
    return image, True


def image_delete(*, image: Image) -> None:
    """Delete an image and everything made from it.

    The row goes at once, in a transaction; at its commit the stored CSV, the
    pyramid (files or bucket objects, and this machine's read-through copies)
    go (``ingest.models``' ``post_delete``), and this process drops the image
    from every cache it keeps (``tiles.source.forget``). A job still running
    finds its row gone when it ends and deletes the pyramid it stored
    (:func:`image_ingest`).

    Args:
        image: the image to delete.
    """
    with transaction.atomic():
        image.delete()


def _queue_ingest(image_id: int) -> None:
    task_queue(INGEST_IMAGE, image_id)


def _ingest_limits() -> IngestLimits:
    """The caps on one job, from settings (``DJANGO_MAX_*``)."""
    return IngestLimits(
        max_rows=settings.MAX_ROWS,
        max_columns=settings.MAX_COLUMNS,
        max_cells=settings.MAX_CELLS,
        max_gap_rows=settings.MAX_GAP_ROWS,
        max_line_bytes=settings.MAX_LINE_BYTES,
    )


def _partial_dir() -> Path:
    """Where attempts write their pyramid before it is stored: ``MEDIA_ROOT/images``."""
    path = Path(settings.MEDIA_ROOT) / "images"
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_partials_remove(*, image_id: int) -> None:
    """Delete the partial pyramids and scratch folders that killed attempts of a job left.

    Only what this machine sees: on Kubernetes each pod's scratch goes with the pod.
    """
    for path in _partial_dir().glob(f".{image_id}-*.tiff.partial"):
        path.unlink(missing_ok=True)
    for path in _scratch_dir().glob(f"image-{image_id}-*"):
        shutil.rmtree(path, ignore_errors=True)


def image_ingest(*, image_id: int, on_progress: Callable[[float], None] | None = None) -> Image | None:  # noqa: PLR0912, PLR0915 (the job's whole lifecycle: lease, run, record)
    """Run the ingestion job of one image: CSV -> pyramid, status on the row.

    Safe to deliver twice (:mod:`ingest.jobs`): the job is claimed by one
    conditional update (a finished job is left alone; a job under another
    worker's live lease raises :class:`~ingest.jobs.JobLeaseHeld`; a job started
    ``DJANGO_MAX_ATTEMPTS`` times ends ``failed``), its lease is renewed while it
    runs, and it ends only if the row still names this attempt. The attempt
    ``n`` writes its pyramid to ``MEDIA_ROOT/images/.<id>-<n>.tiff.partial``
    and its spool files to ``scratch/image-<id>-<n>/`` (earlier attempts'
    leftovers are removed first, so two deliveries never write one file), and
    the pyramid is stored under its final name ``images/<id>-<sha256[:16]>.tiff``
    only when whole (:func:`storage_put`: a rename on the local disk, one upload
    to a bucket). The caps of ``DJANGO_MAX_*`` are checked before the work they
    bound. A CSV that cannot be read or passes a cap ends the job ``failed``
    with the line and column, leaving no file and no object; so do a failed
    upload and the soft time limit (``DJANGO_INGEST_SOFT_TIME_LIMIT``). When
    this attempt ends the job, its webhook (if any) is queued.

    Args:
        image_id: primary key of the image.
        on_progress: also called with the fraction done (0..1), e.g. for a bar.

    Returns:
        The image, reloaded (None when it was deleted before or while the job ran;
        a pyramid this attempt stored is then deleted, so nothing of it is kept).

    Raises:
        JobLeaseHeld: another worker runs the job under a live lease.
    """
    try:
        attempt = job_claim(pk=image_id)
    except JobAttemptsSpent:  # this delivery ended it failed
        job_partials_remove(image_id=image_id)
        image = Image.objects.get(pk=image_id)
        if image.webhook_url:
            transaction.on_commit(lambda: _queue_webhook(image.pk, 1))
        return image
    if attempt is None:  # finished or deleted: nothing to do
        return Image.objects.filter(pk=image_id).first()
    image = Image.objects.get(pk=image_id)
    final_name = image.pyramid_name
    job_partials_remove(image_id=image.pk)
    tmp_path = _partial_dir() / f".{image.pk}-{attempt}.tiff.partial"
    scratch = _scratch_dir() / f"image-{image.pk}-{attempt}"
    scratch.mkdir(parents=True)
    last_saved = [-1.0]

    failure: dict = {}
    superseded = False
    with job_lease(pk=image_id, attempt=attempt) as lease:

        def progress(fraction: float, bytes_read: int) -> None:
            lease.check()
            if on_progress:
                on_progress(fraction)
            if fraction - last_saved[0] >= 0.02 or fraction >= 1.0:
                last_saved[0] = fraction
                Image.objects.filter(pk=image_id, status=Image.Status.RUNNING, attempts=attempt).update(
                    progress=fraction, bytes_read=bytes_read
                )

        try:
            source = storage_fetch(image.source.name, scratch / "source.csv")
            result = csv_to_pyramid(
                source,
                tmp_path,
                depth_unit=image.depth_unit,
                scratch_dir=scratch,
                options=IngestOptions(**image.options),
                limits=_ingest_limits(),
                on_progress=progress,
            )
            lease.check()
            # Whole, under its final name: a rename on the disk, one upload to a bucket.
            storage_put(tmp_path, final_name)
        except CsvFormatError as exc:
            failure = {"error": str(exc), "error_line": exc.line, "error_column": exc.column or ""}
        except SoftTimeLimitExceeded:
            failure = {
                "error": f"the job ran longer than {settings.INGEST_SOFT_TIME_LIMIT} s, "
                "the most the server allows one job"
            }
        except JobSuperseded:
            superseded = True
        except Exception:
            logger.exception("ingestion of image %s failed", image_id)
            failure = {"error": "internal error while writing the pyramid; see the server log"}
        finally:
            tmp_path.unlink(missing_ok=True)
            shutil.rmtree(scratch, ignore_errors=True)
    if superseded:
        logger.warning("image %s: attempt %s stopped, another attempt owns the job", image_id, attempt)
        return Image.objects.filter(pk=image_id).first()
    if failure:
        ended = job_finish(pk=image_id, attempt=attempt, status=Image.Status.FAILED, **failure)
    else:
        try:
            ended = _record_success(image_id, attempt, final_name, result)
        except BaseException:
            storage_delete(final_name)  # no row points at it: no orphan
            raise
        if not ended:
            # Another attempt owns the row: it stores (or stored) the same bytes under this
            # name. Only a row gone or failed leaves the pyramid to nobody.
            status = Image.objects.filter(pk=image_id).values_list("status", flat=True).first()
            if status in (None, Image.Status.FAILED):
                storage_delete(final_name)
    recorded = Image.objects.filter(pk=image_id).first()
    if recorded is None:
        return None
    if ended and not failure:
        send_pyramid_stored(recorded.pk, final_name)
    if ended and recorded.webhook_url:
        transaction.on_commit(lambda: _queue_webhook(recorded.pk, 1))
    return recorded


def _record_success(image_id: int, attempt: int, final_name: str, result: IngestResult) -> bool:
    """Mark the job succeeded with its stored pyramid ``final_name`` and the axis and statistics.

    Returns:
        True when recorded; False when the row no longer names ``attempt``.
    """
    axis = result.axis
    return job_finish(
        pk=image_id,
        attempt=attempt,
        status=Image.Status.SUCCEEDED,
        progress=1.0,
        file=final_name,
        depth_min=axis.depth_min,
        depth_max=axis.depth_max,
        depth_step=axis.depth_step,
        rows=axis.rows,
        columns=result.columns,
        levels=result.levels,
        dtype=result.dtype,
        rows_read=result.rows_read,
        rows_dropped=result.rows_dropped,
        bytes_read=result.bytes_read,
        value_min=result.value_min,
        value_max=result.value_max,
        value_p2=result.value_p2,
        value_p98=result.value_p98,
    )


def webhook_payload(image: Image) -> dict:
    """The JSON announced when a job ends: id, status, and the depth axis or the error."""
    payload: dict = {
        "event": "image.ingested" if image.status == Image.Status.SUCCEEDED else "image.failed",
        "id": image.pk,
        "name": image.name,
        "status": image.status,
        "sha256": image.sha256,
    }
    if image.status == Image.Status.SUCCEEDED:
        payload.update(
            depth_min=image.depth_min,
            depth_max=image.depth_max,
            depth_step=image.depth_step,
            depth_unit=image.depth_unit,
            rows=image.rows,
            columns=image.columns,
            levels=image.levels,
        )
    else:
        payload["error"] = {
            "message": image.error,
            "line": image.error_line,
            "column": image.error_column or None,
        }
    return payload


def webhook_secret() -> bytes:
    """``DJANGO_WEBHOOK_SECRET``, or a key derived from ``SECRET_KEY`` when unset."""
    if settings.WEBHOOK_SECRET:
        return settings.WEBHOOK_SECRET.encode()
    return hashlib.sha256(b"depthtiles-webhook:" + settings.SECRET_KEY.encode()).hexdigest().encode()


def webhook_deliver(*, image_id: int, attempt: int) -> tuple[WebhookDelivery | None, float | None]:
    """POST the job's end to the image's webhook once and record the attempt.

    The URL is checked again and the POST made by :func:`ingest.webhooks.post_json`
    (the address connected to is checked, no redirects, one deadline of
    ``WEBHOOK_TIMEOUT_SECONDS`` for the whole attempt). Every attempt is a
    :class:`WebhookDelivery` row with a generic error text, shown to the owner only.
    Retrying is the caller's (the ``deliver_webhook`` task retries through Celery).

    Args:
        image_id: the image.
        attempt: 1 for the first try.

    Returns:
        (the recorded attempt, seconds until the next one: None when delivered,
        refused, or after ``WEBHOOK_MAX_ATTEMPTS`` attempts; otherwise
        ``WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1)``). ``(None, None)`` when the
        image or its webhook is gone (deleted between attempts): nothing is sent.
    """
    image = Image.objects.filter(pk=image_id).first()
    if image is None or not image.webhook_url:
        return None, None
    body = json.dumps(webhook_payload(image), sort_keys=True, separators=(",", ":")).encode()
    answer = post_json(
        image.webhook_url,
        body,
        secret=webhook_secret(),
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        headers={"X-Depthtiles-Attempt": str(attempt), "User-Agent": "depthtiles-webhook"},
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE,
    )
    delivery = WebhookDelivery.objects.create(
        image=image,
        attempt=attempt,
        url=image.webhook_url,
        event_status=image.status,
        status_code=answer.status_code,
        error=answer.error,
        duration=answer.duration,
        delivered=answer.ok,
    )
    if answer.ok or answer.refused or attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
        return delivery, None
    return delivery, settings.WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1)


def _queue_webhook(image_id: int, attempt: int) -> None:
    """Queue attempt ``attempt`` of an image's webhook (in-process when tasks run eagerly)."""
    task_queue(DELIVER_WEBHOOK, image_id, attempt)


def image_create_from_path(
    *,
    path: str | Path,
    name: str | None = None,
    owner=None,
    depth_unit: str = Image.DepthUnit.METRE,
    force: bool = False,
    queue: bool = True,
    options: IngestOptions = DEFAULT_OPTIONS,
) -> tuple[Image, bool]:
    """:func:`image_create` for a file on the local disk (the ``ingest`` command)."""
    path = Path(path)
    with open(path, "rb") as stream:
        return image_create(
            stream=stream,
            name=name or path.stem,
            owner=owner,
            depth_unit=depth_unit,
            force=force,
            queue=queue,
            options=options,
        )
