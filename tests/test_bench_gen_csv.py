"""The ingest benchmark's CSV generator and its naive baseline, on a small file."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from benchmarks.gen_csv import generate
from benchmarks.ingest import baseline_pyramid
from ingest.pipeline import csv_to_pyramid
from ingest.reader import iter_scanline_blocks, read_header

ROWS, COLUMNS = 3_000, 20


@pytest.fixture(scope="module")
def generated_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "log.csv"
    size = generate(path, ROWS, COLUMNS, seed=3, empty_fraction=0.01)
    assert size == path.stat().st_size
    return path


def test_bench_gen_csv_is_read_by_our_reader(generated_csv):
    header = read_header(generated_csv)
    assert header.names == ("depth", *(f"col{j}" for j in range(1, COLUMNS + 1)))
    blocks = list(iter_scanline_blocks(generated_csv, header, block_bytes=1 << 16))
    assert len(blocks) > 1  # several blocks, so block seams are covered
    depth = np.concatenate([b.depth for b in blocks])
    values = np.concatenate([b.floats() for b in blocks])  # float32, NaN for nodata
    assert all(b.integral for b in blocks)  # integers 0..255: stored as uint8
    assert sum(b.dropped for b in blocks) == 0
    assert depth.shape == (ROWS,) and values.shape == (ROWS, COLUMNS)
    np.testing.assert_allclose(depth, 1000.0 + 0.0025 * np.arange(ROWS), rtol=0, atol=1e-9)
    assert np.all(np.diff(depth) > 0)
    valid = ~np.isnan(values)
    assert 0.005 * ROWS * COLUMNS < np.count_nonzero(~valid) < 0.02 * ROWS * COLUMNS
    assert values[valid].min() >= 0 and values[valid].max() <= 255
    # A texture, not noise or a flat field: neighbouring scanlines are alike.
    image = np.where(valid, values, np.nanmean(values))
    assert 10 < image.std() < 80
    assert np.corrcoef(image[:-1].ravel(), image[1:].ravel())[0, 1] > 0.5


def test_bench_gen_csv_text_format(generated_csv):
    data = generated_csv.read_bytes()
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and len(lines) == ROWS + 2  # header, scanlines, final CRLF
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert lines[0] == b"depth," + b",".join(b"col%d" % j for j in range(1, COLUMNS + 1))
    assert lines[1].startswith(b"1000.0000,") and lines[2].startswith(b"1000.0025,")
    assert lines[ROWS].startswith(b"%.4f," % (1000 + 0.0025 * (ROWS - 1)))
    cells = [line.split(b",") for line in lines[1:-1]]
    assert {len(row) for row in cells} == {COLUMNS + 1}
    numbers = [int(cell) for row in cells for cell in row[1:] if cell]
    assert min(numbers) >= 0 and max(numbers) <= 255
    assert all(cell == b"" or cell.isdigit() for row in cells for cell in row[1:])


def test_bench_gen_csv_is_reproducible(tmp_path, generated_csv):
    again = tmp_path / "again.csv"
    generate(again, ROWS, COLUMNS, seed=3, empty_fraction=0.01)
    assert again.read_bytes() == generated_csv.read_bytes()
    generate(again, ROWS, COLUMNS, seed=4, empty_fraction=0.01)
    assert again.read_bytes() != generated_csv.read_bytes()


def test_bench_baseline_matches_ours_at_full_resolution(tmp_path, generated_csv):
    ours, base = tmp_path / "ours.tiff", tmp_path / "base.tiff"
    result = csv_to_pyramid(generated_csv, ours, depth_unit="m", scratch_dir=tmp_path)
    rows, columns, levels = baseline_pyramid(generated_csv, base)
    assert (rows, columns, levels) == (result.axis.rows, result.columns, result.levels)
    assert result.dtype == "uint8"  # same samples as the baseline: value, alpha
    with tifffile.TiffFile(ours) as a, tifffile.TiffFile(base) as b:
        assert len(a.pages) == len(b.pages) == levels
        assert [p.shape for p in a.pages] == [p.shape for p in b.pages]
        mine, theirs = a.pages[0].asarray(), b.pages[0].asarray()
    assert mine.shape == (ROWS, COLUMNS, 2)
    np.testing.assert_array_equal(mine[..., 1], theirs[..., 1])
    valid = mine[..., 1] == 255
    assert np.count_nonzero(~valid) > 0
    np.testing.assert_array_equal(mine[..., 0][valid], theirs[..., 0][valid])
