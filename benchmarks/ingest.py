"""Ingest benchmark: our streaming CSV -> pyramid pipeline against a naive baseline, in one run.

``make bench-ingest`` (or ``python -m benchmarks.ingest``) generates a
borehole-like CSV (:mod:`benchmarks.gen_csv`, 2,000,000 x 360 by default, about
2.5 GB) under ``var/bench/``, then ingests it twice, each side in a fresh
subprocess so that its peak RSS is its own:

* ours: :func:`ingest.pipeline.csv_to_pyramid` (pure Python, no Django);
* the baseline: ``pandas.read_csv`` of the whole file, then a tifffile pyramid
  written from the in-memory array (:func:`baseline_pyramid`).

It prints one line per figure: throughput in MB of CSV per second (time of the
ingest call itself, imports excluded), peak RSS (``ru_maxrss`` of the child from
``wait4``, with the largest anonymous and file-backed RSS seen while polling
``/proc``), the ratios, and the size of the TIFFs. MB means 10^6 bytes. The CSV
is read once before each side, so both read it from the page cache.

This is a benchmark, not a test: it prints figures measured in one run and exits
0 whatever they are (1 only if our pipeline fails). The machine is shared, so
compare ratios rather than absolute times. ``--keep`` keeps the generated CSV
for the next run of the same size; the TIFFs are always removed. At the default
size the baseline holds the whole table in memory: expect a peak of about 16 GB
(measured on our 24 GB machine). Disk: the CSV (2.8 GB), our spool (1.4 GB) and
two TIFFs (0.9 GB each), all under ``var/bench/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "var" / "bench"
PYTHON = sys.executable
MB = 1e6

#: Same layout as ours (ingest.pyramid): 256 x 256 tiles, zstd + horizontal predictor.
TILE = 256


def baseline_pyramid(csv_path: str | Path, tiff_path: str | Path) -> tuple[int, int, int]:
    """The naive way: read the whole CSV with pandas, write the pyramid from memory.

    Samples as ours: uint8 value plus an unassociated alpha (0 for an empty cell).
    Pages as ours (every level a top-level page, the reduced ones with
    ``subfiletype=1``, :func:`ingest.pyramid.level_shapes`), but each coarser level
    is the previous one decimated (every other row and column), which is cheaper
    than our nodata-aware 2 x 2 mean: the comparison favours the baseline. Rows are
    written in file order (the generated depths are regular and increasing).

    Args:
        csv_path: a CSV with a ``depth`` column then ``col1..colN`` in order.
        tiff_path: output file.

    Returns:
        ``(rows, columns, levels)`` written.
    """
    import pandas

    from ingest.pyramid import level_shapes

    frame = pandas.read_csv(csv_path)
    pixels = frame.drop(columns="depth")
    rows, columns = pixels.shape
    image = np.empty((rows, columns, 2), np.uint8)
    for j, name in enumerate(pixels.columns):
        column = pixels[name].to_numpy()  # int64, or float64 with NaN where a cell is empty
        valid = ~np.isnan(column)
        image[:, j, 0] = np.where(valid, column, 0)
        image[:, j, 1] = np.where(valid, 255, 0)
    del frame, pixels
    shapes = level_shapes(rows, columns)
    with tifffile.TiffWriter(tiff_path, bigtiff=image.nbytes >= 2**31) as tif:
        level = image
        for index in range(len(shapes)):
            if index:
                level = level[::2, ::2]
            tif.write(
                level,
                tile=(TILE, TILE),
                photometric="minisblack",
                planarconfig="contig",
                extrasamples=("unassalpha",),
                compression="zstd",
                predictor=True,
                subfiletype=1 if index else 0,
                metadata=None,
            )
    return rows, columns, len(shapes)


def _child(side: str, csv_path: Path, tiff_path: Path, scratch: Path) -> None:
    """Run one side in this process and print its figures as one JSON line."""
    # Imports happen before the clock on both sides. pyarrow's ``to_numpy`` imports
    # pandas on first use (about 0.6 s and 40 MB, once per worker process), so ours
    # imports it here too; its memory still counts in the peak RSS.
    import pandas  # noqa: F401

    from ingest.pipeline import csv_to_pyramid

    began = time.perf_counter()
    if side == "ours":
        result = csv_to_pyramid(csv_path, tiff_path, depth_unit="m", scratch_dir=scratch)
        rows, columns, levels = result.axis.rows, result.columns, result.levels
    else:
        rows, columns, levels = baseline_pyramid(csv_path, tiff_path)
    seconds = time.perf_counter() - began
    print(json.dumps({"seconds": seconds, "rows": rows, "columns": columns, "levels": levels}))


@dataclass
class Figure:
    """What one side measured."""

    seconds: float
    peak_rss: int  # bytes, ru_maxrss of the child
    peak_anon: int  # bytes, the largest RssAnon seen while polling
    peak_file: int  # bytes, the largest RssFile seen while polling
    rows: int
    columns: int
    levels: int

    def rate(self, csv_bytes: int) -> float:
        return csv_bytes / MB / self.seconds


class ChildFailed(RuntimeError):
    """A side exited with an error."""


def _poll_rss(pid: int, peaks: dict[str, int], done: threading.Event) -> None:
    while not done.is_set():
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key in ("RssAnon", "RssFile"):
                        peaks[key] = max(peaks.get(key, 0), int(value.split()[0]) * 1024)
        except (FileNotFoundError, ProcessLookupError):
            return
        done.wait(0.05)


def run_side(side: str, csv_path: Path, tiff_path: Path, scratch: Path) -> Figure:
    """Run one side in a fresh interpreter and collect its figures.

    Raises:
        ChildFailed: the child exited with an error or was killed (e.g. out of memory).
    """
    _warm(csv_path)
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [PYTHON, "-m", "benchmarks.ingest", "--child", side, str(csv_path), str(tiff_path), str(scratch)],
            cwd=REPO,
            stdout=out,
        )
        peaks: dict[str, int] = {}
        done = threading.Event()
        poller = threading.Thread(target=_poll_rss, args=(proc.pid, peaks, done), daemon=True)
        poller.start()
        try:
            # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be a max over all).
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            done.set()
            poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise ChildFailed(f"exit code {proc.returncode}, peak RSS {usage.ru_maxrss * 1024 / MB:.0f} MB")
        out.seek(0)
        figures = json.loads(out.read().strip().splitlines()[-1])
    return Figure(
        seconds=figures["seconds"],
        peak_rss=usage.ru_maxrss * 1024,
        peak_anon=peaks.get("RssAnon", 0),
        peak_file=peaks.get("RssFile", 0),
        rows=figures["rows"],
        columns=figures["columns"],
        levels=figures["levels"],
    )


def _warm(path: Path) -> None:
    """Read ``path`` once so the measured run reads it from the page cache."""
    with open(path, "rb", buffering=0) as f:
        buffer = bytearray(16 << 20)
        while f.readinto(buffer):
            pass


def prepare_csv(rows: int, columns: int) -> tuple[Path, bool]:
    """The benchmark CSV under var/bench/, generated unless a kept one exists.

    Returns:
        ``(path, generated)``: generated is False when a kept file was reused.
    """
    from benchmarks.gen_csv import generate

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"borehole-{rows}x{columns}.csv"
    if path.is_file():
        return path, False
    partial = path.with_suffix(".partial")
    generate(partial, rows, columns)
    partial.replace(path)  # a run killed while generating leaves nothing to reuse
    return path, True


def check_tiff(path: Path, rows: int, columns: int, levels: int) -> str:
    """Open a written pyramid with tifffile and describe it; raise if it is not as expected."""
    with tifffile.TiffFile(path) as tif:
        pages = tif.pages
        if len(pages) != levels or pages[0].shape != (rows, columns, 2):
            raise AssertionError(
                f"{path.name}: {len(pages)} pages, page 0 {pages[0].shape}; "
                f"expected {levels} pages, page 0 {(rows, columns, 2)}"
            )
        coarsest = pages[-1].asarray()  # decodes: the file is readable
    return (
        f"{levels} levels, page 0 {rows} x {columns} x 2 uint8, coarsest "
        f"{coarsest.shape[0]} x {coarsest.shape[1]}, {path.stat().st_size / MB:.0f} MB"
    )


def main() -> None:
    """Parse the command line, run ours and the baseline in child processes, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--columns", type=int, default=360)
    parser.add_argument("--keep", action="store_true", help="keep the CSV for the next run")
    parser.add_argument(
        "--child", nargs=4, metavar=("SIDE", "CSV", "TIFF", "SCRATCH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        side, csv_path, tiff_path, scratch = args.child
        _child(side, Path(csv_path), Path(tiff_path), Path(scratch))
        return

    began = time.perf_counter()
    csv_path, generated = prepare_csv(args.rows, args.columns)
    csv_bytes = csv_path.stat().st_size
    how = f"generated in {time.perf_counter() - began:.1f} s" if generated else "reused (--keep)"
    print(
        f"CSV: {args.rows:,} x {args.columns}, {csv_bytes / MB:.0f} MB, {how}: {csv_path.relative_to(REPO)}"
    )
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=BENCH_DIR))
    failed = False
    try:
        figures: dict[str, Figure] = {}
        labels = {"ours": "ours", "baseline": "baseline (pandas.read_csv + tifffile)"}
        for side in ("ours", "baseline"):
            try:
                figures[side] = run_side(side, csv_path, scratch / f"{side}.tiff", scratch)
            except ChildFailed as exc:
                print(f"ingest {labels[side]}: failed ({exc})")
                failed = failed or side == "ours"
                continue
            figure = figures[side]
            print(
                f"ingest {labels[side]}: {figure.rate(csv_bytes):.1f} MB/s of CSV, "
                f"peak RSS {figure.peak_rss / MB:.0f} MB, {figure.seconds:.1f} s "
                f"(polled peaks: anonymous {figure.peak_anon / MB:.0f} MB, "
                f"file-backed {figure.peak_file / MB:.0f} MB)"
            )
        report(figures, csv_bytes)
        for side, figure in figures.items():
            described = check_tiff(scratch / f"{side}.tiff", figure.rows, figure.columns, figure.levels)
            print(f"{side} TIFF: {described}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if generated and not args.keep:
            csv_path.unlink(missing_ok=True)
    sys.exit(1 if failed else 0)


def report(figures: dict[str, Figure], csv_bytes: int) -> None:
    """Print each side's figures and the ratios of ours to the baseline's."""
    ours, base = figures.get("ours"), figures.get("baseline")
    if ours and base:
        print(f"speed ratio ours/baseline: {base.seconds / ours.seconds:.2f}x (target >= 3x)")
        print(
            f"memory ratio ours/baseline: {ours.peak_rss / base.peak_rss:.2f} "
            f"(ours {ours.peak_rss / MB:.0f} MB vs baseline {base.peak_rss / MB:.0f} MB; "
            f"target: ours <= 400 MB)"
        )
    if ours:
        print(f"throughput target >= 100 MB/s: ours {ours.rate(csv_bytes):.1f} MB/s")


if __name__ == "__main__":
    main()
