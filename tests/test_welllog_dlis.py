"""DLIS well logs (ingest.welllog / ingest.dlis): files written here with dliswriter, read with dlisio."""

import logging

import numpy as np
import pytest
from dliswriter import DLISFile

from ingest.welllog import WellLogError, detect_format, iter_well_blocks, read_well_log

ABSENT = -999.25


@pytest.fixture(autouse=True)
def _quiet_dliswriter(caplog):
    # dliswriter logs a warning for units outside its list (e.g. "0.1 in", valid RP66 text)
    caplog.set_level(logging.ERROR, logger="dliswriter")


def write(df, path):
    df.write(str(path), output_chunk_size=1 << 20)  # its default buffer is 4 GB


def imager_values(rng, rows, columns):
    values = rng.uniform(0, 500, (rows, columns)).astype(np.float32)
    values[:3] = ABSENT  # leading rows with no data
    values[-2:] = np.nan  # trailing rows with no data
    values[rng.random(values.shape) < 0.05] = ABSENT
    return values


@pytest.fixture
def wireline(tmp_path):
    """Two logical files. The first: frame MAIN (depth m, 0.1 m: GR, CALI, image FMI [24]),
    frame FAST (an image sampled at 0.025 m: UBI [36], its own index TDEP in 0.1 in),
    frame TIMED (time index: skipped). The second: frame MAIN again (GR in ft)."""
    rng = np.random.default_rng(3)
    df = DLISFile()
    lf = df.add_logical_file(fh_id="RUN1")
    lf.add_origin(
        "ORIGIN", well_name="7-ABC-1-RJS", well_id="API 12-345", field_name="Buzios", company="ACME"
    )
    lf.add_parameter("BS", values=[215.9], long_name="Bit size")
    lf.add_parameter("MUD", values=["WBM"], long_name="Mud type")

    n = 50
    depth = 2000.0 + 0.1 * np.arange(n)
    gr = rng.uniform(10, 150, n).astype(np.float32)
    gr[[4, 9]] = ABSENT
    gr[20] = np.nan
    cali = rng.uniform(8, 9, n)
    fmi = imager_values(rng, n, 24)
    channels = (
        lf.add_channel("DEPT", data=depth, units="m"),
        lf.add_channel("GR", data=gr, units="gAPI", long_name="Gamma ray"),
        lf.add_channel("CALI", data=cali, units="in", long_name="Caliper"),
        lf.add_channel("FMI", data=fmi, units="mS", long_name="Resistivity image"),
    )
    lf.add_frame("MAIN", channels=channels, index_type="BOREHOLE-DEPTH", spacing=0.1)

    m = 120
    tdep = 2000.0 / 0.00254 + 10.0 * np.arange(m)  # 0.1 in: 2000 m, then 0.0254 m steps
    tdep[7] = ABSENT  # a row without depth: dropped
    ubi = imager_values(rng, m, 36)
    fast = (
        lf.add_channel("TDEP", data=tdep, units="0.1 in"),
        lf.add_channel("UBI", data=ubi, units="us", long_name="Transit time"),
    )
    lf.add_frame("FAST", channels=fast, index_type="BOREHOLE-DEPTH", spacing=10.0)

    timed = (
        lf.add_channel("TIME", data=np.arange(5.0), units="s"),
        lf.add_channel("TENS", data=np.arange(5.0), units="lbf"),
    )
    lf.add_frame("TIMED", channels=timed, index_type="TIME")

    # dliswriter shares sets between logical files unless they are named apart
    lf2 = df.add_logical_file(fh_id="RUN2")
    lf2.add_origin("ORIGIN2", well_name="7-ABC-1-RJS", set_name="RUN2")
    depth_ft = 7000.0 + 0.5 * np.arange(10)
    gr2 = np.arange(10, dtype=np.float64)
    second = (
        lf2.add_channel("DEPT", data=depth_ft, units="ft", set_name="RUN2"),
        lf2.add_channel("GR", data=gr2, units="gAPI", set_name="RUN2"),
    )
    lf2.add_frame("MAIN", channels=second, index_type="BOREHOLE-DEPTH", set_name="RUN2")

    path = tmp_path / "wireline.dlis"
    write(df, path)
    expected = {
        "depth": depth,
        "GR": gr,
        "CALI": cali,
        "FMI": fmi,
        "tdep": tdep,
        "UBI": ubi,
        "depth_ft": depth_ft,
        "GR2": gr2,
    }
    return path, expected


def nodata(values, dtype):
    out = np.array(values, dtype)
    out[out == ABSENT] = np.nan
    return out


def read_everything(path):
    log = read_well_log(path)
    return list(iter_well_blocks(path, log))


def by_group(path, log, **kwargs):
    groups = {}
    for block in iter_well_blocks(path, log, **kwargs):
        groups.setdefault(block.group, []).append(block)
    return groups


def test_dlis_header_groups_images_curves(wireline):
    path, _ = wireline
    assert detect_format(path) == "dlis"
    log = read_well_log(path)
    header = log.header
    assert header.format == "dlis"
    assert (header.well_name, header.uwi, header.field, header.company) == (
        "7-ABC-1-RJS",
        "API 12-345",
        "Buzios",
        "ACME",
    )
    assert header.depth_unit == "m"
    assert header.start == pytest.approx(2000.0)
    assert header.stop == pytest.approx(2004.9)
    assert header.step == pytest.approx(0.1)
    assert header.bit_size == pytest.approx(215.9)  # no unit on the parameter: taken as inches
    assert header.facts["ORIGIN.WELL-NAME"] == "7-ABC-1-RJS"
    assert header.facts["PARAMETER.MUD"] == "WBM: Mud type"
    assert "logical file RUN1, frame TIMED: index TIME, not depth" in header.facts["DLIS.SKIPPED"]
    assert log.groups == ("RUN1/MAIN", "RUN1/FAST", "RUN2/MAIN")
    assert [(i.name, i.sources, i.columns, i.value_unit, i.description, i.group) for i in log.images] == [
        ("FMI", ("FMI",), 24, "mS", "Resistivity image", "RUN1/MAIN"),
        ("UBI", ("UBI",), 36, "us", "Transit time", "RUN1/FAST"),
    ]
    assert [(c.mnemonic, c.unit, c.description, c.group) for c in log.curves] == [
        ("GR", "gAPI", "Gamma ray", "RUN1/MAIN"),
        ("CALI", "in", "Caliper", "RUN1/MAIN"),
        ("GR:MAIN", "gAPI", "GR", "RUN2/MAIN"),  # a name already taken gets its frame's
    ]


@pytest.mark.parametrize("block_bytes", [None, 1000])
def test_dlis_values_exact_per_group(wireline, block_bytes):
    path, expected = wireline
    log = read_well_log(path)
    groups = by_group(path, log, block_bytes=block_bytes)
    assert list(groups) == ["RUN1/MAIN", "RUN1/FAST", "RUN2/MAIN"]

    main = groups["RUN1/MAIN"]
    if block_bytes:
        assert len(main) > 3
    depth = np.concatenate([b.depth for b in main])
    np.testing.assert_array_equal(depth, expected["depth"])
    fmi = np.concatenate([b.images["FMI"] for b in main])
    assert fmi.dtype == np.float32
    np.testing.assert_array_equal(fmi, nodata(expected["FMI"], np.float32))
    assert np.isnan(fmi[:3]).all() and np.isnan(fmi[-2:]).all()
    gr = np.concatenate([b.curves["GR"] for b in main])
    assert gr.dtype == np.float64
    np.testing.assert_array_equal(gr, nodata(expected["GR"], np.float64))
    assert np.isnan(gr[[4, 9, 20]]).all()
    np.testing.assert_array_equal(np.concatenate([b.curves["CALI"] for b in main]), expected["CALI"])
    assert all(set(b.images) == {"FMI"} and set(b.curves) == {"GR", "CALI"} for b in main)
    assert all(b.first_line is None for b in main)

    fast = groups["RUN1/FAST"]
    keep = np.arange(expected["tdep"].size) != 7
    assert sum(b.dropped for b in fast) == 1
    got = np.concatenate([b.depth for b in fast])
    np.testing.assert_allclose(got, expected["tdep"][keep] * 0.00254, rtol=0, atol=1e-9)  # 0.1 in -> m
    ubi = np.concatenate([b.images["UBI"] for b in fast])
    np.testing.assert_array_equal(ubi, nodata(expected["UBI"][keep], np.float32))
    assert all(set(b.images) == {"UBI"} and not b.curves for b in fast)

    second = groups["RUN2/MAIN"]
    np.testing.assert_allclose(np.concatenate([b.depth for b in second]), expected["depth_ft"] * 0.3048)
    np.testing.assert_array_equal(np.concatenate([b.curves["GR:MAIN"] for b in second]), expected["GR2"])
    reads = [b.bytes_read for blocks in groups.values() for b in blocks]
    assert reads == sorted(reads) and reads[-1] == path.stat().st_size  # progress: share of rows read


def test_dlis_tenth_inch_first_frame_makes_feet(tmp_path):
    df = DLISFile()
    lf = df.add_logical_file()
    lf.add_origin("O")
    tdep = 12000.0 + 6.0 * np.arange(8)
    image = np.arange(8 * 5, dtype=np.float32).reshape(8, 5)
    lf.add_frame(
        "F",
        channels=(lf.add_channel("TDEP", data=tdep, units="0.1 in"), lf.add_channel("IMG", data=image)),
        index_type="BOREHOLE-DEPTH",
    )
    path = tmp_path / "tenth.dlis"
    write(df, path)
    log = read_well_log(path)
    assert log.header.depth_unit == "ft"
    assert log.header.start == pytest.approx(100.0)
    assert log.header.step == pytest.approx(0.05)
    (block,) = iter_well_blocks(path, log)
    np.testing.assert_allclose(block.depth, tdep / 120)
    np.testing.assert_array_equal(block.images["IMG"], image)


def test_dlis_bounds_checked_before_reading(wireline):
    path, _ = wireline
    log = read_well_log(path)
    with pytest.raises(WellLogError, match="more than the 1,000 cells") as caught:
        list(iter_well_blocks(path, log, max_cells=1000))
    assert caught.value.where == "frame MAIN"  # 50 rows x 27 values: refused before a row is read
    with pytest.raises(WellLogError, match="36 columns, more than the 30") as caught:
        read_well_log(path, max_columns=30)
    assert caught.value.where == "frame FAST, channel UBI"
    with pytest.raises(WellLogError, match="more than 2 channels") as caught:
        read_well_log(path, max_curves=2)
    assert caught.value.where == "frame MAIN, channel FMI"


def test_dlis_without_depth_frame_is_refused(tmp_path):
    df = DLISFile()
    lf = df.add_logical_file()
    lf.add_origin("O")
    lf.add_frame(
        "T",
        channels=(
            lf.add_channel("TIME", data=np.arange(3.0), units="s"),
            lf.add_channel("X", data=np.ones(3)),
        ),
        index_type="TIME",
    )
    path = tmp_path / "time.dlis"
    write(df, path)
    with pytest.raises(WellLogError, match="no depth-indexed frame"):
        read_well_log(path)


def test_dlis_unknown_index_unit_names_frame_and_channel(tmp_path):
    df = DLISFile()
    lf = df.add_logical_file()
    lf.add_origin("O")
    lf.add_frame(
        "F",
        channels=(
            lf.add_channel("DEPT", data=np.arange(3.0), units="kg"),
            lf.add_channel("X", data=np.ones(3)),
        ),
        index_type="BOREHOLE-DEPTH",
    )
    path = tmp_path / "kg.dlis"
    write(df, path)
    with pytest.raises(WellLogError, match="not a depth unit") as caught:
        read_well_log(path)
    assert caught.value.where == "frame F, channel DEPT"


def test_dlis_truncated_file_is_a_welllog_error(wireline, tmp_path):
    path, _ = wireline
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 100, 200):
        truncated = tmp_path / f"cut{cut}.dlis"
        truncated.write_bytes(data[:cut])
        with pytest.raises(WellLogError, match="dlisio cannot read the file: Problem: File truncated"):
            read_everything(truncated)


def test_dlis_unreadable_frame_row_is_named(wireline, monkeypatch):
    import ingest.dlis

    path, _ = wireline
    log = read_well_log(path)
    bad = {}
    real_read = ingest.dlis._read

    def failing_read(lf, fmt, dtype, records):
        bad.setdefault("tell", lf.fdata_index[lf.frames[0].fingerprint][4])  # MAIN's 5th row
        if bad["tell"] in records:
            raise RuntimeError("unexpected end-of-record")
        return real_read(lf, fmt, dtype, records)

    monkeypatch.setattr(ingest.dlis, "_read", failing_read)
    with pytest.raises(WellLogError, match="frame row 5 of 50: unexpected end-of-record") as caught:
        list(iter_well_blocks(path, log, block_bytes=2000))
    assert caught.value.where == f"RUN1/MAIN, logical record at byte {bad['tell']}, frame MAIN"


def test_dlis_drift_indexed_frame_is_skipped(tmp_path):
    df = DLISFile()
    lf = df.add_logical_file()
    lf.add_origin("O")
    lf.add_frame(
        "DRIFT",
        channels=(
            lf.add_channel("RD", data=np.arange(3.0), units="m"),
            lf.add_channel("X", data=np.ones(3)),
        ),
        index_type="RADIAL-DRIFT",
    )
    lf.add_frame(
        "MD",
        channels=(
            lf.add_channel("MD", data=np.arange(3.0), units="m"),
            lf.add_channel("Y", data=np.ones(3)),
        ),
        index_type="BOREHOLE-DEPTH",
    )
    path = tmp_path / "drift.dlis"
    write(df, path)
    log = read_well_log(path)
    assert log.groups == ("FILE-HEADER/MD",)
    assert [c.mnemonic for c in log.curves] == ["Y"]
    assert "frame DRIFT: index RADIAL-DRIFT, not depth" in log.header.facts["DLIS.SKIPPED"]
