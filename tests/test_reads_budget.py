"""Bounded work per request: the read budget (DJANGO_TILES_MAX_READ_PIXELS), through HTTP.

A tall generated log (20,000 scanlines x 64 columns, uint8, ingested by the real
path) has six stored levels: 20000 x 64, 10000 x 32, 5000 x 16, 2500 x 8,
1250 x 4, 625 x 2, i.e. 79, 40, 20, 10, 5 and 3 tiles of 256 x 256. Every value
of scanline r is ``r % 251``, so any area average over whole rows is known
exactly. Tile decodes are counted at :meth:`tiles.core.pyramid.PyramidFile.tile`,
through which every read of ours goes.
"""

from __future__ import annotations

import io
import json
from urllib.parse import quote

import numpy as np
import pytest
import tifffile
from PIL import Image as PILImage

from ingest.selectors import image_local_path
from tiles.core.pyramid import PyramidFile

ROWS, COLUMNS = 20_000, 64
TILE_PIXELS = 256 * 256


@pytest.fixture
def tall_image(db, write_csv):
    from ingest.services import image_create_from_path, image_ingest

    header = "depth," + ",".join(f"col{c + 1}" for c in range(COLUMNS))
    lines = [header] + [f"{1000 + r / 10:.1f}," + ",".join([str(r % 251)] * COLUMNS) for r in range(ROWS)]
    image, _ = image_create_from_path(path=write_csv(lines), name="tall", queue=False)
    image = image_ingest(image_id=image.pk)
    assert image.status == "succeeded", image.error
    assert (image.rows, image.columns, image.levels) == (ROWS, COLUMNS, 6)
    return image


@pytest.fixture
def decodes(monkeypatch):
    """Counts stored tiles decoded by our reader (a list of (level, x, y))."""
    calls: list[tuple[int, int, int]] = []
    original = PyramidFile.tile

    def counting(self, level, x, y):
        calls.append((level, x, y))
        return original(self, level, x, y)

    monkeypatch.setattr(PyramidFile, "tile", counting)
    return calls


def _pixels(response) -> np.ndarray:
    assert response.status_code == 200, response.content[:300]
    return np.asarray(PILImage.open(io.BytesIO(response.content)))


def _row_means() -> np.ndarray:
    return (np.arange(ROWS) % 251).astype(np.float64)


def test_reads_strip_of_a_tall_log_reads_a_coarser_level_within_the_budget(
    anonymous_client, tall_image, decodes, settings
):
    """width=64&height=1 shrinks 20,000x in depth and not at all across: level 0 would be 79 tiles."""
    settings.TILES_MAX_READ_PIXELS = 8 * TILE_PIXELS
    url = f"/api/v1/images/{tall_image.pk}/data/region.npy?width={COLUMNS}&height=1"
    response = anonymous_client.get(url)
    assert response.status_code == 200
    values = np.load(io.BytesIO(response.content))
    assert values.shape == (1, COLUMNS) and values.dtype == np.uint8  # uint8: no nodata
    assert 0 < len(decodes) <= 8
    assert {level for level, _, _ in decodes} == {4}  # 1250 x 4: 5 tiles, the first level that fits
    # Area-averaged over every scanline: each column is the mean of r % 251 (rounded to uint8).
    assert np.abs(values[0].astype(int) - _row_means().mean()).max() <= 1


def test_reads_strip_within_the_default_budget_stays_at_full_resolution(
    anonymous_client, tall_image, decodes
):
    url = f"/api/v1/images/{tall_image.pk}/data/region.npy?width={COLUMNS}&height=1"
    values = np.load(io.BytesIO(anonymous_client.get(url).content))
    assert {level for level, _, _ in decodes} == {0} and len(decodes) == 79  # 5.2 M pixels < 16.8 M
    assert np.abs(values[0].astype(int) - _row_means().mean()).max() <= 1


def test_reads_too_large_is_400_before_any_decode(anonymous_client, tall_image, decodes, settings):
    settings.TILES_MAX_READ_PIXELS = 2 * TILE_PIXELS  # the coarsest level alone holds 3 tiles
    base = f"/api/v1/images/{tall_image.pk}"
    for url in (
        f"{base}/data/region.png?width={COLUMNS}&height=1",
        f"{base}/data/thumbnail.png",
        f"{base}/data/region.png?top=0&bottom=5000",  # native size: level 0 only
        f"{base}/tiles/0/0/0.png",  # a zoom large_image builds from the 3 tiles of level 5
        f"/get-images/1000/1100/?image={tall_image.pk}",  # classic frames: 1,001 scanlines, 4 tiles
    ):
        response = anonymous_client.get(url)
        assert response.status_code == 400, (url, response.content[:300])
        error = response.json()["error"]
        assert error["code"] == "read_too_large", url
        assert error["limit"] == 2 * TILE_PIXELS and "DJANGO_TILES_MAX_READ_PIXELS" in error["message"]
    assert decodes == []


def test_reads_a_stored_tile_and_a_pixel_decode_one_tile(anonymous_client, tall_image, decodes, settings):
    settings.TILES_MAX_READ_PIXELS = TILE_PIXELS
    base = f"/api/v1/images/{tall_image.pk}"
    assert anonymous_client.get(f"{base}/tiles/7/0/3.png").status_code == 200
    assert anonymous_client.get(f"{base}/data/pixel?left=5&top=19999").json()["value"] == 19999 % 251
    assert decodes == [(0, 0, 3), (0, 0, 78)]


def test_reads_region_at_native_size_and_aligned_levels_stays_exact(anonymous_client, tall_image, settings):
    """Within the budget the chosen level is the exact one: native pixels, and aligned 2^k reductions."""
    settings.TILES_MAX_READ_PIXELS = 16 * TILE_PIXELS
    base = f"/api/v1/images/{tall_image.pk}/data/region.npy"
    native = np.load(io.BytesIO(anonymous_client.get(f"{base}?top=512&bottom=1536").content))
    assert native.shape == (1024, COLUMNS)
    np.testing.assert_array_equal(native[:, 0], np.arange(512, 1536) % 251)
    quarter_url = f"{base}?top=0&bottom=4096&width=16&height=1024"
    quarter = np.load(io.BytesIO(anonymous_client.get(quarter_url).content))
    with tifffile.TiffFile(image_local_path(tall_image)) as tiff:
        level2 = tiff.pages[2].asarray()  # 5000 x 16, written by the ingest
    np.testing.assert_array_equal(quarter, level2[:1024, :, 0])


def test_reads_classic_frames_count_against_the_budget(anonymous_client, tall_image, decodes, settings):
    settings.TILES_MAX_READ_PIXELS = 4 * TILE_PIXELS
    ok = anonymous_client.get(f"/get-images/1000/1051.1/?image={tall_image.pk}")  # rows 0..511: 2 tiles
    assert ok.status_code == 200 and len(ok.json()["images"]) == 512
    assert len(decodes) == 2
    refused = anonymous_client.get(f"/get-images/1000/1200/?image={tall_image.pk}")  # rows 0..2000: 8 tiles
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "read_too_large"
    assert len(decodes) == 2


def test_reads_histogram_samples_whole_tiles_within_the_budget(
    anonymous_client, tall_image, decodes, settings
):
    settings.TILES_MAX_READ_PIXELS = 8 * TILE_PIXELS
    response = anonymous_client.get(f"/api/v1/images/{tall_image.pk}/data/histogram?bins=251")
    assert response.status_code == 200
    value, alpha = response.json()
    assert len(decodes) == 8 and {level for level, _, _ in decodes} == {0}
    assert decodes[0] == (0, 0, 0) and decodes[-1] == (0, 0, 78)  # evenly spaced, first to last
    assert value["sampled"] is True and value["coverage"] == pytest.approx(8 / 79)
    # Whole stored tiles: the counted values are stored values (0..250), never block means.
    rows = np.concatenate([np.arange(y * 256, min(ROWS, (y + 1) * 256)) for _, _, y in decodes])
    expected = np.bincount(rows % 251, minlength=251) * COLUMNS
    assert value["hist"] == [float(count) for count in expected]
    assert value["samples"] == float(len(rows) * COLUMNS) == alpha["samples"]
    assert (value["min"], value["max"]) == (0.0, 250.0)


def test_reads_histogram_of_the_sample_equals_large_image(anonymous_client, sample_image):
    """Within the budget every tile is read, and the answer is large_image's own histogram."""
    import large_image_source_tiff

    ours = anonymous_client.get(f"/api/v1/images/{sample_image.pk}/data/histogram?bins=17").json()
    theirs = large_image_source_tiff.open(str(image_local_path(sample_image))).histogram(bins=17)["histogram"]
    assert len(ours) == len(theirs) == 2
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine["sampled"] is False and mine["coverage"] == 1.0
        assert mine["hist"] == [float(v) for v in reference["hist"]]
        assert mine["bin_edges"] == pytest.approx([float(v) for v in reference["bin_edges"]])
        assert (mine["min"], mine["max"], mine["samples"]) == (
            float(reference["min"]),
            float(reference["max"]),
            float(reference["samples"]),
        )
        assert mine["mean"] == pytest.approx(reference["mean"]) and mine["stdev"] == pytest.approx(
            reference["stdev"]
        )
    minmax = anonymous_client.get(f"/api/v1/images/{sample_image.pk}/data/histogram?onlyMinMax=true").json()
    assert minmax["min"] == [13, 255] and minmax["max"] == [237, 255] and minmax["sampled"] is False


def test_reads_histogram_of_a_float_log_leaves_nodata_out(anonymous_client, write_csv, db):
    """float32 images have one band: the values, NaN (empty cells) not counted."""
    from ingest.services import image_create_from_path, image_ingest

    rng = np.random.default_rng(11)
    values = np.round(np.exp(rng.uniform(np.log(0.5), np.log(2000), (300, 4))), 4).astype(np.float32)
    lines = ["depth,col1,col2,col3,col4"]
    for row, cells in enumerate(values):
        text = [f"{v:.4f}" for v in cells]
        if row % 7 == 0:
            text[1] = ""
            values[row, 1] = np.nan
        lines.append(f"{2000 + row * 0.25:.2f}," + ",".join(text))
    image, _ = image_create_from_path(path=write_csv(lines), name="float", queue=False)
    image = image_ingest(image_id=image.pk)
    assert image.status == "succeeded" and image.dtype == "float32"
    (band,) = anonymous_client.get(f"/api/v1/images/{image.pk}/data/histogram?bins=10").json()
    valid = values[~np.isnan(values)]
    expected, edges = np.histogram(valid, 10, (float(valid.min()), float(valid.max()) + 1))
    assert band["samples"] == valid.size == 1200 - 43
    assert band["hist"] == [float(v) for v in expected] and band["bin_edges"] == pytest.approx(edges)
    assert band["min"] == float(valid.min()) and band["mean"] == pytest.approx(valid.astype(float).mean())
    assert band["stdev"] == pytest.approx(valid.astype(float).std())


def test_reads_style_range_scan_counts_against_the_budget(anonymous_client, tall_image, settings):
    """A style min/max that is a word (or unset: auto) makes large_image scan 5 tiles of level 4 here."""
    settings.TILES_MAX_READ_PIXELS = 4 * TILE_PIXELS
    tile = f"/api/v1/images/{tall_image.pk}/tiles/7/0/3.png?style="
    auto = quote(json.dumps({"band": 1, "palette": "viridis"}))
    scanning = anonymous_client.get(tile + auto)
    assert scanning.status_code == 400 and scanning.json()["error"]["code"] == "read_too_large"
    assert "give min and max as numbers" in scanning.json()["error"]["message"]
    numbers = {"band": 1, "palette": "viridis", "min": 0, "max": 250}
    assert anonymous_client.get(tile + quote(json.dumps(numbers))).status_code == 200
    settings.TILES_MAX_READ_PIXELS = 5 * TILE_PIXELS
    assert anonymous_client.get(tile + auto).status_code == 200


@pytest.mark.parametrize("value", ["0.5", "-1000.25"])
def test_reads_histogram_of_a_constant_float_log(anonymous_client, write_csv, db, value):
    """One value everywhere: bins over [value, value + max(1, |value| / 1e6)].

    (Constants past about 8,192 cannot be ingested yet: the ingest's own percentile
    histogram has too many bins for their float32 span.)
    """
    from ingest.services import image_create_from_path, image_ingest

    lines = ["depth,col1,col2"] + [f"{10 + r:.1f},{value},{value}" for r in range(50)]
    image, _ = image_create_from_path(path=write_csv(lines), name="constant", queue=False)
    image = image_ingest(image_id=image.pk)
    assert image.status == "succeeded" and image.dtype == "float32", image.error
    response = anonymous_client.get(f"/api/v1/images/{image.pk}/data/histogram?bins=4096")
    assert response.status_code == 200, response.content[:300]
    (band,) = response.json()
    stored = float(np.float32(value))
    assert band["min"] == band["max"] == stored and band["samples"] == 100.0
    assert band["hist"][0] == 100.0 and sum(band["hist"]) == 100.0
    assert band["range"] == [stored, stored + max(1.0, abs(stored) * 1e-6)]


@pytest.fixture
def large_image_levels(monkeypatch):
    """The large_image levels (0 = coarsest) whose tiles a styled read decodes."""
    from tiles.core.range_source import PyramidTileSource

    levels: list[int] = []
    original = PyramidTileSource.getTile

    def recording(self, x, y, z, *args, **kwargs):
        levels.append(z)
        return original(self, x, y, z, *args, **kwargs)

    monkeypatch.setattr(PyramidTileSource, "getTile", recording)
    return levels


@pytest.mark.parametrize(("side", "output"), [(64, 16), (63, 15)])
def test_reads_styled_region_reads_the_level_the_budget_checked(
    anonymous_client, tall_image, large_image_levels, side, output
):
    """63 x 63 to 15 x 15 reads reduction 4 as the budget checked, not the 4x larger reduction 2.

    (large_image, given the output rounded up, 16 x 16, would pick the next finer level.)
    """
    style = quote(json.dumps({"band": 1, "palette": ["#000000", "#ffffff"], "min": 0, "max": 255}))
    url = f"/api/v1/images/{tall_image.pk}/data/region.png?top=0&bottom={side}"
    url += f"&left=0&right={side}&width={output}&height={output}"
    response = anonymous_client.get(url + f"&style={style}")
    pixels = _pixels(response)
    from tiles import services

    levels = services._source(tall_image).levels  # large_image's z counts from the coarsest
    assert set(large_image_levels) == {levels - 1 - 2}
    assert pixels.shape[:2] == (output, output)
    if side % 4:
        return  # the aligned case's pixels:
    # the stored page 2 itself (a black-to-white palette over 0..255 maps each value to its grey).
    stored = PyramidFile(str(image_local_path(tall_image))).window(2, 0, 16, 0, 16)[..., 0]
    assert np.abs(pixels[:, :, 0].astype(int) - stored.astype(int)).max() <= 1
