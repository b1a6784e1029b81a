"""Static and dynamic normalisation on the server (issue 14): the formula, no seams, bounds, caching.

The expected pixels are computed here, plainly and independently of
``tiles/core/normalize.py``: for every pixel, the window's values are sorted and
the counts of values below and equal to it read off with ``searchsorted``.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image as PILImage

pytestmark = pytest.mark.django_db


# -- helpers --------------------------------------------------------------------------------


def decode(response) -> np.ndarray:
    """A grey PNG's ``(h, w, 2)`` index (grey) and alpha."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    return np.asarray(PILImage.open(io.BytesIO(response.content)).convert("LA"))


def load_npy(response) -> np.ndarray:
    """``region.npy`` as float64 with NaN for nodata."""
    assert response.status_code == 200, response.content[:300]
    return np.load(io.BytesIO(response.content), allow_pickle=False).astype(np.float64)


def expected_index(values: np.ndarray, windows) -> np.ndarray:
    """The definition, plainly: ``min(255, floor(256 p))``, p the mid-rank percentile (-1: nodata).

    Args:
        values: ``(h, w)`` float64, NaN nodata.
        windows: for each row ``i``, the slice of rows of its window.
    """
    out = np.full(values.shape, -1, np.int64)
    sorted_windows: dict[tuple[int, int], np.ndarray] = {}
    for i in range(values.shape[0]):
        rows = windows(i)
        if (rows.start, rows.stop) not in sorted_windows:
            window = values[rows]
            sorted_windows[rows.start, rows.stop] = np.sort(window[~np.isnan(window)])
        window = sorted_windows[rows.start, rows.stop]
        row = values[i]
        present = ~np.isnan(row)
        less = np.searchsorted(window, row[present], side="left")
        equal = np.searchsorted(window, row[present], side="right") - less
        p = (less + equal / 2) / window.size
        out[i, present] = np.minimum(255, np.floor(256 * p)).astype(np.int64)
    return out


def window_rows(depths: np.ndarray, window: float):
    """Rows whose depth lies in [d - window/2, d + window/2] of row i's depth d (a slice)."""

    def rows(i: int) -> slice:
        inside = np.flatnonzero(np.abs(depths - depths[i]) <= window / 2 + 1e-9)
        assert (np.diff(inside) == 1).all()
        return slice(inside[0], inside[-1] + 1)

    return rows


def as_index(pixels: np.ndarray) -> np.ndarray:
    """Decoded grey + alpha -> index, -1 where transparent."""
    return np.where(pixels[..., 1] > 0, pixels[..., 0].astype(np.int64), -1)


def stitch(client, image_id: int, z: int, rows: int, columns: int, query: str) -> np.ndarray:
    """Every tile of level ``z`` decoded and put together, cut to ``rows`` x ``columns``."""
    down, across = -(-rows // 256), -(-columns // 256)
    out = np.zeros((down * 256, across * 256, 2), np.uint8)
    for y in range(down):
        for x in range(across):
            tile = decode(client.get(f"/api/v1/images/{image_id}/tiles/{z}/{x}/{y}.png?{query}"))
            out[y * 256 : (y + 1) * 256, x * 256 : (x + 1) * 256] = tile
    return out[:rows, :columns]


@pytest.fixture
def make_image(write_csv):
    """Ingest a generated log: ``values`` ``(rows, columns)`` (NaN = an empty cell).

    Depths run from 1000 by 0.1 (``depth_unit``).
    """
    from ingest.services import image_create_from_path, image_ingest

    def make(values: np.ndarray, *, integers: bool = True, depth_unit: str = "m"):
        header = "depth," + ",".join(f"col{i + 1}" for i in range(values.shape[1]))
        lines = [header]
        for r, row in enumerate(values):
            cells = ["" if np.isnan(v) else (str(int(v)) if integers else repr(float(v))) for v in row]
            lines.append(f"{1000 + r * 0.1:.1f}," + ",".join(cells))
        image, _ = image_create_from_path(
            path=write_csv(lines), name="generated", depth_unit=depth_unit, force=True, queue=False
        )
        image = image_ingest(image_id=image.pk)
        assert image.status == "succeeded", image.error
        return image

    return make


def metadata(client, image_id: int) -> dict:
    return client.get(f"/api/v1/images/{image_id}").json()


# -- the formula against an independent computation --------------------------------------------


def test_static_uint8_is_the_mid_rank_percentile_of_the_whole_log(client, sample_image):
    base = f"/api/v1/images/{sample_image.pk}/data/region"
    values = load_npy(client.get(f"{base}.npy"))
    served = as_index(decode(client.get(f"{base}.png?normalize=static")))
    expected = expected_index(values, lambda i: slice(0, values.shape[0]))
    np.testing.assert_array_equal(served, expected)
    # equalised: the indices spread over the palette, mean about 128 (uniform percentiles)
    present = expected[expected >= 0]
    assert present.min() <= 5 and present.max() >= 250 and 115 < present.mean() < 141


def test_dynamic_uint8_ranks_each_scanline_in_its_depth_window(client, sample_image):
    """A depth range of the real log at full resolution; windows reach past the range (margins)."""
    base = f"/api/v1/images/{sample_image.pk}/data/region"
    whole = client.get(f"{base}.npy")
    values = load_npy(whole)
    step = float(whole["X-Depth-Step"])
    depths = float(whole["X-Depth-Min"]) + step * np.arange(values.shape[0])
    window = 2.5  # 12 rows each side at a 0.1 step: 25 rows
    part = client.get(f"{base}.png?depth_min=9100&depth_max=9150&normalize=dynamic&window={window}")
    first, last = (int(r) for r in part["X-Rows"].split("-"))
    expected = expected_index(values, window_rows(depths, window))
    np.testing.assert_array_equal(as_index(decode(part)), expected[first : last + 1])
    # the window matters: the static answer differs
    static = as_index(decode(client.get(f"{base}.png?depth_min=9100&depth_max=9150&normalize=static")))
    assert (static != expected[first : last + 1]).mean() > 0.5


def test_dynamic_at_a_coarser_level_uses_that_levels_scanlines(client, make_image):
    """On a level of scale 4, the window counts level rows (0.4 apart), not full-resolution rows."""
    rng = np.random.default_rng(3)
    image = make_image(rng.integers(0, 256, (1024, 16)).astype(float))
    base = f"/api/v1/images/{image.pk}/data/region"
    values = load_npy(client.get(f"{base}.npy?width=4&height=256"))  # level 2's grid
    depths = np.arange(256) * 0.4
    served = as_index(decode(client.get(f"{base}.png?width=4&height=256&normalize=dynamic&window=3")))
    np.testing.assert_array_equal(served, expected_index(values, window_rows(depths, 3.0)))


def test_float32_is_ranked_by_4096_bins_within_the_stated_error(client, make_image):
    """|p - p_exact| <= (values in v's bin but not equal to v) / (2 n): the documented bound."""
    rng = np.random.default_rng(5)
    values = rng.lognormal(1.0, 0.6, (600, 12))
    values[rng.random(values.shape) < 0.05] = np.nan
    values[:, 0] = np.round(values[:, 0], 1)  # many equal values too
    image = make_image(values, integers=False)
    assert metadata(client, image.pk)["dtype"] == "float32"
    base = f"/api/v1/images/{image.pk}/data/region"
    stored = load_npy(client.get(f"{base}.npy"))
    served = as_index(decode(client.get(f"{base}.png?normalize=static")))
    exact = expected_index(stored, lambda i: slice(0, stored.shape[0]))
    np.testing.assert_array_equal(served < 0, exact < 0)  # nodata stays transparent
    low, high = np.nanmin(stored), np.nanmax(stored)
    present = stored[~np.isnan(stored)]
    bins = np.clip(np.floor((present - low) / (high - low) * 4096), 0, 4095)
    bin_of = dict(zip(present.tolist(), bins.tolist(), strict=True))
    in_bin = np.bincount(bins.astype(np.int64), minlength=4096)
    worst = 0.0
    for (r, c), index in np.ndenumerate(served):
        if index < 0:
            continue
        value = stored[r, c]
        bound = (in_bin[int(bin_of[value])] - np.count_nonzero(present == value)) / (2 * present.size)
        # floor(256 p) moves by at most ceil(256 * bound) (+1 for the floor's edge)
        assert abs(index - exact[r, c]) <= np.ceil(256 * bound) + 1, (r, c, index, exact[r, c], bound)
        worst = max(worst, abs(index - exact[r, c]))
    assert worst > 0  # the skewed values crowd some bins: binning shows
    assert np.abs(served - exact).mean() < 0.25, np.abs(served - exact).mean()


# -- no seams ------------------------------------------------------------------------------------


def test_stitched_dynamic_tiles_equal_the_region_at_full_resolution(client, sample_image):
    info = metadata(client, sample_image.pk)
    rows, columns = info["rows"], info["columns"]
    levels = client.get(f"/api/v1/images/{sample_image.pk}/tiles/metadata").json()["levels"]
    query = "normalize=dynamic&window=30&palette=viridis"  # 301 rows: spans every tile boundary
    region = client.get(f"/api/v1/images/{sample_image.pk}/data/region.png?{query}")
    assert region.status_code == 200
    expected = np.asarray(PILImage.open(io.BytesIO(region.content)).convert("RGBA"))
    down = -(-rows // 256)
    stitched = np.zeros((down * 256, 256, 4), np.uint8)
    for y in range(down):
        tile = client.get(f"/api/v1/images/{sample_image.pk}/tiles/{levels - 1}/0/{y}.png?{query}")
        assert tile.status_code == 200
        stitched[y * 256 : (y + 1) * 256] = np.asarray(
            PILImage.open(io.BytesIO(tile.content)).convert("RGBA")
        )
    np.testing.assert_array_equal(stitched[:rows, :columns], expected)
    assert (stitched[rows:, :, 3] == 0).all() and (stitched[:, columns:, 3] == 0).all()


def test_stitched_tiles_equal_the_region_at_a_coarser_level(client, sample_image):
    info = metadata(client, sample_image.pk)
    rows, columns = info["rows"], info["columns"]
    levels = client.get(f"/api/v1/images/{sample_image.pk}/tiles/metadata").json()["levels"]
    assert rows % 4 == 0 and columns % 4 == 0  # level 2 is the region at a quarter of the size
    for query in ("normalize=dynamic&window=30", "normalize=static"):
        size = f"width={columns // 4}&height={rows // 4}"
        region = decode(client.get(f"/api/v1/images/{sample_image.pk}/data/region.png?{size}&{query}"))
        stitched = stitch(client, sample_image.pk, levels - 3, rows // 4, columns // 4, query)
        np.testing.assert_array_equal(stitched, region)


def test_tiles_of_a_level_past_the_stored_pages_equal_the_region(client, make_image):
    """2,048 x 4 stores two pages; levels 2 and 3 are built from the coarsest, on both paths alike."""
    rng = np.random.default_rng(7)
    image = make_image(rng.integers(0, 256, (2048, 4)).astype(float))
    assert client.get(f"/api/v1/images/{image.pk}/tiles/metadata").json()["levels"] == 4
    for z, scale in ((1, 4), (0, 8)):
        query = "normalize=dynamic&window=5"
        region = decode(
            client.get(f"/api/v1/images/{image.pk}/data/region.png?width=1&height={2048 // scale}&{query}")
        )
        np.testing.assert_array_equal(stitch(client, image.pk, z, 2048 // scale, 1, query), region)


# -- nodata, bounds, caching, the other routes ------------------------------------------------------


def test_nodata_stays_transparent(client, make_image):
    values = np.tile(np.arange(40, dtype=float)[:, None], (1, 6))
    values[10:15, 2] = np.nan  # empty cells
    image = make_image(values)
    for query in (
        "normalize=static",
        "normalize=dynamic&window=1",
        "normalize=dynamic&window=1&palette=viridis",
    ):
        response = client.get(f"/api/v1/images/{image.pk}/data/region.png?{query}")
        pixels = np.asarray(PILImage.open(io.BytesIO(response.content)).convert("RGBA"))
        assert (pixels[10:15, 2, 3] == 0).all()
        assert (np.delete(pixels[..., 3], 2, axis=1) == 255).all()
    # a scanline of distinct values, each row its own window: the colour follows the rank within it
    static = as_index(decode(client.get(f"/api/v1/images/{image.pk}/data/region.png?normalize=static")))
    assert (np.diff(static[:, 0]) > 0).all()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("normalize=equalise", "normalize"),
        ("normalize=dynamic&window=0", "window"),
        ("normalize=dynamic&window=-2", "window"),
        ("normalize=dynamic&window=nan", "window"),
        ("normalize=dynamic&window=inf", "window"),
        ("normalize=dynamic&window=1e7", "window"),
        ("normalize=dynamic&window=abc", "window"),
        ("normalize=dynamic&window=500", "window"),  # 5,001 scanlines at full resolution
        ("normalize=static&style=%7B%22palette%22%3A%22viridis%22%7D", "normalize"),
    ],
)
def test_bad_normalisation_is_a_400_naming_the_parameter(client, sample_image, query, field):
    z = client.get(f"/api/v1/images/{sample_image.pk}/tiles/metadata").json()["levels"] - 1
    for url in (
        f"/api/v1/images/{sample_image.pk}/tiles/{z}/0/1.png?{query}",
        f"/api/v1/images/{sample_image.pk}/data/region.png?depth_min=9100&depth_max=9110&{query}",
        f"/api/v1/images/{sample_image.pk}/data/thumbnail.png?{query}".replace("window=500", "window=50000"),
    ):
        response = client.get(url)
        assert response.status_code == 400, (url, response.content[:200])
        assert response["Content-Type"].startswith("application/json")
        assert field in response.json()["error"]["fields"], response.json()


def test_a_window_wide_at_full_resolution_is_fine_at_a_coarse_level(client, sample_image):
    """The bound is in rows of the level: 500 m is 5,001 rows at full resolution, 79 at level 6."""
    response = client.get(f"/api/v1/images/{sample_image.pk}/tiles/0/0/0.png?normalize=dynamic&window=500")
    assert response.status_code == 200


def test_normalised_outputs_are_etagged_and_keyed_by_their_parameters(anonymous_client, sample_image):
    z = anonymous_client.get(f"/api/v1/images/{sample_image.pk}/tiles/metadata").json()["levels"] - 1
    url = f"/api/v1/images/{sample_image.pk}/tiles/{z}/0/2.png"
    etags = {}
    for query in ("", "normalize=static", "normalize=dynamic&window=2", "normalize=dynamic&window=3"):
        response = anonymous_client.get(f"{url}?{query}")
        assert response.status_code == 200
        etags[query] = response["ETag"]
        again = anonymous_client.get(f"{url}?{query}", HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304
    assert len(set(etags.values())) == 4
    # window is ignored unless dynamic, min/max with normalisation: one key each
    same = anonymous_client.get(f"{url}?normalize=static&window=9&min=3&max=40")
    assert same["ETag"] == etags["normalize=static"]
    assert same.content == anonymous_client.get(f"{url}?normalize=static").content
    default = anonymous_client.get(f"{url}?normalize=dynamic")  # metres: 0.6
    assert default["ETag"] == anonymous_client.get(f"{url}?normalize=dynamic&window=0.6")["ETag"]


def test_thumbnail_accepts_normalisation_and_npy_stays_the_stored_values(client, sample_image):
    base = f"/api/v1/images/{sample_image.pk}/data/thumbnail"
    plain = decode(client.get(f"{base}.png?width=50&height=300"))
    static = decode(client.get(f"{base}.png?width=50&height=300&normalize=static"))
    dynamic = decode(client.get(f"{base}.png?width=50&height=300&normalize=dynamic&window=20"))
    assert plain.shape == static.shape == dynamic.shape == (300, 50, 2)
    assert (plain != static).any() and (static != dynamic).any()
    assert static[..., 0].min() <= 5 and static[..., 0].max() >= 250
    raw = client.get(f"{base}.npy?width=50&height=300&normalize=dynamic")
    assert raw.content == client.get(f"{base}.npy?width=50&height=300").content


def test_classic_frames_are_the_rows_of_the_normalised_region(client, sample_image):
    query = "normalize=dynamic&window=2.5"
    answer = client.get(f"/get-images/9100/9105/?image={sample_image.pk}&{query}")
    assert answer.status_code == 200, answer.content[:300]
    frames = [
        np.asarray(PILImage.open(io.BytesIO(base64.b64decode(f["image"]))).convert("LA"))
        for f in answer.json()["images"]
    ]
    region = decode(
        client.get(f"/api/v1/images/{sample_image.pk}/data/region.png?depth_min=9100&depth_max=9105&{query}")
    )
    np.testing.assert_array_equal(np.concatenate(frames), region)
    bad = client.get(f"/get-images/9100/9105/?image={sample_image.pk}&normalize=dynamic&window=600")
    assert bad.status_code == 400 and "window" in json.dumps(bad.json())
    static = client.get(f"/get-images/9100/9105/?image={sample_image.pk}&normalize=static&frame_rows=10")
    assert static.status_code == 200
