"""Serving the real log: tiles, depth-addressed regions, thumbnails, pixels, every route."""

import io
import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image as PILImage

pytestmark = pytest.mark.django_db


def decode(response) -> np.ndarray:
    """Decoded pixels: ``(h, w, 2)`` grey + alpha, or ``(h, w, 4)`` RGBA (palette PNGs expanded)."""
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("image/")
    image = PILImage.open(io.BytesIO(response.content))
    if image.mode in ("L", "LA"):
        return np.asarray(image.convert("LA"))
    if image.mode == "P":
        palette = np.array(image.getpalette()).reshape(-1, 3)
        if (palette[:, 0] == palette[:, 1]).all() and (palette[:, 1] == palette[:, 2]).all():
            return np.asarray(image.convert("LA"))  # identity grey palette
    return np.asarray(image.convert("RGBA"))


def rows_between(depth: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.flatnonzero((depth >= low - 1e-9) & (depth <= high + 1e-9))


def test_region_by_depth_equals_csv_rows(client, sample_image, sample_reference):
    depth, values = sample_reference
    response = client.get(
        f"/api/v1/images/{sample_image.pk}/data/region.png?depth_min=9100.0&depth_max=9110.0"
    )
    pixels = decode(response)
    rows = rows_between(depth, 9100.0, 9110.0)
    assert rows.size == 101
    assert pixels.shape == (101, 200, 2)  # grey + alpha
    np.testing.assert_array_equal(pixels[..., 0], values[rows])
    assert (pixels[..., 1] == 255).all()
    assert float(response["X-Depth-Min"]) == pytest.approx(9100.0)
    assert float(response["X-Depth-Max"]) == pytest.approx(9110.0)


def test_region_viridis_equals_matplotlib(client, sample_image, sample_reference):
    depth, values = sample_reference
    url = (
        f"/api/v1/images/{sample_image.pk}/data/region.png?depth_min=9100.0&depth_max=9110.0&palette=viridis"
    )
    pixels = decode(client.get(url)).astype(int)
    expected = np.round(
        matplotlib.colormaps["viridis"](values[rows_between(depth, 9100.0, 9110.0)] / 255) * 255
    )
    assert pixels.shape == (101, 200, 4)
    assert np.abs(pixels - expected).max() <= 1


def test_region_colormap_is_an_alias_of_palette(client, sample_image):
    """``colormap`` (the classic API's and the viewer's name) gives the pixels of ``palette``."""
    base = f"/api/v1/images/{sample_image.pk}/data/region.png?depth_min=9100&depth_max=9101"
    by_palette = decode(client.get(f"{base}&palette=viridis"))
    np.testing.assert_array_equal(decode(client.get(f"{base}&colormap=viridis")), by_palette)
    assert by_palette.shape[2] == 4  # coloured, not grey
    response = client.get(f"{base}&colormap=no-such-map")
    assert response.status_code == 400
    assert "colormap" in json.dumps(response.json())


def test_tile_corners_name_the_depth_range(client, sample_image, sample_reference):
    """Corners of a full-resolution tile: its pixels and the depths of its first and last rows."""
    depth, _ = sample_reference
    metadata = client.get(f"/api/v1/images/{sample_image.pk}/tiles/metadata").json()
    z = metadata["levels"] - 1
    corners = client.get(f"/api/v1/images/{sample_image.pk}/tiles/{z}/0/1/corners").json()
    assert (corners["ymin"], corners["ymax"], corners["xmin"]) == (256, 512, 0)
    assert corners["depth_min"] == pytest.approx(depth[256])
    assert corners["depth_max"] == pytest.approx(depth[511])
    assert corners["depth_unit"] == "m"


def test_region_palette_list_and_min_max(client, sample_image, sample_reference):
    _depth, values = sample_reference
    url = (
        f"/api/v1/images/{sample_image.pk}/data/region.png"
        "?top=0&bottom=3&palette=%23000000,%23ff0000&min=100&max=200"
    )
    pixels = decode(client.get(url)).astype(int)
    expected_red = np.clip((values[:3].astype(float) - 100) / 100, 0, 1) * 255
    assert np.abs(pixels[..., 0] - expected_red).max() <= 1
    assert (pixels[..., 1:3] == 0).all()


def test_tile_full_resolution_has_csv_values_and_transparent_edge(client, sample_image, sample_reference):
    _, values = sample_reference
    meta = client.get(f"/api/v1/images/{sample_image.pk}/tiles/metadata").json()
    z = meta["levels"] - 1
    pixels = decode(client.get(f"/api/v1/images/{sample_image.pk}/tiles/{z}/0/2.png"))
    assert pixels.shape == (256, 256, 2)
    np.testing.assert_array_equal(pixels[:, :200, 0], values[512:768])
    assert (pixels[:, :200, 1] == 255).all()
    assert (pixels[:, 200:, 1] == 0).all()  # beyond the 200 columns: transparent


def test_tile_last_row_band_is_partly_transparent(client, sample_image, sample_reference):
    _, values = sample_reference
    pixels = decode(client.get(f"/api/v1/images/{sample_image.pk}/tiles/5/0/21.png"))
    covered = 5460 - 21 * 256
    np.testing.assert_array_equal(pixels[:covered, :200, 0], values[21 * 256 :])
    assert (pixels[covered:, :, 1] == 0).all()


def test_tile_palette_without_band_is_coloured(client, sample_image):
    pixels = decode(client.get(f"/api/v1/images/{sample_image.pk}/tiles/0/0/0.png?palette=viridis"))
    assert pixels.shape == (256, 256, 4)
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50


def test_tile_fast_path_equals_large_image_style(client, sample_image):
    base = f"/api/v1/images/{sample_image.pk}/tiles/3/0/1.png"
    ours = decode(client.get(f"{base}?palette=viridis&min=20&max=230")).astype(int)
    style = json.dumps(
        {
            "bands": [
                {"band": 1, "palette": "viridis", "min": 20, "max": 230},
                {"band": "alpha", "min": 0, "max": 255},
            ]
        }
    )
    theirs = decode(client.get(base, {"style": style})).astype(int)
    assert ours.shape == theirs.shape == (256, 256, 4)
    assert np.abs(ours - theirs).max() <= 1


def test_tile_out_of_range_is_404(client, sample_image):
    for url in ("tiles/5/1/0.png", "tiles/5/0/22.png", "tiles/6/0/0.png"):
        response = client.get(f"/api/v1/images/{sample_image.pk}/{url}")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "tile_out_of_range"


@pytest.mark.parametrize(
    "query",
    [
        "depth_min=9600&depth_max=9700",
        "depth_min=8000&depth_max=8999",
        "depth_min=9110&depth_max=9100",
        "depth_min=9100.01&depth_max=9100.09",
        "depth_min=abc&depth_max=9100",
    ],
)
def test_region_bad_depth_range_is_400(client, sample_image, query):
    response = client.get(f"/api/v1/images/{sample_image.pk}/data/region.png?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "depth" in response.json()["error"]["message"]


def test_region_range_overlapping_the_log_is_clipped(client, sample_image, sample_reference):
    _, values = sample_reference
    pixels = decode(
        client.get(f"/api/v1/images/{sample_image.pk}/data/region.png?depth_min=9540&depth_max=9999")
    )
    np.testing.assert_array_equal(pixels[..., 0], values[-61:])


def test_thumbnail_exact_strip_and_aspect(client, sample_image):
    base = f"/api/v1/images/{sample_image.pk}/data/thumbnail.png"
    assert decode(client.get(base)).shape[:2] == (256, 9)  # aspect kept in 256 x 256
    strip = decode(client.get(f"{base}?width=40&height=300&palette=magma"))
    assert strip.shape == (300, 40, 4)
    assert (strip[..., 3] == 255).all()
    bounded = decode(client.get(f"{base}?max_width=1000&max_height=1000"))
    assert bounded.shape[:2] == (1000, 37)
    ranged = decode(client.get(f"{base}?depth_min=9100&depth_max=9110&width=20&height=10"))
    assert ranged.shape[:2] == (10, 20)


def test_thumbnail_strip_is_area_average_of_values(client, sample_image, sample_reference):
    _, values = sample_reference
    # 5,460 rows -> 10 rows: each output row averages 546 scanlines (from a coarser level).
    strip = decode(client.get(f"/api/v1/images/{sample_image.pk}/data/thumbnail.png?width=1&height=10"))
    expected = values.reshape(10, 546, 200).mean(axis=(1, 2))
    assert np.abs(strip[:, 0, 0].astype(float) - expected).max() <= 3


def test_region_formats(client, sample_image):
    base = f"/api/v1/images/{sample_image.pk}/data/region"
    for fmt, mime in (
        ("jpeg", "image/jpeg"),
        ("webp", "image/webp"),
        ("tiff", "image/tiff"),
        ("png", "image/png"),
    ):
        response = client.get(f"{base}.{fmt}?top=0&bottom=50&palette=viridis")
        assert response["Content-Type"] == mime
        assert decode(response).shape[:2] == (50, 200)


def test_region_too_large_is_400_before_reading(client, sample_image, settings):
    settings.TILES_MAX_OUTPUT_PIXELS = 10_000
    response = client.get(f"/api/v1/images/{sample_image.pk}/data/region.png")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "output_too_large"
    assert response.json()["error"]["limit"] == 10_000
    settings.TILES_MAX_OUTPUT_PIXELS = 100_000
    response = client.get(f"/api/v1/images/{sample_image.pk}/data/thumbnail.webp?width=20000&height=2")
    assert response.status_code == 400
    assert response.json()["error"]["limit"] == 16_383  # WebP pixels per side


def test_region_leaves_no_temporary_file(client, sample_image, settings, tmp_path):
    import tempfile

    def files():
        roots = [Path(settings.DATA_DIR), Path(tempfile.gettempdir()) / "django-large-image"]
        return {p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()}

    before = files()
    for _ in range(5):
        decode(client.get(f"/api/v1/images/{sample_image.pk}/data/region.tiff?top=0&bottom=300"))
        decode(client.get(f"/api/v1/images/{sample_image.pk}/data/region.png?depth_min=9100&depth_max=9200"))
    assert files() == before


@pytest.mark.django_db(transaction=True)
def test_nodata_is_transparent(client, write_csv):
    path = write_csv(["depth,col1,col2,col3", "1.0,10,,30", "1.1,,,", "1.2,7,8,9", "1.5,1,2,3"])
    with open(path, "rb") as f:
        image = client.post("/api/v1/images", {"file": f}).json()
    assert image["rows"] == 6  # 1.3 and 1.4 are gap rows
    pixels = decode(client.get(f"/api/v1/images/{image['id']}/data/region.png?palette=viridis"))
    alpha = pixels[..., 3]
    assert alpha.tolist() == [
        [255, 0, 255],
        [0, 0, 0],
        [255, 255, 255],
        [0, 0, 0],
        [0, 0, 0],
        [255, 255, 255],
    ]
    grey = decode(client.get(f"/api/v1/images/{image['id']}/tiles/0/0/0.png"))
    assert grey[0, 1, 1] == 0 and grey[0, 0, 1] == 255 and grey[0, 0, 0] == 10
    assert client.get(f"/api/v1/images/{image['id']}/data/pixel?left=1&top=0").json()["value"] is None


def test_pixel_by_row_and_by_depth(client, sample_image, sample_reference):
    _, values = sample_reference
    by_row = client.get(f"/api/v1/images/{sample_image.pk}/data/pixel?left=17&top=1000").json()
    by_depth = client.get(f"/api/v1/images/{sample_image.pk}/data/pixel?left=17&depth=9100.1").json()
    assert by_row["value"] == by_depth["value"] == int(values[1000, 17])
    assert by_depth["row"] == 1000
    assert by_row["depth"] == pytest.approx(9100.1)


# One test per registered route: each answers, and bad parameters are 4xx JSON.
ROUTES = [
    ("", "application/json"),
    ("/tiles/metadata", "application/json"),
    ("/tiles/2/0/1.png", "image/png"),
    ("/tiles/2/0/1.jpeg", "image/jpeg"),
    ("/tiles/2/0/1.webp", "image/webp"),
    ("/tiles/2/0/1/corners", "application/json"),
    ("/data/region.png?top=0&bottom=10", "image/png"),
    ("/data/thumbnail.png", "image/png"),
    ("/data/pixel?left=0&top=0", "application/json"),
    ("/data/histogram?bins=16", "application/json"),
    ("/info/metadata", "application/json"),
    ("/info/metadata_internal", "application/json"),
    ("/info/bands", "application/json"),
    ("/info/band?band=1", "application/json"),
    ("/info/frames", "application/json"),
    ("/info/tiffdump", "application/json"),
]


@pytest.mark.parametrize(("suffix", "mime"), ROUTES)
def test_route_answers(client, sample_image, suffix, mime):
    response = client.get(f"/api/v1/images/{sample_image.pk}{suffix}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith(mime)


@pytest.mark.parametrize(
    "suffix",
    [
        "/tiles/2/0/1.png?palette=no-such-map",
        "/tiles/2/0/1.png?min=9&max=1",
        "/tiles/2/0/1.png?style=%7Bbad",
        "/tiles/2/0/1.png?band=2",
        "/tiles/9/0/0/corners",
        "/data/region.png?top=x",
        "/data/region.png?left=300",
        "/data/region.png?top=10&bottom=5",
        "/data/thumbnail.png?width=0",
        "/data/pixel",
        "/data/pixel?left=500&top=0",
        "/data/histogram?bins=-1",
    ],
)
def test_route_bad_parameters_are_4xx_json(client, sample_image, suffix):
    response = client.get(f"/api/v1/images/{sample_image.pk}{suffix}")
    assert 400 <= response.status_code < 500, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["message"]


def test_unknown_image_is_404_json(client, db):
    for suffix in ("", "/tiles/0/0/0.png", "/data/region.png"):
        response = client.get(f"/api/v1/images/999{suffix}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_region_npy_is_raw_values_with_depth_headers(client, sample_image, sample_reference):
    depth, values = sample_reference
    url = f"/api/v1/images/{sample_image.pk}/data/region.npy?depth_min=9100&depth_max=9110"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-npy"
    array = np.load(io.BytesIO(response.content), allow_pickle=False)
    rows = rows_between(depth, 9100.0, 9110.0)
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array, values[rows])
    first, step = float(response["X-Depth-Min"]), float(response["X-Depth-Step"])
    np.testing.assert_allclose(first + step * np.arange(array.shape[0]), depth[rows], atol=1e-6)


@pytest.mark.django_db(transaction=True)
def test_region_npy_nodata_is_nan(client, write_csv):
    path = write_csv(["depth,col1,col2", "1.0,10,", "1.1,5,6"])
    with open(path, "rb") as f:
        image = client.post("/api/v1/images", {"file": f}).json()
    array = np.load(io.BytesIO(client.get(f"/api/v1/images/{image['id']}/data/region.npy").content))
    assert array.dtype == np.float32
    assert array[0, 0] == 10 and np.isnan(array[0, 1]) and array[1].tolist() == [5, 6]


def test_thumbnail_depth_headers_describe_output_rows(client, sample_image):
    response = client.get(f"/api/v1/images/{sample_image.pk}/data/thumbnail.png?width=10&height=546")
    step = float(response["X-Depth-Step"])
    assert step == pytest.approx(1.0)  # 5,460 scanlines of 0.1 m in 546 rows
    assert float(response["X-Depth-Min"]) == pytest.approx(9000.1 + 0.45)


def test_colormap_list_and_legend(client):
    names = [item["name"] for item in client.get("/api/v1/colormaps").json()]
    assert names[:3] == ["gray", "resistivity", "resistivity_r"]
    assert "viridis" in names and "magma" in names
    legend = client.get("/api/v1/colormaps/resistivity.png?width=100&height=8")
    pixels = decode(legend)
    assert pixels.shape == (8, 100, 4)
    assert pixels[0, 0, :3].tolist() == [0, 0, 0]  # dark end first
    assert pixels[0, -1, :3].sum() > 700  # near white at the resistive end
    assert client.get("/api/v1/colormaps/no-such.png").status_code == 404


def test_borehole_palette_applies_to_tiles(client, sample_image):
    plain = decode(client.get(f"/api/v1/images/{sample_image.pk}/tiles/0/0/0.png?palette=resistivity"))
    reverse = decode(client.get(f"/api/v1/images/{sample_image.pk}/tiles/0/0/0.png?palette=resistivity_r"))
    assert plain.shape == reverse.shape == (256, 256, 4)
    assert not np.array_equal(plain, reverse)


@pytest.mark.parametrize(
    ("top", "bottom", "left", "right", "width", "height", "aligned"),
    [(1000, 3000, 0, 200, 25, 250, True), (1001, 3001, 3, 197, 24, 250, False)],
)
def test_region_from_a_coarser_level_is_the_area_mean_of_its_window(
    client, sample_image, sample_reference, top, bottom, left, right, width, height, aligned
):
    """A region read from level 3 (8 x 8 scanline pixels per output pixel): each output pixel is the
    mean of the full-resolution values under it. Aligned to the level's pixels: exact up to the
    levels' rounding. Not aligned (the window starts mid level-pixel): registered to the window,
    closer than a one-row shift by far (the level cannot resolve finer)."""
    _, values = sample_reference
    url = (
        f"/api/v1/images/{sample_image.pk}/data/region.npy?top={top}&bottom={bottom}"
        f"&left={left}&right={right}&width={width}&height={height}"
    )
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    ours = np.load(io.BytesIO(response.content)).astype(float)
    window = PILImage.fromarray(values[top:bottom, left:right].astype(np.float32))
    expected = np.asarray(window.resize((width, height), PILImage.Resampling.BOX))
    assert ours.shape == (height, width)
    error = np.abs(ours - expected)
    if aligned:
        assert error.max() <= 2
    else:
        shifted = min(np.abs(ours[1:] - expected[:-1]).mean(), np.abs(ours[:-1] - expected[1:]).mean())
        assert error.mean() < shifted / 2
