"""Caps on one ingestion job, checked before the work: 422 naming the line, nothing kept.

Through HTTP (``POST /api/v1/images``; the embedded default runs the job in the
request) with tiny settings and tiny CSVs, and the cases of issue 11 with the
default settings.
"""

from pathlib import Path

import numpy as np
import pytest

from ingest.models import Image
from ingest.pipeline import IngestLimits, resample_scanlines
from ingest.reader import CsvFormatError, iter_scanline_blocks, read_header
from ingest.services import _ingest_limits
from tests.conftest import media_files

pytestmark = pytest.mark.django_db(transaction=True)


def upload(client, path: Path, **fields):
    with open(path, "rb") as f:
        return client.post("/api/v1/images", {"file": f, **fields})


def assert_refused(client, settings, response, *, line: int, words: str, column: str | None = None) -> dict:
    """The 422 of a job refused by a cap: error shape, line, column, the failed row, no file kept."""
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_csv"
    assert error["line"] == line, error
    assert error.get("column") == column, error
    assert words in error["message"], error["message"]
    image = Image.objects.get()
    assert (image.status, image.error_line, image.attempts) == ("failed", line, 1)
    assert image.lease_expires is None and not image.file
    assert [p for p in media_files(settings) if p.suffix != ".csv"] == []
    assert list((Path(settings.DATA_DIR) / "scratch").glob("image-*")) == []
    detail = client.get(f"/api/v1/images/{image.pk}").json()
    assert detail["status"] == "failed" and detail["error"]["line"] == line
    return error


def test_jobs_gap_of_a_billion_rows_is_422_naming_the_gap_with_default_caps(client, write_csv, settings):
    # Issue 11: these three lines made the gap filler allocate ~10^9 rows and hang the worker.
    path = write_csv(["depth,col1", "0,1", "0.001,2", "1000000,3"])
    error = assert_refused(
        client,
        settings,
        upload(client, path),
        line=4,
        column="depth",
        words="would add 999,999,998 nodata rows",
    )
    assert "line 3 and line 4" in error["message"]


def test_jobs_gap_rows_cap_follows_the_setting(client, write_csv, settings):
    settings.MAX_GAP_ROWS = 3
    lines = ["depth,col1", "1.0,1", "1.1,2", "1.5,3", "2.0,4"]  # gaps of 3 then 4 nodata rows
    error = assert_refused(
        client, settings, upload(client, write_csv(lines)), line=5, column="depth", words="gap"
    )
    assert "from depth 1.5 to 2" in error["message"] and "at most 3 per gap" in error["message"]
    Image.objects.all().delete()
    settings.MAX_GAP_ROWS = 4
    body = upload(client, write_csv(lines)).json()
    assert (body["status"], body["rows"]) == ("succeeded", 11)


def test_jobs_rows_cap_stops_reading_at_the_first_scanline_past_it(client, write_csv, settings):
    settings.MAX_ROWS = 3
    lines = ["depth,col1", "1.0,1", "", "1.1,2", "1.2,3", "1.3,4", "1.4,5"]
    assert_refused(client, settings, upload(client, write_csv(lines)), line=6, words="more than 3 scanlines")


def test_jobs_rows_cap_counts_gap_rows(client, write_csv, settings):
    settings.MAX_ROWS = 5
    lines = ["depth,col1", "1.0,1", "1.1,2", "1.9,3"]  # 3 scanlines, 10 rows
    error = assert_refused(
        client, settings, upload(client, write_csv(lines)), line=4, column="depth", words="10 rows"
    )
    assert "at most 5 rows" in error["message"]


def assert_refused_at_upload(settings, response, *, words: str) -> None:
    """A header refused by a cap at upload: 422 on line 1, no image row, nothing stored."""
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert (error["code"], error["line"]) == ("invalid_csv", 1)
    assert words in error["message"], error["message"]
    assert not Image.objects.exists()
    assert media_files(settings) == []


def test_jobs_columns_cap_is_422_on_the_header(client, write_csv, settings):
    settings.MAX_COLUMNS = 2
    response = upload(client, write_csv(["depth,col1,col2,col3", "1.0,1,2,3"]))
    assert_refused_at_upload(settings, response, words="3 pixel columns")


def test_jobs_cells_cap_is_rows_times_stored_columns(client, write_csv, settings):
    settings.MAX_CELLS = 6
    lines = ["depth,col1,col2,col3", "1.0,1,2,3", "1.1,1,2,3", "1.2,1,2,3"]  # 9 cells
    error = assert_refused(client, settings, upload(client, write_csv(lines)), line=4, words="6 cells")
    assert "more than 2 scanlines" in error["message"]
    Image.objects.all().delete()
    # Narrowed to 2 columns on the way in, the same file is 6 cells: admitted.
    body = upload(client, write_csv(lines), target_width="2").json()
    assert (body["status"], body["rows"], body["columns"]) == ("succeeded", 3, 2)


def test_jobs_target_width_above_the_columns_is_422_naming_it(client, write_csv, settings):
    # Issue 11: target_width=65535 on a 1-column CSV ran 74 s and "succeeded".
    lines = ["depth,col1"] + [f"{i / 10:.1f},{i % 256}" for i in range(20)]
    error = assert_refused(
        client,
        settings,
        upload(client, write_csv(lines), target_width="65535"),
        line=1,
        words="target_width 65535",
    )
    assert "1 pixel columns" in error["message"]


def test_jobs_line_bytes_cap_names_the_long_line(client, write_csv, settings):
    settings.MAX_LINE_BYTES = 24
    lines = ["depth,col1,col2", "1.0,1,2", "1.1,1," + "2" * 30, "1.2,1,2"]
    assert_refused(client, settings, upload(client, write_csv(lines)), line=3, words="longer than 24 bytes")


def test_jobs_line_bytes_cap_applies_to_the_header(client, write_csv, settings):
    settings.MAX_LINE_BYTES = 24
    header = "depth," + ",".join(f"col{i}" for i in range(1, 8))
    response = upload(client, write_csv([header, "1.0" + ",1" * 7]))
    assert_refused_at_upload(settings, response, words="longer than 24")


def test_jobs_line_without_end_is_refused_before_it_is_held_whole(tmp_path):
    """A line that never ends is read in blocks: refused once it passes the cap, not held whole."""
    path = tmp_path / "endless.csv"
    path.write_bytes(b"depth,col1\n1.0,1\n1.1," + b"1" * 10_000)
    header = read_header(path, max_line_bytes=100)
    with pytest.raises(CsvFormatError) as caught:
        list(iter_scanline_blocks(path, header, block_bytes=64, max_line_bytes=100))
    assert caught.value.line == 3 and "longer than 100 bytes" in caught.value.message


def test_jobs_line_cap_counts_lines_across_blocks(write_csv):
    lines = ["depth,col1"] + [f"{i},{i % 200}" for i in range(1, 300)] + ["300,7." + "0" * 200]
    path = write_csv(lines)
    header = read_header(path, max_line_bytes=64)
    with pytest.raises(CsvFormatError) as caught:
        list(iter_scanline_blocks(path, header, block_bytes=256, workers=2, max_line_bytes=64))
    assert caught.value.line == 301
    # Under the cap, the same blocks read every scanline.
    blocks = list(
        iter_scanline_blocks(path, read_header(path), block_bytes=256, workers=2, max_line_bytes=256)
    )
    assert np.concatenate([b.depth for b in blocks]).tolist() == list(range(1, 301))


def test_jobs_default_caps_admit_a_real_well(settings):
    """2,000,000 scanlines x 360 columns (a long borehole image log) passes every default cap."""
    limits = _ingest_limits()
    assert limits == IngestLimits(
        max_rows=settings.MAX_ROWS,
        max_columns=settings.MAX_COLUMNS,
        max_cells=settings.MAX_CELLS,
        max_gap_rows=settings.MAX_GAP_ROWS,
        max_line_bytes=settings.MAX_LINE_BYTES,
    )
    rows, _ = limits.row_cap(360)
    assert rows >= 2_000_000 and limits.max_columns >= 360
    widest_line = len(",".join(["-12345.678901"] + ["-1.2345678e+38"] * 360)) + 2
    assert limits.max_line_bytes >= widest_line


def test_jobs_sample_passes_the_default_caps(client, sample_csv):
    body = upload(client, sample_csv).json()
    assert (body["status"], body["rows"], body["columns"]) == ("succeeded", 5460, 200)


def test_jobs_pixel_value_beyond_float32_is_422_naming_its_cell(client, write_csv, settings):
    lines = ["depth,col1,col2", "1.0,1,2", "1.1,1,4e38", "1.2,1,2"]
    assert_refused(client, settings, upload(client, write_csv(lines)), line=3, column="col2", words="float32")


@pytest.mark.parametrize(
    ("columns", "width"), [(200, 150), (4096, 1000), (4096, 4095), (5, 3), (7, 1), (9, 9)]
)
def test_jobs_resample_without_a_weight_matrix_equals_the_box_filter(columns, width):
    """The banded sums equal the (columns, width) overlap matrix they replace (PIL's BOX filter)."""
    rng = np.random.default_rng(columns + width)
    values = rng.uniform(0, 255, (16, columns)).astype(np.float32)
    values[rng.random(values.shape) < 0.2] = np.nan
    edges = np.arange(columns + 1) * (width / columns)
    low = np.maximum(edges[:-1, None], np.arange(width)[None, :])
    high = np.minimum(edges[1:, None], np.arange(1, width + 1)[None, :])
    weights = np.clip(high - low, 0, None)  # float64 reference
    valid = ~np.isnan(values)
    coverage = valid @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(coverage > 1e-6, (np.where(valid, values, 0) @ weights) / coverage, np.nan)
    out = resample_scanlines(values, width)
    assert out.dtype == np.float32 and out.shape == (16, width)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-3)


def test_jobs_resample_refuses_to_widen():
    with pytest.raises(ValueError, match=r"width must be 1\.\.2"):
        resample_scanlines(np.zeros((1, 2), np.float32), 3)
