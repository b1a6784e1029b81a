"""Writes on wells: create one from an upload (LAS 2.0, DLIS or CSV), run its job, delete it.

The job of a well (:func:`well_ingest`) reads its file once
(:func:`ingest.welllog.iter_well_blocks`), feeding one scanline collector per
image (:class:`ingest.pipeline.ScanlineCollector`) and one spool per curve
(:class:`ingest.curves.CurveSpool`); then it writes each image's pyramid
(:func:`ingest.pipeline.to_pyramid`, the CSV input policy, the leading and
trailing all-nodata scanlines trimmed) and each curve's ``.npy``. The well's
images are :class:`~ingest.models.Image` rows with ``well`` set and no source
of their own, created ``running`` when the attempt starts, so the well's detail
shows them following the job. A failed attempt leaves none of its images and
curves (rows or files); a killed worker's job is resumed by the reaper
(:func:`ingest.jobs.jobs_reap` with ``model=Well``).
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ingest.axis import DepthAxisError
from ingest.curves import CurveSpool, curve_finish
from ingest.jobs import JobAttemptsSpent, JobSuperseded, job_claim, job_finish, job_lease
from ingest.models import Curve, Image, Well
from ingest.pipeline import (
    READ_SHARE,
    EmptyImageError,
    IngestOptions,
    ScanlineCollector,
    csv_to_pyramid,
    to_pyramid,
)
from ingest.queue import INGEST_WELL, task_queue
from ingest.reader import CsvFormatError, read_header
from ingest.services import (
    _ingest_limits,
    _owned,
    _partial_dir,
    _record_success,
    _scratch_dir,
    _spool_upload,
    dedupe_key_for,
    quota_check,
)
from ingest.signals import send_pyramid_stored
from ingest.storage import storage_delete, storage_fetch, storage_put
from ingest.welllog import (
    WellLog,
    WellLogError,
    detect_format,
    iter_well_blocks,
    locate_las_lines,
    read_well_log,
)

logger = logging.getLogger(__name__)

#: The most curves (or DLIS channels) one well log may hold, sector curves included (more: 422).
MAX_WELL_CURVES = 4096

#: The most images one well log may make (more: 422).
MAX_WELL_IMAGES = 64


@dataclass(frozen=True)
class WellFacts:
    """What a well's file says before its job runs: its format and header facts (the ``Well`` columns)."""

    format: str
    columns: dict = field(default_factory=dict)


def _facts_of(path: Path, *, depth_unit: str) -> WellFacts:
    """Detect the format from the content and read the header, refusing a bad one at once.

    Raises:
        WellLogError: not a LAS/DLIS (a binary or empty file), a bad header, or
            more images or curves than :data:`MAX_WELL_IMAGES` / :data:`MAX_WELL_CURVES`.
        CsvFormatError: a CSV whose header cannot be read.
    """
    kind = detect_format(path)
    if kind == Well.Format.CSV:
        read_header(path, max_line_bytes=settings.MAX_LINE_BYTES, max_columns=settings.MAX_COLUMNS)
        return WellFacts(kind, {"depth_unit": depth_unit})
    log = read_well_log(
        path,
        max_curves=MAX_WELL_CURVES,
        max_columns=settings.MAX_COLUMNS,
        max_line_bytes=settings.MAX_LINE_BYTES,
    )
    if len(log.images) > MAX_WELL_IMAGES:
        raise WellLogError(
            f"the file makes {len(log.images)} images; the server accepts at most {MAX_WELL_IMAGES} per well"
        )
    header = log.header
    return WellFacts(
        kind,
        {
            "well_name": header.well_name[:255],
            "uwi": header.uwi[:255],
            "field": header.field[:255],
            "company": header.company[:255],
            "depth_unit": header.depth_unit,
            "start": header.start,
            "stop": header.stop,
            "step": header.step,
            "bit_size": header.bit_size,
            "header": dict(header.facts),
        },
    )


def well_create(
    *,
    stream: BinaryIO,
    name: str,
    owner,
    depth_unit: str = Well.DepthUnit.METRE,
    force: bool = False,
    queue: bool = True,
    options: IngestOptions | None = None,
    public: bool | None = None,
) -> tuple[Well, bool]:
    """Store an uploaded well log (LAS 2.0, DLIS or CSV) and queue its job.

    The format is told by the content (:func:`ingest.welllog.detect_format`), and
    the header is read at once, so a file that is none of them, or whose header
    is bad, is refused here and nothing is kept. Dedupe, quotas and storage are
    those of :func:`ingest.services.image_create`: the same bytes and options of
    one owner make one well (unless ``force``); the quotas count the file's
    bytes; the file is stored whole as ``uploads/<uuid>.<format>`` before the
    row that points at it is committed.

    Args:
        stream: the file's bytes.
        name: display name.
        owner: the uploading user.
        depth_unit: the depth unit of a CSV ("m" or "ft"); LAS and DLIS say theirs.
        force: a new well even if the same bytes were already uploaded.
        queue: queue the job once the row is committed (False: the caller runs it).
        options: the input policy of the well's images (``on_duplicate``, ``resample``).
        public: readable by anyone; None: ``DJANGO_PUBLIC_READ``.

    Returns:
        (well, created): ``created`` is False when an existing well was returned.

    Raises:
        WellLogError: not a readable LAS/DLIS header (422 with the line or record).
        CsvFormatError: a CSV whose header cannot be read.
        TooManyJobsError: the owner has ``DJANGO_MAX_CONCURRENT_JOBS`` jobs pending or running.
        QuotaExceededError: the file would take the owner over ``DJANGO_QUOTA_BYTES``.
    """
    option_values = asdict(options or IngestOptions())
    spooled, sha256, size = _spool_upload(stream)
    dedupe_key = None if force else dedupe_key_for(sha256=sha256, options={**option_values, "well": True})
    try:
        facts = _facts_of(spooled, depth_unit=depth_unit)
        if dedupe_key is not None and (existing := _existing_well(owner=owner, dedupe_key=dedupe_key)):
            return existing, False
        quota_check(owner=owner, size=size)
        source_name = storage_put(spooled, f"uploads/{uuid.uuid4().hex}.{facts.format}")
    finally:
        spooled.unlink(missing_ok=True)
    visibility = {} if public is None else {"public": public}
    try:
        with transaction.atomic():
            if owner is not None:  # the quotas again, under a lock on the owner (image_create's reason)
                type(owner).objects.select_for_update().filter(pk=owner.pk).first()
            quota_check(owner=owner, size=size)
            well = Well.objects.create(
                name=name,
                owner=owner,
                dedupe_key=dedupe_key,
                source=source_name,
                source_size=size,
                sha256=sha256,
                format=facts.format,
                options=option_values,
                **facts.columns,
                **visibility,
            )
            if queue:
                transaction.on_commit(lambda: queue_well_ingest(well.pk))
    except IntegrityError:
        storage_delete(source_name)
        existing = _existing_well(owner=owner, dedupe_key=dedupe_key) if dedupe_key else None
        if existing is None:
            raise
        return existing, False
    except BaseException:
        storage_delete(source_name)
        raise
    return well, True


def _existing_well(*, owner, dedupe_key: str) -> Well | None:
    """The owner's well with this dedupe key, or None; a failed one gives its key up."""
    well = Well.objects.filter(**_owned(owner), dedupe_key=dedupe_key).order_by("-created").first()
    if well is not None and well.status == Well.Status.FAILED:
        Well.objects.filter(pk=well.pk).update(dedupe_key=None)
        return None
    return well


def well_delete(*, well: Well) -> None:
    """Delete a well with its images (their pyramids), its curves (their files) and its uploaded file.

    The rows go at once, in a transaction; the files at its commit
    (``ingest.models``' ``post_delete`` handlers). A job still running finds its
    well gone and deletes what it stored meanwhile.
    """
    with transaction.atomic():
        well.delete()


def queue_well_ingest(well_id: int) -> None:
    """Queue the job of a well (in-process when tasks run eagerly)."""
    task_queue(INGEST_WELL, well_id)


def well_leftovers_remove(well_id: int) -> None:
    """Delete what earlier attempts of a well's job left: its images and curves (rows, files) and scratch.

    Only the job's own images go (those without a source of their own: an image
    uploaded to the well with ``POST /api/v1/images`` stays).
    """
    with transaction.atomic():
        Image.objects.filter(well_id=well_id, source="").delete()
        Curve.objects.filter(well_id=well_id).delete()
    for path in _scratch_dir().glob(f"well-{well_id}-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in _partial_dir().glob(f".well-{well_id}-*.partial"):
        path.unlink(missing_ok=True)


@dataclass
class _Attempt:
    """What one attempt of a well's job made so far (removed when it does not end the job)."""

    well: Well
    number: int
    scratch: Path
    image_ids: list[int] = field(default_factory=list)
    curve_ids: list[int] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)

    def remove(self) -> None:
        """Delete this attempt's image and curve rows and every file it stored."""
        with transaction.atomic():
            Image.objects.filter(pk__in=self.image_ids).delete()
            Curve.objects.filter(pk__in=self.curve_ids).delete()
        for name in self.stored:
            storage_delete(name)


class _Progress:
    """The well's progress (and its images') on the rows, at most every 2 %, checking the lease."""

    def __init__(self, attempt: _Attempt, lease, on_progress: Callable[[float], None] | None):
        self.attempt, self.lease, self.on_progress = attempt, lease, on_progress
        self.saved = -1.0

    def __call__(self, fraction: float, *, images: bool = True) -> None:
        self.lease.check()
        if self.on_progress:
            self.on_progress(fraction)
        if fraction - self.saved < 0.02 and fraction < 1.0:
            return
        self.saved = fraction
        well = self.attempt.well
        Well.objects.filter(pk=well.pk, status=Well.Status.RUNNING, attempts=self.attempt.number).update(
            progress=fraction
        )
        if images and self.attempt.image_ids:
            Image.objects.filter(pk__in=self.attempt.image_ids, status=Image.Status.RUNNING).update(
                progress=fraction
            )


def well_ingest(*, well_id: int, on_progress: Callable[[float], None] | None = None) -> Well | None:
    """Run the job of one well: its images' pyramids and its curves, status on the row.

    Claimed, leased and finished like an image's job (:mod:`ingest.jobs`, with
    ``model=Well``). An attempt first removes what earlier ones left
    (:func:`well_leftovers_remove`), then creates the well's image rows
    (``running``), reads the file once, writes each image and curve, and ends
    the well ``succeeded``. A bad file (:class:`~ingest.welllog.WellLogError`:
    the LAS line, the DLIS logical record or channel; a CSV's line and column),
    a cap of ``DJANGO_MAX_*`` or the soft time limit ends it ``failed`` with no
    image and no curve left (rows and files).

    Args:
        well_id: primary key of the well.
        on_progress: also called with the fraction done (0..1).

    Returns:
        The well, reloaded (None when it was deleted before or while the job ran).

    Raises:
        JobLeaseHeld: another worker runs the job under a live lease.
    """
    try:
        number = job_claim(pk=well_id, model=Well)
    except JobAttemptsSpent:  # this delivery ended it failed
        well_leftovers_remove(well_id)
        return Well.objects.filter(pk=well_id).first()
    if number is None:
        return Well.objects.filter(pk=well_id).first()
    well_leftovers_remove(well_id)
    well = Well.objects.filter(pk=well_id).first()
    if well is None:  # deleted since the claim
        return None
    scratch = _scratch_dir() / f"well-{well_id}-{number}"
    scratch.mkdir(parents=True)
    attempt = _Attempt(well, number, scratch)
    failure: dict = {}
    try:
        with job_lease(pk=well_id, attempt=number, model=Well) as lease:
            failure = _run(attempt, _Progress(attempt, lease, on_progress))
            if not failure:
                lease.check()
        if failure:
            attempt.remove()
            job_finish(pk=well_id, attempt=number, model=Well, status=Well.Status.FAILED, **failure)
        elif job_finish(pk=well_id, attempt=number, model=Well, status=Well.Status.SUCCEEDED, progress=1.0):
            for image_id, name in Image.objects.filter(pk__in=attempt.image_ids).values_list("pk", "file"):
                send_pyramid_stored(image_id, name)
        else:
            attempt.remove()  # deleted meanwhile, or another attempt owns the well
    except JobSuperseded:
        logger.warning("well %s: attempt %s stopped, another attempt owns the job", well_id, number)
        attempt.remove()
    except BaseException:
        attempt.remove()
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Well.objects.filter(pk=well_id).first()


def _run(attempt: _Attempt, progress: _Progress) -> dict:
    """One attempt's work; returns the failure's columns ({} on success).

    Raises:
        JobSuperseded: the well no longer names this attempt (or was deleted).
    """
    well = attempt.well
    try:
        source = storage_fetch(well.source.name, attempt.scratch / "source")
        if well.format == Well.Format.CSV:
            _ingest_csv(attempt, source, progress)
        else:
            _ingest_log(attempt, source, progress)
    except WellLogError as exc:
        return {"error": str(exc), "error_line": exc.line, "error_where": exc.where[:255]}
    except CsvFormatError as exc:
        where = f"column {exc.column}" if exc.column else ""
        return {"error": str(exc), "error_line": exc.line, "error_where": where}
    except SoftTimeLimitExceeded:
        return {
            "error": f"the job ran longer than {settings.INGEST_SOFT_TIME_LIMIT} s, "
            "the most the server allows one job"
        }
    except JobSuperseded:
        raise
    except Exception:
        logger.exception("ingestion of well %s failed", well.pk)
        return {"error": "internal error while writing the well's images and curves; see the server log"}
    return {}


def _diameter(bit_size: float | None, depth_unit: str) -> float | None:
    """The borehole diameter in ``depth_unit`` ("m" or "ft") from a bit size in inches (None: unknown)."""
    if bit_size is None or not bit_size > 0:
        return None
    return bit_size * 0.0254 if depth_unit == "m" else bit_size / 12


def _new_image(
    attempt: _Attempt, *, name: str, columns: int | None, value_unit: str, depth_unit: str
) -> Image:
    """The row of one image of the well, ``running`` from now on."""
    well = attempt.well
    image = Image.objects.create(
        name=name[:255],
        owner=well.owner,
        public=well.public,
        well=well,
        sha256=well.sha256,
        depth_unit=depth_unit,
        value_unit=value_unit[:64],
        borehole_diameter=_diameter(well.bit_size, depth_unit),
        columns=columns,
        status=Image.Status.RUNNING,
        started=timezone.now(),
        options=well.options,
    )
    attempt.image_ids.append(image.pk)
    return image


def _store_image(attempt: _Attempt, image: Image, tmp_path: Path, result) -> None:
    """Store a written pyramid under the image's name and mark the image succeeded."""
    final_name = image.pyramid_name
    storage_put(tmp_path, final_name)
    attempt.stored.append(final_name)
    if not _record_success(image.pk, 0, final_name, result):
        raise JobSuperseded(f"well {attempt.well.pk}: image {image.pk} is gone")


def _ingest_csv(attempt: _Attempt, source: Path, progress: _Progress) -> None:
    """A CSV sent as a well: one image named after the well, no curves (the CSV path)."""
    well = attempt.well
    image = _new_image(attempt, name=well.name, columns=None, value_unit="", depth_unit=well.depth_unit)
    tmp_path = _partial_dir() / f".well-{well.pk}-{attempt.number}-{image.pk}.tiff.partial"
    try:
        result = csv_to_pyramid(
            source,
            tmp_path,
            depth_unit=well.depth_unit,
            scratch_dir=attempt.scratch,
            options=IngestOptions(**well.options),
            limits=_ingest_limits(),
            on_progress=lambda fraction, _bytes: progress(fraction),
        )
        _store_image(attempt, image, tmp_path, result)
    finally:
        tmp_path.unlink(missing_ok=True)


@dataclass
class _Reading:
    """The state of one pass over a well log: a collector per image, a spool per curve."""

    log: WellLog
    source: Path
    collectors: dict[str, ScanlineCollector] = field(default_factory=dict)
    spools: dict[str, CurveSpool] = field(default_factory=dict)
    bytes_read: int = 0

    def locate(self, indices: tuple[int, ...]) -> list[int]:
        """LAS lines of samples given by their read order (DLIS, or a failed scan: none)."""
        if self.log.header.format != "las" or not indices:
            return []
        try:
            return locate_las_lines(self.source, self.log, indices, kept=True)
        except (WellLogError, OSError, ValueError):
            return []

    def remove(self) -> None:
        for collector in self.collectors.values():
            collector.remove()
        for spool in self.spools.values():
            spool.remove()


def _ingest_log(attempt: _Attempt, source: Path, progress: _Progress) -> None:
    """A LAS or DLIS: one pass feeding every image and curve, then each image and curve written."""
    log = read_well_log(
        source,
        max_curves=MAX_WELL_CURVES,
        max_columns=settings.MAX_COLUMNS,
        max_line_bytes=settings.MAX_LINE_BYTES,
    )
    well = attempt.well
    images = {
        spec.name: _new_image(
            attempt,
            name=spec.name,
            columns=spec.columns,
            value_unit=spec.value_unit,
            depth_unit=log.header.depth_unit,
        )
        for spec in log.images
    }
    reading = _Reading(log, source)
    try:
        for spec in log.images:
            reading.collectors[spec.name] = ScanlineCollector(attempt.scratch, spec.columns, track_data=True)
        for curve in log.curves:
            reading.spools[curve.mnemonic] = CurveSpool(attempt.scratch)
        _read(reading, progress, max(well.source_size, 1))
        share = (1 - READ_SHARE) / max(len(log.images), 1)
        for index, spec in enumerate(log.images):
            _write_image(attempt, reading, spec, images[spec.name], progress, index)
            progress(READ_SHARE + share * (index + 1), images=False)
        for curve in log.curves:
            _write_curve(attempt, curve, reading.spools[curve.mnemonic])
        progress(1.0, images=False)
    finally:
        reading.remove()


def _read(reading: _Reading, progress: _Progress, total_bytes: int) -> None:
    """The one pass over the file: each block's images to their collectors, curves to their spools."""
    limits = _ingest_limits()
    caps = {spec.name: limits.row_cap(spec.columns) for spec in reading.log.images}
    for block in iter_well_blocks(
        reading.source, reading.log, max_line_bytes=limits.max_line_bytes, max_cells=limits.max_cells
    ):
        for name, values in block.images.items():
            collector = reading.collectors[name]
            cap, reason = caps[name]
            if cap is not None and collector.scanlines + block.depth.size > cap:
                lines = reading.locate((cap,))  # the first sample over the cap
                raise WellLogError(
                    f"the image {name} has more than {cap:,} scanlines: {reason}",
                    line=lines[0] if lines else block.first_line,
                    where=f"image {name}",
                )
            collector.add_floats(block.depth, values)
            collector.dropped += block.dropped
        for mnemonic, values in block.curves.items():
            spool = reading.spools[mnemonic]
            if limits.max_rows is not None and spool.samples + block.depth.size > limits.max_rows:
                raise WellLogError(
                    f"the curve {mnemonic} has more than {limits.max_rows:,} samples: "
                    f"the server accepts at most {limits.max_rows:,} rows",
                    line=block.first_line,
                    where=f"curve {mnemonic}",
                )
            spool.append(block.depth, values)
        reading.bytes_read = block.bytes_read
        progress(READ_SHARE * min(block.bytes_read / total_bytes, 1.0))


def _write_image(  # noqa: PLR0917 (one image of the attempt, its share of the progress)
    attempt: _Attempt, reading: _Reading, spec, image: Image, progress: _Progress, index: int
) -> None:
    """Write one image's pyramid (its all-nodata ends trimmed), store it, mark it succeeded.

    An image in which every value is nodata is no image: its row is deleted.
    """
    well = attempt.well
    collector = reading.collectors[spec.name]
    share = (1 - READ_SHARE) / max(len(reading.log.images), 1)

    def explain(indices: tuple[int, ...], exc: DepthAxisError) -> WellLogError:
        depths = collector.depth()[list(indices)] if indices else np.empty(0)
        lines = reading.locate(indices)
        at = ", ".join(
            f"depth {depth:g}" + (f" on line {lines[i]}" if i < len(lines) else "")
            for i, depth in enumerate(depths)
        )
        kind = "curve" if well.format == Well.Format.LAS else "channel"
        return WellLogError(
            f"image {spec.name}: {exc.message}" + (f" ({at})" if at else ""),
            line=lines[-1] if lines else None,
            where=f"{kind} {spec.sources[0]}",
        )

    def rows_written(fraction: float) -> None:
        progress(READ_SHARE + share * (index + fraction), images=False)

    tmp_path = _partial_dir() / f".well-{well.pk}-{attempt.number}-{image.pk}.tiff.partial"
    try:
        result = to_pyramid(
            collector,
            tmp_path,
            depth_unit=image.depth_unit,
            options=IngestOptions(**well.options),
            limits=_ingest_limits(),
            explain=explain,
            bytes_read=reading.bytes_read,
            trim=True,
            on_rows=rows_written,
        )
        _store_image(attempt, image, tmp_path, result)
    except EmptyImageError:
        Image.objects.filter(pk=image.pk).delete()
        attempt.image_ids.remove(image.pk)
    finally:
        tmp_path.unlink(missing_ok=True)


def _write_curve(attempt: _Attempt, spec, spool: CurveSpool) -> None:
    """Write one curve's ``.npy`` (sorted by depth, nodata-only ends dropped), store it, add its row."""
    well = attempt.well
    tmp_path = attempt.scratch / f"curve-{len(attempt.curve_ids)}.npy"
    summary = curve_finish(spool, tmp_path)
    name = f"curves/{well.pk}-{attempt.number}-{uuid.uuid4().hex[:12]}.npy"
    storage_put(tmp_path, name)
    attempt.stored.append(name)
    curve = Curve.objects.create(
        well=well,
        mnemonic=spec.mnemonic[:64],
        unit=spec.unit[:64],
        description=spec.description[:255],
        samples=summary.samples,
        depth_min=summary.depth_min,
        depth_max=summary.depth_max,
        value_min=summary.value_min,
        value_max=summary.value_max,
        file=name,
    )
    attempt.curve_ids.append(curve.pk)
