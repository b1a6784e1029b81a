"""Curves read by byte ranges (issue 16): no copy of a curve on the disk, bytes read bounded by the range.

:func:`ingest.curves.curve_window` reads a stored ``.npy`` through a range reader.
Its answers are compared with the memory-mapped implementation it replaced
(:func:`mmap_curve_window`, kept here verbatim as the reference) on random curves
(NaNs, ties, -0.0, repeated and irregular depths, windows past the ends, empty
windows, small and large ``max_points``, chunk and block sizes that split bins),
and its reads are counted. Against moto in server mode, a well stored in the
bucket answers its curve routes and its survey exactly as from the local disk,
by ranged GETs only, with nothing written to the pod's disk.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import lasio
import numpy as np
import pytest

from ingest import curves, storage
from ingest.curves import curve_window
from ingest.models import Curve
from tests import test_ingest_storage
from tests.test_wells_las import upload_well

# The moto server (module scope) and a fresh bucket per test, as tests/test_ingest_storage.py starts them.
s3_endpoint = test_ingest_storage.s3_endpoint
s3 = test_ingest_storage.s3

LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


# -- the reference: the memory-mapped curve_window as it was before range reads --------------


def mmap_curve_window(
    npy_path: str | Path, *, depth_min: float | None, depth_max: float | None, max_points: int, chunk: int
) -> curves.CurveWindow:
    data = np.load(npy_path, mmap_mode="r")
    depth = data[0]
    lo = 0 if depth_min is None else int(np.searchsorted(depth, depth_min, side="left"))
    hi = depth.size if depth_max is None else int(np.searchsorted(depth, depth_max, side="right"))
    hi = max(hi, lo)
    samples = hi - lo
    if samples <= max_points:
        return curves.CurveWindow(samples, False, np.array(depth[lo:hi]), np.array(data[1, lo:hi]))
    kept = _mmap_decimate_minmax(depth, data[1], max_points, start=lo, stop=hi, chunk=chunk)
    return curves.CurveWindow(samples, True, np.array(depth[kept]), np.array(data[1, kept]))


def _mmap_decimate_minmax(depth, value, max_points, *, start, stop, chunk):
    bins = max(1, max_points // 2)
    if stop <= start:
        return np.empty(0, np.intp)
    first, last = float(depth[start]), float(depth[stop - 1])
    span = last - first
    low_value = np.full(bins, np.inf)
    low_at = np.full(bins, -1, np.intp)
    high_value = np.full(bins, -np.inf)
    high_at = np.full(bins, -1, np.intp)
    for begin in range(start, stop, chunk):
        end = min(begin + chunk, stop)
        values = np.asarray(value[begin:end], np.float64)
        valid = np.flatnonzero(~np.isnan(values))
        if not valid.size:
            continue
        where = np.asarray(depth[begin:end], np.float64)[valid]
        index = (
            np.minimum(((where - first) / span * bins).astype(np.intp), bins - 1)
            if span > 0
            else np.zeros(valid.size, np.intp)
        )
        _mmap_update(index, values[valid], valid + begin, low_value, low_at, lower=True)
        _mmap_update(index, values[valid], valid + begin, high_value, high_at, lower=False)
    kept = np.concatenate([low_at[low_at >= 0], high_at[high_at >= 0]])
    return np.unique(kept)


def _mmap_update(index, values, positions, best, best_at, *, lower):
    runs = np.flatnonzero(np.diff(index, prepend=-1))
    reduce = np.minimum if lower else np.maximum
    extreme = reduce.reduceat(values, runs)
    lengths = np.diff(np.append(runs, values.size))
    hit = values == np.repeat(extreme, lengths)
    at = np.minimum.reduceat(np.where(hit, positions, np.iinfo(np.intp).max), runs)
    bins = index[runs]
    better = extreme < best[bins] if lower else extreme > best[bins]
    best[bins[better]] = extreme[better]
    best_at[bins[better]] = at[better]


# -- a range reader over bytes in memory, counting its requests -------------------------------


class CountingRanges(storage.RangeReader):
    """The bytes of a file in memory behind :class:`ingest.storage.RangeReader`'s ``read_many``.

    Each ``read`` stands for one request (a ranged GET on a bucket: ``read_many``
    coalesces neighbouring ranges into one); ``requests`` and ``bytes`` count them.
    """

    def __init__(self, data: bytes):
        super().__init__("curves/test.npy")
        self.data = data
        self.requests = 0
        self.bytes = 0

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        out = self.data[offset : offset + length]
        self.requests += 1
        self.bytes += len(out)
        return out


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def random_curve(rng: np.random.Generator, kind: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    if kind == "regular":
        depth = 1200 + np.arange(n) * 0.1524
    elif kind == "irregular":
        depth = 300 + np.cumsum(rng.uniform(0, 0.5, n))  # zero steps too: repeated depths
        depth[n // 3 :] += 400  # a gap (two logging runs spliced)
    elif kind == "repeated":
        depth = np.sort(rng.choice(np.arange(40.0), n))  # long runs of one depth
    else:  # "nan-tail": depths that are NaN sort last (numpy's order), as curve_finish would store them
        depth = 10 + np.cumsum(rng.uniform(0.01, 0.3, n))
        depth[int(n * 0.9) :] = np.nan
    value = rng.integers(-4, 5, n).astype(np.float64)  # few distinct values: ties everywhere
    value[rng.random(n) < 0.2] = np.nan
    value[rng.random(n) < 0.05] = -0.0  # ties of 0.0 and -0.0: the first one's bits are kept
    value[: n // 10] = np.where(rng.random(n // 10) < 0.5, np.nan, value[: n // 10])
    return depth, value


def assert_same_window(ours: curves.CurveWindow, reference: curves.CurveWindow) -> None:
    assert (ours.samples, ours.decimated) == (reference.samples, reference.decimated)
    for got, expected in ((ours.depth, reference.depth), (ours.value, reference.value)):
        assert got.dtype == expected.dtype == np.float64 and got.flags.c_contiguous
        assert np.array_equal(got, expected, equal_nan=True)
        assert got.tobytes() == expected.tobytes()  # -0.0 and NaN bits too: the same npy and JSON


@pytest.mark.parametrize("kind", ["regular", "irregular", "repeated", "nan-tail"])
@pytest.mark.parametrize(("chunk", "block"), [(curves.CHUNK, curves.BLOCK), (97, 64), (1000, 8)])
def test_curves_ranges_window_equals_the_memory_mapped_reference(monkeypatch, tmp_path, kind, chunk, block):
    monkeypatch.setattr(curves, "CHUNK", chunk)  # bins straddle chunks
    monkeypatch.setattr(curves, "BLOCK", block)  # small blocks: the searches bisect and interpolate
    rng = np.random.default_rng([*map(ord, kind), chunk, block])
    for n in (0, 1, 5, 3000, 12_345):
        depth, value = random_curve(rng, kind, n)
        path = tmp_path / f"{kind}-{n}.npy"
        np.save(path, np.stack([depth, value]))
        data = path.read_bytes()
        top = float(np.nanmax(depth)) if n and not np.isnan(depth).all() else 10.0
        bottom = float(np.nanmin(depth)) if n and not np.isnan(depth).all() else 0.0
        windows: list[tuple[float | None, float | None]] = [
            (None, None),
            (bottom - 50, top + 50),  # past both ends
            (bottom - 50, bottom - 1),  # above the curve: empty
            (top + 1, top + 50),  # below it: empty
            (None, bottom),  # the first depth only
            (top, None),  # the last depth only
        ]
        if n:
            windows.append((float(depth[n // 2]), float(depth[n // 2])))  # one depth (repeated: a run)
            windows.append((float(depth[n // 2]) + 1e-9, float(depth[n // 2]) + 2e-9))  # between samples
        for _ in range(8):
            low = float(rng.uniform(bottom - 5, top + 5))
            windows.append((low, float(rng.uniform(low, top + 5))))
        for extent in (
            None,
            (bottom, top),
            (math.nan, 5.0) if n % 2 else (0.0, 1.0),
        ):  # a wrong guess: slower
            for depth_min, depth_max in windows:
                for max_points in (2, 7, 100, 100_000):
                    expected = mmap_curve_window(
                        path, depth_min=depth_min, depth_max=depth_max, max_points=max_points, chunk=chunk
                    )
                    ours = curve_window(
                        CountingRanges(data),
                        depth_min=depth_min,
                        depth_max=depth_max,
                        max_points=max_points,
                        extent=extent,
                    )
                    assert_same_window(ours, expected)


@pytest.mark.parametrize("samples", [10_000, 2_000_000])
def test_curves_ranges_a_regular_curve_costs_the_same_few_requests_whatever_its_length(samples):
    depth = 1200 + np.arange(samples) * 0.1524
    value = np.sin(depth)
    data = npy_bytes(np.stack([depth, value]))
    extent = (float(depth[0]), float(depth[-1]))
    # 100 m: 656 samples, answered whole (2000 points) or decimated (64 points).
    for max_points in (2000, 64):
        reader = CountingRanges(data)
        window = curve_window(
            reader, depth_min=1400.0, depth_max=1500.0, max_points=max_points, extent=extent
        )
        inside = (depth >= 1400) & (depth <= 1500)
        assert window.samples == inside.sum() == 656
        # the header with the first depths; one block around each end of the range (together,
        # holding the range's depths); the range's values
        assert reader.requests == 3
        assert reader.bytes <= curves.BLOCK * 3 + 656 * 8
    # The whole curve at 2000 points: the header, then each chunk's depths and values.
    reader = CountingRanges(data)
    window = curve_window(reader, depth_min=None, depth_max=None, max_points=2000, extent=extent)
    chunks = math.ceil(samples / curves.CHUNK)  # one chunk: its depths and values are one range
    assert window.decimated and reader.requests == (2 if chunks == 1 else 1 + 2 * chunks)
    assert reader.bytes <= len(data) + curves.BLOCK


def test_curves_ranges_an_irregular_curve_is_searched_in_few_blocks():
    rng = np.random.default_rng(11)
    samples = 1_000_000
    depth = np.cumsum(rng.exponential(0.2, samples))
    depth[samples // 2 :] += 10_000  # a guess from the extent lands far off
    value = rng.normal(size=samples)
    data = npy_bytes(np.stack([depth, value]))
    bound = 2 * math.ceil(math.log2(samples / (curves.BLOCK // 8))) + 4
    for low in (float(depth[1000]), float(depth[samples // 3]), float(depth[samples - 2000])):
        reader = CountingRanges(data)
        window = curve_window(
            reader,
            depth_min=low,
            depth_max=low + 30,
            max_points=1000,
            extent=(float(depth[0]), float(depth[-1])),
        )
        inside = (depth >= low) & (depth <= low + 30)
        assert window.samples == inside.sum() and not window.decimated
        np.testing.assert_array_equal(window.depth, depth[inside])
        np.testing.assert_array_equal(window.value, value[inside])
        assert reader.requests <= bound and reader.bytes < 40 * curves.BLOCK + inside.sum() * 16


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((2, 10), ">f8"),  # big-endian
        np.zeros((2, 10), np.float32),
        np.zeros((3, 10)),
        np.zeros(10),
        np.asfortranarray(np.zeros((2, 10))),
        np.zeros((2, 10), np.int64),
    ],
    ids=["big-endian", "float32", "three-rows", "one-row", "fortran", "int64"],
)
def test_curves_ranges_refuses_what_is_not_a_little_endian_float64_2_by_n_array(array):
    with pytest.raises(ValueError, match="curve file"):
        curve_window(CountingRanges(npy_bytes(array)), depth_min=None, depth_max=None, max_points=10)


@pytest.mark.parametrize(
    "data",
    [
        npy_bytes(np.zeros((2, 1000)))[:-8],  # truncated
        npy_bytes(np.zeros((2, 1000))) + b"\0" * 8,  # trailing bytes
        b"not a numpy file at all",
        b"",
        npy_bytes(np.zeros((2, 5)))[:20],  # cut inside the header
    ],
    ids=["truncated", "trailing", "not-npy", "empty", "cut-header"],
)
def test_curves_ranges_refuses_a_damaged_file(data):
    with pytest.raises(ValueError, match="curve file"):
        curve_window(CountingRanges(data), depth_min=0.0, depth_max=1.0, max_points=10)


def test_curves_ranges_reads_a_format_2_header():
    depth = np.arange(50.0)
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.stack([depth, depth * 2]), version=(2, 0))
    window = curve_window(CountingRanges(buffer.getvalue()), depth_min=10, depth_max=12, max_points=10)
    np.testing.assert_array_equal(window.value, [20.0, 22.0, 24.0])


# -- the routes, from a bucket (moto in server mode) and from the local disk ----------------------

SAMPLES = 40_000
CURVE_URLS = [
    "curves/RES?max_points=100000",
    "curves/RES",
    "curves/RES?depth_min=1500&depth_max=1600&max_points=64",
    "curves/RES?depth_min=1500&depth_max=1600&max_points=2000",
    "curves/RES?depth_min=1500&depth_max=1600&max_points=64&format=npy",
    "curves/RES?format=npy&max_points=3",
    "curves/RES?depth_min=0&depth_max=1300",  # past the shallow end
    "curves/RES?depth_min=7000",  # past the deep end
    "curves/RES?depth_min=2000.01&depth_max=2000.02",  # between two samples: empty
    "curves/DEVI?max_points=500",
    "survey",
]


@pytest.fixture
def curves_las(tmp_path) -> Path:
    """A LAS of 40,000 samples (0.1524 m) with RES (nulls and ties), DEVI and HAZI (through north)."""
    rng = np.random.default_rng(21)
    depth = 1200 + np.arange(SAMPLES) * 0.1524
    res = rng.integers(0, 64 * 8, SAMPLES) / 64  # exact in the file's 6 decimals; many ties
    res[rng.random(SAMPLES) < 0.05] = -999.25
    res[:30] = -999.25
    devi = 10 + 20 * np.arange(SAMPLES) / SAMPLES
    hazi = np.where(np.arange(SAMPLES) < SAMPLES // 2, 359.5, 0.5)
    las = lasio.LASFile()
    las.well["NULL"].value = -999.25
    las.append_curve("DEPT", depth, unit="M")
    las.append_curve("RES", res, unit="ohm.m")
    las.append_curve("DEVI", devi, unit="deg")
    las.append_curve("HAZI", hazi, unit="deg")
    path = tmp_path / "curves.las"
    las.write(str(path), version=2.0, fmt="%.6f")
    return path


def _curve_answers(client, well_id: int) -> list[bytes]:
    out = []
    for url in CURVE_URLS:
        response = client.get(f"/api/v1/wells/{well_id}/{url}")
        assert response.status_code == 200, (url, response.content[:300])
        if url == "survey":  # it names the well: compare its stations (from DEVI and HAZI)
            body = response.json()
            assert body["source"] == "curves" and len(body["stations"]) > 100
            out.append(str(body["stations"]).encode())
        else:
            out.append(response.content)
    return out


@pytest.mark.django_db(transaction=True)
def test_curves_ranges_bucket_answers_as_local_disk_by_ranged_gets_without_copies(
    client, s3, settings, curves_las
):
    bucket = settings.STORAGES["default"]
    settings.STORAGES = {**settings.STORAGES, "default": LOCAL}
    local = upload_well(client, curves_las)
    expected = _curve_answers(client, local["id"])
    assert client.delete(f"/api/v1/wells/{local['id']}").status_code == 204  # the same upload again

    settings.STORAGES = {**settings.STORAGES, "default": bucket}
    well = upload_well(client, curves_las)
    names = {c.mnemonic: c.file.name for c in Curve.objects.filter(well_id=well["id"])}
    assert {"RES", "DEVI", "HAZI"} <= set(names) and names["RES"] in s3.keys()  # noqa: SIM118
    size = s3.client.head_object(Bucket=s3.bucket, Key=names["RES"])["ContentLength"]
    assert size == 128 + (SAMPLES - 30) * 16  # the leading nulls are not stored
    downloads = storage.download_count
    before = dict(storage.range_stats)
    answers = _curve_answers(client, well["id"])
    for url, ours, theirs in zip(CURVE_URLS, answers, expected, strict=True):
        assert ours == theirs, url
    assert storage.range_stats["requests"] > before["requests"]
    assert storage.download_count == downloads  # no whole-object download
    cache = Path(settings.DATA_DIR) / "cache"
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]

    # A 100 m window of the 40,000-sample curve: a few ranged GETs, a few blocks of bytes.
    before = dict(storage.range_stats)
    window = client.get(f"/api/v1/wells/{well['id']}/curves/RES?depth_min=1500&depth_max=1600&max_points=64")
    assert window.status_code == 200 and window.json()["samples"] == 656
    requests = storage.range_stats["requests"] - before["requests"]
    fetched = storage.range_stats["bytes"] - before["bytes"]
    assert 1 <= requests <= 3, requests
    assert fetched <= 3 * curves.BLOCK + 656 * 8 < size / 10, fetched


@pytest.mark.django_db(transaction=True)
def test_curves_ranges_a_curve_missing_from_the_bucket_gives_no_survey(client, s3, curves_las):
    well = upload_well(client, curves_las)
    assert client.get(f"/api/v1/wells/{well['id']}/survey").json()["source"] == "curves"
    devi = Curve.objects.get(well_id=well["id"], mnemonic="DEVI")
    s3.client.delete_object(Bucket=s3.bucket, Key=devi.file.name)
    assert client.get(f"/api/v1/wells/{well['id']}/survey").json()["source"] is None
