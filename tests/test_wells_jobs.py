"""The job of a well: caps, a failure after some images were stored, a killed worker resumed, progress."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from ingest import storage
from ingest.jobs import jobs_reap
from ingest.models import Curve, Image, Well
from ingest.tasks import reap_jobs
from ingest.wells import well_create, well_ingest
from tests.conftest import media_files
from tests.test_wells_las import ROWS, check_curves, check_images, upload_well, write_las

pytestmark = pytest.mark.django_db(transaction=True)


def alice():
    """The user ``alice`` of the ``people`` fixture."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="alice")


def leftovers(settings) -> list[str]:
    """Files besides the uploads: pyramids, curves, partials, scratch."""
    files = [str(path) for path in media_files(settings) if path.parent.name != "uploads"]
    scratch = Path(settings.DATA_DIR) / "scratch"
    return files + ([str(path) for path in scratch.iterdir()] if scratch.exists() else [])


def test_wells_jobs_row_cap_fails_with_the_line_and_leaves_nothing(client, tmp_path, settings):
    settings.MAX_ROWS = 100
    log = write_las(tmp_path / "long.las")
    body = upload_well(client, log.path, status=422)
    assert "more than 100 scanlines" in body["error"]["message"]
    lines = log.path.read_text().splitlines()
    first_data = next(i for i, line in enumerate(lines) if line.startswith("~A")) + 2  # 1-based
    assert body["error"]["line"] == first_data + 100  # the 101st sample
    assert (body["well"]["images"], body["well"]["curves"]) == ([], [])
    assert Image.objects.count() == 0 and leftovers(settings) == []


def test_wells_jobs_failure_after_images_were_stored_removes_them(client, tmp_path, settings, monkeypatch):
    put = storage.storage_put

    def put_but_curves(local_path, name):
        if name.startswith("curves/"):
            raise OSError("the bucket went away")
        return put(local_path, name)

    monkeypatch.setattr("ingest.wells.storage_put", put_but_curves)
    log = write_las(tmp_path / "a.las")
    body = upload_well(client, log.path, status=422)
    assert body["well"]["status"] == "failed"
    assert "internal error" in body["well"]["error"]
    assert (Image.objects.count(), Curve.objects.count()) == (0, 0)
    assert leftovers(settings) == []  # the two pyramids stored before went too


def test_wells_jobs_reaper_resumes_a_killed_well_job(client, people, tmp_path, settings):
    log = write_las(tmp_path / "killed.las")
    user = people.alice  # a client; the well is created by the service as alice
    with open(log.path, "rb") as stream:
        well, _ = well_create(stream=stream, name="killed", owner=alice(), queue=False)
    # A worker died mid-job: the well running under a lapsed lease, an image row and a partial left.
    Well.objects.filter(pk=well.pk).update(
        status="running", attempts=1, lease_expires=timezone.now() - timedelta(seconds=5)
    )
    Image.objects.create(name="ABDC", well=well, owner=well.owner, sha256=well.sha256, status="running")
    (Path(settings.DATA_DIR) / "scratch" / f"well-{well.pk}-1").mkdir(parents=True)
    assert jobs_reap() == {"resumed": [], "failed": []}  # the well's image is not an image job
    assert jobs_reap(model=Well) == {"resumed": [well.pk], "failed": []}  # eager: it ran again
    detail = user.get(f"/api/v1/wells/{well.pk}").json()
    assert (detail["status"], len(detail["images"]), len(detail["curves"])) == ("succeeded", 2, 2)
    assert Well.objects.get(pk=well.pk).attempts == 2
    check_images(user, detail, log)
    check_curves(user, detail, log)
    assert Image.objects.count() == 2
    assert all("/images/" in path or "/curves/" in path for path in leftovers(settings))  # no scratch left


def test_wells_jobs_attempts_spent_ends_failed_and_removes_its_images(people, tmp_path, settings):
    settings.MAX_ATTEMPTS = 2
    log = write_las(tmp_path / "spent.las", rows=60)
    owner = alice()
    with open(log.path, "rb") as stream:
        well, _ = well_create(stream=stream, name="spent", owner=owner, queue=False)
    Well.objects.filter(pk=well.pk).update(
        status="running", attempts=2, lease_expires=timezone.now() - timedelta(seconds=5)
    )
    Image.objects.create(name="ABDC", well=well, owner=owner, sha256=well.sha256, status="running")
    reap_jobs.delay()
    well.refresh_from_db()
    assert well.status == "failed" and "killed its worker 2 times" in well.error
    assert Image.objects.count() == 0 and leftovers(settings) == []
    assert well_ingest(well_id=well.pk).status == "failed"  # a late delivery changes nothing


def test_wells_jobs_progress_reaches_one_in_steps(people, tmp_path):
    log = write_las(tmp_path / "progress.las")
    with open(log.path, "rb") as stream:
        well, _ = well_create(stream=stream, name="p", owner=alice(), queue=False)
    seen: list[float] = []
    done = well_ingest(well_id=well.pk, on_progress=seen.append)
    assert done.status == "succeeded" and done.progress == 1.0
    assert seen == sorted(seen) and seen[-1] == 1.0 and any(0 < f < 0.6 for f in seen)
    assert {image.status for image in done.images.all()} == {"succeeded"}
    assert sorted(image.rows for image in done.images.all()) == [ROWS - 12, ROWS]


def test_wells_jobs_ingest_well_command(tmp_path, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    log = write_las(tmp_path / "cmd.las", rows=50)
    out = StringIO()
    call_command("ingest_well", str(log.path), "--owner", "carol", stdout=out)
    assert "images ABDC (38 x 16), GRAS (50 x 8); curves GR, CALI" in out.getvalue()
    assert Well.objects.get().owner.username == "carol"
    call_command("ingest_well", str(log.path), "--owner", "carol", stdout=out)
    assert "already ingested" in out.getvalue()
    bad = tmp_path / "bad.las"
    bad.write_bytes(b"\0\1\2")
    with pytest.raises(CommandError, match="binary"):
        call_command("ingest_well", str(bad))


def test_wells_jobs_well_deleted_mid_job_leaves_nothing(people, tmp_path, settings):
    log = write_las(tmp_path / "gone.las")
    with open(log.path, "rb") as stream:
        well, _ = well_create(stream=stream, name="gone", owner=alice(), queue=False)

    def delete_once_writing(fraction: float) -> None:
        if fraction >= 0.5 and Well.objects.filter(pk=well.pk).exists():
            Well.objects.filter(pk=well.pk).delete()  # a DELETE request while the job writes

    assert well_ingest(well_id=well.pk, on_progress=delete_once_writing) is None
    assert (Well.objects.count(), Image.objects.count(), Curve.objects.count()) == (0, 0, 0)
    assert media_files(settings) == [] and leftovers(settings) == []
