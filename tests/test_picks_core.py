"""picks.core: sinusoid fits of known planes, dip from amplitude, true dip, minimum curvature, survey CSV.

No database. Planes are turned into wall points by 3-D geometry (a plane cut by
a cylinder), independently of the formulas under test, then fitted back.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ingest.reader import CsvFormatError
from picks import core

#: An 8.5-inch bit in metres.
D = 8.5 * 0.0254


def angle_diff(a: float, b: float) -> float:
    """The smallest difference of two azimuths, degrees (359 and 1 are 2 apart)."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


def wall_points(
    *,
    dip: float,
    dip_azimuth: float,
    inclination: float = 0.0,
    hole_azimuth: float = 0.0,
    azimuths: np.ndarray,
    md0: float = 1000.0,
    diameter: float = D,
) -> np.ndarray:
    """Along-hole depths where a geographic plane crosses the wall of a straight hole, at image azimuths.

    The hole passes through the plane at measured depth ``md0``; the image is
    north-oriented: image azimuth = angle from the high side + hole azimuth.
    Pure geometry: the plane ``n . p = n . (md0 t)`` and the wall point
    ``p = s t + R (cos b h + sin b r)`` solved for ``s``.
    """
    i, a = math.radians(inclination), math.radians(hole_azimuth)
    t = np.array([math.sin(i) * math.cos(a), math.sin(i) * math.sin(a), math.cos(i)])
    h = np.array([math.cos(i) * math.cos(a), math.cos(i) * math.sin(a), -math.sin(i)])
    if inclination == 0.0:  # the high side of a vertical hole: the hole azimuth's direction
        h = np.array([math.cos(a), math.sin(a), 0.0])
    r = np.cross(t, h)
    d, p = math.radians(dip), math.radians(dip_azimuth)
    n = np.array([-math.sin(d) * math.cos(p), -math.sin(d) * math.sin(p), math.cos(d)])
    beta = np.radians(np.asarray(azimuths, dtype=np.float64) - hole_azimuth)
    radial = np.outer(np.cos(beta), h) + np.outer(np.sin(beta), r)
    return (md0 * float(n @ t) - diameter / 2 * radial @ n) / float(n @ t)


# -- the fit ------------------------------------------------------------------------


@pytest.mark.parametrize("dip", [0.0, 5.0, 30.0, 60.0, 85.0])
@pytest.mark.parametrize("dip_azimuth", [0.0, 0.4, 90.0, 181.0, 270.0, 359.6])
def test_picks_core_fit_recovers_a_known_plane_noise_free(dip, dip_azimuth):
    azimuths = np.arange(8) * 45.0 + 7.0
    depths = wall_points(dip=dip, dip_azimuth=dip_azimuth, azimuths=azimuths)
    fit = core.fit_sinusoid(azimuths, depths)
    assert abs(core.dip_from_amplitude(fit.amplitude, D) - dip) < 0.5
    assert fit.depth == pytest.approx(1000.0, abs=1e-9)
    assert fit.rms < 1e-9
    if dip > 0:
        assert angle_diff(fit.dip_azimuth, dip_azimuth) < 1.0
        # Noise-free points are fitted exactly, far inside the bounds.
        assert core.dip_from_amplitude(fit.amplitude, D) == pytest.approx(dip, abs=1e-9)
        assert angle_diff(fit.dip_azimuth, dip_azimuth) < 1e-7
    else:
        assert fit.amplitude == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("dip_azimuth", [0.0, 3.0, 357.0])
def test_picks_core_fit_three_points_across_the_seam(dip_azimuth):
    """Three points on both sides of 0/360 (350, 359.9, 10 degrees): exact, deepest near the seam."""
    azimuths = np.array([350.0, 359.9, 10.0])
    depths = wall_points(dip=40.0, dip_azimuth=dip_azimuth, azimuths=azimuths)
    fit = core.fit_sinusoid(azimuths, depths)
    assert angle_diff(fit.dip_azimuth, dip_azimuth) < 1e-6
    assert core.dip_from_amplitude(fit.amplitude, D) == pytest.approx(40.0, abs=1e-6)
    # The same azimuths written past 360 or below 0 are the same points.
    again = core.fit_sinusoid(np.array([-10.0, 719.9, 370.0]), depths)
    assert again.dip_azimuth == pytest.approx(fit.dip_azimuth, abs=1e-9)
    assert again.amplitude == pytest.approx(fit.amplitude, rel=1e-9)


def test_picks_core_fit_with_noise_stays_within_stated_bounds():
    """36 points with 2 mm of Gaussian depth noise (sigma) on an 8.5-inch hole.

    Bounds: dip within 1 degree, dip azimuth within 2 degrees (about five
    standard errors for the 30-degree plane here: 0.2 and 0.4 degrees), the RMS
    near the noise's sigma; checked over 50 seeds.
    """
    azimuths = (np.arange(36) + 0.5) * 10.0
    clean = wall_points(dip=30.0, dip_azimuth=355.0, azimuths=azimuths)
    rng = np.random.default_rng(15)
    for _ in range(50):
        fit = core.fit_sinusoid(azimuths, clean + rng.normal(0.0, 0.002, clean.size))
        assert abs(core.dip_from_amplitude(fit.amplitude, D) - 30.0) < 1.0
        assert angle_diff(fit.dip_azimuth, 355.0) < 2.0
        assert 0.001 < fit.rms < 0.003


def test_picks_core_columns_centred_on_their_azimuths():
    np.testing.assert_allclose(core.column_azimuth(np.arange(4), 4), [45.0, 135.0, 225.0, 315.0])
    np.testing.assert_allclose(core.column_azimuth(np.arange(4), 4, 350.0), [35.0, 125.0, 215.0, 305.0])
    assert float(core.column_azimuth(-0.5, 360)) == 0.0  # the left edge of column 0
    assert float(core.column_azimuth(359.5, 360)) == 0.0  # the right edge of the last: the seam


def test_picks_core_fit_via_columns_matches_the_plane():
    """Depths sampled at the centres of a 34-column image's columns fit back to the plane."""
    columns = np.arange(34)
    azimuths = core.column_azimuth(columns, 34, azimuth_offset=12.0)
    depths = wall_points(dip=25.0, dip_azimuth=5.0, azimuths=azimuths)
    fit = core.fit_sinusoid(azimuths, depths)
    assert core.dip_from_amplitude(fit.amplitude, D) == pytest.approx(25.0, abs=1e-9)
    assert angle_diff(fit.dip_azimuth, 5.0) < 1e-7


@pytest.mark.parametrize(
    ("azimuths", "depths", "words"),
    [
        ([10.0, 10.0, 10.0, 10.0], [1.0, 2.0, 3.0, 4.0], "three distinct azimuths"),
        ([0.0, 360.0, 90.0, 90.0], [1.0, 2.0, 3.0, 4.0], "three distinct azimuths"),
        ([0.0, 90.0], [1.0, 2.0], "three distinct azimuths"),
        ([0.0, 90.0, float("nan")], [1.0, 2.0, 3.0], "finite"),
        ([0.0, 90.0, 180.0], [1.0, 2.0, float("inf")], "finite"),
        ([0.0, 90.0, 180.0], [1.0, 2.0], "azimuths for"),
    ],
)
def test_picks_core_fit_refuses_degenerate_points(azimuths, depths, words):
    with pytest.raises(core.DegenerateFitError, match=words):
        core.fit_sinusoid(np.array(azimuths), np.array(depths))


def test_picks_core_dip_and_amplitude_are_inverse_and_peak_to_trough_is_d_tan_dip():
    for dip in (0.0, 10.0, 45.0, 89.0):
        amplitude = core.amplitude_from_dip(dip, D)
        assert 2 * amplitude == pytest.approx(D * math.tan(math.radians(dip)))
        assert core.dip_from_amplitude(amplitude, D) == pytest.approx(dip)
    assert core.amplitude_from_dip(45.0, 0.2) == pytest.approx(0.1)


def test_picks_core_sinusoid_deepest_at_the_dip_azimuth():
    azimuths = np.arange(360.0)
    depths = core.sinusoid_depth(azimuths, 100.0, 0.05, 123.0)
    assert azimuths[np.argmax(depths)] == 123.0
    assert depths.max() - depths.min() == pytest.approx(0.1)


def test_picks_core_plane_normal_round_trip():
    for dip, azimuth in [(0.0, 0.0), (10.0, 350.0), (45.0, 90.0), (89.0, 181.0), (90.0, 270.0)]:
        got_dip, got_azimuth = core.normal_dip(core.plane_normal(dip, azimuth))
        assert got_dip == pytest.approx(dip, abs=1e-9)
        if dip:
            assert angle_diff(got_azimuth, azimuth) < 1e-9
    # Either sense of the normal is the same plane.
    assert core.normal_dip(-core.plane_normal(30.0, 40.0)) == pytest.approx((30.0, 40.0))


# -- true dip ------------------------------------------------------------------------


@pytest.mark.parametrize("hole_azimuth", [0.0, 77.0, 300.0])
def test_picks_core_true_dip_of_a_vertical_well_is_the_apparent_dip(hole_azimuth):
    for dip, azimuth in [(0.0, 0.0), (20.0, 45.0), (60.0, 359.0), (85.0, 180.0)]:
        true_dip, true_azimuth = core.true_dip(dip, azimuth, 0.0, hole_azimuth)
        assert true_dip == pytest.approx(dip, abs=1e-9)
        if dip:
            assert angle_diff(true_azimuth, azimuth) < 1e-9


@pytest.mark.parametrize("hole_azimuth", [0.0, 90.0, 215.0])
def test_picks_core_horizontal_plane_in_a_30_degree_well(hole_azimuth):
    """A horizontal bed in a hole inclined 30 degrees: apparent dip 30, deepest on the high side, true 0."""
    azimuths = np.arange(12) * 30.0
    depths = wall_points(
        dip=0.0, dip_azimuth=0.0, inclination=30.0, hole_azimuth=hole_azimuth, azimuths=azimuths
    )
    fit = core.fit_sinusoid(azimuths, depths)
    apparent = core.dip_from_amplitude(fit.amplitude, D)
    assert apparent == pytest.approx(30.0, abs=1e-9)
    assert angle_diff(fit.dip_azimuth, hole_azimuth) < 1e-7  # the high side, drawn at the hole azimuth
    true_dip, _ = core.true_dip(apparent, fit.dip_azimuth, 30.0, hole_azimuth)
    assert true_dip == pytest.approx(0.0, abs=1e-7)


def test_picks_core_true_dip_recovers_planes_seen_in_deviated_wells():
    """Random planes in random straight holes: wall points by geometry, fitted, rotated back."""
    rng = np.random.default_rng(2026)
    azimuths = np.arange(16) * 22.5 + 3.0
    for _ in range(200):
        dip, dip_azimuth = rng.uniform(0, 70), rng.uniform(0, 360)
        inclination, hole_azimuth = rng.uniform(0, 70), rng.uniform(0, 360)
        # The plane must not contain the hole's axis (no sinusoid then): keep their angle open.
        normal = core.plane_normal(dip, dip_azimuth)
        axis = core.hole_rotation(inclination, hole_azimuth)[:, 2]
        if abs(float(normal @ axis)) < 0.3:
            continue
        depths = wall_points(
            dip=dip,
            dip_azimuth=dip_azimuth,
            inclination=inclination,
            hole_azimuth=hole_azimuth,
            azimuths=azimuths,
        )
        fit = core.fit_sinusoid(azimuths, depths)
        apparent = core.dip_from_amplitude(fit.amplitude, D)
        true_dip, true_azimuth = core.true_dip(apparent, fit.dip_azimuth, inclination, hole_azimuth)
        assert true_dip == pytest.approx(dip, abs=1e-6)
        assert angle_diff(true_azimuth, dip_azimuth) < 1e-5


def test_picks_core_true_dip_by_hand():
    """A bed dipping 30 degrees east, in a hole inclined 30 degrees east: the angle between the
    bed's normal and the hole is 60 degrees (apparent dip 60, deepest on the high side, drawn at 90)."""
    assert core.true_dip(60.0, 90.0, 30.0, 90.0) == pytest.approx((30.0, 90.0))


# -- minimum curvature ---------------------------------------------------------------


def test_picks_core_minimum_curvature_by_hand():
    # Vertical to horizontal east over 100: half way the arc is at 45 degrees, heading east.
    inc, azi = core.survey_orientation([0.0, 100.0], [0.0, 90.0], [0.0, 90.0], [0.0, 50.0, 100.0])
    np.testing.assert_allclose(inc, [0.0, 45.0, 90.0], atol=1e-9)
    np.testing.assert_allclose(azi, [0.0, 90.0, 90.0], atol=1e-9)
    # A third of the way along a 90-degree arc, the tangent has turned 30 degrees (a normalised
    # linear mix of the tangents would say atan(1/2) = 26.57).
    inc, _ = core.survey_orientation([0.0, 90.0], [0.0, 90.0], [0.0, 90.0], [30.0, 60.0])
    np.testing.assert_allclose(inc, [30.0, 60.0], atol=1e-9)
    # 30 degrees north to 30 degrees east: half way the tangent is (t1 + t2)/|t1 + t2| =
    # (0.5, 0.5, 1.7320508)/1.8708287: inclination acos(0.9258201) = 22.2076 degrees (not 30,
    # as a linear interpolation of the angles would say), azimuth 45.
    inc, azi = core.survey_orientation([1000.0, 1030.0], [30.0, 30.0], [0.0, 90.0], [1015.0])
    assert inc[0] == pytest.approx(math.degrees(math.acos(math.sqrt(3) / math.sqrt(3.5))), abs=1e-9)
    assert inc[0] == pytest.approx(22.2076, abs=1e-4)
    assert azi[0] == pytest.approx(45.0, abs=1e-9)


def test_picks_core_minimum_curvature_straight_and_outside():
    md, inc, azi = [0.0, 500.0, 1000.0], [20.0, 20.0, 20.0], [100.0, 100.0, 100.0]
    got_inc, got_azi = core.survey_orientation(md, inc, azi, [-1.0, 0.0, 250.0, 999.0, 1000.5])
    np.testing.assert_allclose(got_inc[1:4], 20.0, atol=1e-9)
    np.testing.assert_allclose(got_azi[1:4], 100.0, atol=1e-9)
    assert np.isnan(got_inc[0]) and np.isnan(got_inc[4])  # no extrapolation
    # Across the north seam: 350 -> 10 goes through 0, not 180.
    _, seam = core.survey_orientation([0.0, 10.0], [10.0, 10.0], [350.0, 10.0], [5.0])
    assert angle_diff(float(seam[0]), 0.0) < 1e-6


@pytest.mark.parametrize(
    ("md", "inc", "azi", "words"),
    [
        ([0.0], [0.0], [0.0], "two stations"),
        ([0.0, 0.0], [0.0, 1.0], [0.0, 0.0], "increase"),
        ([0.0, 10.0], [0.0, 181.0], [0.0, 0.0], "0..180"),
        ([0.0, float("nan")], [0.0, 1.0], [0.0, 0.0], "finite"),
        ([0.0, 1.0], [0.0, 1.0], [0.0], "one length"),
    ],
)
def test_picks_core_survey_check_refuses(md, inc, azi, words):
    with pytest.raises(core.SurveyError, match=words):
        core.survey_check(np.array(md), np.array(inc), np.array(azi))


# -- survey CSV ----------------------------------------------------------------------


def test_picks_core_survey_csv_reads_stations_and_aliases():
    md, inc, azi = core.read_survey_csv(
        "Depth, INC , Azi ,tvd\n0,0,0,0\n\n100.5,2.5,360,100\n200,5,45.25,199\n", max_stations=10
    )
    np.testing.assert_array_equal(md, [0.0, 100.5, 200.0])
    np.testing.assert_array_equal(inc, [0.0, 2.5, 5.0])
    np.testing.assert_array_equal(azi, [0.0, 0.0, 45.25])  # 360 is north


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("", None, None, "empty"),
        ("md,inclination\n0,0\n", 1, None, "azimuth"),
        ("md,inclination,azimuth\n0,0,0\n10,abc,0\n", 3, "inclination", "not a number"),
        ("md,inclination,azimuth\n0,0,0\n10,1,nan\n", 3, "azimuth", "finite"),
        ("md,inclination,azimuth\n0,0,0\n10,190,0\n", 3, "inclination", "0..180"),
        ("md,inclination,azimuth\n0,0,0\n10,1,-5\n", 3, "azimuth", "0..360"),
        ("md,inclination,azimuth\n0,0,0\n10,1,1\n10,2,2\n", 4, "md", "not deeper"),
        ("md,inclination,azimuth\n0,0,0\n10,1\n", 3, "azimuth", "not a number"),
        ("md,inclination,azimuth\n0,0,0\n", None, None, "two stations"),
        ("md,inclination,azimuth\n" + "".join(f"{i},0,0\n" for i in range(6)), 7, None, "more than 5"),
    ],
)
def test_picks_core_survey_csv_errors_name_line_and_column(text, line, column, words):
    with pytest.raises(CsvFormatError, match=words) as caught:
        core.read_survey_csv(text, max_stations=5)
    assert (caught.value.line, caught.value.column) == (line, column)
