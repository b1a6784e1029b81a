"""The classic upload: POST /upload-csv/ (tiles/rest/classic.py)."""

from pathlib import Path

import pytest

from ingest.models import Image

# Real commits: the ingestion task is queued with transaction.on_commit.
pytestmark = pytest.mark.django_db(transaction=True)

SMALL = ["depth,col1,col2", "1.0,10,20", "1.1,30,40", "1.2,50,60"]


def upload(client, path: Path, **fields):
    with open(path, "rb") as f:
        return client.post("/upload-csv/", {"file": f, **fields})


def test_classic_upload_answers_200_with_id_once_stored(client, sample_csv):
    response = upload(client, sample_csv)
    assert response.status_code == 200, response.content
    body = response.json()
    image = Image.objects.get(pk=body["id"])
    assert image.status == body["status"] == "succeeded"
    assert body["status_url"] == f"http://testserver/api/v1/images/{image.pk}"
    assert response["Location"] == body["status_url"]
    assert (body["depth_min"], body["depth_unit"], body["rows"], body["columns"]) == (9000.1, "m", 5460, 200)
    assert body["depth_max"] == pytest.approx(9546.0)
    frames = client.get(f"/get-images/9000.1/9000.3/?image={body['id']}").json()["images"]
    assert len(frames) == 3
    # Same bytes again: the same image, 200.
    again = upload(client, sample_csv)
    assert (again.status_code, again.json()["id"]) == (200, body["id"])


def test_classic_upload_takes_the_api_form_fields(client, write_csv):
    response = upload(client, write_csv(SMALL), name="well B", depth_unit="ft")
    assert response.status_code == 200, response.content
    image = Image.objects.get(pk=response.json()["id"])
    assert (image.name, image.depth_unit, image.rows) == ("well B", "ft", 3)


def test_classic_upload_with_a_worker_answers_202_and_status_url(client, write_csv, monkeypatch):
    # A real worker: the task is queued, not run in the request.
    monkeypatch.setattr("ingest.services._queue_ingest", lambda image_id: None)
    response = upload(client, write_csv(SMALL))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["rows"] is None
    status = client.get(body["status_url"]).json()
    assert (status["id"], status["status"]) == (body["id"], "pending")


@pytest.mark.parametrize(
    ("lines", "line", "column"),
    [
        (["depth,col1,col2", "1.0,1,2", "1.1,abc,3"], 3, "col1"),
        (["depth,col1,col2", "1.0,1,2", "1.1,7,inf"], 3, "col2"),
    ],
)
def test_classic_upload_bad_csv_is_422_with_line_and_column(client, write_csv, lines, line, column):
    response = upload(client, write_csv(lines))
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["error"]["code"] == "invalid_csv"
    assert (body["error"]["line"], body["error"]["column"]) == (line, column)
    assert Image.objects.get(pk=body["id"]).status == "failed"


def test_classic_upload_unreadable_header_is_422_line_1(client, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"col1,col2\n1,2\n")
    response = upload(client, path)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["line"] == 1 and "no 'depth' column" in error["message"]
    assert Image.objects.count() == 0


def test_classic_upload_without_file_is_400(client):
    response = client.post("/upload-csv/", {"name": "x"})
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


def test_classic_upload_needs_a_token_unless_opened(anonymous_client, write_csv, settings):
    response = upload(anonymous_client, write_csv(SMALL))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert Image.objects.count() == 0
    settings.CLASSIC_UPLOAD_PUBLIC = True
    response = upload(anonymous_client, write_csv(SMALL))
    assert response.status_code == 200, response.content


def test_classic_upload_too_large_is_413(client, write_csv, settings):
    settings.MAX_UPLOAD_MB = 0
    response = upload(client, write_csv(SMALL))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload_too_large"
