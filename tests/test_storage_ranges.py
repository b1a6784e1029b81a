"""Serving pyramids from a bucket by ranged reads (issue 16): moto in server mode on 127.0.0.1.

Every object GET the moto server answers (whatever the client) is recorded with its
``Range`` and the bytes it sent (:func:`get_objects`), so "no whole object" is counted,
not assumed. Outputs served from the bucket are compared byte for byte with the same
requests served from local storage.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from django.core.cache import caches

from ingest import storage
from ingest.models import Image
from tests import test_ingest_storage
from tiles import services
from tiles.core import pyramid as pyramid_module
from tiles.source import forget_all

# The moto server (module scope) and a fresh bucket per test, as tests/test_ingest_storage.py starts them.
s3_endpoint = test_ingest_storage.s3_endpoint
s3 = test_ingest_storage.s3

LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


@pytest.fixture
def get_objects(monkeypatch):
    """Every object GET the moto server answers from now on: ``(key, Range or None, bytes served)``."""
    return test_ingest_storage.served_gets(monkeypatch)


def _ingest(path: Path, name: str) -> Image:
    from ingest.services import image_create_from_path, image_ingest

    image, _ = image_create_from_path(path=path, name=name, queue=False)
    image = image_ingest(image_id=image.pk)
    assert image.status == Image.Status.SUCCEEDED, image.error
    return image


def _cold() -> None:
    """This process as a fresh one: no open pyramid, no decoded tile, an empty tiles cache."""
    caches["tiles"].clear()
    forget_all()


#: Requests of every serving path, ``{id}`` the image: tiles at each level, regions,
#: a thumbnail, normalised outputs, a large_image style, a pixel and classic frames.
REQUESTS = [
    "/api/v1/images/{id}/tiles/5/0/0.png",
    "/api/v1/images/{id}/tiles/5/0/12.png?palette=viridis",
    "/api/v1/images/{id}/tiles/3/0/1.webp",
    "/api/v1/images/{id}/tiles/0/0/0.png",
    "/api/v1/images/{id}/data/region.npy?depth_min=9100&depth_max=9200",
    "/api/v1/images/{id}/data/region.png?top=1000&bottom=2000&palette=magma",
    "/api/v1/images/{id}/data/region.png?top=10&bottom=4000&width=50&height=400",
    "/api/v1/images/{id}/data/thumbnail.png",
    "/api/v1/images/{id}/data/thumbnail.png?width=20&height=300",
    "/api/v1/images/{id}/tiles/5/0/3.png?normalize=dynamic&palette=viridis",
    "/api/v1/images/{id}/tiles/4/0/1.png?normalize=static",
    "/api/v1/images/{id}/data/region.png?top=0&bottom=1000&normalize=dynamic&window=1",
    '/api/v1/images/{id}/tiles/4/0/0.png?style={{"band": 1, "palette": "viridis", "min": 0, "max": 255}}',
    "/api/v1/images/{id}/data/pixel?left=3&top=77",
    "/api/v1/images/{id}/data/histogram?bins=16",
    "/get-images/9100/9101/?image={id}",
    "/get-images/9300/9302/?image={id}&normalize=dynamic&colormap=viridis",
]


def _answers(client, image: Image) -> list[bytes]:
    out = []
    for url in REQUESTS:
        response = client.get(url.format(id=image.pk))
        assert response.status_code == 200, (url, response.content[:300])
        # the classic frames' JSON also names the image: compare the frames (depths and PNGs)
        out.append(
            str(response.json()["images"]).encode() if url.startswith("/get-images") else response.content
        )
    return out


@pytest.mark.django_db(transaction=True)
def test_storage_ranges_bucket_serves_every_path_byte_for_byte_as_local_disk(
    client, s3, settings, sample_csv, get_objects
):
    bucket = settings.STORAGES["default"]
    settings.STORAGES = {**settings.STORAGES, "default": LOCAL}
    local = _ingest(sample_csv, "local")
    expected = _answers(client, local)
    local.delete()  # the same upload again would be this image (content hash)

    settings.STORAGES = {**settings.STORAGES, "default": bucket}
    stored = _ingest(sample_csv, "bucket")
    assert stored.file.name in s3.keys()  # noqa: SIM118 (the fixture's listing function)
    _cold()
    get_objects.clear()
    downloads = storage.download_count
    answers = _answers(client, stored)
    for url, ours, theirs in zip(REQUESTS, answers, expected, strict=True):
        assert ours == theirs, url
    # All by ranged GETs of the pyramid: nothing downloaded, nothing copied to the disk.
    assert get_objects and {key for key, _, _ in get_objects} == {stored.file.name}
    assert all(byte_range and byte_range.startswith("bytes=") for _, byte_range, _ in get_objects)
    assert storage.download_count == downloads
    assert storage._obstore_pid == os.getpid()  # by obstore, the reader's client (not boto3's fallback)
    cache = Path(settings.DATA_DIR) / "cache"
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]


@pytest.mark.django_db(transaction=True)
def test_storage_ranges_a_cold_process_reads_a_tile_not_the_object(client, s3, sample_csv, get_objects):
    image = _ingest(sample_csv, "bucket")
    size = s3.client.head_object(Bucket=s3.bucket, Key=image.file.name)["ContentLength"]
    _cold()
    get_objects.clear()
    response = client.get(f"/api/v1/images/{image.pk}/tiles/5/0/10.png")
    assert response.status_code == 200
    pyramid = services.pyramid_by_name(image.file.name)
    tile = pyramid.tile_bytes(0, 0, 10)
    fetched = sum(sent for _, _, sent in get_objects)
    # The structure: 16 kB of header and first IFD, then each page's IFD (one read each, the
    # small sample's tables fit in them, the last ones share a read); then one GET: the tile.
    assert len(get_objects) <= pyramid.pages + 1
    assert get_objects[-1][2] == tile
    assert fetched <= pyramid.pages * pyramid_module.HEADER_READAHEAD + tile
    assert fetched < size / 5

    # Another process (the structure now in the shared tiles cache): the tile's bytes only.
    forget_all()
    get_objects.clear()
    response = client.get(f"/api/v1/images/{image.pk}/tiles/5/0/11.png")
    assert response.status_code == 200
    assert [sent for _, _, sent in get_objects] == [pyramid.tile_bytes(0, 0, 11)]


@pytest.mark.django_db(transaction=True)
def test_storage_ranges_a_shared_structure_makes_a_first_tile_one_request(
    client, s3, sample_csv, get_objects
):
    from tiles.source import share_structure

    image = _ingest(sample_csv, "bucket")
    _cold()
    assert share_structure(image.file.name)  # what the ingest job would call at commit
    assert caches["tiles"].get(services.structure_key(image.file.name)) is not None
    assert share_structure(image.file.name)  # already there: nothing read
    forget_all()  # a web process that never opened the pyramid
    get_objects.clear()
    assert client.get(f"/api/v1/images/{image.pk}/tiles/5/0/20.png").status_code == 200
    tile = services.pyramid_by_name(image.file.name).tile_bytes(0, 0, 20)
    assert [sent for _, _, sent in get_objects] == [tile]


@pytest.mark.django_db(transaction=True)
def test_storage_ranges_a_window_of_adjacent_tiles_is_one_request(client, s3, sample_csv, get_objects):
    image = _ingest(sample_csv, "bucket")
    services.pyramid_by_name(image.file.name)  # the structure, read once
    get_objects.clear()
    response = client.get(f"/api/v1/images/{image.pk}/data/region.npy?top=1000&bottom=2000")
    assert response.status_code == 200
    pyramid = services.pyramid_by_name(image.file.name)
    tiles = [pyramid.tile_bytes(0, 0, y) for y in range(1000 // 256, 1999 // 256 + 1)]
    assert len(get_objects) == 1  # 4 tiles (rows 768..2047), contiguous in the file
    assert sum(tiles) <= get_objects[0][2] <= sum(tiles) + storage.COALESCE_GAP * len(tiles)


@pytest.mark.django_db(transaction=True)
def test_storage_ranges_concurrent_first_reads_in_threads_agree(s3, sample_csv, settings):
    from concurrent.futures import ThreadPoolExecutor

    image = _ingest(sample_csv, "bucket")
    name = image.file.name
    expected = _window_digest(name)
    _cold()
    barrier = threading.Barrier(6)

    def first_read(_):
        barrier.wait()
        return _window_digest(name)

    with ThreadPoolExecutor(6) as pool:
        digests = list(pool.map(first_read, range(6)))
    assert digests == [expected] * 6


def _window_digest(name: str) -> str:
    import hashlib

    pyramid = services.pyramid_by_name(name)
    return hashlib.sha256(pyramid.window(0, 900, 3100, 0, 200).tobytes()).hexdigest()


#: A fresh process: Django set up on the bucket (``STORED`` in its environment), one cold window read.
PROCESS_READ = """
import hashlib, json, os, sys
import django
django.setup()
from django.conf import settings
settings.STORAGES = {**settings.STORAGES, "default": json.loads(os.environ["STORED"])}
from tiles import services
pyramid = services.pyramid_by_name(sys.argv[1])
print(hashlib.sha256(pyramid.window(0, 900, 3100, 0, 200).tobytes()).hexdigest())
"""


@pytest.mark.django_db(transaction=True)
def test_storage_ranges_two_fresh_processes_read_the_same_pixels(s3, sample_csv, settings, tmp_path):
    import json
    import subprocess
    import sys

    image = _ingest(sample_csv, "bucket")
    expected = _window_digest(image.file.name)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings.testing",
        "DJANGO_DATA_DIR": str(tmp_path / "child"),
        "STORED": json.dumps(settings.STORAGES["default"]),
    }
    command = [sys.executable, "-c", PROCESS_READ, image.file.name]
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    digests = [worker.communicate(timeout=120)[0].strip() for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0]
    assert digests == [expected, expected]


@pytest.mark.django_db(transaction=True)
def test_storage_ranges_delete_leaves_nothing(client, s3, sample_csv, settings):
    image = _ingest(sample_csv, "bucket")
    name = image.file.name
    assert client.get(f"/api/v1/images/{image.pk}/tiles/5/0/0.png").status_code == 200
    assert caches["tiles"].get(services.structure_key(name)) is not None
    assert services._stored_pyramid.cache_info().currsize == 1
    image.delete()  # as DELETE /api/v1/images/{id} does (its owner: nobody here, so not through the API)
    assert s3.keys() == []
    assert caches["tiles"].get(services.structure_key(name)) is None
    assert services._stored_pyramid.cache_info().currsize == 0
    assert services._open_source.cache_info().currsize == 0
    data = Path(settings.DATA_DIR)
    assert not data.exists() or not [
        p for p in data.rglob("*") if p.is_file() and name.split("/")[-1] in p.name
    ]
    assert client.get(f"/api/v1/images/{image.pk}/tiles/5/0/0.png").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_storage_ranges_a_missing_object_is_not_found(s3, settings):
    from tiles.source import share_structure

    with pytest.raises(FileNotFoundError):
        services.pyramid_by_name("images/999-0000000000000000.tiff")
    assert share_structure("images/999-0000000000000000.tiff") is False  # logged, not raised
    with pytest.raises(ValueError, match="not a storage name"):
        storage.storage_reader("../etc/passwd")  # path-outside-on-purpose


def test_storage_ranges_reads_coalesce_neighbours_and_keep_order():
    class Recorder(storage.RangeReader):
        def __init__(self):
            super().__init__("x")
            self.data = bytes(range(256)) * 1000
            self.calls: list[tuple[int, int]] = []

        def read(self, offset, length):
            self.calls.append((offset, length))
            return self.data[offset : offset + length]

    reader = Recorder()
    ranges = [(4000, 10), (100, 50), (150, 20), (100_000, 7)]
    assert reader.read_many(ranges) == [reader.data[o : o + n] for o, n in ranges]
    assert reader.calls == [(100, 3910), (100_000, 7)]  # 100..4010 in one read (gaps < 4 kB)
    np.testing.assert_array_equal(len(reader.read_many([])), 0)


def test_storage_ranges_the_range_client_takes_the_storage_settings(settings):
    """obstore's store gets django-storages' bucket, region, virtual-hosted endpoint and keys."""
    from project.settings.base import s3_storage

    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket="depthtiles",
            endpoint_url="http://minio.storage:9000",
            region="eu-west-3",
            access_key_id="key",
            secret_access_key="secret",
            addressing_style="virtual",
        ),
    }
    store = storage._object_store(storage.storage())
    assert store.config["endpoint"] == "http://depthtiles.minio.storage:9000"  # the bucket in the host
    assert store.config["region"] == "eu-west-3"
    assert store.config["virtual_hosted_style_request"] == "true"
    assert store.client_options["allow_http"] == "true"
    assert store.retry_config["max_retries"] == 3
    assert store.credential_provider()["access_key_id"] == "key"
    assert storage._object_store(storage.storage()) is store  # one per process and configuration
