"""Uploading over HTTP and from the command line; bad CSVs fail cleanly."""

from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ingest.models import Image
from tests.conftest import media_files

# Real commits: the ingestion task is queued with transaction.on_commit.
pytestmark = pytest.mark.django_db(transaction=True)


def upload(client, path: Path, **fields):
    with open(path, "rb") as f:
        return client.post("/api/v1/images", {"file": f, **fields})


def test_upload_sample_answers_202_and_records_depth_axis(client, sample_csv, settings):
    response = upload(client, sample_csv, name="well A", depth_unit="ft")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "succeeded"  # eager tasks in the embedded default
    assert body["url"].endswith(f"/api/v1/images/{body['id']}")
    detail = client.get(f"/api/v1/images/{body['id']}").json()
    assert detail["name"] == "well A"
    assert detail["depth_unit"] == "ft"
    assert (detail["rows"], detail["columns"], detail["levels"]) == (5460, 200, 6)
    assert detail["depth_min"] == 9000.1
    assert detail["depth_max"] == pytest.approx(9546.0)
    assert detail["depth_step"] == pytest.approx(0.1)
    assert (detail["rows_read"], detail["rows_dropped"]) == (5460, 1)  # empty last row not stored
    assert detail["bytes_read"] == sample_csv.stat().st_size
    assert detail["progress"] == 1.0
    assert detail["duration"] > 0
    tiffs = [p for p in media_files(settings) if p.suffix == ".tiff"]
    assert len(tiffs) == 1


def test_upload_same_bytes_twice_returns_existing_image(client, sample_csv):
    first = upload(client, sample_csv).json()
    again = upload(client, sample_csv)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    forced = upload(client, sample_csv, force="true")
    assert forced.status_code == 202
    assert forced.json()["id"] != first["id"]


def test_list_is_newest_first(client, sample_image, write_csv):
    other = upload(client, write_csv(["depth,col1", "1,2", "2,3"])).json()
    ids = [item["id"] for item in client.get("/api/v1/images").json()["results"]]
    assert ids == [other["id"], sample_image.pk]


@pytest.mark.parametrize(
    ("lines", "line", "column"),
    [
        (["depth,col1,col2", "1.0,1,2", "1.1,abc,3"], 3, "col1"),
        (["depth,col1,col2", "1.0,1,2", "1.1,1,2,3"], 3, None),
        (["depth,col1,col2", "1.0,1,2", "1.1,7,inf"], 3, "col2"),
        (["depth,col1,col2", "1.0,1,2", "1.1,1,2", "1.0,5,5"], 4, "depth"),
    ],
)
def test_upload_bad_rows_fail_with_line_and_column_and_leave_no_tiff(
    client, write_csv, settings, lines, line, column
):
    response = upload(client, write_csv(lines))
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_csv"
    assert error["line"] == line
    assert error.get("column") == column
    image = Image.objects.get()
    assert image.status == "failed"
    assert image.error_line == line
    assert not image.file
    assert [p for p in media_files(settings) if p.suffix != ".csv"] == []
    detail = client.get(f"/api/v1/images/{image.pk}").json()
    assert detail["status"] == "failed" and detail["error"]["line"] == line
    tile = client.get(f"/api/v1/images/{image.pk}/tiles/0/0/0.png")
    assert tile.status_code == 409
    assert tile["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"col1,col2\n1,2\n", "no 'depth' column"),
        (b"\x00\x01\x02\x03binary", "not text"),
    ],
)
def test_upload_unreadable_header_is_refused_and_nothing_kept(client, tmp_path, settings, content, words):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    response = upload(client, path)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["line"] == 1 and words in error["message"]
    assert Image.objects.count() == 0
    assert media_files(settings) == []


def test_upload_without_file_is_400(client):
    response = client.post("/api/v1/images", {"name": "x"})
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


def test_ingest_command_twice_makes_one_image(sample_csv, capsys):
    call_command("ingest", str(sample_csv), "--name", "cli")
    call_command("ingest", str(sample_csv))
    out = capsys.readouterr().out
    assert "already ingested" in out
    image = Image.objects.get()
    assert (image.name, image.status, image.rows) == ("cli", "succeeded", 5460)


def test_ingest_command_runs_a_job_left_pending(sample_csv, capsys):
    """A run cut short (Ctrl-C) left the image pending: the same command again runs it."""
    from ingest.services import image_create_from_path

    pending, _ = image_create_from_path(path=sample_csv, name="cut short", queue=False)
    assert pending.status == "pending"
    call_command("ingest", str(sample_csv))
    image = Image.objects.get()
    assert (image.pk, image.status, image.rows) == (pending.pk, "succeeded", 5460)
    assert "5460 x 200 pixels" in capsys.readouterr().out


def test_ingest_command_bad_file_fails_cleanly(write_csv, settings):
    with pytest.raises(CommandError, match="line 3"):
        call_command("ingest", str(write_csv(["depth,col1", "1,1", "2,x"])))
    assert [p for p in media_files(settings) if p.suffix == ".tiff"] == []


def test_upload_records_value_statistics(client, sample_csv, sample_reference):
    _, values = sample_reference
    detail = upload(client, sample_csv).json()
    assert (detail["value_min"], detail["value_max"]) == (13, 237)
    ordered = np.sort(values.ravel())
    assert detail["value_p2"] == ordered[int(np.ceil(0.02 * ordered.size)) - 1]
    assert detail["value_p98"] == ordered[int(np.ceil(0.98 * ordered.size)) - 1]
