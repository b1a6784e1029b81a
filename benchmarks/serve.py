"""Serving benchmark: our viewset against stock django-large-image, in one run.

``make bench-serve`` (or ``python -m benchmarks.serve``) ingests the real log
into a scratch data directory, then for each side starts gunicorn with the same
settings (2 sync workers, one per core) on 127.0.0.1, drives it with a bounded
load (4 client processes, a fixed list of requests each) and prints one line per
figure: ours, the baseline, and the ratio. Cold figures use requests no cache has
seen (distinct tiles and styles); warm figures repeat requests already answered.
The floor is a Django view returning a fixed 30 kB body on the same server.

Normalisation (issue 14): on our side, cold ``normalize=dynamic`` tiles (the same
tiles as the cold ones, a 2-unit window: 10 rows each side on the sample) against
the plain cold tiles (target: within 3x); then, on a generated large log
(``--large-rows`` x 360, :mod:`benchmarks.gen_csv`, 0.6 m window = 120 rows each
side at full resolution), cold plain against cold dynamic full-resolution tiles,
and the first static tile of full resolution, which pays the level's one-time
histogram pass (each worker process its own: the embedded tiles cache is per
process), extrapolated linearly to 2,000,000 rows.

This is a benchmark, not a test: it prints ratios measured in one run and exits
0 whatever they are.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "img.csv"
PYTHON = sys.executable


@dataclass
class Figure:
    """Throughput and latency of one batch of requests."""

    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _client(port: int, paths: list[str], start: float, out) -> None:
    """Send ``paths`` one at a time over fresh connections; report latencies and non-200s.

    Raw sockets with the requests built in advance, not ``http.client``: the
    client processes share the two cores with the server, so the less they
    spend per request, the more the figures measure the server.
    """
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode() for path in paths
    ]
    while time.time() < start:
        time.sleep(0.001)
    latencies, errors = [], 0
    for request in requests:
        began = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
            connection.sendall(request)
            first = connection.recv(65536)
            while connection.recv(262144):  # the server closes the connection after the body
                pass
        latencies.append(time.perf_counter() - began)
        if first[9:12] != b"200":
            errors += 1
    out.put((latencies, errors))


def drive(port: int, paths: list[str], clients: int) -> Figure:
    """Send ``paths`` with ``clients`` concurrent processes; each takes every n-th path."""
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    start = time.time() + 0.2
    procs = [
        context.Process(target=_client, args=(port, paths[i::clients], start, out)) for i in range(clients)
    ]
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    ended = time.time()
    for proc in procs:
        proc.join()
    latencies = [value for part, _ in results for value in part]
    return Figure(len(paths), ended - start, latencies, sum(errors for _, errors in results))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1 (sync workers), started and waited for until ``ready_path`` answers 200.

    Args:
        env: the server's environment.
        workers: sync worker processes.
        ready_path: a GET that answers 200 once the server is up.
        extra_args: more gunicorn arguments (e.g. ``--timeout=120``).
        log: a file for gunicorn's output (default: this process's).
    """

    def __init__(
        self,
        env: dict[str, str],
        workers: int,
        *,
        ready_path: str = "/bench/floor",
        extra_args: tuple[str, ...] = (),
        log: Path | None = None,
    ):
        self.port = _free_port()
        self.log = open(log, "wb") if log else None  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "project.wsgi",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={workers}",
                "--worker-class=sync",
                "--log-level=warning",
                *extra_args,
            ],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT if self.log else None,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", ready_path)
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start" + (f"; see {log}" if log else ""))

    def stop(self) -> None:
        """Stop gunicorn (SIGTERM, as a supervisor would) and close its log."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        if self.log:
            self.log.close()


def request_sets(image_ids: list[int], side: str) -> dict[str, list[str]]:
    """The requests of each figure for one side; both sides ask for the same pixels.

    Cold requests are distinct tiles (every tile of three levels of every copy of
    the log) in one style, as a viewer panning new ground asks for them.
    """
    ours = side == "ours"
    prefix = "/api/v1/images" if ours else "/baseline/images"
    colour = "palette=viridis" if ours else "band=1&palette=viridis"
    tiles = [(5, y) for y in range(22)] + [(4, y) for y in range(11)] + [(3, y) for y in range(6)]
    cold = [f"{prefix}/{i}/tiles/{z}/0/{y}.png?{colour}" for i in image_ids for z, y in tiles]
    warm = cold[:100] * 12
    regions = []
    for k in range(120):
        image, top = image_ids[k % len(image_ids)], (k * 70) % 4400
        if ours:
            low = 9000.1 + top * 0.1
            regions.append(
                f"{prefix}/{image}/data/region.png?depth_min={low:.1f}&depth_max={low + 99.9:.1f}&{colour}"
            )
        else:
            regions.append(
                f"{prefix}/{image}/data/region.png?left=0&right=200&top={top}&bottom={top + 1000}"
                f"&units=pixels&{colour}"
            )
    strips = []
    for k in range(160):
        image, height = image_ids[k % len(image_ids)], 600 + k
        size = f"width=48&height={height}" if ours else f"max_width=48&max_height={height}"
        strips.append(f"{prefix}/{image}/data/thumbnail.png?{size}&{colour}")
    sets = {"cold": cold, "warm": warm, "region": regions, "strip": strips}
    if ours:  # the same cold tiles, dynamically normalised (distinct keys: cold too)
        sets["dynamic"] = [f"{path}&normalize=dynamic&window=2" for path in cold]
    return sets


#: Tile rows of the large log's full-resolution level asked for (x 2 columns of tiles).
LARGE_TILE_ROWS = 150


def large_log_figures(port: int, image_id: int, rows: int, clients: int) -> dict[str, object]:
    """Cold plain, dynamic and static full-resolution tiles of the generated large log.

    The static figure first times one request alone: it pays the level-0 histogram
    pass (then each worker holds the histogram), then a second one (the other worker).
    """
    from tiles.core.pyramid import zoom_levels  # pure modules: no Django here

    z = zoom_levels(360, rows) - 1
    base = f"/api/v1/images/{image_id}/tiles/{z}"
    tiles = [(x, y) for y in range(10, 10 + LARGE_TILE_ROWS) for x in (0, 1)]
    plain = [f"{base}/{x}/{y}.png?palette=viridis" for x, y in tiles]
    drive(port, plain[:20], clients)  # the code paths, warmed
    drive(port, [f"{path}&normalize=dynamic" for path in plain[:20]], clients)
    figures: dict[str, object] = {
        "plain": drive(port, plain[20:], clients),
        "dynamic": drive(port, [f"{path}&normalize=dynamic" for path in plain[20:]], clients),
    }
    passes = []
    for y in (1, 2):
        began = time.perf_counter()
        drive(port, [f"{base}/0/{y}.png?palette=viridis&normalize=static"], 1)
        passes.append(time.perf_counter() - began)
    figures["first_static"] = passes
    figures["static"] = drive(port, [f"{path}&normalize=static" for path in plain[20:]], clients)
    return figures


INGEST_COPIES = """
import django
django.setup()
from ingest.services import image_create_from_path, image_ingest
for number in range({copies}):
    image, _ = image_create_from_path(path={sample!r}, name=f"bench-{{number}}", force=True, queue=False)
    image_ingest(image_id=image.pk)
    print(image.pk)
"""


def ingest_large(scratch: Path, env: dict[str, str], rows: int) -> int:
    """Generate a ``rows`` x 360 log (:mod:`benchmarks.gen_csv`), ingest it, delete the CSV: its id."""
    from benchmarks.gen_csv import generate

    large_csv = scratch / "large.csv"
    generate(large_csv, rows, 360)
    script = INGEST_COPIES.format(copies=1, sample=str(large_csv))
    out = subprocess.run(
        [PYTHON, "-c", script], cwd=REPO, env=env, check=True, capture_output=True, text=True
    )
    large_csv.unlink()
    return int(out.stdout.split()[0])


def bench_env(data_dir: Path, tmp_dir: Path) -> dict[str, str]:
    """The environment of a benchmark's Django processes: ``benchmarks.settings`` over ``data_dir``.

    Args:
        data_dir: the scratch ``DJANGO_DATA_DIR`` (database, media, caches).
        tmp_dir: the processes' ``TMPDIR``.
    """
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DJANGO_DATA_DIR": str(data_dir),
        "DJANGO_SECRET_KEY": "benchmark-only",
        "TMPDIR": str(tmp_dir),
    }


def main() -> None:
    """Parse the command line, serve both stacks, time them, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--copies", type=int, default=24, help="copies of the log (distinct tiles)")
    parser.add_argument(
        "--large-rows", type=int, default=200_000, help="rows of the generated 360-column log (0: skip it)"
    )
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="depthtiles-bench-"))
    env = bench_env(scratch, scratch / "tmp")
    (scratch / "tmp").mkdir()
    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
        script = INGEST_COPIES.format(copies=args.copies, sample=str(SAMPLE))
        out = subprocess.run(
            [PYTHON, "-c", script], cwd=REPO, env=env, check=True, capture_output=True, text=True
        )
        image_ids = [int(line) for line in out.stdout.split()]
        large_id = ingest_large(scratch, env, args.large_rows) if args.large_rows else 0
        figures: dict[str, dict[str, Figure]] = {}
        large: dict[str, object] = {}
        for side in ("baseline", "ours"):
            server = Server(env, args.workers)
            try:
                sets = request_sets(image_ids, side)
                figures[side] = {}
                # Warm the processes up (imports, first source open) on one copy's tiles.
                drive(
                    server.port, [u.replace("/tiles/", "/tiles/", 1) for u in sets["cold"][:39]], args.clients
                )
                figures[side]["cold"] = drive(server.port, sets["cold"][39:], args.clients)
                # Each worker process has its own cache in the embedded default (locmem):
                # ask for every warm request enough times that both workers hold it.
                drive(server.port, sets["warm"][:100] * 6, args.clients)
                figures[side]["warm"] = drive(server.port, sets["warm"], args.clients)
                figures[side]["region"] = drive(server.port, sets["region"], args.clients)
                figures[side]["strip"] = drive(server.port, sets["strip"], args.clients)
                if side == "ours":
                    figures["floor"] = {"floor": drive(server.port, ["/bench/floor"] * 3000, args.clients)}
                    drive(server.port, sets["dynamic"][:39], args.clients)  # warm, like the plain cold
                    figures[side]["dynamic"] = drive(server.port, sets["dynamic"][39:], args.clients)
                    if large_id:
                        large = large_log_figures(server.port, large_id, args.large_rows, args.clients)
            finally:
                server.stop()
        report(figures)
        report_normalize(figures["ours"], large, args.large_rows)
        leaked = sum(1 for p in (scratch / "tmp").rglob("*") if p.is_file())
        print(f"temporary files left by the run (stock region leaks one per request): {leaked}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def report(figures: dict[str, dict[str, Figure]]) -> None:
    """Print each route's figures for both stacks and the ratios."""
    names = {
        "cold": ("cold colormapped tile", 10),
        "warm": ("warm tile", 4),
        "region": ("1,000-row depth region", 10),
        "strip": ("strip thumbnail", None),
    }
    for key, (label, target) in names.items():
        ours, base = figures["ours"][key], figures["baseline"][key]
        ratio = ours.rate / base.rate
        goal = f" (target >= {target}x)" if target else ""
        print(
            f"{label}: ours {ours.rate:.1f} req/s, baseline {base.rate:.1f} req/s, ratio {ratio:.1f}x{goal}; "
            f"p50 {ours.percentile(0.5):.1f} vs {base.percentile(0.5):.1f} ms, "
            f"p99 {ours.percentile(0.99):.1f} vs {base.percentile(0.99):.1f} ms; "
            f"errors {ours.errors} vs {base.errors}"
        )
    floor = figures["floor"]["floor"]
    warm = figures["ours"]["warm"]
    print(
        f"floor (30 kB Django view): {floor.rate:.1f} req/s, p50 {floor.percentile(0.5):.1f} ms, "
        f"p99 {floor.percentile(0.99):.1f} ms; warm tile / floor = {floor.rate / warm.rate:.2f}x slower "
        f"(target <= 2x)"
    )


def report_normalize(ours: dict[str, Figure], large: dict[str, object], large_rows: int) -> None:
    """Print the normalisation figures: dynamic against plain cold tiles, and the static pass."""
    from tiles.core.normalize import STATIC_PASS_FACTOR

    def line(label: str, plain: Figure, dynamic: Figure) -> None:
        ratio = plain.rate / dynamic.rate
        print(
            f"{label}: dynamic {dynamic.rate:.1f} req/s, plain {plain.rate:.1f} req/s, dynamic "
            f"{ratio:.2f}x slower (target <= 3x); p50 {dynamic.percentile(0.5):.1f} vs "
            f"{plain.percentile(0.5):.1f} ms, p99 {dynamic.percentile(0.99):.1f} vs "
            f"{plain.percentile(0.99):.1f} ms; errors {dynamic.errors} vs {plain.errors}"
        )

    line("cold normalize=dynamic tile, sample (window 2 = 21 rows)", ours["cold"], ours["dynamic"])
    if not large:
        return
    plain, dynamic, static = large["plain"], large["dynamic"], large["static"]
    if not (isinstance(plain, Figure) and isinstance(dynamic, Figure) and isinstance(static, Figure)):
        return
    line(f"cold normalize=dynamic tile, {large_rows:,} x 360 (window 0.6 m = 241 rows)", plain, dynamic)
    first = large["first_static"]
    if isinstance(first, list):
        # the pass reads at most STATIC_PASS_FACTOR x the read budget (default 4096 x 4096) of
        # stored pixels: the level's tiles when they fit, else evenly spaced bands of them
        budget = STATIC_PASS_FACTOR * 4096 * 4096
        stored = -(-large_rows // 256) * 2 * 256 * 256  # tiles x their pixels (360 columns: 2 across)
        big = -(-2_000_000 // 256) * 2 * 256 * 256
        scale = min(big, budget) / min(stored, budget)
        print(
            f"first static full-resolution tile, {large_rows:,} x 360 (level-0 histogram pass, "
            f"{min(stored, budget) / 1e6:.0f} M stored pixels read): {first[0]:.2f} s, then {first[1]:.2f} s "
            f"(a second one: the other worker's own pass, or the held histogram); "
            f"2,000,000 x 360 reads {min(big, budget) / 1e6:.0f} M of its "
            f"{big / 1e6:.0f} M (evenly spaced bands beyond the budget): about {first[0] * scale:.1f} s"
        )
    print(
        f"cold normalize=static tile once the histogram is held: {static.rate:.1f} req/s, "
        f"p50 {static.percentile(0.5):.1f} ms ({plain.rate / static.rate:.2f}x the plain tile)"
    )


if __name__ == "__main__":
    main()
