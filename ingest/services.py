"""Writes on images: create one from an upload, run its ingestion job."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ingest.models import Image
from ingest.pipeline import csv_to_pyramid
from ingest.reader import CsvFormatError, read_header

logger = logging.getLogger(__name__)

_COPY_CHUNK = 4 << 20


def _media_path(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


def _scratch_dir() -> Path:
    path = Path(settings.DATA_DIR) / "scratch"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store_source(stream: BinaryIO) -> tuple[str, str, int]:
    """Copy an upload into ``MEDIA_ROOT/uploads`` while hashing it.

    Returns:
        (storage name, sha256 hex digest, size in bytes).
    """
    name = f"uploads/{uuid.uuid4().hex}.csv"
    path = _media_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with open(path, "wb") as out:
        while chunk := stream.read(_COPY_CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return name, digest.hexdigest(), size


def image_create(
    *,
    stream: BinaryIO,
    name: str,
    depth_unit: str = Image.DepthUnit.METRE,
    force: bool = False,
    queue: bool = True,
) -> tuple[Image, bool]:
    """Store an uploaded CSV and queue its ingestion.

    The header is checked at once, so an upload without a ``depth`` column (or
    an empty or binary file) is refused here and nothing is kept. The same bytes
    uploaded again (same SHA-256) return the existing image unless ``force``.

    Args:
        stream: the CSV bytes (an open binary file or an uploaded file).
        name: display name.
        depth_unit: "m" or "ft".
        force: ingest again even if the same bytes were already ingested.
        queue: queue the ingestion task once the row is committed; False leaves
            it to the caller (the ``ingest`` command runs it in-process).

    Returns:
        (image, created): ``created`` is False when an existing image was returned.

    Raises:
        CsvFormatError: the header cannot be read (line 1 and the column).
    """
    source_name, sha256, size = _store_source(stream)
    source_path = _media_path(source_name)
    try:
        read_header(source_path)
    except CsvFormatError:
        source_path.unlink(missing_ok=True)
        raise
    if not force:
        existing = (
            Image.objects.filter(sha256=sha256)
            .exclude(status=Image.Status.FAILED)
            .order_by("-created")
            .first()
        )
        if existing is not None:
            source_path.unlink(missing_ok=True)
            return existing, False
    with transaction.atomic():
        image = Image.objects.create(
            name=name,
            source=source_name,
            source_size=size,
            sha256=sha256,
            depth_unit=depth_unit,
        )
        if queue:
            transaction.on_commit(lambda: _queue_ingest(image.pk))
    return image, True


def _queue_ingest(image_id: int) -> None:
    from ingest.tasks import ingest_image

    ingest_image.delay(image_id)


def image_ingest(*, image_id: int, on_progress: Callable[[float], None] | None = None) -> Image:
    """Run the ingestion job of one image: CSV -> pyramid, status on the row.

    Idempotent: the pyramid is written under a temporary name and renamed into
    place, then the row is updated; running it again replaces both. A CSV that
    cannot be read ends the job ``failed`` with the line and column; no file is
    left behind in either case.

    Args:
        image_id: primary key of the image.
        on_progress: also called with the fraction done (0..1), e.g. for a bar.

    Returns:
        The image, reloaded.
    """
    image = Image.objects.get(pk=image_id)
    Image.objects.filter(pk=image_id).update(
        status=Image.Status.RUNNING,
        progress=0.0,
        started=timezone.now(),
        finished=None,
        error="",
        error_line=None,
        error_column="",
    )
    final_name = f"images/{image.pk}-{image.sha256[:16]}.tiff"
    final_path = _media_path(final_name)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{image.pk}-", suffix=".tiff.partial", dir=final_path.parent
    )
    os.close(fd)
    tmp_path = Path(tmp_name)
    last_saved = [-1.0]

    def progress(fraction: float, bytes_read: int) -> None:
        if on_progress:
            on_progress(fraction)
        if fraction - last_saved[0] >= 0.02 or fraction >= 1.0:
            last_saved[0] = fraction
            Image.objects.filter(pk=image_id).update(progress=fraction, bytes_read=bytes_read)

    try:
        result = csv_to_pyramid(
            image.source.path,
            tmp_path,
            depth_unit=image.depth_unit,
            scratch_dir=_scratch_dir(),
            on_progress=progress,
        )
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, final_path)
    except CsvFormatError as exc:
        tmp_path.unlink(missing_ok=True)
        Image.objects.filter(pk=image_id).update(
            status=Image.Status.FAILED,
            error=str(exc),
            error_line=exc.line,
            error_column=exc.column or "",
            finished=timezone.now(),
        )
        return Image.objects.get(pk=image_id)
    except Exception:
        tmp_path.unlink(missing_ok=True)
        logger.exception("ingestion of image %s failed", image_id)
        Image.objects.filter(pk=image_id).update(
            status=Image.Status.FAILED,
            error="internal error while writing the pyramid; see the server log",
            finished=timezone.now(),
        )
        return Image.objects.get(pk=image_id)
    axis = result.axis
    Image.objects.filter(pk=image_id).update(
        status=Image.Status.SUCCEEDED,
        progress=1.0,
        file=final_name,
        depth_min=axis.depth_min,
        depth_max=axis.depth_max,
        depth_step=axis.depth_step,
        rows=axis.rows,
        columns=result.columns,
        levels=result.levels,
        rows_read=result.rows_read,
        rows_dropped=result.rows_dropped,
        bytes_read=result.bytes_read,
        finished=timezone.now(),
    )
    return Image.objects.get(pk=image_id)


def image_create_from_path(
    *,
    path: str | Path,
    name: str | None = None,
    depth_unit: str = Image.DepthUnit.METRE,
    force: bool = False,
    queue: bool = True,
) -> tuple[Image, bool]:
    """:func:`image_create` for a file on the local disk (the ``ingest`` command)."""
    path = Path(path)
    with open(path, "rb") as stream:
        return image_create(
            stream=stream, name=name or path.stem, depth_unit=depth_unit, force=force, queue=queue
        )


def image_delete(*, image: Image) -> None:
    """Delete an image row with its uploaded CSV and its pyramid."""
    for field in (image.source, image.file):
        if field:
            _media_path(field.name).unlink(missing_ok=True)
    image.delete()
