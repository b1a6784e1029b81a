"""Ingest benchmark: our streaming CSV and LAS -> pyramid paths against naive baselines, in one run.

``make bench-ingest`` (or ``python -m benchmarks.ingest``) generates a
borehole-like CSV (:mod:`benchmarks.gen_csv`, 2,000,000 x 360 by default, about
2.5 GB) under ``var/bench/``, then ingests it twice, each side in a fresh
subprocess so that its peak RSS is its own:

* ours: :func:`ingest.pipeline.csv_to_pyramid` (pure Python, no Django);
* the baseline: ``pandas.read_csv`` of the whole file, then a tifffile pyramid
  written from the in-memory array (:func:`baseline_pyramid`).

Then the LAS line (issue 13): an LWD-like LAS 2.0 of the same size, 2,000,000
depths x 360 sector curves ``ABDC1M..ABDC360M`` (:mod:`benchmarks.gen_las`,
about 6.5 GB: 9 characters a value), ingested by

* ours: :func:`las_to_pyramid`, the well job's read-and-write path without
  Django: :func:`ingest.welllog.read_well_log` (lasio, header only), then
  :func:`ingest.welllog.iter_well_blocks` (our streaming ``~A`` parser) feeding
  the pipeline's scanline spool, the depth axis and the pyramid writer, as
  :func:`ingest.pipeline.csv_to_pyramid` does for a CSV;
* the baseline: ``lasio.read`` of a whole file. lasio holds every curve as
  float64 (2,000,000 x 361 would be about 6 GB, more with its parsing
  buffers; we measured 16.7 MB of RSS per MB of LAS), so it reads a smaller
  LAS of ``--lasio-rows`` depths (50,000 by default, about 160 MB and a 2.7 GB
  peak, same generator); our path reads that file too, and both are reported
  per MB of LAS. Each LAS side also prints its CPU seconds (user + system,
  all threads), which a busy machine does not inflate as it does wall time.

It prints one line per figure: throughput in MB of input per second (time of the
ingest call itself, imports excluded), peak RSS (``ru_maxrss`` of the child from
``wait4``, with the largest anonymous and file-backed RSS seen while polling
``/proc``), the ratios, and the size of the TIFFs. MB means 10^6 bytes. Each
input is read once before each side, so both read it from the page cache.

This is a benchmark, not a test: it prints figures measured in one run and exits
0 whatever they are (1 only if one of our pipelines fails). The machine is
shared, so compare ratios rather than absolute times. ``--keep`` keeps the
generated inputs for the next run of the same size; the TIFFs are always
removed. ``--formats csv`` or ``--formats las`` runs one half. At the default
size the CSV baseline holds the whole table in memory: expect a peak of about
16 GB (measured on our 24 GB machine). Disk: the CSV (2.8 GB), the LAS (6.5 GB),
our spool (1.4 GB for the CSV, 2.9 GB of float32 for the LAS) and the TIFFs,
all under ``var/bench/``.
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


def las_to_pyramid(las_path: str | Path, tiff_path: str | Path, scratch: str | Path) -> tuple[int, int, int]:
    """Our LAS path without Django: header, streamed blocks, collector, depth axis, pyramid.

    What the well job does for each image of a LAS file (``ingest.wells``), less
    the database: the blocks of :func:`ingest.welllog.iter_well_blocks` go to an
    :class:`ingest.pipeline.ScanlineCollector` (float32 spool, depths, per-scanline
    has-data flags), then :func:`ingest.pipeline.to_pyramid` trims the all-nodata
    ends, places the depth axis and writes the pyramid with the value statistics.

    Args:
        las_path: a LAS with one sector family (one image).
        tiff_path: output file.
        scratch: directory for the spool.

    Returns:
        ``(rows, columns, levels)`` of the image written.
    """
    from ingest.pipeline import DEFAULT_OPTIONS, NO_LIMITS, ScanlineCollector, to_pyramid
    from ingest.welllog import iter_well_blocks, read_well_log

    log = read_well_log(las_path)
    (spec,) = log.images
    collector = ScanlineCollector(scratch, spec.columns, track_data=True)
    try:
        for block in iter_well_blocks(las_path, log):
            collector.add_floats(block.depth, block.images[spec.name])

        def explain(indices: tuple[int, ...], error: Exception) -> Exception:
            return error

        result = to_pyramid(
            collector,
            tiff_path,
            depth_unit=log.header.depth_unit,
            options=DEFAULT_OPTIONS,
            limits=NO_LIMITS,
            explain=explain,
            bytes_read=Path(las_path).stat().st_size,
            trim=True,
        )
    finally:
        collector.remove()
    return result.axis.rows, result.columns, result.levels


def las_read_only(las_path: str | Path) -> tuple[int, int, int]:
    """Our LAS reader alone: every block of :func:`ingest.welllog.iter_well_blocks`, nothing written.

    Returns:
        ``(samples, columns of the image, 0)``.
    """
    from ingest.welllog import iter_well_blocks, read_well_log

    log = read_well_log(las_path)
    samples = sum(block.depth.size for block in iter_well_blocks(las_path, log))
    return samples, log.images[0].columns, 0


def lasio_whole(las_path: str | Path) -> tuple[int, int, int]:
    """The baseline: ``lasio.read`` of the whole file (every curve a float64 array); no pyramid.

    Returns:
        ``(rows, curves, 0)``.
    """
    import lasio

    las = lasio.read(str(las_path))
    rows, curves = las.data.shape
    return rows, curves, 0


def _child(side: str, csv_path: Path, tiff_path: Path, scratch: Path) -> None:
    """Run one side in this process and print its figures as one JSON line.

    ``side``: ``ours`` or ``baseline`` (``csv_path`` a CSV), ``las-ours``,
    ``las-read`` or ``las-lasio`` (``csv_path`` a LAS).
    """
    # Imports happen before the clock on both sides. pyarrow's ``to_numpy`` imports
    # pandas on first use (about 0.6 s and 40 MB, once per worker process), so ours
    # imports it here too; its memory still counts in the peak RSS.
    import pandas  # noqa: F401

    from ingest.pipeline import csv_to_pyramid

    if side.startswith("las"):
        import lasio  # noqa: F401 (imported before the clock, as pandas is)

        import ingest.las  # noqa: F401

    began = time.perf_counter()
    if side == "ours":
        result = csv_to_pyramid(csv_path, tiff_path, depth_unit="m", scratch_dir=scratch)
        rows, columns, levels = result.axis.rows, result.columns, result.levels
    elif side == "baseline":
        rows, columns, levels = baseline_pyramid(csv_path, tiff_path)
    elif side == "las-ours":
        rows, columns, levels = las_to_pyramid(csv_path, tiff_path, scratch)
    elif side == "las-read":
        rows, columns, levels = las_read_only(csv_path)
    else:
        rows, columns, levels = lasio_whole(csv_path)
    seconds = time.perf_counter() - began
    print(json.dumps({"seconds": seconds, "rows": rows, "columns": columns, "levels": levels}))


@dataclass
class Figure:
    """What one side measured."""

    seconds: float
    peak_rss: int  # bytes, ru_maxrss of the child
    peak_anon: int  # bytes, the largest RssAnon seen while polling
    peak_file: int  # bytes, the largest RssFile seen while polling
    cpu: float  # seconds of CPU (user + system) of the child, all its threads, imports included
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
        cpu=usage.ru_utime + usage.ru_stime,
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
    return _prepare(BENCH_DIR / f"borehole-{rows}x{columns}.csv", "benchmarks.gen_csv", rows, columns)


def _prepare(path: Path, generator: str, rows: int, columns: int) -> tuple[Path, bool]:
    """Generate ``path`` with ``python -m <generator> PATH --rows R --columns C`` unless it exists.

    The generator runs in its own process: a child's ``ru_maxrss`` starts from its
    parent's high-water mark (Linux keeps the larger of the old and new mm's at
    ``exec``, and ``subprocess`` forks with ``vfork``), so a generator run in this
    process would set a floor under every side's peak RSS.
    """
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        return path, False
    partial = path.with_suffix(".partial")
    subprocess.run(
        [PYTHON, "-m", generator, str(partial), "--rows", str(rows), "--columns", str(columns)],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
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
    """Parse the command line, run each side in a child process, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--columns", type=int, default=360)
    parser.add_argument("--formats", default="csv,las", help="comma-separated: csv, las (default both)")
    parser.add_argument(
        "--lasio-rows",
        type=int,
        default=50_000,
        help="depths of the LAS lasio.read reads whole (0: skip)",
    )
    parser.add_argument(
        "--no-csv-baseline",
        action="store_true",
        help="skip pandas.read_csv (16 GB at the default size)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated inputs for the next run")
    parser.add_argument(
        "--child", nargs=4, metavar=("SIDE", "INPUT", "TIFF", "SCRATCH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        side, csv_path, tiff_path, scratch = args.child
        _child(side, Path(csv_path), Path(tiff_path), Path(scratch))
        return
    formats = {name.strip() for name in args.formats.split(",")}
    failed, csv_rate = False, None
    if "csv" in formats:
        failed, csv_rate = run_csv(args.rows, args.columns, keep=args.keep, baseline=not args.no_csv_baseline)
    if "las" in formats:
        las_failed = run_las(args.rows, args.columns, args.lasio_rows, keep=args.keep, csv_rate=csv_rate)
        failed = failed or las_failed
    sys.exit(1 if failed else 0)


def run_csv(rows: int, columns: int, *, keep: bool, baseline: bool = True) -> tuple[bool, float | None]:
    """The CSV half: ours and the pandas baseline. Returns (ours failed, our MB/s)."""
    began = time.perf_counter()
    csv_path, generated = prepare_csv(rows, columns)
    csv_bytes = csv_path.stat().st_size
    how = f"generated in {time.perf_counter() - began:.1f} s" if generated else "reused (--keep)"
    print(f"CSV: {rows:,} x {columns}, {csv_bytes / MB:.0f} MB, {how}: {csv_path.relative_to(REPO)}")
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=BENCH_DIR))
    failed = False
    try:
        figures: dict[str, Figure] = {}
        labels = {"ours": "ours", "baseline": "baseline (pandas.read_csv + tifffile)"}
        for side in ("ours", "baseline") if baseline else ("ours",):
            try:
                figures[side] = run_side(side, csv_path, scratch / f"{side}.tiff", scratch)
            except ChildFailed as exc:
                print(f"ingest {labels[side]}: failed ({exc})")
                failed = failed or side == "ours"
                continue
            print(f"ingest {labels[side]}: {_figure_text(figures[side], csv_bytes, 'CSV')}")
        report(figures, csv_bytes)
        for side, figure in figures.items():
            described = check_tiff(scratch / f"{side}.tiff", figure.rows, figure.columns, figure.levels)
            print(f"{side} TIFF: {described}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if generated and not keep:
            csv_path.unlink(missing_ok=True)
    ours = figures.get("ours")
    return failed, ours.rate(csv_bytes) if ours else None


def _figure_text(figure: Figure, size: int, kind: str) -> str:
    return (
        f"{figure.rate(size):.1f} MB/s of {kind}, peak RSS {figure.peak_rss / MB:.0f} MB, "
        f"{figure.seconds:.1f} s (polled peaks: anonymous {figure.peak_anon / MB:.0f} MB, "
        f"file-backed {figure.peak_file / MB:.0f} MB)"
    )


#: Our CSV path's throughput in README (make bench-ingest), when this run skipped the CSV half.
README_CSV_RATE = 112.7


def prepare_las(rows: int, sectors: int) -> tuple[Path, bool]:
    """The benchmark LAS under var/bench/, generated unless a kept one exists (see :func:`prepare_csv`)."""
    return _prepare(BENCH_DIR / f"lwd-{rows}x{sectors}.las", "benchmarks.gen_las", rows, sectors)


LAS_SIDES = {
    "las-ours": "ours (welllog reader + the well job's collector + pyramid)",
    "las-read": "ours, the reader alone (iter_well_blocks, nothing written)",
    "las-lasio": "lasio.read whole",
}


def run_las(rows: int, sectors: int, lasio_rows: int, *, keep: bool, csv_rate: float | None) -> bool:
    """The LAS half: ours at full size, then lasio and ours on ``lasio_rows``. Returns: ours failed."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=BENCH_DIR))
    made: list[Path] = []
    failed = False
    try:
        figures: dict[str, tuple[Figure, int]] = {}
        sizes = [("full", rows)] + ([("small", lasio_rows)] if lasio_rows else [])
        for label, count in sizes:
            began = time.perf_counter()
            las_path, generated = prepare_las(count, sectors)
            if generated and not keep:
                made.append(las_path)
            size = las_path.stat().st_size
            how = f"generated in {time.perf_counter() - began:.1f} s" if generated else "reused (--keep)"
            print(f"LAS: {count:,} depths x {sectors} sector curves, {size / MB:.0f} MB, {how}")
            sides = ["las-ours", "las-read"] if label == "full" else ["las-lasio", "las-ours"]
            for side in sides:
                name = f"{side}-{label}"
                tiff = scratch / f"{name}.tiff"
                try:
                    figure = run_side(side, las_path, tiff, scratch)
                except ChildFailed as exc:
                    print(f"ingest LAS {side} ({count:,} depths): failed ({exc})")
                    failed = failed or side == "las-ours"
                    continue
                figures[name] = (figure, size)
                print(
                    f"ingest LAS {LAS_SIDES[side]}, {count:,} depths: {_figure_text(figure, size, 'LAS')}, "
                    f"CPU {figure.cpu:.1f} s ({size / MB / figure.cpu:.0f} MB of LAS per CPU second)"
                )
                if side == "las-ours":
                    print(f"  TIFF: {check_float_tiff(tiff, figure.rows, figure.columns, figure.levels)}")
                tiff.unlink(missing_ok=True)
        las_report(figures, csv_rate)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        for path in made:
            path.unlink(missing_ok=True)
    return failed


def check_float_tiff(path: Path, rows: int, columns: int, levels: int) -> str:
    """Open a float32 pyramid with tifffile and describe it; raise if it is not as expected."""
    with tifffile.TiffFile(path) as tif:
        pages = tif.pages
        if len(pages) != levels or pages[0].shape != (rows, columns) or pages[0].dtype != np.float32:
            raise AssertionError(f"{path.name}: {len(pages)} pages, page 0 {pages[0].shape} {pages[0].dtype}")
        coarsest = pages[-1].asarray()
    return (
        f"{levels} levels, page 0 {rows} x {columns} float32, coarsest "
        f"{coarsest.shape[0]} x {coarsest.shape[1]}, {path.stat().st_size / MB:.0f} MB"
    )


def las_report(figures: dict[str, tuple[Figure, int]], csv_rate: float | None) -> None:
    """Print the LAS targets and the per-MB comparison with lasio."""
    full = figures.get("las-ours-full")
    lasio_small, ours_small = figures.get("las-lasio-small"), figures.get("las-ours-small")
    if lasio_small and ours_small:
        (base, size), (ours, _) = lasio_small, ours_small
        per_mb = 1000 / (size / MB)
        print(
            f"LAS per MB, same {size / MB:.0f} MB file: ours {ours.seconds * per_mb:.1f} ms/MB "
            f"and {ours.peak_rss / MB:.0f} MB peak; lasio.read {base.seconds * per_mb:.1f} ms/MB, "
            f"{base.peak_rss / size:.1f} MB of RSS per MB of LAS "
            f"(speed ratio ours/lasio {base.seconds / ours.seconds:.2f}x, and lasio writes no pyramid)"
        )
        if full:
            whole = full[1]
            print(
                f"lasio.read of the full {whole / MB:.0f} MB file, extrapolated: about "
                f"{base.peak_rss / size * whole / 1e9:.1f} GB of RSS (not run)"
            )
    if full:
        figure, size = full
        rate = figure.rate(size)
        reference = csv_rate or README_CSV_RATE
        source = "this run" if csv_rate else "README"
        print(
            f"LAS throughput target >= 60% of the CSV path: ours {rate:.1f} MB/s of LAS = "
            f"{rate / reference:.0%} of {reference:.1f} MB/s of CSV ({source})"
        )
        print(f"LAS memory target <= 400 MB: ours {figure.peak_rss / MB:.0f} MB peak RSS")


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
