"""The streaming CSV reader: header rules, values, nodata, and where errors are."""

import numpy as np
import pytest

from ingest.reader import CsvFormatError, iter_scanline_blocks, read_header


def read_all(path):
    header = read_header(path)
    blocks = list(iter_scanline_blocks(path, header))
    depth = np.concatenate([b.depth for b in blocks])
    floats = np.concatenate([b.floats() for b in blocks])
    valid = ~np.isnan(floats)
    values = np.where(valid, floats, 0).astype(np.uint8)
    dropped = sum(b.dropped for b in blocks)
    return header, depth, values, valid, dropped


def test_reader_sample_matches_reference(sample_csv, sample_reference):
    header, depth, values, valid, dropped = read_all(sample_csv)
    ref_depth, ref_values = sample_reference
    assert header.columns == 200
    assert dropped == 1  # the last line is all empty
    np.testing.assert_array_equal(depth, ref_depth)
    np.testing.assert_array_equal(values, ref_values)
    assert valid.all()


def test_reader_orders_pixel_columns_numerically(write_csv):
    path = write_csv(
        [
            "col2,depth,col10,col1" + "".join(f",col{i}" for i in range(3, 10)),
            "5," + "1.0,100,4" + "".join(f",{i}" for i in range(3, 10)),
        ]
    )
    _header, depth, values, _valid, _ = read_all(path)
    assert depth.tolist() == [1.0]
    assert values[0].tolist() == [4, 5, 3, 4, 5, 6, 7, 8, 9, 100]


def test_reader_empty_cells_are_nodata_not_zero(write_csv):
    path = write_csv(["depth,col1,col2,col3", "1.0,10,,30", "1.1,,,"])
    _, _, values, valid, _ = read_all(path)
    assert valid.tolist() == [[True, False, True], [False, False, False]]
    assert values[0, 0] == 10 and values[0, 2] == 30


@pytest.mark.parametrize(
    ("lines", "line", "column", "words"),
    [
        (["depth,col1,col2", "1.0,1,2", "1.1,abc,3"], 3, "col1", "not a number"),
        (["depth,col1,col2", "1.0,1,2", "1.1,1,2,3"], 3, None, "expected 3 cells"),
        (["depth,col1,col2", "1.0,1", "1.1,1,2"], 2, None, "expected 3 cells"),
        (["depth,col1,col2", "1.0,1,2", "1.1,2,inf"], 3, "col2", "not a finite number"),
        (["depth,col1,col2", "x1.0,1,2"], 2, "depth", "not a number"),
    ],
)
def test_reader_bad_cell_names_line_and_column(write_csv, lines, line, column, words):
    path = write_csv(lines)
    with pytest.raises(CsvFormatError) as info:
        read_all(path)
    assert info.value.line == line
    assert info.value.column == column
    assert words in info.value.message


@pytest.mark.parametrize(
    ("cells", "integral"), [("1,2", True), ("2.5,3", False), ("2,256", False), ("1,-1", False), (",", True)]
)
def test_reader_flags_blocks_that_need_float_storage(write_csv, cells, integral):
    header = read_header(path := write_csv(["depth,col1,col2", "1.0,0,255", f"1.1,{cells}"]))
    (block,) = iter_scanline_blocks(path, header)
    assert block.integral is integral
    # integers 0..255 come from the uint8 parse; anything else from the float32 one
    assert block.values.dtype == (np.uint8 if integral else np.float32)
    assert block.floats().dtype == np.float32


def test_reader_error_line_counts_crlf_lines(write_csv):
    lines = ["depth,col1"] + [f"{i},{i}" for i in range(1, 50)] + ["50,oops"]
    path = write_csv(lines, newline="\r\n")
    with pytest.raises(CsvFormatError) as info:
        read_all(path)
    assert (info.value.line, info.value.column) == (51, "col1")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not text"),
        (b"\xff\xfed\x00e\x00p\x00", "not text"),
        (b"depth,col1\xff\n1,2\n", "not UTF-8"),
        (b"col1,col2\n1,2\n", "no 'depth' column"),
        (b"depth\n1\n", "no pixel column"),
        (b"depth,col1,col3\n1,2,3\n", "col2 is missing"),
        (b"depth,col1,col1\n1,2,3\n", "appears twice"),
        (b"depth,col1,gamma\n1,2,3\n", "unexpected column"),
        (b"\x13!\r,\x0e\r\n", "cannot be read as CSV"),  # a lone CR inside the line (the fuzzer's)
    ],
)
def test_reader_bad_header_is_line_1(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(CsvFormatError) as info:
        read_header(path)
    assert info.value.line == 1
    assert words in info.value.message


@pytest.mark.parametrize("workers", [1, 3])
def test_reader_parallel_chunks_keep_file_order(sample_csv, sample_reference, workers):
    """Tiny chunks parsed by several threads still come back in file order, every scanline once."""
    header = read_header(sample_csv)
    blocks = list(iter_scanline_blocks(sample_csv, header, block_bytes=5000, workers=workers))
    assert len(blocks) > 100  # about 7 scanlines per chunk: many chunks in flight at once
    ref_depth, ref_values = sample_reference
    np.testing.assert_array_equal(np.concatenate([b.depth for b in blocks]), ref_depth)
    np.testing.assert_array_equal(np.concatenate([b.values for b in blocks]), ref_values)
    assert sum(b.dropped for b in blocks) == 1
    positions = [b.bytes_read for b in blocks]
    assert positions == sorted(positions) and positions[-1] == sample_csv.stat().st_size


def test_reader_bad_line_in_a_late_chunk_is_located(write_csv):
    lines = ["depth,col1,col2"] + [f"{1 + i / 10:.1f},{i % 200},{(i * 7) % 200}" for i in range(3000)]
    lines[2500] = "250.9,12,oops"
    path = write_csv(lines)
    header = read_header(path)
    with pytest.raises(CsvFormatError) as caught:
        list(iter_scanline_blocks(path, header, block_bytes=256, workers=2))
    assert caught.value.line == 2501
    assert caught.value.column == "col2"
