"""Curves: the depth range, min/max decimation (against an independent numpy computation), bounds."""

from __future__ import annotations

import io
from pathlib import Path

import lasio
import numpy as np
import pytest

from ingest.curves import CHUNK, CurveSpool, curve_finish, curve_window, decimate_minmax
from ingest.storage import storage_reader
from tests.test_wells_las import upload_well

SAMPLES = 5000


def reference_minmax(depth: np.ndarray, value: np.ndarray, max_points: int) -> np.ndarray:
    """Positions kept, computed bin by bin with a plain loop (the docstring's rule, written independently)."""
    bins = max_points // 2
    edges = np.linspace(depth[0], depth[-1], bins + 1)
    kept: set[int] = set()
    for b in range(bins):
        high_edge = edges[b + 1]
        inside = (depth >= edges[b]) & ((depth < high_edge) if b < bins - 1 else (depth <= high_edge))
        members = np.flatnonzero(inside & ~np.isnan(value))
        if members.size:
            kept.add(int(members[np.argmin(value[members])]))
            kept.add(int(members[np.argmax(value[members])]))
    return np.array(sorted(kept))


@pytest.mark.parametrize("max_points", [2, 7, 100, 2000])
def test_wells_curves_decimation_keeps_min_and_max_of_each_bin(max_points):
    rng = np.random.default_rng(5)
    depth = np.cumsum(rng.uniform(0.01, 0.2, SAMPLES))  # irregular spacing
    value = rng.normal(size=SAMPLES)
    value[rng.integers(0, SAMPLES, 300)] = np.nan
    value[1000:1400] = np.nan  # bins with no sample at all stay empty
    kept = decimate_minmax(depth, value, max_points)
    np.testing.assert_array_equal(kept, reference_minmax(depth, value, max_points))
    assert kept.size <= max_points and not np.isnan(value[kept]).any()
    assert np.nanmin(value) in value[kept] and np.nanmax(value) in value[kept]


def test_wells_curves_decimation_across_chunks_and_of_a_range(monkeypatch):
    monkeypatch.setattr("ingest.curves.CHUNK", 333)  # bins straddle chunk boundaries
    rng = np.random.default_rng(6)
    depth = np.arange(SAMPLES) * 0.1
    value = rng.normal(size=SAMPLES)
    kept = decimate_minmax(depth, value, 50, start=700, stop=4100)
    expected = reference_minmax(depth[700:4100], value[700:4100], 50) + 700
    np.testing.assert_array_equal(kept, expected)
    assert CHUNK > 333  # the module's own chunk is larger (restored after the test)


def test_wells_curves_window_reads_the_stored_file(tmp_path, settings):
    rng = np.random.default_rng(7)
    spool = CurveSpool(tmp_path)
    depth = np.arange(3000) * 0.5
    value = rng.normal(size=3000)
    value[:10] = np.nan
    spool.append(depth[::-1].copy(), value[::-1].copy())  # logged upwards: stored increasing
    stored_path = Path(settings.MEDIA_ROOT) / "curves" / "c.npy"
    stored_path.parent.mkdir(parents=True)
    summary = curve_finish(spool, stored_path)
    spool.remove()
    assert (summary.samples, summary.depth_min, summary.depth_max) == (2990, 5.0, depth[-1])
    stored = np.load(stored_path)
    np.testing.assert_array_equal(stored, np.stack([depth[10:], value[10:]]))
    window = curve_window(storage_reader("curves/c.npy"), depth_min=100, depth_max=200.2, max_points=1000)
    assert (window.samples, window.decimated) == (201, False)
    np.testing.assert_array_equal(window.depth, depth[200:401])
    np.testing.assert_array_equal(window.value, value[200:401])
    small = curve_window(storage_reader("curves/c.npy"), depth_min=None, depth_max=None, max_points=100)
    assert (small.samples, small.decimated) == (2990, True)
    kept = reference_minmax(depth[10:], value[10:], 100)
    np.testing.assert_array_equal(small.depth, depth[10:][kept])
    np.testing.assert_array_equal(small.value, value[10:][kept])


@pytest.fixture
def long_curve_well(client, tmp_path):
    """A LAS of 5,000 samples with one curve ``RES`` (values multiples of 1/64: exact in the file)."""
    rng = np.random.default_rng(8)
    depth = 300 + np.arange(SAMPLES) * 0.25
    value = rng.integers(0, 64 * 100, SAMPLES) / 64
    value[200:260] = -999.25
    las = lasio.LASFile()
    las.well["NULL"].value = -999.25
    las.append_curve("DEPT", depth, unit="FT")
    las.append_curve("RES", value, unit="ohm.m")
    path = tmp_path / "res.las"
    las.write(str(path), version=2.0, fmt="%.6f")
    value = np.where(value == -999.25, np.nan, value)
    return upload_well(client, path), depth, value


@pytest.mark.django_db(transaction=True)
def test_wells_curves_api_decimates_a_range(client, long_curve_well):
    well, depth, value = long_curve_well
    assert well["depth_unit"] == "ft"
    url = f"/api/v1/wells/{well['id']}/curves/RES"
    whole = client.get(url + "?max_points=100000").json()
    assert (whole["samples"], whole["decimated"], whole["unit"], whole["depth_unit"]) == (
        SAMPLES,
        False,
        "ohm.m",
        "ft",
    )
    assert whole["depth"] == depth.tolist()
    assert whole["value"][200:260] == [None] * 60 and whole["value"][:200] == value[:200].tolist()
    part = client.get(url + "?depth_min=400&depth_max=900.1&max_points=64").json()
    inside = (depth >= 400) & (depth <= 900.1)
    assert (part["samples"], part["decimated"]) == (int(inside.sum()), True)
    expected = reference_minmax(depth[inside], value[inside], 64)
    assert part["depth"] == depth[inside][expected].tolist()
    assert part["value"] == value[inside][expected].tolist()
    default = client.get(url).json()  # max_points 2000 by default
    assert default["decimated"] and len(default["depth"]) <= 2000
    npy = client.get(url + "?format=npy&depth_min=400&depth_max=900.1&max_points=64")
    stored = np.load(io.BytesIO(npy.content))
    np.testing.assert_array_equal(stored, np.stack([part["depth"], part["value"]]))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "query",
    [
        "max_points=1",
        "max_points=100001",
        "depth_min=5&depth_max=4",
        "depth_min=nan",
        "depth_max=x",
        "format=csv",
    ],
)
def test_wells_curves_api_refuses_bad_parameters(client, long_curve_well, query):
    well, _, _ = long_curve_well
    response = client.get(f"/api/v1/wells/{well['id']}/curves/RES?{query}")
    assert response.status_code in (400, 404), response.content
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


@pytest.mark.django_db(transaction=True)
def test_wells_curves_api_missing_mnemonic_and_well_are_404(client, long_curve_well):
    well, _, _ = long_curve_well
    assert client.get(f"/api/v1/wells/{well['id']}/curves/NOPE").status_code == 404
    assert client.get(f"/api/v1/wells/{well['id'] + 1}/curves/RES").status_code == 404
    assert client.get(f"/api/v1/wells/{well['id'] + 1}/curves").status_code == 404
