"""LAS 2.0 wells through ``POST /api/v1/wells``: every pixel, depth, unit and curve as written.

The LAS files are written here with lasio's writer: 16 bulk-density sectors
(``ABDC1M..ABDC16M``, g/cc), 8 gamma-ray sectors (``GRAS0M..GRAS7M``, gAPI) and
the curves GR and CALI, ``NULL -999.25``, leading and trailing rows where every
ABDC sector is null. Values are multiples of 1/16 (exact in binary and in the
file's 4 decimals), so the stored float32 must equal them exactly.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import lasio
import numpy as np
import pytest
from django.test import Client

from ingest.models import Curve, Image, Well
from tests.conftest import media_files

pytestmark = pytest.mark.django_db(transaction=True)

NULL = -999.25
ROWS = 240
LEAD, TRAIL = 5, 7  # ABDC all-null rows at the shallow and the deep end
STEP = 0.125


@dataclass
class WrittenLog:
    """What a test LAS holds, in depth order (increasing), NaN for nulls."""

    path: Path
    depth: np.ndarray
    abdc: np.ndarray  # (ROWS, 16) float32
    gras: np.ndarray  # (ROWS, 8) float32
    gr: np.ndarray  # (ROWS,) float64
    cali: np.ndarray


def write_las(path: Path, *, upwards: bool = False, wrap: bool = False, rows: int = ROWS) -> WrittenLog:
    """Write a LAS with lasio; the arrays returned are in increasing depth order with NaN nulls."""
    rng = np.random.default_rng(13)
    depth = 1500.0 + np.arange(rows) * STEP
    abdc = (1.5 + rng.integers(0, 24, size=(rows, 16)) / 16).astype(np.float32)
    abdc[:LEAD] = np.nan
    abdc[rows - TRAIL :] = np.nan
    abdc[rows // 6, 3] = np.nan  # one null inside (row 40 of ROWS)
    gras = (rng.integers(0, 2400, size=(rows, 8)) / 16).astype(np.float32)
    gras[rows * 5 // 12, :] = np.nan  # a whole null scanline inside (row 100): kept as nodata
    gr = rng.integers(0, 1600, size=rows) / 16
    cali = 8.5 + rng.integers(-16, 16, size=rows) / 16
    cali[:3] = np.nan  # nodata-only ends of a curve are dropped
    cali[rows // 2] = np.nan  # row 120

    las = lasio.LASFile()
    las.well["WELL"].value = "ALPHA-1"
    las.well["UWI"].value = "05-123-45678"
    las.well["FLD"].value = "Buzios"
    las.well["COMP"].value = "Petro Test"
    las.well["NULL"].value = NULL
    las.params.append(lasio.HeaderItem("BS", unit="IN", value=8.5, descr="bit size"))
    order = slice(None, None, -1) if upwards else slice(None)

    def nulled(values: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(values), NULL, values)[order]

    las.append_curve("DEPT", depth[order], unit="M", descr="depth")
    for k in range(16):
        las.append_curve(f"ABDC{k + 1}M", nulled(abdc[:, k].astype(np.float64)), unit="g/cc", descr="density")
    for k in range(8):
        las.append_curve(f"GRAS{k}M", nulled(gras[:, k].astype(np.float64)), unit="gAPI", descr="gamma")
    las.append_curve("GR", nulled(gr), unit="gAPI", descr="gamma ray")
    las.append_curve("CALI", nulled(cali), unit="in", descr="caliper")
    las.write(str(path), version=2.0, wrap=wrap, fmt="%.4f")
    return WrittenLog(path, depth, abdc, gras, gr, cali)


@pytest.fixture
def las_log(tmp_path) -> WrittenLog:
    return write_las(tmp_path / "alpha.las")


def upload_well(client: Client, path: Path, status: int = 202, **fields) -> dict:
    with open(path, "rb") as f:
        response = client.post("/api/v1/wells", {"file": f, **fields})
    assert response.status_code == status, response.content[:2000]
    return response.json()


def region(client: Client, image_id: int) -> np.ndarray:
    response = client.get(f"/api/v1/images/{image_id}/data/region.npy")
    assert response.status_code == 200, response.content[:500]
    return np.load(io.BytesIO(response.content))


def check_images(client: Client, well: dict, log: WrittenLog) -> None:
    """Every pixel and depth of ABDC (trimmed ends) and GRAS, as written."""
    images = {image["name"]: image for image in well["images"]}
    assert set(images) == {"ABDC", "GRAS"}
    abdc, gras = images["ABDC"], images["GRAS"]
    assert (abdc["columns"], abdc["status"], abdc["value_unit"], abdc["dtype"]) == (
        16,
        "succeeded",
        "g/cc",
        "float32",
    )
    assert (gras["columns"], gras["value_unit"]) == (8, "gAPI")
    # ABDC: its all-null ends are not part of it.
    kept = slice(LEAD, ROWS - TRAIL)
    assert abdc["rows"] == ROWS - LEAD - TRAIL
    assert abdc["depth_min"] == log.depth[LEAD]
    assert abdc["depth_max"] == log.depth[ROWS - TRAIL - 1]
    assert abdc["depth_step"] == STEP
    stored = region(client, abdc["id"])
    assert stored.dtype == np.float32 and stored.shape == (ROWS - LEAD - TRAIL, 16)
    np.testing.assert_array_equal(stored, log.abdc[kept])  # NaN == NaN here: the nulls
    assert np.isnan(stored[40 - LEAD, 3])
    # GRAS: every row, the null scanline inside kept as nodata; sector order GRAS0M..GRAS7M.
    assert (gras["rows"], gras["depth_min"], gras["depth_max"]) == (ROWS, log.depth[0], log.depth[-1])
    np.testing.assert_array_equal(region(client, gras["id"]), log.gras)
    detail = client.get(f"/api/v1/images/{abdc['id']}").json()
    assert (detail["well"], detail["value_unit"], detail["depth_unit"]) == (well["id"], "g/cc", "m")


def check_curves(client: Client, well: dict, log: WrittenLog) -> None:
    curves = {curve["mnemonic"]: curve for curve in well["curves"]}
    assert set(curves) == {"GR", "CALI"}
    assert (curves["GR"]["unit"], curves["GR"]["samples"]) == ("gAPI", ROWS)
    assert (curves["CALI"]["unit"], curves["CALI"]["samples"]) == ("in", ROWS - 3)
    assert curves["CALI"]["depth_min"] == log.depth[3]
    assert curves["GR"]["value_min"] == log.gr.min() and curves["GR"]["value_max"] == log.gr.max()
    gr = client.get(curves["GR"]["url"]).json()
    assert (gr["depth_unit"], gr["samples"], gr["decimated"]) == ("m", ROWS, False)
    assert gr["depth"] == log.depth.tolist() and gr["value"] == log.gr.tolist()
    cali = client.get(f"/api/v1/wells/{well['id']}/curves/CALI?format=npy")
    assert cali["Content-Type"] == "application/x-npy"
    stored = np.load(io.BytesIO(cali.content))
    assert stored.dtype == np.float64 and stored.shape == (2, ROWS - 3)
    np.testing.assert_array_equal(stored[0], log.depth[3:])
    np.testing.assert_array_equal(stored[1], log.cali[3:])
    json_cali = client.get(f"/api/v1/wells/{well['id']}/curves/CALI").json()["value"]
    assert json_cali[120 - 3] is None


def test_wells_las_upload_images_curves_and_header(client, las_log):
    well = upload_well(client, las_log.path)
    assert (well["status"], well["format"], well["progress"]) == ("succeeded", "las", 1.0)
    assert (well["name"], well["well_name"], well["uwi"], well["field"], well["company"]) == (
        "alpha",
        "ALPHA-1",
        "05-123-45678",
        "Buzios",
        "Petro Test",
    )
    assert (well["depth_unit"], well["start"], well["stop"], well["step"], well["bit_size"]) == (
        "m",
        1500.0,
        las_log.depth[-1],
        STEP,
        8.5,
    )
    assert "P.BS" in well["header"] and well["error"] == "" and well["error_line"] is None
    check_images(client, well, las_log)
    check_curves(client, well, las_log)
    assert client.get(well["url"]).json() == well
    listed = client.get("/api/v1/wells").json()
    assert [item["id"] for item in listed["results"]] == [well["id"]]
    # The list counts the images and curves the detail lists; the rest is the detail's.
    (item,) = listed["results"]
    assert (item["image_count"], item["curve_count"]) == (len(well["images"]), len(well["curves"])) == (2, 2)
    assert "images" not in item and "curves" not in item
    assert {k: v for k, v in item.items() if not k.endswith("_count")} == {
        k: v for k, v in well.items() if k not in ("images", "curves")
    }
    assert client.get(f"/api/v1/wells/{well['id']}/curves").json() == well["curves"]


@pytest.mark.parametrize("variant", ["upwards", "wrapped"])
def test_wells_las_logged_upwards_and_wrapped_read_the_same(client, tmp_path, variant):
    log = write_las(tmp_path / f"{variant}.las", upwards=variant == "upwards", wrap=variant == "wrapped")
    well = upload_well(client, log.path)
    assert well["status"] == "succeeded", well
    check_images(client, well, log)
    check_curves(client, well, log)


def test_wells_las_content_not_extension_tells_the_format(client, tmp_path):
    log = write_las(tmp_path / "disguised.csv")
    well = upload_well(client, log.path)
    assert (well["format"], len(well["images"])) == ("las", 2)


def test_wells_las_bad_value_fails_with_its_line_and_leaves_nothing(client, las_log, settings):
    lines = las_log.path.read_text().splitlines()
    data_start = next(i for i, line in enumerate(lines) if line.startswith("~A")) + 1
    bad = data_start + 50
    cells = lines[bad].split()
    cells[4] = "1.2x"  # ABDC4M
    lines[bad] = "  ".join(cells)
    las_log.path.write_text("\n".join(lines) + "\n")
    body = upload_well(client, las_log.path, status=422)
    assert body["error"]["code"] == "invalid_well_log"
    assert body["error"]["line"] == bad + 1
    assert "ABDC4M" in body["error"]["where"] + body["error"]["message"]
    well = body["well"]
    assert (well["status"], well["images"], well["curves"]) == ("failed", [], [])
    assert well["error_line"] == bad + 1
    assert Image.objects.count() == 0 and Curve.objects.count() == 0
    assert [path.parent.name for path in media_files(settings)] == ["uploads"]  # only the file itself


def test_wells_las_duplicate_depth_names_its_lines(client, tmp_path):
    log = write_las(tmp_path / "dup.las")
    lines = log.path.read_text().splitlines()
    data_start = next(i for i, line in enumerate(lines) if line.startswith("~A")) + 1
    cells = lines[data_start + 20].split()
    cells[0] = lines[data_start + 19].split()[0]  # the depth of the line before
    lines[data_start + 20] = "  ".join(cells)
    log.path.write_text("\n".join(lines) + "\n")
    body = upload_well(client, log.path, status=422)
    assert body["error"]["line"] == data_start + 21, body
    assert "duplicate" in body["error"]["message"].lower() or "same row" in body["error"]["message"]
    assert Image.objects.count() == 0 and Curve.objects.count() == 0


def test_wells_las_delete_leaves_no_file(client, las_log, settings):
    well = upload_well(client, las_log.path)
    assert len(media_files(settings)) == 1 + 2 + 2  # the LAS, two pyramids, two curves
    assert client.delete(f"/api/v1/wells/{well['id']}").status_code == 204
    assert media_files(settings) == []
    assert (Well.objects.count(), Image.objects.count(), Curve.objects.count()) == (0, 0, 0)
    assert client.get(f"/api/v1/images/{well['images'][0]['id']}").status_code == 404


def test_wells_las_image_without_any_value_is_no_image(client, tmp_path):
    depth = 10 + np.arange(30) * 0.5
    las = lasio.LASFile()
    las.well["NULL"].value = NULL
    las.append_curve("DEPT", depth, unit="FT")
    for sector in range(4):
        las.append_curve(f"EMPT{sector}M", np.full(30, NULL), unit="g/cc")
    for sector in range(4):
        las.append_curve(f"FULL{sector}M", depth + sector, unit="g/cc")
    path = tmp_path / "empty-image.las"
    las.write(str(path), version=2.0, fmt="%.4f")
    well = upload_well(client, path)
    assert well["status"] == "succeeded" and well["depth_unit"] == "ft"
    assert [image["name"] for image in well["images"]] == ["FULL"]
    stored = region(client, well["images"][0]["id"])
    np.testing.assert_array_equal(stored, (depth[:, None] + np.arange(4)).astype(np.float32))
    assert Image.objects.count() == 1


def test_wells_las_upload_too_large_is_413_before_the_body(client, las_log, settings):
    settings.MAX_UPLOAD_MB = 0
    with open(las_log.path, "rb") as f:
        response = client.post("/api/v1/wells", {"file": f})
    assert response.status_code == 413 and response.json()["error"]["code"] == "upload_too_large"
    assert Well.objects.count() == 0 and media_files(settings) == []


def test_wells_las_input_policy_applies_to_its_images(client, tmp_path):
    log = write_las(tmp_path / "dup.las")
    lines = log.path.read_text().splitlines()
    data_start = next(i for i, line in enumerate(lines) if line.startswith("~A")) + 1
    cells = lines[data_start + 20].split()
    cells[0] = lines[data_start + 19].split()[0]  # sample 20 at the depth of sample 19
    lines[data_start + 20] = "  ".join(cells)
    log.path.write_text("\n".join(lines) + "\n")
    well = upload_well(client, log.path, on_duplicate="first")
    assert well["status"] == "succeeded", well
    gras = next(image for image in well["images"] if image["name"] == "GRAS")
    stored = region(client, gras["id"])
    assert stored.shape == (ROWS, 8)
    np.testing.assert_array_equal(stored[19], log.gras[19])  # the first of the two
    assert np.isnan(stored[20]).all()  # the row it left is a gap: nodata
    np.testing.assert_array_equal(stored[21:], log.gras[21:])
