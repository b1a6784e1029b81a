"""LAS 2.0 well logs (ingest.welllog / ingest.las): files written here with lasio's writer."""

import re

import lasio
import numpy as np
import pytest

from ingest.las import sector_families
from ingest.welllog import (
    WellLogError,
    detect_format,
    iter_well_blocks,
    locate_las_lines,
    read_well_log,
)

NULL = -999.25


def make_las(depth, curves, *, depth_unit="M", null=NULL, well="W-1", bs=("8.5", "IN")):
    """A lasio LASFile: ``curves`` is a list of (mnemonic, unit, values, description)."""
    las = lasio.LASFile()
    las.well["NULL"].value = null
    las.well["WELL"].value = well
    las.well["UWI"].value = "05-123-45678"
    las.well["FLD"].value = "Campos"
    las.well["COMP"].value = "ACME Drilling"
    las.params["BS"] = lasio.HeaderItem("BS", unit=bs[1], value=bs[0], descr="Bit size")
    las.append_curve("DEPT", np.asarray(depth, float), unit=depth_unit, descr="Depth")
    for mnemonic, unit, values, descr in curves:
        las.append_curve(mnemonic, np.asarray(values, float), unit=unit, descr=descr)
    return las


def read_all(path, log, **kwargs):
    blocks = list(iter_well_blocks(path, log, **kwargs))
    depth = np.concatenate([b.depth for b in blocks])
    images = {spec.name: np.concatenate([b.images[spec.name] for b in blocks]) for spec in log.images}
    curves = {spec.mnemonic: np.concatenate([b.curves[spec.mnemonic] for b in blocks]) for spec in log.curves}
    return blocks, depth, images, curves


@pytest.fixture
def lwd(tmp_path):
    """A LWD-like log: ABDC1M..16M (g/cc), GRAS0M..7M (gAPI) written out of sector order,
    GR, CALI, RES1..RES3, NULLs inside, 2 leading and 3 trailing all-null image rows,
    one sample with a null depth."""
    rng = np.random.default_rng(7)
    n = 60
    depth = 1000.0 + 0.1 * np.arange(n)
    depth[30] = np.nan  # written as NULL: the sample is dropped
    abdc = rng.uniform(1.8, 2.9, (n, 16)).round(4)
    gras = rng.uniform(10, 150, (n, 8)).round(4)
    for image in (abdc, gras):
        image[:2] = np.nan
        image[-3:] = np.nan
        image[rng.random(image.shape) < 0.05] = np.nan
    gr = rng.uniform(20, 120, n).round(4)
    gr[[5, 17]] = np.nan
    cali = rng.uniform(8, 9, n).round(4)
    res = [rng.uniform(1, 100, n).round(4) for _ in range(3)]
    order = [9, 0, 15, 3, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14]  # ABDC10M before ABDC1M
    curves = [("GR", "gAPI", gr, "Gamma ray")]
    curves += [(f"ABDC{i + 1}M", "g/cc", abdc[:, i], f"Density sector {i + 1}") for i in order]
    curves += [("CALI", "in", cali, "Caliper")]
    curves += [(f"GRAS{i}M", "gAPI", gras[:, i], f"Gamma sector {i}") for i in (7, 6, 5, 4, 3, 2, 1, 0)]
    curves += [(f"RES{i + 1}", "ohmm", res[i], "Resistivity") for i in range(3)]
    las = make_las(depth, curves)
    path = tmp_path / "lwd.las"
    las.write(str(path), version=2.0)
    expected = {"depth": depth, "ABDC": abdc, "GRAS": gras, "GR": gr, "CALI": cali}
    expected.update({f"RES{i + 1}": res[i] for i in range(3)})
    return path, expected


def test_las_header_images_and_curves(lwd):
    path, _ = lwd
    assert detect_format(path) == "las"
    log = read_well_log(path)
    header = log.header
    assert header.format == "las"
    assert (header.well_name, header.uwi, header.field, header.company) == (
        "W-1",
        "05-123-45678",
        "Campos",
        "ACME Drilling",
    )
    assert header.depth_unit == "m"
    assert header.start == pytest.approx(1000.0)
    assert header.stop == pytest.approx(1005.9)
    assert header.step == pytest.approx(0.1)
    assert header.bit_size == 8.5
    assert header.null_value == NULL
    assert header.facts["W.WELL"] == "W-1: WELL"
    assert header.facts["P.BS"] == "8.5 IN: Bit size"
    assert header.facts["V.VERS"].startswith("2.0")
    assert [image.name for image in log.images] == ["ABDC", "GRAS"]
    abdc, gras = log.images
    assert abdc.sources == tuple(f"ABDC{i}M" for i in range(1, 17))
    assert (abdc.columns, abdc.value_unit, abdc.group) == (16, "g/cc", "")
    assert gras.sources == tuple(f"GRAS{i}M" for i in range(8))
    assert (gras.columns, gras.value_unit) == (8, "gAPI")
    assert [(c.mnemonic, c.unit, c.description) for c in log.curves] == [
        ("GR", "gAPI", "Gamma ray"),
        ("CALI", "in", "Caliper"),
        ("RES1", "ohmm", "Resistivity"),
        ("RES2", "ohmm", "Resistivity"),
        ("RES3", "ohmm", "Resistivity"),
    ]
    assert log.groups == ("",)


@pytest.mark.parametrize("block_bytes", [None, 1500, 7919])
def test_las_values_exact_in_sector_order(lwd, block_bytes):
    path, expected = lwd
    log = read_well_log(path)
    blocks, depth, images, curves = read_all(path, log, block_bytes=block_bytes)
    keep = ~np.isnan(expected["depth"])
    assert sum(b.dropped for b in blocks) == 1
    np.testing.assert_array_equal(depth, expected["depth"][keep])
    assert depth.dtype == np.float64
    for name in ("ABDC", "GRAS"):
        assert images[name].dtype == np.float32
        # float32 exact; NaN where the file has NULL (leading/trailing rows included)
        np.testing.assert_array_equal(images[name], expected[name][keep].astype(np.float32))
        assert np.isnan(images[name][:2]).all() and np.isnan(images[name][-3:]).all()
    for mnemonic in ("GR", "CALI", "RES1", "RES2", "RES3"):
        assert curves[mnemonic].dtype == np.float64
        np.testing.assert_array_equal(curves[mnemonic], expected[mnemonic][keep])
    assert np.isnan(curves["GR"][[5, 17]]).all()
    # each block's first line is its first sample's line in the file
    lines = path.read_text().splitlines()
    for block in blocks:  # (a block starting at the NULL depth starts with a dropped sample)
        first = float(lines[block.first_line - 1].split()[0])
        assert first == NULL or first == pytest.approx(block.depth[0])
    assert blocks[-1].bytes_read == path.stat().st_size
    if block_bytes:
        assert len(blocks) >= 3


def test_las_wrapped_matches_unwrapped(lwd, tmp_path):
    path, expected = lwd
    las = lasio.read(str(path))
    wrapped = tmp_path / "wrapped.las"
    las.write(str(wrapped), version=2.0, wrap=True)
    text = wrapped.read_text()
    assert re.search(r"^WRAP\.\s+YES", text, re.MULTILINE)
    log = read_well_log(wrapped)
    keep = ~np.isnan(expected["depth"])
    for block_bytes in (None, 1000, 333):
        blocks, depth, images, curves = read_all(wrapped, log, block_bytes=block_bytes)
        np.testing.assert_array_equal(depth, expected["depth"][keep])
        np.testing.assert_array_equal(images["ABDC"], expected["ABDC"][keep].astype(np.float32))
        np.testing.assert_array_equal(images["GRAS"], expected["GRAS"][keep].astype(np.float32))
        np.testing.assert_array_equal(curves["RES3"], expected["RES3"][keep])
        lines = text.splitlines()
        for block in blocks:  # wrapped: the line holding the sample's depth (NULL: dropped)
            first = float(lines[block.first_line - 1].split()[0])
            assert first == NULL or first == pytest.approx(block.depth[0])


def test_las_wrapped_depth_alone_on_its_line(tmp_path):
    # LAS 2.0's own wrapped layout: the index alone, then the values over several lines
    header = (
        "~VERSION INFORMATION\n VERS. 2.0 : CWLS\n WRAP. YES : multiple lines per depth\n"
        "~WELL INFORMATION\n STRT.FT 5000.0 :\n STOP.FT 4999.0 :\n STEP.FT -0.5 :\n NULL. -999.25 :\n"
        "~CURVE INFORMATION\n DEPT.FT : depth\n"
        + "".join(f" IMG{i}.ohmm : sector {i}\n" for i in range(1, 6))
        + " GR.gAPI : gamma\n~A\n"
    )
    data = (
        "5000.0\n 1.5 2.5 3.5\n 4.5 5.5 60.0\n"
        "4999.5\n -999.25 2.25 3.25\n 4.25 5.25 61.0\n"
        "4999.0\n 1.0 2.0 3.0\n 4.0 5.0 -999.25\n"
    )
    path = tmp_path / "wrap.las"
    path.write_text(header + data)
    log = read_well_log(path)
    assert log.header.depth_unit == "ft"
    assert log.header.step == -0.5
    assert [image.sources for image in log.images] == [tuple(f"IMG{i}" for i in range(1, 6))]
    for block_bytes in (None, 10, 23):
        blocks, depth, images, curves = read_all(path, log, block_bytes=block_bytes)
        assert depth.tolist() == [5000.0, 4999.5, 4999.0]  # logged upwards: file order
        np.testing.assert_array_equal(
            images["IMG"],
            np.array(
                [[1.5, 2.5, 3.5, 4.5, 5.5], [np.nan, 2.25, 3.25, 4.25, 5.25], [1, 2, 3, 4, 5]], np.float32
            ),
        )
        np.testing.assert_array_equal(curves["GR"], [60.0, 61.0, np.nan])
        assert blocks[0].first_line == header.count("\n") + 1
    assert locate_las_lines(path, log, (2, 0, 1)) == [24, 18, 21]


def test_las_logged_upwards_in_feet(tmp_path):
    depth = 3000.0 - 0.5 * np.arange(20)
    sectors = np.arange(20 * 4, dtype=float).reshape(20, 4) / 8
    las = make_las(depth, [(f"PE{i}", "b/e", sectors[:, i], "") for i in range(4)], depth_unit="F")
    path = tmp_path / "up.las"
    las.write(str(path), version=2.0)
    log = read_well_log(path)
    assert log.header.depth_unit == "ft"
    assert log.header.step == -0.5
    assert (log.header.start, log.header.stop) == (3000.0, 2990.5)
    _, got, images, _ = read_all(path, log)
    np.testing.assert_array_equal(got, depth)  # file order; the pipeline sorts
    np.testing.assert_array_equal(images["PE"], sectors.astype(np.float32))


def test_las_tenth_inch_index_is_feet(tmp_path):
    depth = 120000.0 + 6 * np.arange(5)  # 1000 ft, then every half inch
    las = make_las(depth, [("GR", "gAPI", np.arange(5.0), "")], depth_unit=".1IN")
    path = tmp_path / "tenth.las"
    las.write(str(path), version=2.0)
    log = read_well_log(path)
    assert log.header.depth_unit == "ft"
    assert log.header.start == pytest.approx(1000.0)
    assert log.header.step == pytest.approx(0.05)
    _, got, _, curves = read_all(path, log)
    np.testing.assert_allclose(got, depth / 120)
    np.testing.assert_array_equal(curves["GR"], np.arange(5.0))


def test_las_bit_size_in_mm_is_inches(tmp_path):
    las = make_las([1.0, 2.0], [("GR", "gAPI", [1.0, 2.0], "")], bs=("215.9", "MM"))
    path = tmp_path / "mm.las"
    las.write(str(path), version=2.0)
    assert read_well_log(path).header.bit_size == pytest.approx(8.5)


def _replace_token(path, line, column, token):
    lines = path.read_text().splitlines(keepends=True)
    parts = lines[line - 1].split()
    parts[column] = token
    lines[line - 1] = " ".join(parts) + "\n"
    path.write_text("".join(lines))


@pytest.mark.parametrize("token", ["1.2.3", "abc", "inf", "12,5"])
def test_las_bad_value_names_line_and_curve(lwd, token):
    path, _ = lwd
    log = read_well_log(path)
    first = next(iter_well_blocks(path, log)).first_line
    _replace_token(path, first + 40, 5, token)  # the 41st sample, 6th column
    mnemonic = log.images[0].sources[0]
    with pytest.raises(WellLogError) as caught:
        list(iter_well_blocks(path, log, block_bytes=2000))
    assert caught.value.line == first + 40
    # column 5 in the file is the 5th curve after DEPT: GR, ABDC10M, ABDC1M, ABDC16M, ABDC4M
    assert caught.value.where == "curve ABDC4M"
    assert mnemonic == "ABDC1M"
    assert f"line {first + 40}" in str(caught.value)


def test_las_wrapped_bad_value_names_curve(lwd, tmp_path):
    path, _ = lwd
    wrapped = tmp_path / "wrapped.las"
    lasio.read(str(path)).write(str(wrapped), version=2.0, wrap=True)
    log = read_well_log(wrapped)
    blocks = list(iter_well_blocks(wrapped, log))
    first = blocks[0].first_line
    # the second line of the first sample: the curves after the first line's
    _replace_token(wrapped, first + 1, 2, "x")
    mnemonics = lasio.read(str(path)).keys()
    per_line = len(wrapped.read_text().splitlines()[first - 1].split())
    with pytest.raises(WellLogError) as caught:
        list(iter_well_blocks(wrapped, log, block_bytes=500))
    assert caught.value.line == first + 1
    assert caught.value.where == f"curve {mnemonics[per_line + 2]}"


def test_las_unwrapped_line_with_a_missing_value_is_refused(lwd):
    path, _ = lwd
    log = read_well_log(path)
    first = next(iter_well_blocks(path, log)).first_line
    lines = path.read_text().splitlines(keepends=True)
    lines[first + 9] = " ".join(lines[first + 9].split()[:-1]) + "\n"
    path.write_text("".join(lines))
    with pytest.raises(WellLogError, match="has 29 values, the ~C section 30 curves") as caught:
        list(iter_well_blocks(path, log))
    assert caught.value.line == first + 10


def test_las_truncated_wrapped_sample_is_refused(tmp_path):
    path = tmp_path / "cut.las"
    path.write_text(
        "~V\n VERS. 2.0 :\n WRAP. YES :\n~W\n NULL. -999.25 :\n~C\n DEPT.M :\n A.x :\n B.x :\n~A\n"
        "1.0\n 2 3\n2.0\n 4\n"
    )
    log = read_well_log(path)
    with pytest.raises(WellLogError, match="ends inside a sample") as caught:
        list(iter_well_blocks(path, log))
    assert caught.value.line == 13
    assert caught.value.where == "curve B"


def test_las_time_index_is_refused(tmp_path):
    las = make_las([0.0, 1.0], [("GR", "gAPI", [1.0, 2.0], "")], depth_unit="S")
    path = tmp_path / "time.las"
    las.write(str(path), version=2.0)
    with pytest.raises(WellLogError, match="time") as caught:
        read_well_log(path)
    assert caught.value.where == "curve DEPT"
    assert path.read_text().splitlines()[caught.value.line - 1].strip().startswith("DEPT.S")


def test_las_unknown_index_unit_is_refused(tmp_path):
    las = make_las([0.0, 1.0], [("GR", "gAPI", [1.0, 2.0], "")], depth_unit="furlong")
    path = tmp_path / "odd.las"
    las.write(str(path), version=2.0)
    with pytest.raises(WellLogError, match="not a depth unit"):
        read_well_log(path)


def test_las_bounds_are_checked_on_the_header(lwd):
    path, _ = lwd
    with pytest.raises(WellLogError, match="30 curves, more than the 10") as caught:
        read_well_log(path, max_curves=10)
    assert path.read_text().splitlines()[caught.value.line - 1].strip().startswith("ABDC7M")
    with pytest.raises(WellLogError, match="16 sector curves, more than the 12"):
        read_well_log(path, max_columns=12)
    log = read_well_log(path)
    with pytest.raises(WellLogError, match="longer than 100 bytes") as caught:
        list(iter_well_blocks(path, log, max_line_bytes=100))
    assert caught.value.line == next(iter_well_blocks(path, log)).first_line


def test_las_without_data_section_is_refused(tmp_path):
    path = tmp_path / "nodata.las"
    path.write_text("~V\n VERS. 2.0 :\n~C\n DEPT.M :\n")
    with pytest.raises(WellLogError, match="no ~A"):
        read_well_log(path)


def test_las_locate_lines_of_samples(lwd):
    path, _ = lwd
    log = read_well_log(path)
    first = next(iter_well_blocks(path, log)).first_line
    assert locate_las_lines(path, log, (59, 0, 30)) == [first + 59, first, first + 30]
    with pytest.raises(WellLogError, match="past the last sample"):
        locate_las_lines(path, log, (60,))


def test_sector_families_rules():
    assert sector_families([f"ABDC{i}M" for i in range(1, 17)]) == [("ABDC", "M", tuple(range(16)))]
    assert sector_families(["RES1", "RES2", "RES3"]) == []  # three are curves, not an image
    assert sector_families(["A1", "A2", "A4", "A5"]) == []  # a gap: curves
    assert sector_families(["A1", "A01", "A2", "A3"]) == []  # a repeated sector: curves
    assert sector_families(["GR:1", "GR:2", "GR:3", "GR:4"]) == []  # lasio's duplicate names
    got = sector_families(["X", "B3", "B1", "B2", "B0", "C1A", "C2A", "C3A", "C4A"])
    assert got == [("B", "", (4, 2, 3, 1)), ("C", "A", (5, 6, 7, 8))]


def test_detect_format_by_content(tmp_path, lwd):
    path, _ = lwd
    renamed = tmp_path / "log.csv"
    renamed.write_bytes(path.read_bytes())
    assert detect_format(renamed) == "las"
    commented = tmp_path / "c.txt"
    commented.write_text("# exported\n\n~version\n VERS. 2.0 :\n")
    assert detect_format(commented) == "las"
    csv = tmp_path / "x.las"
    csv.write_text("depth,col1\n1,2\n")
    assert detect_format(csv) == "csv"
    dlis = tmp_path / "x.bin"
    dlis.write_bytes(b"   1V1.00RECORD8192" + b" " * 62 + b"\x00\x01")
    assert detect_format(dlis) == "dlis"
    garbage = tmp_path / "g.las"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(WellLogError, match="binary"):
        detect_format(garbage)
    empty = tmp_path / "e.las"
    empty.write_bytes(b"  \n")
    with pytest.raises(WellLogError, match="empty"):
        detect_format(empty)
    with pytest.raises(WellLogError, match="neither LAS"):
        read_well_log(csv)
