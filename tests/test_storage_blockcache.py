"""The local block cache of a bucket's ranges (``DJANGO_STORAGE_CACHE_BYTES``): moto in server mode.

GETs are counted on the server (:func:`tests.test_ingest_storage.served_gets`), the
cache's disk usage is measured like ``du`` (allocated blocks of every file and folder
under it), and bytes are compared with the object's own.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import diskcache
import pytest

from ingest import storage
from tests import test_ingest_storage
from tests.test_storage_ranges import _cold, _ingest, _window_digest

s3_endpoint = test_ingest_storage.s3_endpoint
s3 = test_ingest_storage.s3

BOUND = 4 << 20


@pytest.fixture
def get_objects(monkeypatch):
    """Every object GET the moto server answers from now on: ``(key, Range or None, bytes served)``."""
    return test_ingest_storage.served_gets(monkeypatch)


@pytest.fixture
def cached(settings, tmp_path):
    """The block cache on, bounded at :data:`BOUND` bytes, in a folder of its own; its folder."""
    settings.STORAGE_CACHE_DIR = str(tmp_path / "cache")
    settings.STORAGE_CACHE_BYTES = BOUND
    yield tmp_path / "cache" / "blocks"
    for cache in storage._block_caches.values():
        cache.close()
    storage._block_caches.clear()


def _du(root: Path) -> int:
    """Bytes allocated on disk to ``root`` and everything under it (what ``du -s -B1`` reports)."""
    total = root.lstat().st_blocks * 512
    for folder, dirs, files in os.walk(root):
        for entry in dirs + files:
            total += os.lstat(os.path.join(folder, entry)).st_blocks * 512
    return total


def _keys(folder: Path) -> list[str]:
    """The keys the cache in ``folder`` holds (read by a separate diskcache handle)."""
    with diskcache.Cache(str(folder)) as cache:
        return [str(key) for key in cache.iterkeys()]


TILES = [f"/api/v1/images/{{id}}/tiles/5/0/{y}.png" for y in range(0, 21, 3)] + [
    "/api/v1/images/{id}/data/region.npy?top=1000&bottom=2600",
    "/api/v1/images/{id}/tiles/3/0/1.png",
]


@pytest.mark.django_db(transaction=True)
def test_storage_blockcache_warm_reads_make_no_get(client, s3, cached, sample_csv, get_objects):
    image = _ingest(sample_csv, "bucket")
    _cold()
    get_objects.clear()
    first = [client.get(url.format(id=image.pk)) for url in TILES]
    assert all(response.status_code == 200 for response in first)
    assert get_objects, "a cold cache must read from the bucket"
    assert any(key.startswith(image.file.name) for key in _keys(cached))

    # A fresh process (nothing open, empty tiles cache) on the same pod: everything from the disk.
    _cold()
    get_objects.clear()
    again = [client.get(url.format(id=image.pk)) for url in TILES]
    assert get_objects == []
    assert [r.content for r in again] == [r.content for r in first]


@pytest.mark.django_db(transaction=True)
def test_storage_blockcache_stays_under_its_bound(s3, cached, get_objects):
    name = "images/9-00000000deadbeef.tiff"
    payload = random.Random(7).randbytes(12 << 20)  # noqa: S311 (test data, not a secret)
    s3.client.put_object(Bucket=s3.bucket, Key=name, Body=payload)
    reader = storage.storage_reader(name)
    rng = random.Random(1)  # noqa: S311 (which ranges to read)
    fetched = 0
    for i in range(400):
        if i % 4 == 3:  # a window of neighbouring blocks, as a region asks for
            start = rng.randrange(len(payload) - 400_000)
            ranges = [(start + k * 40_000, rng.randrange(1, 40_000)) for k in range(8)]
            got = reader.read_many(ranges)
            assert got == [payload[o : o + n] for o, n in ranges]
            fetched += sum(n for _, n in ranges)
        else:
            offset, length = rng.randrange(len(payload)), rng.randrange(1, 100_000)
            assert reader.read(offset, length) == payload[offset : offset + length]
            fetched += length
        if i % 20 == 0:
            assert _du(cached) <= BOUND, i
    assert fetched > 4 * BOUND  # far more than the cache holds: it evicted
    used = _du(cached)
    assert BOUND // 4 < used <= BOUND, used  # it does keep blocks, within the bound
    kept = [key for key in _keys(cached) if key.startswith(name) and not key.endswith("size")]
    assert 10 < len(kept) < 400

    # The last block read is still there: reading it again is no request.
    get_objects.clear()
    assert reader.read(offset, length) == payload[offset : offset + length]
    assert get_objects == []
    # A block over 1/32 of the cache's share is read but not kept.
    big = storage.block_cache().max_block + 1
    assert reader.read(0, big) == payload[:big]
    assert reader.read(0, big) == payload[:big]
    assert len(get_objects) == 2


#: A fresh process on the bucket (``STORED``) and the shared block cache (its settings in the environment).
PROCESS_READ = """
import hashlib, json, os, sys
import django
django.setup()
from django.conf import settings
settings.STORAGES = {**settings.STORAGES, "default": json.loads(os.environ["STORED"])}
from ingest import storage
from tiles import services
assert storage.block_cache() is not None
pyramid = services.pyramid_by_name(sys.argv[1])
print(hashlib.sha256(pyramid.window(0, 900, 3100, 0, 200).tobytes()).hexdigest())
"""


@pytest.mark.django_db(transaction=True)
def test_storage_blockcache_two_processes_at_once_read_correct_bytes(
    s3, cached, sample_csv, settings, tmp_path, get_objects
):
    image = _ingest(sample_csv, "bucket")
    name = image.file.name
    storage.block_cache().evict(name)  # what the ingest's own reads kept: the children start cold
    settings.STORAGE_CACHE_BYTES = 0
    expected = _window_digest(name)  # read without the cache
    settings.STORAGE_CACHE_BYTES = BOUND
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings.testing",
        "DJANGO_DATA_DIR": str(tmp_path / "child"),
        "DJANGO_STORAGE_CACHE_DIR": settings.STORAGE_CACHE_DIR,
        "DJANGO_STORAGE_CACHE_BYTES": str(BOUND),
        "STORED": json.dumps(settings.STORAGES["default"]),
    }
    command = [sys.executable, "-c", PROCESS_READ, name]
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    digests = [worker.communicate(timeout=120)[0].strip() for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0]
    assert digests == [expected, expected]
    assert _du(cached) <= BOUND

    # What they kept serves this process: the same window, no request.
    _cold()
    get_objects.clear()
    assert _window_digest(name) == expected
    assert get_objects == []


def _forked_read(name: str, queue) -> None:
    queue.put((storage._obstore_usable(), _window_digest(name)))


@pytest.mark.django_db(transaction=True)
def test_storage_blockcache_workers_forked_after_a_read_read_correct_bytes(s3, cached, sample_csv):
    """Forked after this process made requests (obstore's runtime cannot cross a fork): boto3 reads."""
    import multiprocessing

    image = _ingest(sample_csv, "bucket")
    name = image.file.name
    expected = _window_digest(name)
    assert storage._obstore_usable()
    storage.block_cache().evict(name)
    _cold()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_forked_read, args=(name, queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert results == [(False, expected), (False, expected)]


@pytest.mark.django_db(transaction=True)
def test_storage_blockcache_delete_leaves_no_block(client, s3, cached, sample_csv):
    image = _ingest(sample_csv, "bucket")
    name = image.file.name
    for url in TILES:
        assert client.get(url.format(id=image.pk)).status_code == 200
    assert [key for key in _keys(cached) if key.startswith(name)]
    image.delete()
    assert s3.keys() == []
    assert [key for key in _keys(cached) if key.startswith(name)] == []
    assert not (cached / "v").exists() or list((cached / "v").iterdir()) == []  # no block file
    assert client.get(f"/api/v1/images/{image.pk}/tiles/5/0/0.png").status_code == 404


def test_storage_blockcache_off_by_default(settings):
    assert settings.STORAGE_CACHE_BYTES == 0
    assert storage.block_cache() is None


def test_storage_blockcache_refuses_a_bound_below_4_mib(monkeypatch):
    monkeypatch.setenv("DJANGO_STORAGE_CACHE_BYTES", "1000")
    command = [sys.executable, "-c", "import project.settings.base"]
    done = subprocess.run(command, env={**os.environ}, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "DJANGO_STORAGE_CACHE_BYTES must be 0 (off) or at least 4194304" in done.stderr
