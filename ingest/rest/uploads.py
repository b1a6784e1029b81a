"""An upload form, validated, turned into an image or a well: shared by the upload routes.

``POST /api/v1/images`` and the classic ``POST /upload-csv/`` both use these:
the same form (:class:`~ingest.rest.serializers.ImageUploadSerializer`), the
same size check and the same service, :func:`ingest.services.image_create`.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError

from ingest.models import Image, Well
from ingest.pipeline import IngestOptions
from ingest.selectors import image_can_manage, well_list
from ingest.services import QuotaExceededError, TooManyJobsError, image_create, quota_check
from ingest.wells import well_create
from project.exceptions import error_body


class UploadTooLarge(APIException):
    """413: the request body is larger than ``DJANGO_MAX_UPLOAD_MB``."""

    status_code = 413
    default_code = "upload_too_large"
    default_detail = "the upload is larger than DJANGO_MAX_UPLOAD_MB"


def upload_size_check(content_length: int) -> None:
    """Refuse an upload by its ``Content-Length``, before its body is read.

    Args:
        content_length: bytes the client announces.

    Raises:
        UploadTooLarge: above ``MAX_UPLOAD_MB`` (MiB).
    """
    if content_length > settings.MAX_UPLOAD_MB * 1024 * 1024:
        raise UploadTooLarge(
            f"the upload is {content_length / 2**20:.1f} MB; the limit is {settings.MAX_UPLOAD_MB} MB"
        )


class QuotaExceeded(APIException):
    """413: the upload would take its owner over ``DJANGO_QUOTA_BYTES``."""

    status_code = 413
    default_code = "quota_exceeded"
    default_detail = "the upload would exceed your storage quota (DJANGO_QUOTA_BYTES)"


class TooManyJobs(APIException):
    """429: the owner already has ``DJANGO_MAX_CONCURRENT_JOBS`` jobs pending or running."""

    status_code = 429
    default_code = "too_many_jobs"
    default_detail = "too many jobs pending or running (DJANGO_MAX_CONCURRENT_JOBS)"


def upload_owner(request):
    """The owner of a request's upload: its user, or None for an anonymous classic upload."""
    user = request.user
    return user if user is not None and user.is_authenticated else None


def upload_quota_check(*, owner) -> None:
    """The quotas, before the body is read: refuses an owner already at a limit (413 or 429).

    The exact byte count is checked again once the upload is spooled
    (:func:`ingest.services.image_create`), before it is stored.

    Raises:
        TooManyJobs: ``DJANGO_MAX_CONCURRENT_JOBS`` jobs pending or running.
        QuotaExceeded: the owner's images already fill ``DJANGO_QUOTA_BYTES``.
    """
    with _quota_errors():
        quota_check(owner=owner, size=None)


@contextmanager
def _quota_errors():
    """The service's quota errors as their HTTP answers (413, 429)."""
    try:
        yield
    except TooManyJobsError as exc:
        raise TooManyJobs(str(exc)) from None
    except QuotaExceededError as exc:
        raise QuotaExceeded(str(exc)) from None


def image_create_from_upload(*, data: dict, owner=None) -> tuple[Image, bool]:
    """Store a validated upload form and queue (eager: run) its ingestion.

    Args:
        data: ``validated_data`` of an ``ImageUploadSerializer``.
        owner: the uploading user (None: an anonymous classic upload).

    Returns:
        (image reloaded from the database, created): ``created`` is False when
        the same bytes with the same options were already ingested.

    Raises:
        CsvFormatError: the header cannot be read (422 with line 1 and the column).
        QuotaExceeded: 413, the upload would exceed the owner's ``DJANGO_QUOTA_BYTES``.
        TooManyJobs: 429, the owner has ``DJANGO_MAX_CONCURRENT_JOBS`` jobs pending or running.
    """
    stream = data["file"]
    well = upload_well(data.get("well"), owner=owner)
    with _quota_errors(), _deleted_meanwhile():
        image, created = image_create(
            stream=stream,
            owner=owner,
            name=data.get("name") or Path(stream.name or "upload.csv").stem,
            depth_unit=data["depth_unit"],
            force=data["force"],
            public=data.get("public"),
            webhook_url=data.get("webhook_url", ""),
            options=IngestOptions(
                on_duplicate=data["on_duplicate"],
                resample=data["resample"],
                target_width=data.get("target_width"),
            ),
            well=well,
        )
        image.refresh_from_db()
    return image, created


def upload_well(well_id: int | None, *, owner) -> Well | None:
    """The well an image upload names, if its uploader may change it.

    Raises:
        ValidationError: 400, no well of that id that the uploader can see.
        PermissionDenied: 403, a well the uploader sees but may not change.
    """
    if well_id is None:
        return None
    well = well_list(user=owner).filter(pk=well_id).first() if owner is not None else None
    if well is None:
        raise ValidationError({"well": f"no well {well_id} that you can see"})
    if not image_can_manage(well, owner):
        raise PermissionDenied("only the well's owner and staff may add images to it")
    return well


def well_create_from_upload(*, data: dict, owner) -> tuple[Well, bool]:
    """Store a validated well upload form and queue (eager: run) its job.

    Args:
        data: ``validated_data`` of a ``WellUploadSerializer``.
        owner: the uploading user.

    Returns:
        (well reloaded from the database, created).

    Raises:
        WellLogError: not a LAS/DLIS/CSV, or a bad header (422 with the line or record).
        CsvFormatError: a CSV whose header cannot be read (422).
        QuotaExceeded: 413. TooManyJobs: 429.
    """
    stream = data["file"]
    with _quota_errors():
        well, created = well_create(
            stream=stream,
            owner=owner,
            name=data.get("name") or Path(stream.name or "upload").stem,
            depth_unit=data["depth_unit"],
            force=data["force"],
            public=data.get("public"),
            options=IngestOptions(on_duplicate=data["on_duplicate"], resample=data["resample"]),
        )
    try:
        well.refresh_from_db()
    except Well.DoesNotExist:
        raise NotFound("the well was deleted while it was being ingested") from None
    return well, created


def failed_well_body(well: Well) -> dict:
    """The 422 body of a well whose job failed: the error shape, with the line and where."""
    code = "invalid_csv" if well.format == Well.Format.CSV else "invalid_well_log"
    return error_body(code, well.error, line=well.error_line, where=well.error_where or None)


@contextmanager
def _deleted_meanwhile():
    """An image deleted while its job ran in this request (in-process tasks): 404, not 500."""
    try:
        yield
    except Image.DoesNotExist:
        raise NotFound("the image was deleted while it was being ingested") from None


def failed_upload_body(image: Image) -> dict:
    """The 422 body of an upload whose job failed: the error shape, with the line and column."""
    return error_body("invalid_csv", image.error, line=image.error_line, column=image.error_column or None)
