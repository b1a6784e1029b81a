"""Shared fixtures: the real sample log, a reference parse of it, small CSV factories."""

from __future__ import annotations

import contextlib
import csv
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_CSV = (REPO / "samples" / "img.csv").resolve()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(args: list[str], *, env: dict, base: str, log_path: Path) -> Iterator[subprocess.Popen]:
    """Run ``python -m gunicorn project.wsgi ARGS`` from the repository until ``/healthz`` answers.

    Args:
        args: gunicorn's arguments after ``project.wsgi`` (``--bind`` included).
        env: the server's environment (name its settings module).
        base: the server's URL, e.g. ``http://127.0.0.1:PORT``.
        log_path: where its output goes (quoted in the failure if it does not start).

    Yields:
        The process; it is terminated (killed after 20 s) on exit.
    """
    python = str(REPO / ".venv" / "bin" / "python")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [python, "-m", "gunicorn", "project.wsgi", *args],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("gunicorn did not start: " + log_path.read_text()[-2000:])
                    time.sleep(0.2)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def sample_csv() -> Path:
    """The real image log: 5,460 scanlines + one empty line, 200 columns, CRLF."""
    assert SAMPLE_CSV.is_file(), f"the sample log is missing: {SAMPLE_CSV}"
    return SAMPLE_CSV


@pytest.fixture(scope="session")
def sample_reference(sample_csv) -> tuple[np.ndarray, np.ndarray]:
    """An independent parse of the sample with the ``csv`` module.

    Returns:
        (depth ``(5460,) float64``, values ``(5460, 200) uint8``), rows with a depth only.
    """
    depths, rows = [], []
    with open(sample_csv, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        order = sorted(range(1, len(header)), key=lambda i: int(header[i][3:]))
        for row in reader:
            if not row[0].strip():
                continue
            depths.append(float(row[0]))
            rows.append([int(row[i]) for i in order])
    return np.array(depths), np.array(rows, dtype=np.uint8)


@pytest.fixture
def sample_image(db, sample_csv):
    """The sample log ingested in-process (status succeeded)."""
    from ingest.services import image_create_from_path, image_ingest

    image, _ = image_create_from_path(path=sample_csv, name="sample", queue=False)
    image = image_ingest(image_id=image.pk)
    assert image.status == "succeeded", image.error
    return image


@pytest.fixture
def write_csv(tmp_path):
    """Write a small CSV from text lines; returns its path."""
    counter = iter(range(10_000))

    def write(lines: list[str], *, newline: str = "\n", name: str | None = None) -> Path:
        path = tmp_path / (name or f"log-{next(counter)}.csv")
        path.write_bytes(newline.join(lines).encode() + newline.encode())
        return path

    return write


def media_files(settings) -> list[Path]:
    """Every file under MEDIA_ROOT (uploads and pyramids)."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture(autouse=True)
def isolated_media(settings, tmp_path):
    """Each test gets its own MEDIA_ROOT and scratch space, so file assertions are exact."""
    settings.MEDIA_ROOT = (tmp_path / "media").resolve()
    settings.DATA_DIR = (tmp_path / "data").resolve()
    settings.DATA_TEMP_DIR = str(tmp_path / "data" / "tmp")


@pytest.fixture(autouse=True)
def empty_tiles_cache():
    """Rendered outputs, cached image rows and image sources do not leak from one test to the next.

    (:func:`tiles.source.forget` runs at commit, which never comes in a rolled-back
    test, and SQLite reuses the ids of rolled-back rows.)
    """
    from django.core.cache import caches

    from tiles.source import forget_all

    caches["tiles"].clear()
    forget_all()
    yield
    caches["tiles"].clear()
    forget_all()


def make_token(username: str, **fields) -> str:
    """A new API token (knox) of the user ``username``, created with ``fields`` if missing.

    Returns:
        The key, to send as ``Authorization: Token <key>``.
    """
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken

    user, _ = get_user_model().objects.get_or_create(username=username, defaults=fields)
    return AuthToken.objects.create(user=user)[1]


@pytest.fixture
def api_token(db) -> str:
    """A write token (``Authorization: Token <key>``) of a user made for the test (``uploader``)."""
    return make_token("uploader")


@pytest.fixture
def client(api_token):
    """Django's test client carrying a write token. Anonymous requests: ``anonymous_client``."""
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Token {api_token}")


@pytest.fixture
def anonymous_client():
    """A test client without credentials."""
    from django.test import Client

    return Client()


@pytest.fixture
def people(db):
    """Test clients of three users and of nobody, for the owner and visibility tests.

    ``alice`` uploads (the owner), ``bob`` is another user, ``staff`` has ``is_staff``;
    each sends a knox token. ``anonymous`` sends nothing.
    """
    from types import SimpleNamespace

    from django.test import Client

    def token_client(username: str, **fields) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Token {make_token(username, **fields)}")

    return SimpleNamespace(
        alice=token_client("alice"),
        bob=token_client("bob"),
        staff=token_client("staff", is_staff=True),
        anonymous=Client(),
    )


@pytest.fixture
def small_csv(write_csv):
    """A 600-scanline, 16-column log with known values: row r, column c holds ``(r + 3 c) % 256``."""
    lines = ["depth," + ",".join(f"col{c + 1}" for c in range(16))]
    lines += [
        f"{1000 + r * 0.5:g}," + ",".join(str((r + 3 * c) % 256) for c in range(16)) for r in range(600)
    ]
    return write_csv(lines, name="small.csv")
