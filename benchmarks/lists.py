"""Lists and details with 10,000 images in PostgreSQL (issue 16, "Many images").

``python -m benchmarks.lists`` creates a scratch database (``bench_lists`` on
127.0.0.1:5432, dropped afterwards), migrates it, bulk-creates 20 users, 200
wells (5 curves each) and 10,000 images (50 a well, 70 % public, names
``<field> well-<n> run <k> <tool>``), then starts gunicorn with the production settings
(``DEBUG`` off, tasks eager, throttles off) and prints p50/p95 of:

* the first page of ``/api/v1/images`` (50 rows), anonymous and with a token;
* filtered pages (``status``, ``name``, ``well``) and an owner's own view
  (``?owner=<them>`` with their token: their private images too);
* the details ``/api/v1/images/{id}`` and ``/api/v1/wells/{id}`` (its 50 images, 5 curves);

once with the production settings and once with :mod:`benchmarks.lists_settings`
(persistent connections set explicitly). Then the same requests in-process
(:func:`breakdown`: wall, this process's CPU, database time and queries of
each, figures that the machine's other load disturbs less), the cost of the
list's count, and ``EXPLAIN`` of each list query, to show which index it uses.
Target (issue 16): p50 < 20 ms. A benchmark, not a test: it prints figures and exits 0.

:func:`seed` and :func:`plans` are shared with
``tests/integration/test_lists_plans.py``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
POSTGRES = "postgres://postgres@127.0.0.1:5432"
TOOLS = ("FMI", "UBI", "OBMI", "CAST", "STAR")
FIELDS = ("Brent", "Troll", "Johan Sverdrup", "Ekofisk", "Forties", "Statfjord", "Gullfaks", "Oseberg")


def seed(*, users: int = 20, wells: int = 200, images: int = 10_000, curves: int = 5) -> dict:
    """Bulk-create users, wells, curves and images in the configured database (Django set up).

    Every ``wells // users``-th well belongs to one user; a well's images are its
    owner's, 70 % public (by id), newest image last created; statuses mostly
    ``succeeded`` (1 in 50 ``failed``, 1 in 100 ``pending``). ``created`` is spread
    one minute apart, so the order ``-created, -id`` is that of real uploads.

    Returns:
        ``{"users": [username...], "tokens": {username: key}, "wells": [id...], "images": [id...]}``
    """
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from knox.models import AuthToken

    from ingest.models import Curve, Image, Well

    with transaction.atomic():
        people = User.objects.bulk_create([User(username=f"user{u:02d}") for u in range(users)])
        User.objects.create(username="staff", is_staff=True)
        tokens = {person.username: AuthToken.objects.create(user=person)[1] for person in people}
        rows = Well.objects.bulk_create(
            [
                Well(
                    name=f"well-{w:03d}",
                    owner=people[w % users],
                    public=w % 10 < 7,
                    format=Well.Format.LAS,
                    status=Well.Status.SUCCEEDED,
                    sha256=f"{w:064x}",
                    well_name=f"WELL {w}",
                    start=1000.0,
                    stop=3000.0,
                    step=0.1,
                )
                for w in range(wells)
            ]
        )
        Curve.objects.bulk_create(
            [
                Curve(well=well, mnemonic=mnemonic, samples=20_000, depth_min=1000.0, depth_max=3000.0)
                for well in rows
                for mnemonic in ("GR", "CALI", "RHOB", "NPHI", "DT")[:curves]
            ]
        )
        per_well = images // wells
        made = Image.objects.bulk_create(
            [
                Image(
                    name=f"{FIELDS[w % len(FIELDS)]} well-{w:03d} run {k} {TOOLS[k % len(TOOLS)]}",
                    owner=well.owner,
                    well=well,
                    public=(w * per_well + k) % 10 < 7,
                    status=_status(w * per_well + k),
                    sha256=f"{w * per_well + k:064x}",
                    depth_min=1000.0,
                    depth_max=3000.0,
                    depth_step=0.1,
                    rows=20_001,
                    columns=360,
                    levels=8,
                    dtype="uint8",
                )
                for w, well in enumerate(rows)
                for k in range(per_well)
            ]
        )
        with connection.cursor() as cursor:
            for table in ("ingest_image", "ingest_well"):
                cursor.execute(
                    f"UPDATE {table} SET created = created - (%s - id) * interval '1 minute'",  # noqa: S608
                    [len(made) + len(rows)],
                )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # statistics, and the GIN indexes' pending lists merged
    return {
        "users": [person.username for person in people],
        "tokens": tokens,
        "wells": [well.pk for well in rows],
        "images": [image.pk for image in made],
    }


def _status(n: int) -> str:
    from ingest.models import Image

    if n % 100 == 1:
        return Image.Status.PENDING
    if n % 50 == 3:
        return Image.Status.FAILED
    return Image.Status.SUCCEEDED


#: The list queries whose plans are read: name -> (kind, user or None, filters).
LIST_QUERIES: dict[str, tuple[str, str | None, dict]] = {
    "images, anonymous": ("images", None, {}),
    "images, signed in": ("images", "user03", {}),
    "images, owner=self": ("images", "user03", {"owner": "user03"}),
    "images, well": ("images", "user03", {"well": "<well>"}),
    "images, status=failed": ("images", None, {"status": "failed"}),
    "images, name (rare)": ("images", None, {"name": "ekofisk well-123"}),
    "images, name (common)": ("images", None, {"name": "troll"}),
    "images, staff, name (rare)": ("images", "staff", {"name": "ekofisk well-123"}),
    "wells, signed in": ("wells", "user03", {}),
    "wells, owner": ("wells", None, {"owner": "user05"}),
}


def plans(well_id: int) -> dict[str, str]:
    """``EXPLAIN`` (text) of the first page (50 rows) of each list in :data:`LIST_QUERIES`, and of its count.

    Django set up on PostgreSQL, :func:`seed` run. The querysets are those the API
    runs (:func:`ingest.selectors.image_list` / :func:`~ingest.selectors.well_list`);
    ``"<label>, count"`` holds the plans of ``count(*)`` of each part the
    pagination counts (:func:`ingest.selectors.visible_count_parts`), one after the other.

    Args:
        well_id: the well of the ``well`` filter.
    """
    from django.contrib.auth.models import User
    from django.db import connection

    from ingest.selectors import image_list, visible_count_parts, well_list

    found = {}
    for label, (kind, username, filters) in LIST_QUERIES.items():
        user = User.objects.get(username=username) if username else None
        query = {key: (well_id if value == "<well>" else value) for key, value in filters.items()}
        rows = (image_list if kind == "images" else well_list)(user=user, **query)
        found[label] = rows[:50].explain()
        counts = []
        for part in visible_count_parts(rows, user):
            sql, params = part.order_by().values("pk").query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN SELECT COUNT(*) FROM ({sql}) AS counted", params)  # noqa: S608
                counts.append("\n".join(line for (line,) in cursor.fetchall()))
        found[f"{label}, count"] = "\n".join(counts)
    return found


def count_cost(repeat: int = 50) -> dict[str, float]:
    """Median ms of the images list's count, in-process: as the API counts it, and one ``count(*)``.

    The API counts a signed-in user's list in two parts (:func:`ingest.selectors.visible_count`);
    ``count(*)`` of ``public OR owner`` is the single query it replaces.
    """
    from django.contrib.auth.models import User

    from ingest.selectors import image_list, visible_count

    found = {}
    signed_in = User.objects.get(username="user03")
    for label, user, count in (
        ("anonymous", None, visible_count),
        ("signed in", signed_in, visible_count),
        ("signed in, one count(*)", signed_in, lambda rows, _user: rows.count()),
    ):
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            count(image_list(user=user), user)
            times.append((time.perf_counter() - began) * 1000)
        found[label] = statistics.median(times)
    return found


def breakdown(data: dict, repeat: int) -> list[tuple[str, float, float, float, int]]:
    """Each request of :func:`requests` answered in-process (Django's test client, no HTTP, no gunicorn).

    Returns:
        ``(label, wall ms, process CPU ms, database ms, queries)`` per request, medians of
        ``repeat`` runs: the CPU time is this process's alone (not the machine's other
        load); the database time is the wall time of the queries (sent, run, read).
    """
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    found = []
    for label, path, token in requests(data):
        headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
        statuses = {client.get(path, **headers).status_code for _ in range(3)}
        if statuses != {200}:
            raise RuntimeError(f"{path}: {statuses}")
        walls, cpus, databases, counts = [], [], [], []
        for _ in range(repeat):
            queries: list[float] = []
            wall, cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(_Timed(queries)):
                client.get(path, **headers)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            databases.append(sum(queries) * 1000)
            counts.append(len(queries))
        found.append(
            (
                label,
                statistics.median(walls),
                statistics.median(cpus),
                statistics.median(databases),
                max(counts),
            )
        )
    return found


class _Timed:
    """A database execute wrapper that appends each query's wall time (s) to ``queries``."""

    def __init__(self, queries: list[float]) -> None:
        self.queries = queries

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append(time.perf_counter() - began)


def print_breakdown(data: dict, repeat: int) -> None:
    """Print :func:`breakdown`."""
    print(f"-- in-process (test client, persistent connection): medians of {repeat} requests")
    for label, wall, cpu, database, queries in breakdown(data, repeat):
        print(f"{label:48s} {wall:6.1f} ms  cpu {cpu:5.1f} ms  db {database:5.1f} ms in {queries} queries")


def create_database(name: str):
    """Drop and create the scratch database ``name``; returns an admin connection (autocommit) to ``test``."""
    import psycopg

    admin = psycopg.connect(f"{POSTGRES}/test", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    return admin


def settings_env(database: str, data_dir: Path) -> dict[str, str]:
    """The production settings' environment on the scratch database (tasks eager, throttles off)."""
    return {
        "DJANGO_SETTINGS_MODULE": "project.settings.production",
        "DJANGO_SECRET_KEY": "benchmark-only-lists",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_DATABASE_URL": f"{POSTGRES}/{database}",
        "DJANGO_CELERY_TASK_ALWAYS_EAGER": "true",
        "DJANGO_THROTTLE_ANON": "",
        "DJANGO_THROTTLE_USER": "",
        "DJANGO_DATA_DIR": str(data_dir),
    }


def _get(port: int, path: str, token: str | None) -> tuple[float, int]:
    headers = {"Authorization": f"Token {token}"} if token else {}
    began = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return time.perf_counter() - began, response.status


def measure(port: int, path: str, token: str | None, repeat: int) -> tuple[float, float, int]:
    """p50 and p95 (ms) of ``repeat`` sequential GETs of ``path`` (fresh connections), and non-200s."""
    for _ in range(5):  # warm both workers (imports, first connection)
        _get(port, path, token)
    times, errors = [], 0
    for _ in range(repeat):
        seconds, status = _get(port, path, token)
        times.append(seconds * 1000)
        errors += status != 200
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))], errors


def requests(data: dict) -> list[tuple[str, str, str | None]]:
    """(label, path, token) of every figure."""
    owner = "user03"
    token = data["tokens"][owner]
    well = data["wells"][3]  # user03's well
    image = data["images"][len(data["images"]) // 2]
    return [
        ("images list, anonymous", "/api/v1/images", None),
        ("images list, token", "/api/v1/images", token),
        ("images ?status=failed, anonymous", "/api/v1/images?status=failed", None),
        ("images ?name=troll, token", "/api/v1/images?name=troll", token),
        ("images ?name=ekofisk well-123, anonymous", "/api/v1/images?name=ekofisk%20well-123", None),
        ("images ?well=<id>, token", f"/api/v1/images?well={well}", token),
        ("images ?owner=self (private too), token", f"/api/v1/images?owner={owner}", token),
        ("image detail, anonymous", f"/api/v1/images/{image}", None),
        ("image detail, token", f"/api/v1/images/{image}", token),
        ("wells list, anonymous", "/api/v1/wells?limit=10", None),
        ("well detail (50 images, 5 curves), anonymous", f"/api/v1/wells/{data['wells'][0]}", None),
        ("well detail (50 images, 5 curves), token", f"/api/v1/wells/{well}", token),
    ]


def main() -> None:
    """Create and seed the scratch database, serve it, print the figures and plans, drop it.

    ``--plans-only``: seed, print the plans (:func:`plans`) as JSON, drop the database.
    ``--in-process-only``: seed, print :func:`breakdown` (no gunicorn), drop the database.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--wells", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--database", default="bench_lists")
    parser.add_argument("--plans-only", action="store_true", help="print the plans as JSON, no server")
    parser.add_argument(
        "--in-process-only", action="store_true", help="only the in-process breakdown, no gunicorn, no plans"
    )
    args = parser.parse_args()

    admin = create_database(args.database)
    scratch = Path(tempfile.mkdtemp(prefix="depthtiles-bench-lists-"))
    env = {**os.environ, **settings_env(args.database, scratch)}
    try:
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        began = time.perf_counter()
        data = seed(wells=args.wells, images=args.images)
        seeded = time.perf_counter() - began
        well = data["wells"][3]
        if args.plans_only:
            print(json.dumps(plans(well)))
            return
        print(
            f"seeded {len(data['images'])} images, {len(data['wells'])} wells, "
            f"{len(data['users'])} users in {seeded:.1f} s"
        )
        if args.in_process_only:
            print_breakdown(data, args.repeat)
            return
        serve(env, data, args.repeat)
        print_breakdown(data, min(args.repeat, 50))
        counts = count_cost()
        print(
            "pagination count of the images list, in-process median: "
            + ", ".join(f"{label} {ms:.2f} ms" for label, ms in counts.items())
        )
        print("-- EXPLAIN of the first page of each list (PostgreSQL, the seeded rows)")
        for label, plan in plans(well).items():
            print(f"{label}:\n    " + plan.replace("\n", "\n    "))
    finally:
        from django.db import connections

        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.close()
        shutil.rmtree(scratch, ignore_errors=True)


def serve(env: dict[str, str], data: dict, repeat: int) -> None:
    """Gunicorn (2 sync workers) with the production settings, then with persistent connections: figures."""
    from benchmarks.serve import Server

    for settings in ("project.settings.production", "benchmarks.lists_settings"):
        server = Server({**env, "DJANGO_SETTINGS_MODULE": settings}, 2, ready_path="/api/v1/images")
        try:
            print(f"-- gunicorn, 2 sync workers, {settings}: p50 / p95 of {repeat} sequential requests")
            for label, path, token in requests(data):
                p50, p95, errors = measure(server.port, path, token, repeat)
                flag = "" if errors == 0 else f"  ({errors} not 200)"
                print(f"{label:48s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms{flag}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
