"""The ingest benchmark's LAS generator and LAS paths, on a small file, against lasio."""

from __future__ import annotations

import lasio
import numpy as np
import pytest
import tifffile

from benchmarks.gen_las import generate
from benchmarks.ingest import las_read_only, las_to_pyramid, lasio_whole
from ingest.welllog import iter_well_blocks, read_well_log

ROWS, SECTORS = 2_500, 24


@pytest.fixture(scope="module")
def generated_las(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "lwd.las"
    size = generate(path, ROWS, SECTORS, seed=5, null_fraction=0.01)
    assert size == path.stat().st_size
    return path


@pytest.fixture(scope="module")
def by_lasio(generated_las):
    las = lasio.read(str(generated_las))  # the independent reading: lasio, whole file
    return las, las.data


def test_bench_gen_las_header_is_one_sector_image(generated_las, by_lasio):
    las, data = by_lasio
    assert las.keys() == ["DEPT", *(f"ABDC{j}M" for j in range(1, SECTORS + 1))]
    assert data.shape == (ROWS, SECTORS + 1)
    log = read_well_log(generated_las)
    (image,) = log.images
    assert (image.name, image.columns, image.value_unit) == ("ABDC", SECTORS, "g/cc")
    assert image.sources == tuple(f"ABDC{j}M" for j in range(1, SECTORS + 1))
    assert not log.curves
    assert log.header.depth_unit == "m"
    assert (log.header.start, log.header.step, log.header.null_value) == (1000.0, 0.0025, -999.25)
    assert log.header.stop == pytest.approx(1000 + 0.0025 * (ROWS - 1))


def test_bench_gen_las_our_reader_matches_lasio(generated_las, by_lasio):
    _, data = by_lasio
    log = read_well_log(generated_las)
    blocks = list(iter_well_blocks(generated_las, log, block_bytes=50_000))
    assert len(blocks) > 3
    np.testing.assert_array_equal(np.concatenate([b.depth for b in blocks]), data[:, 0])
    ours = np.concatenate([b.images["ABDC"] for b in blocks])
    np.testing.assert_array_equal(ours, data[:, 1:].astype(np.float32))  # lasio: NULL is NaN too
    nulls = np.count_nonzero(np.isnan(ours))
    assert 0.005 * ours.size < nulls < 0.02 * ours.size
    valid = ours[~np.isnan(ours)]
    assert valid.min() >= 0 and valid.max() <= 255 * 0.0125
    assert las_read_only(generated_las) == (ROWS, SECTORS, 0)
    assert lasio_whole(generated_las) == (ROWS, SECTORS + 1, 0)


def test_bench_las_to_pyramid_full_resolution_is_the_file(tmp_path, generated_las, by_lasio):
    _, data = by_lasio
    tiff = tmp_path / "las.tiff"
    rows, columns, levels = las_to_pyramid(generated_las, tiff, tmp_path)
    assert (rows, columns) == (ROWS, SECTORS)
    with tifffile.TiffFile(tiff) as tif:
        assert len(tif.pages) == levels
        level0 = tif.pages[0].asarray()
    assert level0.dtype == np.float32
    np.testing.assert_array_equal(level0, data[:, 1:].astype(np.float32))  # depths increase: same order
    assert sorted(p.name for p in tmp_path.iterdir()) == ["las.tiff"]  # the spool is removed
