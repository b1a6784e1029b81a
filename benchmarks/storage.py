"""Storage benchmark: a pyramid served from a bucket by ranged reads against the same from local disk.

``make bench-storage`` (or ``python -m benchmarks.storage``) generates a ``--rows`` x 360
log (:mod:`benchmarks.gen_csv`), ingests it on the local disk, copies the pyramid into a
bucket of an S3-compatible server on 127.0.0.1 (moto in server mode, in a subprocess,
behind a WSGI wrapper that counts the bytes it sends), then for each side (bucket;
bucket with a block cache of ``--cache-mb`` MB; local disk) starts a fresh gunicorn
web process (one sync worker, empty caches: the embedded locmem caches are per
process) and asks, one request at a time:

* the first tile (time to first tile: the bucket side parses the TIFF structure then);
* ``--tiles`` distinct full-resolution tiles (cold: never read nor rendered), p50/p99;
* ``--regions`` distinct 1,000-row full-resolution regions (PNG, 360 wide), p50/p99;

and prints per side: those figures, the bytes the bucket sent per cold tile against
the tiles' stored (compressed) size, and the local disk the web process used beyond
the database (its data directory's files: no copy of the pyramid). The block cache
side then starts another fresh web process that asks for the same tiles again (hot:
only the pod's block cache holds them) and prints their p50, the GETs they made and
the cache's disk usage (``du``: allocated blocks of its files and folders) against the
configured bound. Targets (issue 16): first tile <= 150 ms, cold tiles within 2x of
local disk, bytes per tile <= 2x its compressed size, local disk <= the configured
cache.

A first line measures the candidate clients on a ranged GET of one tile's bytes,
interleaved: boto3 (one client reused; a new client per request), a botocore-signed
request over a urllib3 keep-alive pool, a presigned URL over that pool, and obstore
(the reader's client: ``ingest/storage.py`` says why). A cold tile from the bucket is
one such GET plus the work a local tile needs, so a last line splits it: the GET's
median from the client line, the time moto spent inside its WSGI app per GET (the
wrapper times it), and the cold tile's p50 less that GET against local disk (what
serving from a bucket costs beyond the round trip itself).

This is a benchmark, not a test: it prints what it measured and exits 0.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.serve import INGEST_COPIES, PYTHON, REPO, Server, _free_port, bench_env

REGION = "us-east-1"
KEYS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}

#: moto's WSGI app behind a counter of the bytes it sends (``GET /__bytes`` reads and resets it).
MOTO = """
import sys, threading, time
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

from moto.s3 import models

app = DomainDispatcherApplication(create_backend_app)
sent = {"bytes": 0, "requests": 0, "seconds": 0.0}
lock = threading.Lock()
ranged = threading.local()


class RangeOfValue:
    # A key's bytes, read only where sliced (moto copies the whole object for every GET).

    def __init__(self, key):
        self.key = key

    def __len__(self):
        return self.key.size

    def __getitem__(self, part):
        with self.key.lock:
            self.key._value_buffer.seek(part.start)
            return self.key._value_buffer.read(part.stop - part.start)


whole = models.FakeKey.value


def value(self):
    return RangeOfValue(self) if getattr(ranged, "on", False) else whole.fget(self)


models.FakeKey.value = property(value, whole.fset)

def counting(environ, start_response):
    if environ.get("PATH_INFO") == "/__bytes":
        with lock:
            body = f"{sent['bytes']} {sent['requests']} {sent['seconds']}".encode()
            sent.update(bytes=0, requests=0, seconds=0.0)
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    ranged.on = environ.get("REQUEST_METHOD") == "GET" and "HTTP_RANGE" in environ
    began = time.perf_counter()
    try:
        chunks = list(app(environ, start_response))
    finally:
        ranged.on = False
    if environ.get("REQUEST_METHOD") == "GET":
        with lock:
            sent["bytes"] += sum(len(chunk) for chunk in chunks)
            sent["requests"] += 1
            sent["seconds"] += time.perf_counter() - began
    return chunks

run_simple("127.0.0.1", int(sys.argv[1]), counting, threaded=True)
"""


def _ok(status: int, path: str) -> None:
    if status != 200:
        raise RuntimeError(f"{path}: HTTP {status}")


def _get(port: int, path: str) -> tuple[float, int, bytes]:
    """One GET on a fresh connection: (seconds, status, body)."""
    began = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return time.perf_counter() - began, response.status, body


def _moto_sent(port: int) -> tuple[int, int, float]:
    """Bytes, GET requests and seconds inside moto's WSGI app for them since the last call (then reset)."""
    _, _, body = _get(port, "/__bytes")
    sent, requests, seconds = body.split()
    return int(sent), int(requests), float(seconds)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _files_bytes(root: Path, skip: set[Path]) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and p not in skip)


def client_figures(endpoint: str, bucket: str, key: str, offset: int, length: int) -> tuple[str, float]:
    """Median ms of a ranged GET of one tile by each candidate client, interleaved (same load for all).

    Candidates: boto3 ``get_object`` on one reused client (the former reader); a new
    boto3 client per request; a request signed by botocore (``S3SigV4Auth`` on an
    ``AWSRequest``) sent over a urllib3 keep-alive pool; a presigned URL (made once,
    as a cache per object would) over the same pool; obstore's ``get_range`` on one
    ``S3Store`` (the reader's client). Each is checked to return the right bytes.
    """
    import boto3
    import obstore
    import urllib3
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from obstore.store import S3Store

    byte_range = f"bytes={offset}-{offset + length - 1}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **KEYS)
    expected = client.get_object(Bucket=bucket, Key=key, Range=byte_range)["Body"].read()
    pool = urllib3.PoolManager()
    url = f"{endpoint}/{bucket}/{key}"
    credentials = boto3.Session(region_name=REGION, **KEYS).get_credentials()
    presigned = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    store = S3Store(
        bucket,
        config={"endpoint": endpoint, "region": REGION},
        access_key_id=KEYS["aws_access_key_id"],
        secret_access_key=KEYS["aws_secret_access_key"],
        client_options={"allow_http": True},
    )

    def signed() -> bytes:
        request = AWSRequest(method="GET", url=url, headers={"Range": byte_range})
        S3SigV4Auth(credentials.get_frozen_credentials(), "s3", REGION).add_auth(request)
        return pool.request("GET", url, headers=dict(request.headers.items())).data

    def reused() -> bytes:
        return client.get_object(Bucket=bucket, Key=key, Range=byte_range)["Body"].read()

    def new_client() -> bytes:
        fresh = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **KEYS)
        return fresh.get_object(Bucket=bucket, Key=key, Range=byte_range)["Body"].read()

    candidates = {
        "boto3 get_object, client reused": reused,
        "new boto3 client per request": new_client,
        "botocore SigV4 + urllib3 keep-alive": signed,
        "presigned URL + urllib3 keep-alive": lambda: (
            pool.request("GET", presigned, headers={"Range": byte_range}).data
        ),
        "obstore get_range (chosen)": lambda: bytes(
            obstore.get_range(store, key, start=offset, length=length)
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in candidates}
    cpu: dict[str, list[float]] = {name: [] for name in candidates}
    for round_ in range(200):
        for name, call in candidates.items():
            if name.startswith("new") and round_ % 5:
                continue  # a second or so each: a fifth of the rounds
            began, began_cpu = time.perf_counter(), time.process_time()
            data = call()
            times[name].append(time.perf_counter() - began)
            cpu[name].append(time.process_time() - began_cpu)  # every thread of this process
            if data != expected:
                raise RuntimeError(f"{name}: wrong bytes")
    figures = ", ".join(
        f"{name} {_percentile(times[name], 0.5):.2f} ms (CPU {_percentile(cpu[name], 0.5):.2f} ms)"
        for name in candidates
    )
    line = f"client: ranged GET of one tile ({length} B), median wall (client CPU): {figures}"
    return line, _percentile(times["obstore get_range (chosen)"], 0.5)


def _du(root: Path) -> int:
    """Bytes allocated on disk under ``root`` (files and folders, what ``du -s -B1`` reports)."""
    if not root.exists():
        return 0
    total = root.lstat().st_blocks * 512
    for folder, dirs, files in os.walk(root):
        for entry in dirs + files:
            total += os.lstat(os.path.join(folder, entry)).st_blocks * 512
    return total


def _timed_tiles(port: int, image_id: int, z: int, tiles: list[tuple[int, int]]) -> list[float]:
    """Seconds of each tile ``(x, y)`` at level ``z``, asked one at a time (each must answer 200)."""
    times = []
    for x, y in tiles:
        path = f"/api/v1/images/{image_id}/tiles/{z}/{x}/{y}.png"
        seconds, status, _ = _get(port, path)
        _ok(status, path)
        times.append(seconds)
    return times


def side_figures(
    env: dict[str, str], image: dict, args, moto_port: int | None, data: Path, *, hot: bool = False
) -> dict:
    """Serve one side with a fresh web process and measure it (see the module).

    With ``hot``, a second fresh web process then asks for the same cold tiles again
    (its own caches empty: only the pod's block cache holds them): their p50 and the
    GETs they made.
    """
    from tiles.core.pyramid import zoom_levels

    rows, columns, image_id = image["rows"], image["columns"], image["id"]
    z = zoom_levels(columns, rows) - 1
    down = -(-rows // 256)
    rng = random.Random(1)  # noqa: S311 (which tiles to ask for, not a secret)
    tiles = [(x, y) for y in rng.sample(range(1, down), args.tiles + 1) for x in (rng.randrange(2),)]
    regions = rng.sample(range(rows - 1000), args.regions)
    skip = set(data.rglob("*"))  # the database and the local pyramid, there before the server
    server = Server(env, 1)
    try:
        # What a readiness probe does before traffic (k8s: /readyz): the storage client is made
        # and probed (boto3 loads its service model: about a second, once per process).
        _get(server.port, "/readyz")
        if moto_port:
            _moto_sent(moto_port)
        x, y = tiles[0]
        path = f"/api/v1/images/{image_id}/tiles/{z}/{x}/{y}.png"
        first, status, _ = _get(server.port, path)
        _ok(status, path)
        first_sent = _moto_sent(moto_port) if moto_port else (0, 0, 0.0)
        cold = _timed_tiles(server.port, image_id, z, tiles[1:])
        sent = _moto_sent(moto_port) if moto_port else (0, 0, 0.0)
        region = []
        for top in regions:
            path = f"/api/v1/images/{image_id}/data/region.png?top={top}&bottom={top + 1000}"
            seconds, status, _ = _get(server.port, path)
            _ok(status, path)
            region.append(seconds)
        disk = _files_bytes(data, skip)
    finally:
        server.stop()
    rereads: list[float] = []
    resent = (0, 0, 0.0)
    if hot:
        server = Server(env, 1)
        try:
            _get(server.port, "/readyz")
            if moto_port:
                _moto_sent(moto_port)
            rereads = _timed_tiles(server.port, image_id, z, tiles[1:])
            resent = _moto_sent(moto_port) if moto_port else (0, 0, 0.0)
        finally:
            server.stop()
    return {
        "rereads": rereads,
        "resent": resent,
        "blocks_du": _du(data / "cache" / "blocks"),
        "first": first,
        "first_sent": first_sent,
        "cold": cold,
        "region": region,
        "sent": sent,
        "disk": disk,
        "tiles": tiles[1:],
    }


def main() -> None:  # noqa: PLR0915 (one linear script: set up, serve two sides, print)
    """Generate, ingest, upload, serve both sides, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=2_000_000, help="rows of the 360-column log (a real well's size)"
    )
    parser.add_argument("--tiles", type=int, default=200, help="cold tiles per side")
    parser.add_argument("--regions", type=int, default=50, help="1,000-row regions per side")
    parser.add_argument(
        "--cache-mb", type=int, default=64, help="the third side's DJANGO_STORAGE_CACHE_BYTES, in MB"
    )
    args = parser.parse_args()

    from benchmarks.gen_csv import generate

    scratch = Path(tempfile.mkdtemp(prefix="depthtiles-bench-storage-"))
    data = scratch / "data"
    data.mkdir()
    base = bench_env(data, scratch)
    moto = None
    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=REPO, env=base, check=True)
        began = time.time()
        csv = scratch / "large.csv"
        generate(csv, args.rows, 360)
        script = INGEST_COPIES.format(copies=1, sample=str(csv))
        out = subprocess.run(
            [PYTHON, "-c", script], cwd=REPO, env=base, check=True, capture_output=True, text=True
        )
        csv.unlink()
        image_id = int(out.stdout.split()[0])
        show = (
            "import django, json; django.setup(); from ingest.models import Image; "
            f"i = Image.objects.get(pk={image_id}); "
            "print(json.dumps({'id': i.pk, 'rows': i.rows, 'columns': i.columns, 'name': i.file.name}))"
        )
        out = subprocess.run(
            [PYTHON, "-c", show], cwd=REPO, env=base, check=True, capture_output=True, text=True
        )
        image = json.loads(out.stdout)
        pyramid_path = data / "media" / image["name"]
        size = pyramid_path.stat().st_size
        took = time.time() - began
        print(f"log: {args.rows} x 360, pyramid {size / 1e6:.1f} MB, generated and ingested in {took:.0f} s")

        import boto3

        moto_port = _free_port()
        moto = subprocess.Popen([PYTHON, "-c", MOTO, str(moto_port)], stderr=subprocess.DEVNULL)
        endpoint = f"http://127.0.0.1:{moto_port}"
        for _ in range(100):
            try:
                _get(moto_port, "/__bytes")
                break
            except OSError:
                time.sleep(0.1)
        client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **KEYS)
        client.create_bucket(Bucket="bench")
        began = time.time()
        client.upload_file(str(pyramid_path), "bench", image["name"])
        print(f"uploaded to the bucket (moto, 127.0.0.1) in {time.time() - began:.1f} s")

        from tiles.core.pyramid import PyramidFile

        local_pyramid = PyramidFile(str(pyramid_path))
        offset, length = local_pyramid.tile_range(0, 0, local_pyramid.tile_grid(0)[1] // 2)
        line, one_get_ms = client_figures(endpoint, "bench", image["name"], offset, length)
        print(line)

        s3_env = {
            **base,
            "DJANGO_STORAGE": "s3",
            "DJANGO_S3_BUCKET": "bench",
            "DJANGO_S3_ENDPOINT_URL": endpoint,
            "DJANGO_S3_REGION": REGION,
            "DJANGO_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
            "DJANGO_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
        }
        bucket = side_figures(s3_env, image, args, moto_port, data)
        configured = args.cache_mb * 1_000_000
        cache_env = {**s3_env, "DJANGO_STORAGE_CACHE_BYTES": str(configured)}
        cached = side_figures(cache_env, image, args, moto_port, data, hot=True)
        shutil.rmtree(data / "cache" / "blocks", ignore_errors=True)
        local = side_figures({**base, "DJANGO_STORAGE": "local"}, image, args, None, data)
        stored = sum(local_pyramid.tile_bytes(0, x, y) for x, y in bucket["tiles"]) / len(bucket["tiles"])
        for name, side in (("bucket", bucket), ("local disk", local)):
            print(
                f"{name}: first tile {side['first'] * 1000:.1f} ms; cold tiles p50 "
                f"{_percentile(side['cold'], 0.5):.1f} ms p99 {_percentile(side['cold'], 0.99):.1f} ms; "
                f"1,000-row regions p50 {_percentile(side['region'], 0.5):.1f} ms "
                f"p99 {_percentile(side['region'], 0.99):.1f} ms; local disk used {side['disk']} B"
            )
        sent, requests, _ = bucket["first_sent"]
        print(
            f"bucket: first tile read {sent / 1000:.1f} kB in {requests} GETs "
            "(the TIFF structure, then the tile)"
        )
        sent, requests, seconds = bucket["sent"]
        count = len(bucket["tiles"])
        ratio = _percentile(bucket["cold"], 0.5) / _percentile(local["cold"], 0.5)
        server_ms = seconds / max(requests, 1) * 1000
        beyond = (_percentile(bucket["cold"], 0.5) - one_get_ms) / _percentile(local["cold"], 0.5)
        print(
            f"bucket: {sent / count / 1000:.1f} kB and {requests / count:.2f} GETs per cold tile; "
            f"stored tile {stored / 1000:.1f} kB compressed (ratio {sent / count / stored:.2f}, "
            "target <= 2); "
            f"cold tile p50 ratio bucket/local {ratio:.2f} "
            "(target <= 2); configured block cache: none (0 B)"
        )
        print(
            f"bucket: a cold tile's one GET costs {one_get_ms:.1f} ms from the client (the client line), "
            f"{server_ms:.1f} ms of it inside moto's WSGI app (mean); cold tile p50 less that GET, "
            f"ratio to local disk {beyond:.2f} (serving's own cost beyond the round trip)"
        )
        sent, requests, _ = cached["resent"]
        print(
            f"bucket + block cache of {args.cache_mb} MB: first tile {cached['first'] * 1000:.1f} ms; "
            f"cold tiles (filling it) p50 {_percentile(cached['cold'], 0.5):.1f} ms; hot re-read of the same "
            f"tiles by a fresh process p50 {_percentile(cached['rereads'], 0.5):.1f} ms "
            f"p99 {_percentile(cached['rereads'], 0.99):.1f} ms with {requests} GETs; "
            f"cache disk used {cached['blocks_du']} B (du) <= configured {configured} B: "
            f"{cached['blocks_du'] <= configured}"
        )
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
