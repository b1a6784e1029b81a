"""The production topology, run for real: gunicorn + Celery worker and beat on PostgreSQL,
RabbitMQ and Redis.

Uses the PostgreSQL (127.0.0.1:5432), RabbitMQ (127.0.0.1:5672, guest/guest: the
broker) and Redis (127.0.0.1:6379: the caches) already running on the machine. The
fixture creates a throw-away database and queue, runs migrations, starts a Celery
worker, Celery beat (the job reaper) and gunicorn as separate processes with
production settings, and tears everything down afterwards. Tests may replace the
worker (kill it whole, start another with other settings). With ``CI=true`` a
missing service fails the run; elsewhere the module is skipped with the reason.
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
RABBITMQ = ("127.0.0.1", 5672)
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
        for name, (host, port) in (("PostgreSQL", POSTGRES), ("RabbitMQ", RABBITMQ), ("Redis", REDIS))
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
    env: dict
    database: str
    queue: str
    port: int = 0
    worker: subprocess.Popen | None = None
    web: subprocess.Popen | None = None
    workers_started: int = 0
    webs_started: int = 0

    def start_web(self, **settings: str) -> subprocess.Popen:
        """gunicorn (2 workers) on ``self.port``, ``settings`` added to its env; returns once it answers.

        Celery puts a task's time limits in its message: the process that queues a job sets them.
        """
        self.webs_started += 1
        log = self.data_dir / "logs" / f"web-{self.webs_started}.log"
        with open(log, "wb") as out:
            web = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "project.wsgi",
                    f"--bind=127.0.0.1:{self.port}",
                    "--workers=2",
                    "--timeout=120",
                    "--log-level=warning",
                ],
                env={**self.env, **settings},
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.web = web
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.request("GET", "/api/v1/images")[0] == 200:
                    return web
            except OSError:
                pass
            assert web.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)

    def stop_web(self) -> None:
        if self.web is None or self.web.poll() is not None:
            return
        self.web.send_signal(signal.SIGTERM)
        try:
            self.web.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.web.kill()
            self.web.wait(timeout=10)

    def restart(self, **settings: str) -> None:
        """Web and worker again, with ``settings`` (none: the fixture's)."""
        self.stop_web()
        self.stop_worker()
        self.start_worker(**settings)
        self.start_web(**settings)

    def start_worker(self, **settings: str) -> subprocess.Popen:
        """A Celery worker (its own process group: parent and pool), ``settings`` added to its env.

        Returns once the worker says ``ready``; it replaces ``self.worker``.
        """
        self.workers_started += 1
        log = self.data_dir / "logs" / f"worker-{self.workers_started}.log"
        with open(log, "wb") as out:
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "project",
                    "worker",
                    "-Q",
                    self.queue,
                    "--concurrency=1",
                    "--loglevel=info",
                    f"--hostname=it-{self.workers_started}-{self.queue}@%h",
                    "--without-gossip",
                    "--without-mingle",
                ],
                env={**self.env, **settings},
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the worker and its pool in one process group
            )
        self.worker = worker
        deadline = time.monotonic() + 60
        while b"ready" not in log.read_bytes():
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.2)
        return worker

    def stop_worker(self) -> None:
        """Warm shutdown of the current worker (SIGTERM), SIGKILL of its group if it hangs."""
        if self.worker is None or self.worker.poll() is not None:
            return
        self.worker.send_signal(signal.SIGTERM)
        try:
            self.worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(timeout=10)

    def worker_log(self) -> bytes:
        return b"".join(p.read_bytes() for p in sorted((self.data_dir / "logs").glob("worker-*.log")))

    def row(self, image_id: int) -> dict:
        """The image's job columns, read from PostgreSQL (the API does not show attempts)."""
        import psycopg

        url = f"postgresql://postgres@{POSTGRES[0]}:{POSTGRES[1]}/{self.database}"
        with psycopg.connect(url) as connection:
            status, attempts, lease, error = connection.execute(
                "SELECT status, attempts, lease_expires, error FROM ingest_image WHERE id = %s", (image_id,)
            ).fetchone()
        return {"status": status, "attempts": attempts, "lease_expires": lease, "error": error}

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
        """GET as the uploader (the owner sees the webhook deliveries too)."""
        status, _, body = self.request("GET", path, headers={"Authorization": f"Token {self.token}"})
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
    import kombu
    import psycopg

    suffix = uuid.uuid4().hex[:10]
    database = f"depthtiles_it_{suffix}"
    queue = f"depthtiles-it-{suffix}"
    broker = f"amqp://guest:guest@{RABBITMQ[0]}:{RABBITMQ[1]}//"
    admin = psycopg.connect(f"postgresql://postgres@{POSTGRES[0]}:{POSTGRES[1]}/test", autocommit=True)
    admin.execute(f'CREATE DATABASE "{database}"')
    data_dir = tmp_path_factory.mktemp("stack")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings.production",
        "DJANGO_SECRET_KEY": "integration-" + suffix,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_DATABASE_URL": f"postgres://postgres@{POSTGRES[0]}:{POSTGRES[1]}/{database}",
        "DJANGO_CELERY_BROKER_URL": broker,
        "DJANGO_CELERY_QUEUE": queue,
        "DJANGO_CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_CACHE_URL": f"redis://{REDIS[0]}:{REDIS[1]}/1",
        "DJANGO_TILES_CACHE_URL": f"redis://{REDIS[0]}:{REDIS[1]}/2",
        "DJANGO_DATA_DIR": str(data_dir),
        "DJANGO_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DJANGO_WEBHOOK_BACKOFF_SECONDS": "0.2",
        "DJANGO_WEBHOOK_TIMEOUT_SECONDS": "2",
        "DJANGO_WEBHOOK_ALLOW_PRIVATE": "true",  # the test's receiver listens on 127.0.0.1
        "DJANGO_REAP_INTERVAL_SECONDS": "2",
    }
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=REPO, check=True)
    token = subprocess.run(
        [*manage, "createtoken", "integration"], env=env, cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    logs = data_dir / "logs"
    logs.mkdir()
    beat_log = open(logs / "beat.log", "wb")  # noqa: SIM115 (closed in teardown)
    stack = Stack(f"http://127.0.0.1:{(port := _free_port())}", token, data_dir, env, database, queue, port)
    beat = None
    try:
        stack.start_worker()
        beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "project",
                "beat",
                "--loglevel=info",
                "--schedule",
                str(data_dir / "celerybeat-schedule"),
            ],
            env=env,
            cwd=REPO,
            stdout=beat_log,
            stderr=subprocess.STDOUT,
        )
        stack.start_web()
        assert beat.poll() is None, (logs / "beat.log").read_text()
        yield stack
    finally:
        if beat is not None:
            beat.send_signal(signal.SIGTERM)
        stack.stop_web()
        stack.stop_worker()
        if beat is not None:
            try:
                beat.wait(timeout=20)
            except subprocess.TimeoutExpired:
                beat.kill()
        beat_log.close()
        with kombu.Connection(broker) as connection:
            connection.default_channel.queue_delete(queue)
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()


def test_stack_readyz_reaches_the_rabbitmq_broker(stack):
    status, _, body = stack.request("GET", "/readyz")
    assert status == 200, body
    assert stack.env["DJANGO_CELERY_BROKER_URL"].startswith("amqp://")


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
    assert [n for n in names if n.startswith((f"{body['id']}-", f".{body['id']}-"))] == [
        f"{body['id']}-{detail['sha256'][:16]}.tiff"
    ]
    scratch = stack.data_dir / "scratch"
    assert not scratch.exists() or list(scratch.iterdir()) == []
    assert b"WorkerLostError" in stack.worker_log()
    assert stack.row(body["id"])["attempts"] == 2
    status, _, _ = stack.request("GET", f"/api/v1/images/{body['id']}/tiles/0/0/0.png?palette=viridis")
    assert status == 200


def _alive_in_group(pgid: int) -> list[str]:
    """Processes of a process group that still run (zombies waiting to be reaped are dead)."""
    out = subprocess.run(["ps", "-e", "-o", "pgid=,stat=,pid="], capture_output=True, text=True).stdout
    return [
        pid
        for group, stat, pid in (line.split() for line in out.splitlines())
        if group == str(pgid) and stat[0] != "Z"
    ]


def _wait_running(stack: Stack, image_id: int, progress: float = 0.1) -> dict:
    deadline = time.monotonic() + 120
    while True:
        detail = stack.json(f"/api/v1/images/{image_id}")
        if detail["status"] == "running" and detail["progress"] >= progress:
            return detail
        assert detail["status"] in ("pending", "running"), detail
        assert time.monotonic() < deadline, detail
        time.sleep(0.05)


def test_stack_whole_worker_killed_resumes_on_a_fresh_worker_within_a_minute(stack, sample_csv, tmp_path):
    """SIGKILL of the worker's whole process group (an evicted pod, a dead machine), then a new worker."""
    csv_path = _long_log(tmp_path / "long.csv", sample_csv, copies=30)
    status, body = stack.upload(csv_path, name="evicted", force="true")
    assert status == 202
    _wait_running(stack, body["id"])
    assert stack.row(body["id"])["attempts"] == 1
    dead = stack.worker
    os.killpg(dead.pid, signal.SIGKILL)  # parent and pool at once: nobody rejects the message
    dead.wait(timeout=10)
    killed = time.monotonic()
    assert _alive_in_group(dead.pid) == [], "a process of the killed worker survived"
    assert stack.json(f"/api/v1/images/{body['id']}")["status"] == "running"
    stack.start_worker()
    # RabbitMQ handed the unacknowledged job back when the connection dropped; it resumes
    # as attempt 2 once the dead attempt's lease lapses (DJANGO_JOB_LEASE_SECONDS, 30 s).
    while (row := stack.row(body["id"]))["attempts"] < 2:
        assert time.monotonic() - killed < 60, f"not resumed within a minute: {row}"
        time.sleep(0.2)
    resumed_after = time.monotonic() - killed
    detail = stack.wait_for(body["id"], {"succeeded", "failed"}, timeout=180)
    assert detail["status"] == "succeeded", detail
    assert detail["rows"] == 30 * 5460
    assert stack.row(body["id"])["attempts"] == 2
    images_dir = stack.data_dir / "media" / "images"
    names = sorted(p.name for p in images_dir.iterdir())
    assert [n for n in names if n.startswith((f"{body['id']}-", f".{body['id']}-"))] == [
        f"{body['id']}-{detail['sha256'][:16]}.tiff"
    ]
    scratch = stack.data_dir / "scratch"
    assert not scratch.exists() or list(scratch.iterdir()) == []
    print(f"whole worker killed: job resumed after {resumed_after:.1f} s")


def test_stack_soft_time_limit_ends_the_job_failed_and_cleans_up(stack, sample_csv, tmp_path):
    stack.restart(DJANGO_INGEST_SOFT_TIME_LIMIT="1", DJANGO_INGEST_TIME_LIMIT="30")
    try:
        csv_path = _long_log(tmp_path / "long.csv", sample_csv, copies=30)
        status, body = stack.upload(csv_path, name="too slow", force="true")
        assert status == 202
        detail = stack.wait_for(body["id"], {"succeeded", "failed"}, timeout=60)
    finally:
        stack.restart()
    assert detail["status"] == "failed"
    assert detail["error"]["message"] == "the job ran longer than 1 s, the most the server allows one job"
    assert stack.row(body["id"])["lease_expires"] is None
    images_dir = stack.data_dir / "media" / "images"
    assert not [
        p.name for p in images_dir.iterdir() if p.name.startswith((f"{body['id']}-", f".{body['id']}-"))
    ]
    scratch = stack.data_dir / "scratch"
    assert not scratch.exists() or list(scratch.iterdir()) == []
    assert b"Soft time limit (1s) exceeded" in stack.worker_log()


def test_stack_job_that_kills_its_worker_every_time_ends_failed(stack, sample_csv, tmp_path):
    """Each attempt's process dies mid-job (SIGKILL, as the kernel's OOM killer does): the job is
    handed back and resumed each time, and the start after the third death ends it ``failed``."""
    stack.stop_worker()
    stack.start_worker(DJANGO_JOB_LEASE_SECONDS="3")
    try:
        csv_path = _long_log(tmp_path / "long.csv", sample_csv, copies=30)
        status, body = stack.upload(csv_path, name="killer", force="true")
        assert status == 202
        for attempt in (1, 2, 3):
            deadline = time.monotonic() + 60
            while not ((row := stack.row(body["id"]))["attempts"] == attempt and row["status"] == "running"):
                assert time.monotonic() < deadline, row
                time.sleep(0.1)
            time.sleep(0.5)  # mid-job
            children = stack.worker_children()
            assert children, "the worker has no pool process"
            for pid in children:
                os.kill(pid, signal.SIGKILL)
        detail = stack.wait_for(body["id"], {"succeeded", "failed"}, timeout=60)
    finally:
        stack.stop_worker()
        stack.start_worker()
    assert detail["status"] == "failed", detail
    assert detail["error"]["message"].startswith("the job killed its worker 3 times")
    row = stack.row(body["id"])
    assert (row["attempts"], row["lease_expires"]) == (3, None)
    assert stack.worker_log().count(b"WorkerLostError") >= 3
    images_dir = stack.data_dir / "media" / "images"
    assert not [
        p.name for p in images_dir.iterdir() if p.name.startswith((f"{body['id']}-", f".{body['id']}-"))
    ]
    # The beat sends the reaper (it resumes jobs whose message is gone, e.g. with Redis as broker).
    assert b"ingest.tasks.reap_jobs" in (stack.data_dir / "logs" / "beat.log").read_bytes()


def test_stack_job_whose_message_is_lost_is_resumed_by_the_reaper(stack, sample_csv, tmp_path):
    """The whole worker dies and its message is gone too (as with Redis as the broker, whose
    visibility timeout is an hour): beat's reaper sees the lapsed lease and queues the job again."""
    import kombu

    csv_path = _long_log(tmp_path / "long.csv", sample_csv, copies=30)
    status, body = stack.upload(csv_path, name="lost", force="true")
    assert status == 202
    _wait_running(stack, body["id"])
    dead = stack.worker
    os.killpg(dead.pid, signal.SIGKILL)
    dead.wait(timeout=10)
    killed = time.monotonic()
    with kombu.Connection(stack.env["DJANGO_CELERY_BROKER_URL"]) as connection:
        connection.default_channel.queue_purge(stack.queue)  # the redelivered message: lost
    stack.start_worker()
    while (row := stack.row(body["id"]))["attempts"] < 2:
        assert time.monotonic() - killed < 60, f"not resumed within a minute: {row}"
        time.sleep(0.2)
    detail = stack.wait_for(body["id"], {"succeeded", "failed"}, timeout=180)
    assert detail["status"] == "succeeded", detail
    assert detail["rows"] == 30 * 5460
    assert stack.row(body["id"])["attempts"] == 2
    assert f"reaper: Image resumed [{body['id']}]".encode() in stack.worker_log()
    scratch = stack.data_dir / "scratch"
    assert not scratch.exists() or list(scratch.iterdir()) == []
