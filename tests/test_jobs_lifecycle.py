"""The job's life on its row: claims, attempts, leases, the reaper, time limits, partial names.

Deliveries are made with the real task (``ingest_image.delay``, eager in the
embedded default), the reaper is the beat task's function, and the results are
read back through HTTP.
"""

import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import F
from django.utils import timezone

from ingest.jobs import JobLeaseHeld, jobs_reap
from ingest.models import Image
from ingest.services import image_create_from_path, image_ingest
from ingest.tasks import ingest_image, reap_jobs
from tests.conftest import media_files

pytestmark = pytest.mark.django_db(transaction=True)


def upload(client, path: Path, **fields):
    with open(path, "rb") as f:
        return client.post("/api/v1/images", {"file": f, **fields})


def queued_image(path: Path, **fields) -> Image:
    """An image created but not queued (as if its message were still in the broker)."""
    image, _ = image_create_from_path(path=path, queue=False, force=True)
    if fields:
        Image.objects.filter(pk=image.pk).update(**fields)
    return Image.objects.get(pk=image.pk)


def leftovers(settings) -> list[str]:
    """Partial pyramids and scratch folders of any attempt."""
    partial = [p.name for p in media_files(settings) if p.name.endswith(".partial")]
    scratch = Path(settings.DATA_DIR) / "scratch"
    return partial + ([p.name for p in scratch.glob("image-*")] if scratch.exists() else [])


def test_jobs_late_duplicate_delivery_of_a_finished_job_changes_nothing(client, sample_csv):
    body = upload(client, sample_csv).json()
    before = client.get(f"/api/v1/images/{body['id']}").json()
    row = Image.objects.get(pk=body["id"])
    assert (row.attempts, row.lease_expires) == (1, None)
    ingest_image.delay(body["id"])  # the broker hands the same message out again
    after = client.get(f"/api/v1/images/{body['id']}").json()
    assert after == before
    again = Image.objects.get(pk=body["id"])
    assert (again.attempts, again.finished, again.file.name) == (1, row.finished, row.file.name)


def test_jobs_late_delivery_of_a_failed_job_does_not_run_it_again(client, write_csv):
    assert upload(client, write_csv(["depth,col1", "1.0,x"])).json()["error"]["line"] == 2
    ingest_image.delay(Image.objects.get().pk)
    row = Image.objects.get()
    assert (row.status, row.attempts, row.error_line) == ("failed", 1, 2)


def test_jobs_delivery_under_a_live_lease_leaves_the_job_to_its_worker(client, sample_csv, settings):
    lease = timezone.now() + timedelta(seconds=20)
    image = queued_image(sample_csv, status="running", attempts=1, lease_expires=lease)
    with pytest.raises(JobLeaseHeld) as held:
        image_ingest(image_id=image.pk)
    assert 15 < held.value.seconds <= 20
    ingest_image.delay(image.pk)  # in-process: nothing to wait for, the holder ends it
    row = Image.objects.get(pk=image.pk)
    assert (row.status, row.attempts, row.lease_expires) == ("running", 1, lease)
    assert leftovers(settings) == []


def test_jobs_delivery_after_the_lease_lapsed_resumes_as_the_next_attempt(client, sample_csv, settings):
    image = queued_image(
        sample_csv, status="running", attempts=1, lease_expires=timezone.now() - timedelta(seconds=1)
    )
    # The dead attempt's partial files, on a shared volume.
    images = Path(settings.MEDIA_ROOT) / "images"
    images.mkdir(parents=True)
    (images / f".{image.pk}-1.tiff.partial").write_bytes(b"half a pyramid")
    (Path(settings.DATA_DIR) / "scratch" / f"image-{image.pk}-1").mkdir(parents=True)
    ingest_image.delay(image.pk)
    detail = client.get(f"/api/v1/images/{image.pk}").json()
    assert (detail["status"], detail["rows"]) == ("succeeded", 5460)
    row = Image.objects.get(pk=image.pk)
    assert (row.attempts, row.lease_expires) == (2, None)
    assert leftovers(settings) == []
    assert [p.name for p in images.iterdir()] == [f"{image.pk}-{image.sha256[:16]}.tiff"]


@pytest.mark.parametrize("status", ["pending", "running"])
def test_jobs_started_max_attempts_times_ends_failed_instead_of_returning(
    client, sample_csv, settings, status
):
    settings.MAX_ATTEMPTS = 3
    image = queued_image(sample_csv, status=status, attempts=3, lease_expires=None)
    (Path(settings.DATA_DIR) / "scratch" / f"image-{image.pk}-3").mkdir(parents=True)  # the last death's
    ingest_image.delay(image.pk)
    detail = client.get(f"/api/v1/images/{image.pk}").json()
    assert detail["status"] == "failed"
    assert "the job killed its worker 3 times" in detail["error"]["message"]
    row = Image.objects.get(pk=image.pk)
    assert (row.attempts, row.lease_expires, bool(row.file)) == (3, None, False)
    assert leftovers(settings) == []


def test_jobs_reaper_resumes_a_job_whose_lease_lapsed(client, sample_csv, settings):
    lapsed = queued_image(
        sample_csv, status="running", attempts=1, lease_expires=timezone.now() - timedelta(seconds=5)
    )
    alive = queued_image(
        sample_csv,
        status="running",
        attempts=1,
        lease_expires=timezone.now() + timedelta(seconds=30),
        sha256="0" * 64,
    )
    reaped = jobs_reap()  # queues the lapsed job again (eager here: it runs at once)
    assert reaped == {"resumed": [lapsed.pk], "failed": []}
    detail = client.get(f"/api/v1/images/{lapsed.pk}").json()
    assert (detail["status"], detail["rows"]) == ("succeeded", 5460)
    assert Image.objects.get(pk=lapsed.pk).attempts == 2
    untouched = Image.objects.get(pk=alive.pk)
    assert (untouched.status, untouched.attempts) == ("running", 1)


def test_jobs_reaper_fails_a_lapsed_job_whose_attempts_are_spent(client, sample_csv, settings):
    settings.MAX_ATTEMPTS = 2
    image = queued_image(
        sample_csv, status="running", attempts=2, lease_expires=timezone.now() - timedelta(seconds=5)
    )
    reap_jobs.delay()
    detail = client.get(f"/api/v1/images/{image.pk}").json()
    assert detail["status"] == "failed"
    assert "the job killed its worker 2 times" in detail["error"]["message"]
    assert jobs_reap() == {"resumed": [], "failed": []}  # once


def test_jobs_soft_time_limit_ends_the_job_failed_and_cleans_up(client, sample_csv, settings):
    settings.INGEST_SOFT_TIME_LIMIT = 7
    image = queued_image(sample_csv)

    def too_slow(fraction: float) -> None:
        if fraction > 0.6:  # writing the pyramid: Celery's signal arrives here
            raise SoftTimeLimitExceeded

    image_ingest(image_id=image.pk, on_progress=too_slow)
    detail = client.get(f"/api/v1/images/{image.pk}").json()
    assert detail["status"] == "failed"
    assert detail["error"]["message"] == "the job ran longer than 7 s, the most the server allows one job"
    assert Image.objects.get(pk=image.pk).lease_expires is None
    assert [p for p in media_files(settings) if p.suffix != ".csv"] == []
    assert leftovers(settings) == []


def test_jobs_lease_is_renewed_while_the_job_runs(sample_csv, settings):
    settings.JOB_LEASE_SECONDS = 1  # renewed every third of a second
    image = queued_image(sample_csv)
    seen = []

    def slow(fraction: float) -> None:
        if not seen:
            seen.append(Image.objects.get(pk=image.pk).lease_expires)
            time.sleep(1.5)  # longer than the lease: only the renewals keep it
            seen.append(Image.objects.get(pk=image.pk).lease_expires)

    image = image_ingest(image_id=image.pk, on_progress=slow)
    assert image.status == "succeeded"
    assert seen[1] - seen[0] >= timedelta(seconds=0.6)
    assert seen[1] > timezone.now() - timedelta(seconds=5)


def test_jobs_superseded_attempt_stops_and_records_nothing(sample_csv, settings):
    settings.JOB_LEASE_SECONDS = 1
    image = queued_image(sample_csv)
    calls = []

    def taken_over(fraction: float) -> None:
        calls.append(fraction)
        if len(calls) == 1:  # another worker resumes the job (attempt 2) meanwhile
            Image.objects.filter(pk=image.pk).update(attempts=F("attempts") + 1)
            time.sleep(1)  # the lease thread's next renewal finds the row is not ours

    image = image_ingest(image_id=image.pk, on_progress=taken_over)
    assert len(calls) == 1, "the attempt went on after losing its row"
    assert (image.status, image.attempts, bool(image.file)) == ("running", 2, False)
    assert [p for p in media_files(settings) if p.suffix != ".csv"] == []
    assert leftovers(settings) == []


def test_jobs_deleted_row_ends_the_attempt_quietly(sample_csv, settings):
    image = queued_image(sample_csv)

    def deleted(fraction: float) -> None:
        Image.objects.filter(pk=image.pk).delete()

    assert image_ingest(image_id=image.pk, on_progress=deleted) is None
    assert leftovers(settings) == []
    assert [p for p in media_files(settings) if p.suffix == ".tiff"] == []


def test_jobs_time_limits_are_set_on_every_task(settings):
    from project.celery import app

    assert app.conf.task_soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT > 0
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT > app.conf.task_soft_time_limit
    limits = app.conf.task_annotations["ingest.tasks.ingest_image"]
    assert limits == {
        "soft_time_limit": settings.INGEST_SOFT_TIME_LIMIT,
        "time_limit": settings.INGEST_TIME_LIMIT,
    }
    assert settings.INGEST_TIME_LIMIT > settings.INGEST_SOFT_TIME_LIMIT
    # Redis never hands a job out again while it may still run.
    assert app.conf.broker_transport_options["visibility_timeout"] > settings.INGEST_TIME_LIMIT
    (entry,) = app.conf.beat_schedule.values()
    assert entry == {"task": "ingest.tasks.reap_jobs", "schedule": settings.REAP_INTERVAL_SECONDS}
    assert entry["task"] in app.tasks
