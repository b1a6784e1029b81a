"""The pyramid writer: level sizes, nodata-aware reduction, exact full resolution."""

import numpy as np
import pytest
import tifffile

from ingest.pipeline import IngestOptions, csv_to_pyramid
from ingest.pyramid import downsample, level_shapes, write_pyramid


def test_pyramid_levels_of_sample_stop_before_one_pixel():
    assert level_shapes(5460, 200) == [
        (5460, 200),
        (2730, 100),
        (1365, 50),
        (683, 25),
        (342, 13),
        (171, 7),
    ]
    assert level_shapes(2_000_000, 360)[-1][1] >= 2
    assert level_shapes(100, 100) == [(100, 100)]


def test_pyramid_downsample_ignores_nodata():
    band = np.zeros((2, 4, 2), np.uint8)
    band[..., 0] = [[10, 20, 0, 0], [30, 40, 0, 99]]
    band[..., 1] = [[255, 255, 0, 0], [255, 255, 0, 255]]
    out = downsample(band)
    assert out[..., 0].tolist() == [[25, 99]]
    assert out[..., 1].tolist() == [[255, 255]]
    band[..., 1] = 0
    assert downsample(band)[..., 1].tolist() == [[0, 0]]


def test_pyramid_round_trips_full_resolution(tmp_path):
    rng = np.random.default_rng(1)
    image = np.stack(
        [rng.integers(0, 256, (700, 300), dtype=np.uint8), np.full((700, 300), 255, np.uint8)], -1
    )
    image[5:9, :, 1] = 0
    image[5:9, :, 0] = 0
    levels = write_pyramid(
        tmp_path / "p.tiff",
        rows=700,
        columns=300,
        read_band=lambda a, b: image[a:b],
        description="{}",
    )
    with tifffile.TiffFile(tmp_path / "p.tiff") as tif:
        assert len(tif.pages) == levels == 3
        np.testing.assert_array_equal(tif.pages[0].asarray(), image)
        assert tif.pages[1].shape == (350, 150, 2)
        assert tif.pages[0].compression == tifffile.COMPRESSION.ZSTD
    assert list(tmp_path.iterdir()) == [tmp_path / "p.tiff"]  # no spool left


@pytest.mark.parametrize(
    ("on_duplicate", "expected"),
    [
        ("first", (10.0, 50.0)),  # the second scanline at 1.0 is not stored: not counted
        ("mean", (8.0, 130.0)),  # merged rows: counted from the level as written
    ],
)
def test_pipeline_statistics_are_those_of_the_stored_level(write_csv, tmp_path, on_duplicate, expected):
    path = write_csv(["depth,col1,col2", "1.0,10,20", "1.0,5,240", "1.1,,50", "1.2,,"])
    result = csv_to_pyramid(
        path,
        tmp_path / "out.tiff",
        depth_unit="m",
        scratch_dir=tmp_path,
        options=IngestOptions(on_duplicate=on_duplicate),
    )
    assert (result.value_min, result.value_max) == expected
    stored = tifffile.imread(tmp_path / "out.tiff")
    values = stored[..., 0][stored[..., 1] > 0]
    assert (values.min(), values.max()) == expected
