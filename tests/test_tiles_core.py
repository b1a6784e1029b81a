"""The pure serving core: depth arithmetic, lookup tables, resampling, encoders."""

import io
import json

import large_image_source_tiff
import numpy as np
import pytest
from PIL import Image as PILImage

from ingest.axis import DepthAxis, DepthRangeError, depth_range_check
from ingest.pyramid import FLOAT32, write_pyramid
from tiles.core.png import encode_png
from tiles.core.pyramid import PyramidFile, TileIndexError, zoom_levels
from tiles.core.render import OutputTooLargeError, check_output_size, render, resample
from tiles.core.style import Style, apply_style, lookup_table, parse_palette

AXIS = DepthAxis(depth_min=9000.1, depth_step=0.1, rows=5460)


@pytest.mark.parametrize(
    ("low", "high", "rows"),
    [
        (9100.0, 9110.0, (999, 1100)),
        (9000.1, 9000.1, (0, 1)),
        (9546.0, 9546.0, (5459, 5460)),
        (8000.0, 9000.15, (0, 1)),
        (9545.95, 10000.0, (5459, 5460)),
        (9100.05, 9100.15, (1000, 1001)),
    ],
)
def test_depth_range_rows_are_closed_and_clipped(low, high, rows):
    assert AXIS.rows_for(low, high) == rows


@pytest.mark.parametrize(
    ("low", "high"), [(9100.0, 9099.0), (9600, 9700), (9100.01, 9100.09), (float("nan"), 1)]
)
def test_depth_range_errors(low, high):
    with pytest.raises(DepthRangeError):
        AXIS.rows_for(low, high)


@pytest.mark.parametrize(
    ("low", "high", "field"),
    [(float("nan"), 1.0, "depth_min"), (1.0, float("inf"), "depth_max"), (2.0, 1.0, "depth_min")],
)
def test_depth_range_check_names_the_bad_bound(low, high, field):
    with pytest.raises(DepthRangeError) as error:
        depth_range_check(low, high)
    assert error.value.field == field


def test_depth_axis_row_depths_nearest_row_and_output_depths():
    assert AXIS.depth(1000) == pytest.approx(9100.1)
    assert AXIS.depth_max == 9546.0
    assert AXIS.row_nearest(9100.14) == 1000
    assert AXIS.row_nearest(9100.16) == 1001
    with pytest.raises(DepthRangeError):
        AXIS.row_nearest(8000.0)
    # Native size: output row r is row top + r; 10 rows into 5: each output row is 2 rows' centre.
    assert AXIS.output_depths(1000, 1010, 10) == pytest.approx((9100.1, 9101.0, 0.1))
    assert AXIS.output_depths(1000, 1010, 5) == pytest.approx((9100.15, 9100.95, 0.2))


def test_lookup_table_matches_large_image_style(tmp_path):
    """Our table equals large_image's own rendering of the same style, value for value."""
    values = np.tile(np.arange(256, dtype=np.uint8), (256, 1))
    raw = np.dstack([values, np.full_like(values, 255)])
    write_pyramid(tmp_path / "ramp.tiff", rows=256, columns=256, read_band=lambda a, b: raw[a:b])
    for palette, vmin, vmax in (
        ("viridis", 0, 255),
        ("magma", 30, 200),
        ("#000,#f80,#fff", 10, 90),
    ):
        style = json.dumps(
            {
                "bands": [
                    {
                        "band": 1,
                        "palette": palette.split(",") if "," in palette else palette,
                        "min": vmin,
                        "max": vmax,
                    },
                    {"band": "alpha", "min": 0, "max": 255},
                ]
            }
        )
        source = large_image_source_tiff.open(str(tmp_path / "ramp.tiff"), style=style)
        theirs = np.clip(source.getTile(0, 0, 0, numpyAllowed="always"), 0, 255).astype(np.uint8)
        ours = lookup_table(Style(palette=parse_palette(palette), vmin=vmin, vmax=vmax))
        np.testing.assert_allclose(ours[values].astype(int), theirs.astype(int), atol=1)


def test_png_writer_round_trips_grey_and_indexed():
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (37, 300), dtype=np.uint8)
    grey = PILImage.open(io.BytesIO(encode_png(pixels)))
    assert grey.mode == "L"
    np.testing.assert_array_equal(np.asarray(grey), pixels)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    alpha = np.full(256, 255, np.uint8)
    alpha[7] = 0
    indexed = PILImage.open(io.BytesIO(encode_png(pixels, palette=palette, transparency=alpha)))
    assert indexed.mode == "P"
    rgba = np.asarray(indexed.convert("RGBA"))
    np.testing.assert_array_equal(rgba[..., :3], palette[pixels])
    np.testing.assert_array_equal(rgba[..., 3], alpha[pixels])


@pytest.mark.parametrize(
    "style", [Style(), Style(vmin=20, vmax=100), Style(palette=parse_palette("viridis"))]
)
@pytest.mark.parametrize(
    ("all_values_used", "unused"), [(False, None), (True, None), (False, 255), (False, 0)]
)
def test_render_png_equals_apply_style(style, all_values_used, unused):
    """Counted or given (the image's value range leaves it free), the nodata index is transparent only."""
    values = np.arange(256 * 256, dtype=np.int64).reshape(256, 256) % 256
    if not all_values_used:
        values = values % 200 + (1 if unused == 0 else 0)
    raw = np.dstack([values.astype(np.uint8), np.full((256, 256), 255, np.uint8)])
    raw[:, 250:] = 0  # nodata: value 0, alpha 0
    content, mime = render(raw, style, "png", unused=unused)
    assert mime == "image/png"
    decoded = PILImage.open(io.BytesIO(content))
    expected = apply_style(raw, style)
    mode = "LA" if expected.shape[2] == 2 else "RGBA"
    got = np.asarray(decoded.convert(mode))
    np.testing.assert_array_equal(got[..., -1], expected[..., -1])
    visible = expected[..., -1] > 0
    np.testing.assert_array_equal(got[visible], expected[visible])


def test_resample_averages_valid_values_only():
    raw = np.zeros((4, 4, 2), np.uint8)
    raw[:2, :2] = (100, 255)
    raw[:2, 2:] = (50, 255)
    raw[2:, :2] = (200, 255)
    raw[0, 0] = (0, 0)  # nodata does not pull the mean down
    out = resample(raw, 2, 2)
    assert out[..., 0].tolist() == [[100, 50], [200, 0]]
    assert out[..., 1].tolist() == [[255, 255], [255, 0]]


def test_resample_without_nodata_is_the_block_mean():
    rng = np.random.default_rng(5)
    values = rng.integers(0, 256, (60, 40), dtype=np.uint8)
    raw = np.dstack([values, np.full(values.shape, 255, np.uint8)])
    out = resample(raw, 20, 15)  # blocks of 4 rows x 2 columns
    expected = np.rint(values.reshape(15, 4, 20, 2).astype(np.float64).mean(axis=(1, 3)))
    np.testing.assert_array_equal(out[..., 0], expected)
    assert (out[..., 1] == 255).all()


def test_output_size_guard():
    check_output_size(100, 100, "png", 10_000)
    with pytest.raises(OutputTooLargeError, match="limit"):
        check_output_size(101, 100, "png", 10_000)
    with pytest.raises(OutputTooLargeError, match="16383"):
        check_output_size(16384, 1, "webp", 10**9)
    with pytest.raises(OutputTooLargeError, match="65535"):
        check_output_size(1, 65536, "jpeg", 10**9)


@pytest.mark.parametrize("name", ["gray", "grey"])
def test_palette_gray_is_matplotlibs_map_not_a_css_colour(name):
    """large_image reads 'gray' as the CSS colour (a black -> #808080 ramp); users mean the grey map."""
    table = lookup_table(Style(palette=parse_palette(name)))
    ramp = np.arange(256)
    for channel in range(3):
        np.testing.assert_allclose(table[:, channel], ramp, atol=1)
    assert parse_palette(name + "_r")[0][:3] == (255, 255, 255)


@pytest.mark.parametrize("layout", ["uint8", "float32"])
def test_pyramid_file_tiles_equal_large_image(tmp_path, layout):
    """Every stored tile read directly equals large_image's getTile of the same level, edges included."""
    rng = np.random.default_rng(7)
    rows, columns = 700, 300  # three levels; partial edge tiles in both directions
    if layout == "uint8":
        values = rng.integers(0, 256, (rows, columns), dtype=np.uint8)
        raw = np.dstack([values, np.where(values % 17 == 0, 0, 255).astype(np.uint8)])
        kwargs = {}
    else:
        raw = rng.normal(0, 1e3, (rows, columns, 1)).astype(np.float32)
        raw[::13, ::11] = np.nan
        kwargs = {"layout": FLOAT32}
    path = tmp_path / f"{layout}.tiff"
    levels = write_pyramid(path, rows=rows, columns=columns, read_band=lambda a, b: raw[a:b], **kwargs)
    pyramid = PyramidFile(str(path))
    source = large_image_source_tiff.open(str(path))
    assert pyramid.pages == levels == 3
    tiles = 0
    for level in range(levels):
        z = source.levels - 1 - level
        for y in range(-(-pyramid.shapes[level][0] // 256)):
            for x in range(-(-pyramid.shapes[level][1] // 256)):
                ours = pyramid.tile(level, x, y)
                theirs = source.getTile(x, y, z, numpyAllowed="always")
                assert ours.shape[:2] == (256, 256)  # edge tiles padded as stored, like large_image's
                np.testing.assert_array_equal(ours, theirs)
                tiles += 1
    assert tiles == 3 * 2 + 2 * 1 + 1 * 1
    # A window across four tiles of level 0 is the written pixels themselves.
    np.testing.assert_array_equal(pyramid.window(0, 100, 600, 37, 290), raw[100:600, 37:290])
    with pytest.raises(TileIndexError):
        pyramid.window(0, 600, 701, 0, 10)  # past the last row
    for level, x, y in ((3, 0, 0), (-1, 0, 0), (0, 2, 0), (0, 0, 3), (2, 1, 0)):
        with pytest.raises(TileIndexError):
            pyramid.tile(level, x, y)
    pyramid.close()


@pytest.mark.parametrize(
    ("rows", "columns"), [(5460, 200), (700, 300), (256, 256), (257, 40), (100, 100), (40, 3000)]
)
def test_zoom_levels_is_large_images_count(tmp_path, rows, columns):
    """Our zoom count (z = 0 whole image .. full resolution) is the one large_image serves."""
    raw = np.zeros((rows, columns, 2), np.uint8)
    path = tmp_path / "z.tiff"
    write_pyramid(path, rows=rows, columns=columns, read_band=lambda a, b: raw[a:b])
    assert zoom_levels(columns, rows) == large_image_source_tiff.open(str(path)).levels
