"""Object storage: DJANGO_STORAGE=s3 against a real S3-compatible server (moto, server mode).

The server runs in a thread of the test process on 127.0.0.1 and a free port; the
code talks to it over HTTP through django-storages and boto3, as it would to any
bucket. The real sample log goes in; the bucket, the local disk and the pixels served
are checked.
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from types import SimpleNamespace

import boto3
import numpy as np
import pytest
from moto.server import ThreadedMotoServer

from ingest import storage
from ingest.models import Image
from ingest.selectors import image_local_path
from project.settings.base import s3_storage
from tests.conftest import media_files

REGION = "us-east-1"
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint():
    """A moto S3 server on 127.0.0.1 (port chosen by the OS), for this module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(settings, s3_endpoint):
    """A fresh bucket, and the settings of ``DJANGO_STORAGE=s3`` pointing at it."""
    bucket = f"depthtiles-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **KEYS)
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket=bucket,
            endpoint_url=s3_endpoint,
            region=REGION,
            access_key_id=KEYS["aws_access_key_id"],
            secret_access_key=KEYS["aws_secret_access_key"],
        ),
    }
    assert not storage.storage_is_local()

    def keys() -> list[str]:
        return sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", []))

    yield SimpleNamespace(client=client, bucket=bucket, keys=keys)
    for key in keys():
        client.delete_object(Bucket=bucket, Key=key)
    client.delete_bucket(Bucket=bucket)


def _s3_calls(operation: str) -> list[str]:
    """Record every ``operation`` (e.g. ``GetObject``) the storage's boto3 client makes from now on."""
    calls: list[str] = []
    client = storage.storage().connection.meta.client
    client.meta.events.register(
        f"before-parameter-build.s3.{operation}", lambda params, **kw: calls.append(params.get("Key"))
    )
    return calls


def served_gets(monkeypatch) -> list[tuple[str, str | None, int]]:
    """Every object GET the moto server answers from now on: ``(key, Range or None, body bytes)``.

    Recorded on the server (its WSGI app, in this process), so whatever client made
    the request (boto3, obstore) is counted.
    """
    import threading

    from moto.server import DomainDispatcherApplication

    calls: list[tuple[str, str | None, int]] = []
    lock = threading.Lock()
    original = DomainDispatcherApplication.__call__

    def recording(self, environ, start_response):
        chunks = list(original(self, environ, start_response))
        _bucket, _, key = environ.get("PATH_INFO", "").lstrip("/").partition("/")
        if environ.get("REQUEST_METHOD") == "GET" and key and not environ.get("QUERY_STRING"):
            with lock:
                calls.append((key, environ.get("HTTP_RANGE"), sum(len(chunk) for chunk in chunks)))
        return chunks

    monkeypatch.setattr(DomainDispatcherApplication, "__call__", recording)
    return calls


def _upload(client, path: Path):
    with open(path, "rb") as f:
        return client.post("/api/v1/images", {"file": f, "name": "s3"})


@pytest.mark.django_db(transaction=True)
def test_storage_s3_ingest_stores_pyramid_in_bucket_and_serves_it_by_range_reads(
    client, s3, settings, sample_csv, sample_reference, monkeypatch
):
    depth, values = sample_reference
    before = sample_csv.stat().st_mtime_ns

    response = _upload(client, sample_csv)
    assert response.status_code == 202, response.content
    image = Image.objects.get(pk=response.json()["id"])
    assert image.status == Image.Status.SUCCEEDED, image.error
    final = f"images/{image.pk}-{image.sha256[:16]}.tiff"
    assert image.file.name == final
    keys = s3.keys()
    assert final in keys
    (source,) = [key for key in keys if key.startswith("uploads/")]
    assert source == image.source.name and source.endswith(".csv")
    assert keys == sorted([final, source])
    head = s3.client.head_object(Bucket=s3.bucket, Key=final)
    assert head["ContentLength"] > 100_000
    # The CSV in the bucket is the upload, byte for byte.
    body = s3.client.get_object(Bucket=s3.bucket, Key=source)["Body"].read()
    assert body == sample_csv.read_bytes()
    assert sample_csv.stat().st_mtime_ns == before

    # Nothing on the local disk: no TIFF (final or partial), no CSV, no scratch files, no cache yet.
    assert media_files(settings) == []
    scratch = Path(settings.DATA_DIR) / "scratch"
    assert not scratch.exists() or list(scratch.iterdir()) == []
    cache = Path(settings.DATA_DIR) / "cache"
    assert not cache.exists() or [p for p in cache.rglob("*") if p.is_file()] == []

    gets = served_gets(monkeypatch)
    downloads = storage.download_count
    url = f"/api/v1/images/{image.pk}/data/region.npy?depth_min=9100&depth_max=9110"
    response = client.get(url)
    assert response.status_code == 200, response.content
    array = np.load(io.BytesIO(response.content), allow_pickle=False)
    rows = (depth >= 9100.0 - 1e-6) & (depth <= 9110.0 + 1e-6)
    np.testing.assert_array_equal(array, values[rows])
    # Served by ranged GETs of the pyramid (tests/test_storage_ranges.py counts the bytes): no copy.
    assert gets and {key for key, _, _ in gets} == {final}
    assert storage.download_count == downloads
    assert not cache.exists() or [p for p in cache.rglob("*") if p.is_file()] == []

    gets.clear()
    response = client.get(f"/api/v1/images/{image.pk}/data/region.npy?top=0&bottom=50")
    assert response.status_code == 200
    np.testing.assert_array_equal(np.load(io.BytesIO(response.content)), values[:50])
    response = client.get(f"/api/v1/images/{image.pk}/tiles/0/0/0.png")
    assert response.status_code == 200 and response.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert storage.download_count == downloads

    # Deleting the image deletes its objects.
    image.delete()
    assert s3.keys() == []


@pytest.mark.django_db(transaction=True)
def test_storage_s3_failed_ingest_leaves_no_pyramid_object(client, s3, settings, write_csv):
    path = write_csv(["depth,col1,col2", "1.0,1,2", "1.1,3,x"])
    response = _upload(client, path)
    assert response.status_code == 422
    image = Image.objects.get()
    assert image.status == Image.Status.FAILED and image.error_line == 3
    assert [key for key in s3.keys() if not key.startswith("uploads/")] == []  # noqa: SIM118 (the fixture's listing function)
    assert [p for p in media_files(settings) if ".tiff" in p.name] == []


@pytest.mark.django_db(transaction=True)
def test_storage_s3_interrupted_upload_leaves_no_object_and_no_orphan(client, s3, settings, sample_csv):
    """The pyramid's multipart upload dies in a part: no object, no multipart upload left, no file."""
    from boto3.s3.transfer import TransferConfig

    backend = storage.storage()
    backend.transfer_config = TransferConfig(multipart_threshold=64 << 10)
    started = _s3_calls("CreateMultipartUpload")
    parts = _s3_calls("UploadPart")

    def network_down(params, **kwargs):
        if params["Key"].startswith("images/"):
            raise ConnectionError("the network went away")

    client_events = backend.connection.meta.client.meta.events
    client_events.register("before-parameter-build.s3.UploadPart", network_down)
    response = _upload(client, sample_csv)
    assert any(key.startswith("images/") for key in started) and parts, "no multipart upload was tried"
    image = Image.objects.get(pk=response.json()["image"]["id"])
    assert image.status == Image.Status.FAILED
    assert not image.file
    assert [key for key in s3.keys() if key.startswith("images/")] == []  # noqa: SIM118 (the fixture's listing function)
    assert s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []
    assert [p for p in media_files(settings) if ".tiff" in p.name] == []


@pytest.mark.django_db(transaction=True)
def test_storage_s3_concurrent_first_reads_make_one_whole_copy(s3, settings, tmp_path):
    """Threads asking for the same uncached object all get a complete file (rename into place)."""
    from concurrent.futures import ThreadPoolExecutor

    payload = os.urandom(3 << 20)
    s3.client.put_object(Bucket=s3.bucket, Key="images/9-feedfacefeedface.tiff", Body=payload)
    name = "images/9-feedfacefeedface.tiff"
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: storage.storage_local_path(name), range(4)))
    assert len(set(paths)) == 1
    assert paths[0].read_bytes() == payload
    assert [p.name for p in paths[0].parent.iterdir()] == [paths[0].name]


def test_storage_local_path_refuses_names_outside_the_cache(s3):
    for name in ("../etc/passwd", "/etc/passwd", ""):  # path-outside-on-purpose
        with pytest.raises(ValueError, match="not a storage name"):
            storage.storage_local_path(name)


@pytest.mark.django_db(transaction=True)
def test_storage_local_default_reads_the_stored_file_itself(sample_image, settings):
    assert storage.storage_is_local()
    path = image_local_path(sample_image)
    assert path == Path(settings.MEDIA_ROOT) / sample_image.file.name
    assert path.is_file()
    assert not (Path(settings.DATA_DIR) / "cache").exists()
    sample_image.delete()
    assert not path.exists()
    assert media_files(settings) == []


@pytest.mark.django_db
def test_storage_s3_readyz_probes_the_bucket(anonymous_client, s3, settings):
    response = anonymous_client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["storage"] == "ok"
    assert s3.keys() == []  # the probe object is gone
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "bucket_name": "no-such-bucket"},
        },
    }
    response = anonymous_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["message"] == "not reachable: storage"
