"""Sinusoids on an unrolled borehole image, the planes they stand for, and true dip from a survey.

Pure module: numpy and numbers, no Django. Angles are in degrees, depths in the
image's depth unit (m or ft); azimuths are reduced to ``[0, 360)``.

Convention (README, "Picks"): in a borehole of diameter ``D`` (depth unit) a
plane of dip ``δ`` and dip azimuth ``φ`` (the direction of steepest descent,
degrees clockwise from the image's azimuth 0) crosses the wall along::

    depth(θ) = d0 + (D / 2) · tan(δ) · cos(θ - φ)

``θ`` the azimuth on the wall. The deepest point is at ``θ = φ``; the
trough-to-peak height is ``D · tan(δ)``; the *amplitude* is half of it,
``(D / 2) · tan(δ)``. Column ``c`` of an ``N``-column 360-degree image is
centred on the azimuth ``(c + 0.5) · 360 / N + azimuth_offset``
(:func:`column_azimuth`).

Derivation: take the borehole's frame x (azimuth 0), y (azimuth 90), z along
the hole, downwards. The plane ``z = d0 + tan(δ) · (x cos φ + y sin φ)`` meets
the wall ``(x, y) = (D/2)(cos θ, sin θ)`` at the depth above. Its unit normal,
pointing down the hole, is ``n = (-sin δ cos φ, -sin δ sin φ, cos δ)``
(:func:`plane_normal`), and back (:func:`normal_dip`).

The fit (:func:`fit_sinusoid`) is the linear least squares of
``depth = a + b cos θ + c sin θ``, exact for three distinct azimuths and more:
``d0 = a``, amplitude ``√(b² + c²)``, ``φ = atan2(c, b)``.

True dip (:func:`true_dip`) rotates the normal from the borehole's frame to the
geographic north-east-down frame with the hole's inclination and azimuth at the
pick's depth, interpolated between survey stations by minimum curvature
(:func:`survey_orientation`).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np

from ingest.reader import CsvFormatError

#: Azimuths closer than this (degrees) count as one when checking a fit is determined.
AZIMUTH_TOLERANCE = 1e-6

#: Inclinations and dips this close to 0 (degrees) have no azimuth of their own: 0 is given.
FLAT = 1e-9


class DegenerateFitError(ValueError):
    """The points do not determine a sinusoid: fewer than three distinct azimuths, or not finite."""


class SurveyError(ValueError):
    """A deviation survey that cannot be interpolated (too few stations, depths not increasing)."""


@dataclass(frozen=True)
class SinusoidFit:
    """A least-squares sinusoid ``depth(θ) = depth + amplitude · cos(θ - dip_azimuth)``.

    Attributes:
        depth: ``d0``, the depth of the sinusoid's centre line (depth unit).
        amplitude: half the trough-to-peak height (depth unit, >= 0).
        dip_azimuth: azimuth of the deepest point, degrees in ``[0, 360)``
            (0 for a flat fit: amplitude 0).
        rms: root mean square of the depth residuals (depth unit).
        points: number of points fitted.
    """

    depth: float
    amplitude: float
    dip_azimuth: float
    rms: float
    points: int


def wrap_azimuth(azimuth: np.ndarray | float) -> np.ndarray:
    """Azimuths reduced to ``[0, 360)`` degrees (``-1`` -> 359, ``360`` -> 0), as ``float64``."""
    wrapped = np.mod(np.asarray(azimuth, dtype=np.float64), 360.0)
    return np.where(wrapped >= 360.0, 0.0, wrapped)  # mod of a tiny negative rounds to 360.0


def column_azimuth(column: np.ndarray | float, columns: int, azimuth_offset: float = 0.0) -> np.ndarray:
    """The azimuth of (fractional) column ``column`` of a ``columns``-wide 360-degree image.

    Column ``c`` is centred on ``(c + 0.5) · 360 / columns + azimuth_offset``;
    its left edge is ``c · 360 / columns`` (plus the offset).

    Args:
        column: column index (0 = first azimuth sector; may be fractional), any shape.
        columns: the image's width in pixels (> 0).
        azimuth_offset: the image's azimuth of its left edge, degrees.

    Returns:
        ``float64`` azimuths in ``[0, 360)`` degrees, of ``column``'s shape.
    """
    return wrap_azimuth((np.asarray(column, dtype=np.float64) + 0.5) * 360.0 / columns + azimuth_offset)


def sinusoid_depth(
    azimuth: np.ndarray | float, depth: float, amplitude: float, dip_azimuth: float
) -> np.ndarray:
    """``depth + amplitude · cos(azimuth - dip_azimuth)``: the sinusoid's depth at each azimuth.

    Args:
        azimuth: degrees, any shape.
        depth: ``d0`` (depth unit).
        amplitude: half the trough-to-peak height (depth unit).
        dip_azimuth: azimuth of the deepest point, degrees.

    Returns:
        ``float64`` depths, of ``azimuth``'s shape.
    """
    theta = np.radians(np.asarray(azimuth, dtype=np.float64) - dip_azimuth)
    return depth + amplitude * np.cos(theta)


def fit_sinusoid(azimuth: np.ndarray, depth: np.ndarray) -> SinusoidFit:
    """The least-squares sinusoid through points ``(azimuth, depth)`` on the unrolled wall.

    Linear least squares on the basis ``(1, cos θ, sin θ)``: with
    ``depth ≈ a + b cos θ + c sin θ``, ``d0 = a``, ``amplitude = √(b² + c²)``
    and ``dip_azimuth = atan2(c, b)``, since
    ``A cos(θ - φ) = A cos φ cos θ + A sin φ sin θ``. Azimuths are angles, so
    points on both sides of the 0/360 seam need no care.

    Args:
        azimuth: ``(n,)`` degrees (any real value; reduced mod 360).
        depth: ``(n,)`` depths (depth unit), increasing downwards.

    Returns:
        The fit, with the RMS of the residuals.

    Raises:
        DegenerateFitError: shapes differ, a value is not finite, or fewer than
            three distinct azimuths (the three coefficients are then not determined).
    """
    theta_deg = np.asarray(azimuth, dtype=np.float64).ravel()
    depths = np.asarray(depth, dtype=np.float64).ravel()
    if theta_deg.shape != depths.shape:
        raise DegenerateFitError(f"{theta_deg.size} azimuths for {depths.size} depths")
    if not (np.all(np.isfinite(theta_deg)) and np.all(np.isfinite(depths))):
        raise DegenerateFitError("every azimuth and depth must be a finite number")
    theta_deg = wrap_azimuth(theta_deg)
    distinct = np.unique(np.round(theta_deg / AZIMUTH_TOLERANCE))
    # 0 and 360 - epsilon are one azimuth too.
    if distinct.size and distinct[-1] - distinct[0] >= round(360.0 / AZIMUTH_TOLERANCE) - 1:
        distinct = distinct[:-1]
    if distinct.size < 3:
        raise DegenerateFitError(
            f"a sinusoid needs points at three distinct azimuths at least; these have {distinct.size}"
        )
    theta = np.radians(theta_deg)
    design = np.column_stack([np.ones_like(theta), np.cos(theta), np.sin(theta)])
    # Three distinct points of a circle are never collinear, so the design has rank 3;
    # rcond=None keeps numpy's machine-precision cut for near-coincident azimuths.
    # Solved about the mean depth: at ~9,000 m the raw depths would cost ~1e-9 degrees of
    # dip azimuth to rounding (the amplitude is centimetres on a depth of kilometres).
    mean = float(depths.mean())
    (a, b, c), *_ = np.linalg.lstsq(design, depths - mean, rcond=None)
    residual = depths - mean - design @ np.array([a, b, c])
    a += mean
    amplitude = float(math.hypot(b, c))
    dip_azimuth = float(wrap_azimuth(math.degrees(math.atan2(c, b)))) if amplitude > 0 else 0.0
    return SinusoidFit(
        depth=float(a),
        amplitude=amplitude,
        dip_azimuth=dip_azimuth,
        rms=float(np.sqrt(np.mean(residual**2))),
        points=int(depths.size),
    )


def dip_from_amplitude(amplitude: float, diameter: float) -> float:
    """The dip (degrees, 0..90) of a sinusoid of ``amplitude`` in a hole of ``diameter``: ``atan(2A / D)``.

    Args:
        amplitude: half the trough-to-peak height (depth unit, >= 0).
        diameter: the borehole's diameter (same unit, > 0).
    """
    return math.degrees(math.atan2(2.0 * amplitude, diameter))


def amplitude_from_dip(dip: float, diameter: float) -> float:
    """The amplitude (depth unit) of a plane of ``dip`` degrees in a hole of ``diameter``: ``(D/2) tan δ``.

    Args:
        dip: degrees in ``[0, 90)``.
        diameter: the borehole's diameter (depth unit, > 0).
    """
    return diameter / 2.0 * math.tan(math.radians(dip))


def plane_normal(dip: float, dip_azimuth: float) -> np.ndarray:
    """The unit normal of a plane, pointing down: ``(-sin δ cos φ, -sin δ sin φ, cos δ)``.

    In a frame x (azimuth 0), y (azimuth 90), z down (north-east-down for a
    geographic frame; the borehole's frame for an image).

    Args:
        dip: ``δ``, degrees from horizontal (0..90).
        dip_azimuth: ``φ``, degrees clockwise from x.

    Returns:
        ``(3,) float64``.
    """
    d, p = math.radians(dip), math.radians(dip_azimuth)
    return np.array([-math.sin(d) * math.cos(p), -math.sin(d) * math.sin(p), math.cos(d)])


def normal_dip(normal: np.ndarray) -> tuple[float, float]:
    """Dip and dip azimuth (degrees) of the plane of normal ``normal`` (inverse of :func:`plane_normal`).

    Args:
        normal: ``(3,)`` any non-zero vector, either sense (it is turned to point down).

    Returns:
        ``(dip, dip_azimuth)``: dip in ``[0, 90]``, azimuth in ``[0, 360)`` (0 for a flat plane).
    """
    n = np.asarray(normal, dtype=np.float64) / float(np.linalg.norm(normal))
    if n[2] < 0:
        n = -n
    dip = math.degrees(math.acos(min(1.0, float(n[2]))))
    if dip < FLAT:
        return 0.0, 0.0
    return dip, float(wrap_azimuth(math.degrees(math.atan2(-n[1], -n[0]))))


def hole_rotation(inclination: float, azimuth: float) -> np.ndarray:
    """The rotation from the borehole's frame to north-east-down: ``Rz(azimuth) · Ry(inclination)``.

    The borehole's frame: z along the hole (downwards), x the high side (the
    upper side of an inclined hole), y = z x x (90 degrees clockwise from the
    high side, looking down the hole). ``Ry(I)`` tilts z from vertical by the
    inclination towards north, then ``Rz(A)`` turns it to the hole's azimuth,
    so z maps to ``(sin I cos A, sin I sin A, cos I)``, the hole's tangent as
    the minimum-curvature method writes it (SPE 84246, see
    :func:`survey_orientation`), and x to the high side
    ``(cos I cos A, cos I sin A, -sin I)``. Dip correction of dipmeter and
    borehole-image picks is this change of frame applied to the plane's normal.

    Args:
        inclination: degrees from vertical (0..180).
        azimuth: degrees clockwise from north.

    Returns:
        ``(3, 3) float64``: column i is the borehole's axis i in north-east-down.
    """
    i, a = math.radians(inclination), math.radians(azimuth)
    ry = np.array([[math.cos(i), 0.0, math.sin(i)], [0.0, 1.0, 0.0], [-math.sin(i), 0.0, math.cos(i)]])
    rz = np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])
    return rz @ ry


def true_dip(dip: float, dip_azimuth: float, inclination: float, azimuth: float) -> tuple[float, float]:
    """The geographic (true) dip and dip azimuth of a plane picked on a north-oriented image.

    The image is north-oriented: the azimuth ``θ`` of a point of the wall is its
    angle clockwise from the high side plus the hole's azimuth, ``θ = β + A``
    (the high side drawn at the hole's azimuth; the rotation from a high-side
    image to north by the hole azimuth). In a vertical hole ``θ`` is the
    geographic azimuth itself, whatever ``A``, so true dip equals apparent dip.
    Steps:

    1. ``β_φ = φ - A``: the apparent dip azimuth from the high side;
    2. ``n_b = (-sin δ cos β_φ, -sin δ sin β_φ, cos δ)``: the normal in the
       borehole's frame (:func:`plane_normal`);
    3. ``n = Rz(A) · Ry(I) · n_b`` (:func:`hole_rotation`): the normal in
       north-east-down;
    4. true dip ``= acos(|n_D|)``, true dip azimuth ``= atan2(-n_E, -n_N)``
       (the down-pointing normal: :func:`normal_dip`).

    Example: a horizontal plane seen in a hole inclined 30 degrees towards
    azimuth A has apparent dip 30, deepest on the high side (``φ = A``), and
    true dip 0.

    Args:
        dip: apparent dip ``δ``, degrees (0..90).
        dip_azimuth: apparent dip azimuth ``φ`` on the image, degrees.
        inclination: the hole's inclination ``I`` at the pick, degrees from vertical.
        azimuth: the hole's azimuth ``A`` at the pick, degrees clockwise from north.

    Returns:
        ``(true_dip, true_dip_azimuth)`` in degrees: ``[0, 90]`` and ``[0, 360)``.
    """
    normal = plane_normal(dip, dip_azimuth - azimuth)
    return normal_dip(hole_rotation(inclination, azimuth) @ normal)


def _direction(inclination: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
    """``(n, 3)`` unit tangents in north-east-down of holes at ``inclination``/``azimuth`` (degrees)."""
    i, a = np.radians(inclination), np.radians(azimuth)
    return np.column_stack([np.sin(i) * np.cos(a), np.sin(i) * np.sin(a), np.cos(i)])


def survey_check(md: np.ndarray, inclination: np.ndarray, azimuth: np.ndarray) -> None:
    """Refuse a survey that :func:`survey_orientation` cannot use.

    Raises:
        SurveyError: shapes differ, fewer than two stations, a value not finite,
            an inclination outside 0..180, or measured depths not increasing.
    """
    md, inclination, azimuth = (np.asarray(v, dtype=np.float64) for v in (md, inclination, azimuth))
    if not md.shape == inclination.shape == azimuth.shape or md.ndim != 1:
        raise SurveyError("measured depth, inclination and azimuth must be three lists of one length")
    if md.size < 2:
        raise SurveyError(f"a survey needs two stations at least; it has {md.size}")
    if not all(np.all(np.isfinite(v)) for v in (md, inclination, azimuth)):
        raise SurveyError("every measured depth, inclination and azimuth must be a finite number")
    if np.any((inclination < 0) | (inclination > 180)):
        raise SurveyError("inclinations must lie in 0..180 degrees")
    if np.any(np.diff(md) <= 0):
        raise SurveyError("measured depths must increase from one station to the next")


def survey_orientation(
    md: np.ndarray, inclination: np.ndarray, azimuth: np.ndarray, at: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The hole's inclination and azimuth at measured depths ``at``, by minimum curvature.

    Between stations 1 and 2 (tangents ``t1``, ``t2``, dogleg angle
    ``β = acos(t1 · t2)``) the minimum-curvature method takes the hole to be
    the circular arc tangent to both, so the tangent at the fraction
    ``f = (md - md1) / (md2 - md1)`` of the course length is the spherical
    interpolation ``t = [sin((1 - f) β) t1 + sin(f β) t2] / sin β`` (``t1``
    when ``β`` is 0). Source: Sawaryn & Thorogood, "A Compendium of
    Directional Calculations Based on the Minimum Curvature Method", SPE 84246
    (SPE Drilling & Completion, 2005), the ISCWSA's reference.

    Args:
        md: ``(k,)`` station measured depths, increasing (depth unit), ``k >= 2``.
        inclination: ``(k,)`` degrees from vertical.
        azimuth: ``(k,)`` degrees clockwise from north.
        at: ``(n,)`` measured depths to interpolate at (same unit).

    Returns:
        ``(inclination, azimuth)``: ``(n,) float64`` degrees; NaN outside
        ``md[0]..md[-1]`` (no extrapolation); azimuth 0 where the hole is vertical.

    Raises:
        SurveyError: see :func:`survey_check`.
    """
    survey_check(md, inclination, azimuth)
    md = np.asarray(md, dtype=np.float64)
    at = np.atleast_1d(np.asarray(at, dtype=np.float64))
    tangents = _direction(np.asarray(inclination, np.float64), np.asarray(azimuth, np.float64))
    inside = (at >= md[0]) & (at <= md[-1])
    lower = np.clip(np.searchsorted(md, at, side="right") - 1, 0, md.size - 2)
    fraction = np.clip((at - md[lower]) / (md[lower + 1] - md[lower]), 0.0, 1.0)
    t1, t2 = tangents[lower], tangents[lower + 1]
    dogleg = np.arccos(np.clip(np.sum(t1 * t2, axis=1), -1.0, 1.0))
    sin_dogleg = np.sin(dogleg)
    straight = sin_dogleg < 1e-12
    safe = np.where(straight, 1.0, sin_dogleg)
    w1 = np.where(straight, 1.0 - fraction, np.sin((1.0 - fraction) * dogleg) / safe)
    w2 = np.where(straight, fraction, np.sin(fraction * dogleg) / safe)
    t = w1[:, None] * t1 + w2[:, None] * t2
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    inc = np.degrees(np.arccos(np.clip(t[:, 2], -1.0, 1.0)))
    horizontal = np.hypot(t[:, 0], t[:, 1])
    azi = np.where(horizontal < 1e-12, 0.0, wrap_azimuth(np.degrees(np.arctan2(t[:, 1], t[:, 0]))))
    return np.where(inside, inc, np.nan), np.where(inside, azi, np.nan)


#: The header names a survey CSV may give each column (case and spaces ignored).
SURVEY_COLUMNS = {
    "md": ("md", "depth", "measured_depth", "dept"),
    "inclination": ("inclination", "inc", "incl", "dev", "deviation"),
    "azimuth": ("azimuth", "azi", "az", "hazi"),
}


def read_survey_csv(text: str, *, max_stations: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse a deviation survey CSV: a header naming ``md``, ``inclination`` and ``azimuth``, then stations.

    Header names are matched without case (aliases in :data:`SURVEY_COLUMNS`);
    other columns are ignored, blank lines skipped. Measured depths are in the
    well's depth unit and must increase; inclinations lie in 0..180 degrees,
    azimuths in 0..360 (360 is read as 0).

    Args:
        text: the whole file, decoded.
        max_stations: the most stations accepted.

    Returns:
        ``(md, inclination, azimuth)``: three ``(k,) float64`` arrays, ``k >= 2``.

    Raises:
        ingest.reader.CsvFormatError: what is wrong, with its line (1 = the header)
            and column.
    """
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header is None:
        raise CsvFormatError("the file is empty; expected a header md,inclination,azimuth")
    names = [name.strip().lower().replace(" ", "_") for name in header]
    index: dict[str, int] = {}
    for column, aliases in SURVEY_COLUMNS.items():
        found = [i for i, name in enumerate(names) if name in aliases]
        if not found:
            raise CsvFormatError(f"the header names no {column} column (one of {', '.join(aliases)})", line=1)
        index[column] = found[0]
    values: dict[str, list[float]] = {column: [] for column in SURVEY_COLUMNS}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(values["md"]) >= max_stations:
            raise CsvFormatError(f"more than {max_stations:,} stations", line=line)
        for column, i in index.items():
            values[column].append(_survey_value(row, i, column, header[i].strip(), line))
        md = values["md"]
        if len(md) > 1 and md[-1] <= md[-2]:
            raise CsvFormatError(
                f"measured depth {md[-1]:g} is not deeper than the station before ({md[-2]:g})",
                line=line,
                column=header[index["md"]].strip(),
            )
    if len(values["md"]) < 2:
        raise CsvFormatError(f"a survey needs two stations at least; the file has {len(values['md'])}")
    azimuth = np.array(values["azimuth"])
    return np.array(values["md"]), np.array(values["inclination"]), np.where(azimuth >= 360, 0.0, azimuth)


def _survey_value(row: list[str], i: int, column: str, name: str, line: int) -> float:
    """The number in cell ``i`` of a survey row, checked against its column's range."""
    cell = row[i].strip() if i < len(row) else ""
    try:
        value = float(cell)
    except ValueError:
        raise CsvFormatError(f"{cell[:40]!r} is not a number", line=line, column=name) from None
    if not math.isfinite(value):
        raise CsvFormatError(f"{cell[:40]!r} is not a finite number", line=line, column=name)
    bounds = {"inclination": (0.0, 180.0), "azimuth": (0.0, 360.0)}.get(column)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise CsvFormatError(
            f"{column} {value:g} is outside {bounds[0]:g}..{bounds[1]:g} degrees", line=line, column=name
        )
    return value
