"""The production topology, run for real: gunicorn + a Celery worker on PostgreSQL and Redis.

Uses the PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) already running on
the machine. The fixture creates a throw-away database and queue, runs migrations,
starts a Celery worker and gunicorn as separate processes with production
settings, and tears everything down afterwards. With ``CI=true`` a missing
service fails the run; elsewhere the module is skipped with the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

REPO = Path(__file__).resolve().parents[2]
POSTGRES = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)
WEBHOOK_SECRET = "integration-secret"

pytestmark = pytest.mark.integration


def _reachable(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=2):
            return True
    except OSError:
        return False


def _require_services() -> None:
    missing = [
        f"{name} on {host}:{port}"
        for name, (host, port) in (("PostgreSQL", POSTGRES), ("Redis", REDIS))
        if not _reachable((host, port))
    ]
    if missing:
        message = f"integration services not reachable: {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: they must run)")
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    base_url: str
    token: str
    data_dir: Path
    worker: subprocess.Popen
    web: subprocess.Popen

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(
            self.base_url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def json(self, path: str) -> dict:
        status, _, body = self.request("GET", path)
        assert status == 200, body
        return json.loads(body)

    def upload(self, path: Path, **fields: str):
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f"Content-Type: text/csv\r\n\r\n".encode()
        )
        parts.append(path.read_bytes())
        parts.append(f"\r\n--{boundary}--\r\n".encode())
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Token {self.token}",
        }
        status, _, body = self.request("POST", "/api/v1/images", b"".join(parts), headers)
        return status, json.loads(body)

    def wait_for(self, image_id: int, statuses: set[str], timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            detail = self.json(f"/api/v1/images/{image_id}")
            if detail["status"] in statuses:
                return detail
            time.sleep(0.2)
        raise AssertionError(f"image {image_id} did not reach {statuses}: {detail}")

    def worker_children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.worker.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    _require_services()
    import psycopg
    import redis

    suffix = uuid.uuid4().hex[:10]
    database = f"depthtiles_it_{suffix}"
    queue = f"depthtiles-it-{suffix}"
    admin = psycopg.connect(f"postgresql://postgres@{POSTGRES[0]}:{POSTGRES[1]}/test", autocommit=True)
    admin.execute(f'CREATE DATABASE "{database}"')
    data_dir = tmp_path_factory.mktemp("stack")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings.production",
        "DJANGO_SECRET_KEY": "integration-" + suffix,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_DATABASE_URL": f"postgres://postgres@{POSTGRES[0]}:{POSTGRES[1]}/{database}",
        "DJANGO_CELERY_BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
        "DJANGO_CELERY_QUEUE": queue,
        "DJANGO_CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_CACHE_URL": f"redis://{REDIS[0]}:{REDIS[1]}/1",
        "DJANGO_TILES_CACHE_URL": f"redis://{REDIS[0]}:{REDIS[1]}/2",
        "DJANGO_DATA_DIR": str(data_dir),
        "DJANGO_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DJANGO_WEBHOOK_BACKOFF_SECONDS": "0.2",
        "DJANGO_WEBHOOK_TIMEOUT_SECONDS": "2",
        "DJANGO_WEBHOOK_ALLOW_PRIVATE": "true",  # the test's receiver listens on 127.0.0.1
    }
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=REPO, check=True)
    token = subprocess.run(
        [*manage, "createtoken", "integration"], env=env, cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    logs = data_dir / "logs"
    logs.mkdir()
    worker_log = open(logs / "worker.log", "wb")  # noqa: SIM115 (closed in teardown)
    web_log = open(logs / "web.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "project",
            "worker",
            "-Q",
            queue,
            "--concurrency=1",
            "--loglevel=info",
            f"--hostname=it-{suffix}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=REPO,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    port = _free_port()
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "project.wsgi",
            f"--bind=127.0.0.1:{port}",
            "--workers=2",
            "--timeout=120",
            "--log-level=warning",
        ],
        env=env,
        cwd=REPO,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    stack = Stack(f"http://127.0.0.1:{port}", token, data_dir, worker, web)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if (
                    stack.request("GET", "/api/v1/images")[0] == 200
                    and b"ready" in (logs / "worker.log").read_bytes()
                ):
                    break
            except OSError:
                pass
            assert worker.poll() is None, (logs / "worker.log").read_text()
            assert web.poll() is None, (logs / "web.log").read_text()
            assert time.monotonic() < deadline, "the stack did not start"
            time.sleep(0.3)
        yield stack
    finally:
        for proc in (web, worker):
            proc.send_signal(signal.SIGTERM)
        for proc in (web, worker):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        worker_log.close()
        web_log.close()
        redis.Redis(host=REDIS[0], port=REDIS[1], db=0).delete(queue)
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()


def test_stack_upload_poll_and_serve_tile(stack, sample_csv, sample_reference):
    _, values = sample_reference
    status, body = stack.upload(sample_csv, name="well A", depth_unit="m")
    assert status == 202
    assert body["status"] in ("pending", "running")  # the worker runs it, not the request
    detail = stack.wait_for(body["id"], {"succeeded", "failed"})
    assert detail["status"] == "succeeded", detail
    assert detail["progress"] == 1.0 and detail["rows"] == 5460 and detail["rows_dropped"] == 1
    assert detail["duration"] > 0
    status, headers, tile = stack.request("GET", f"/api/v1/images/{body['id']}/tiles/5/0/2.png")
    assert status == 200 and headers["Content-Type"] == "image/png"
    pixels = np.asarray(PILImage.open(io.BytesIO(tile)).convert("LA"))
    np.testing.assert_array_equal(pixels[:, :200, 0], values[512:768])
    # Served again from the Redis tile cache shared by both gunicorn workers.
    for _ in range(4):
        again = stack.request("GET", f"/api/v1/images/{body['id']}/tiles/5/0/2.png")
        assert again[2] == tile and again[1]["ETag"] == headers["ETag"]
    status, headers, region = stack.request(
        "GET", f"/api/v1/images/{body['id']}/data/region.png?depth_min=9100&depth_max=9110"
    )
    assert status == 200
    assert np.asarray(PILImage.open(io.BytesIO(region))).shape[:2] == (101, 200)


def test_stack_webhook_is_signed_and_retried(stack, write_csv):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(500 if len(received) == 1 else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        status, body = stack.upload(write_csv(["depth,col1,col2", "1.0,1,2", "1.1,3,4"]), webhook_url=url)
        assert status == 202
        deadline = time.monotonic() + 30
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 2
    headers, raw = received[1]
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Signature-256"], expected)
    assert json.loads(raw)["status"] == "succeeded"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        deliveries = stack.json(f"/api/v1/images/{body['id']}")["webhook_deliveries"]
        if len(deliveries) == 2:
            break
        time.sleep(0.1)
    assert [(d["attempt"], d["status_code"], d["delivered"]) for d in deliveries] == [
        (1, 500, False),
        (2, 204, True),
    ]


def _long_log(path: Path, sample_csv: Path, copies: int) -> Path:
    """The sample's scanlines repeated ``copies`` times with continuing depths."""
    lines = sample_csv.read_text().splitlines()
    header, rows = lines[0], [line.split(",", 1)[1] for line in lines[1:] if not line.startswith(",")]
    with open(path, "w", newline="") as f:
        f.write(header + "\r\n")
        index = 0
        for _ in range(copies):
            for rest in rows:
                f.write(f"{1000 + index * 0.1:.1f},{rest}\r\n")
                index += 1
    return path


def test_stack_worker_killed_mid_job_leaves_no_tiff_and_job_reruns(stack, sample_csv, tmp_path):
    csv_path = _long_log(tmp_path / "long.csv", sample_csv, copies=30)  # 163,800 scanlines, 131 MB
    status, body = stack.upload(csv_path, name="long")
    assert status == 202
    deadline = time.monotonic() + 120
    while True:
        detail = stack.json(f"/api/v1/images/{body['id']}")
        if detail["status"] == "running" and detail["progress"] >= 0.1:
            break
        assert detail["status"] in ("pending", "running"), detail
        assert time.monotonic() < deadline, detail
        time.sleep(0.05)
    children = stack.worker_children()
    assert children, "the worker has no pool process"
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    images_dir = stack.data_dir / "media" / "images"
    visible = sorted(p.name for p in images_dir.glob("*.tiff")) if images_dir.exists() else []
    assert not any(name.startswith(f"{body['id']}-") for name in visible), visible
    # The pool process died: acks_late + reject_on_worker_lost put the job back; it runs again.
    detail = stack.wait_for(body["id"], {"succeeded", "failed"}, timeout=180)
    assert detail["status"] == "succeeded", detail
    assert detail["rows"] == 30 * 5460
    names = sorted(p.name for p in images_dir.iterdir())
    assert [n for n in names if n.startswith(f"{body['id']}-") or n.startswith(f".{body['id']}.")] == [
        f"{body['id']}-{detail['sha256'][:16]}.tiff"
    ]
    scratch = stack.data_dir / "scratch"
    assert not scratch.exists() or list(scratch.iterdir()) == []
    assert b"WorkerLostError" in (stack.data_dir / "logs" / "worker.log").read_bytes()
    status, _, _ = stack.request("GET", f"/api/v1/images/{body['id']}/tiles/0/0/0.png?palette=viridis")
    assert status == 200
