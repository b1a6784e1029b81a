"""DLIS wells through ``POST /api/v1/wells``: each 2-D channel an image, every pixel and depth as written.

The files are written here with ``dliswriter``: one logical file, two depth
frames, MAIN (spacing 0.1 m: the index, a 24-column image channel FMI_DYN and
the curve GR) and FAST (spacing 0.05 m: its own index and a 12-column image
channel UBI_AMP, so the second image has another depth step than the frame of
the first). Absent values are -999.25. Values are multiples of 1/16: exact in float32.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from dliswriter import DLISFile

from ingest.models import Curve, Image, Well
from tests.conftest import media_files
from tests.test_wells_las import region, upload_well

pytestmark = pytest.mark.django_db(transaction=True)

ABSENT = -999.25
MAIN_ROWS, FAST_ROWS = 60, 90
LEAD = 3  # FMI_DYN rows where every value is absent (trimmed)


@dataclass
class WrittenDlis:
    path: Path
    main_depth: np.ndarray
    fast_depth: np.ndarray
    fmi: np.ndarray  # (MAIN_ROWS, 24) float32, NaN absent
    ubi: np.ndarray  # (FAST_ROWS, 12)
    gr: np.ndarray  # (MAIN_ROWS,) float64


def write_dlis(path: Path) -> WrittenDlis:
    rng = np.random.default_rng(14)
    main_depth = 2000 + np.arange(MAIN_ROWS) * 0.125
    fast_depth = 2000 + np.arange(FAST_ROWS) * 0.0625
    fmi = (rng.integers(0, 4000, size=(MAIN_ROWS, 24)) / 16).astype(np.float32)
    fmi[:LEAD] = np.nan
    fmi[20, 5] = np.nan
    ubi = (rng.integers(0, 900, size=(FAST_ROWS, 12)) / 16).astype(np.float32)
    gr = rng.integers(0, 1600, size=MAIN_ROWS) / 16

    dlis = DLISFile()
    logical = dlis.add_logical_file()
    logical.add_origin("ORIGIN", well_name="DELTA-2", field_name="Mero", company="Petro Test", well_id="UWI-77")
    main = (
        logical.add_channel("DEPT", data=main_depth, units="m"),
        logical.add_channel("FMI_DYN", data=np.nan_to_num(fmi, nan=ABSENT), units="ohm", dimension=24),
        logical.add_channel("GR", data=gr, units="gAPI"),
    )
    logical.add_frame("MAIN", channels=main, index_type="BOREHOLE-DEPTH", spacing=0.125)
    fast = (
        logical.add_channel("DEPTH2", data=fast_depth, units="m"),
        logical.add_channel("UBI_AMP", data=ubi, units="dB", dimension=12),
    )
    logical.add_frame("FAST", channels=fast, index_type="BOREHOLE-DEPTH", spacing=0.0625)
    dlis.write(str(path))
    return WrittenDlis(path, main_depth, fast_depth, fmi, ubi, gr)


def test_wells_dlis_images_per_2d_channel_and_curves(client, tmp_path):
    log = write_dlis(tmp_path / "delta.dlis")
    well = upload_well(client, log.path)
    assert (well["status"], well["format"], well["depth_unit"]) == ("succeeded", "dlis", "m"), well
    assert (well["well_name"], well["uwi"], well["field"], well["company"]) == (
        "DELTA-2",
        "UWI-77",
        "Mero",
        "Petro Test",
    )
    images = {image["name"]: image for image in well["images"]}
    assert set(images) == {"FMI_DYN", "UBI_AMP"}
    fmi, ubi = images["FMI_DYN"], images["UBI_AMP"]
    assert (fmi["columns"], fmi["value_unit"], fmi["dtype"]) == (24, "ohm", "float32")
    assert (fmi["rows"], fmi["depth_min"], fmi["depth_max"], fmi["depth_step"]) == (
        MAIN_ROWS - LEAD,
        log.main_depth[LEAD],
        log.main_depth[-1],
        0.125,
    )
    np.testing.assert_array_equal(region(client, fmi["id"]), log.fmi[LEAD:])
    assert (ubi["columns"], ubi["value_unit"], ubi["rows"], ubi["depth_step"]) == (12, "dB", FAST_ROWS, 0.0625)
    assert (ubi["depth_min"], ubi["depth_max"]) == (log.fast_depth[0], log.fast_depth[-1])
    np.testing.assert_array_equal(region(client, ubi["id"]), log.ubi)
    (gr,) = well["curves"]
    assert (gr["mnemonic"], gr["unit"], gr["samples"]) == ("GR", "gAPI", MAIN_ROWS)
    stored = np.load(io.BytesIO(client.get(gr["url"], HTTP_ACCEPT="application/x-npy").content))
    np.testing.assert_array_equal(stored, np.stack([log.main_depth, log.gr]))


def test_wells_dlis_truncated_file_fails_and_leaves_nothing(client, tmp_path, settings):
    log = write_dlis(tmp_path / "cut.dlis")
    data = log.path.read_bytes()
    log.path.write_bytes(data[: len(data) - 700])  # the last frame data records cut short
    with open(log.path, "rb") as f:
        response = client.post("/api/v1/wells", {"file": f})
    assert response.status_code == 422, response.content[:1000]
    body = response.json()
    assert body["error"]["code"] == "invalid_well_log"
    assert "logical record" in (body["error"]["message"] + body["error"].get("where", "")).lower(), body
    # Refused as its header was read: no well, no file at all.
    assert (Well.objects.count(), Image.objects.count(), Curve.objects.count()) == (0, 0, 0)
    assert media_files(settings) == []
