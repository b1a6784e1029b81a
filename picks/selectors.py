"""Reads on picks and surveys, and what a pick needs of its image and well.

An image's ``azimuth_offset`` and ``borehole_diameter`` are read with
``getattr`` defaults (0 and None) so this app works whether or not the image
model has those columns yet; an image without a diameter takes its well's bit
size (inches, converted to the image's depth unit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from django.db.models import QuerySet

from ingest.axis import depth_range_check
from ingest.curves import curve_window
from ingest.models import Curve, Image, Well
from ingest.storage import storage_reader
from picks import core
from picks.models import Pick, Survey

#: Metres per foot (international foot) and per inch.
METRES_PER_FOOT = 0.3048
METRES_PER_INCH = 0.0254


def unit_factor(source: str, target: str) -> float:
    """The factor turning a length in depth unit ``source`` into ``target`` (``"m"`` or ``"ft"``)."""
    if source == target:
        return 1.0
    return METRES_PER_FOOT if (source, target) == ("ft", "m") else 1.0 / METRES_PER_FOOT


def image_azimuth_offset(image: Image) -> float:
    """The image's azimuth of column 0's left edge, degrees (``Image.azimuth_offset``; 0 without it)."""
    value = getattr(image, "azimuth_offset", None)
    return 0.0 if value is None else float(value)


def image_diameter(image: Image) -> float | None:
    """The borehole's diameter in the image's depth unit, or None when unknown.

    ``Image.borehole_diameter`` when set (> 0); otherwise the bit size of the
    image's well (inches: ``x 0.0254`` for m, ``/ 12`` for ft).
    """
    value = getattr(image, "borehole_diameter", None)
    if value is not None and math.isfinite(value) and value > 0:
        return float(value)
    well = image.well if image.well_id is not None else None
    bit_size = well.bit_size if well is not None else None
    if bit_size is None or not math.isfinite(bit_size) or bit_size <= 0:
        return None
    metres = bit_size * METRES_PER_INCH
    return metres if image.depth_unit == "m" else metres / METRES_PER_FOOT


def pick_list(
    *, image: Image, depth_min: float | None = None, depth_max: float | None = None, kind: str | None = None
) -> QuerySet[Pick]:
    """The picks of ``image``, shallowest first, within a closed depth range and of a kind.

    Args:
        image: an image the requester may see.
        depth_min: shallow end (the image's depth unit), or None.
        depth_max: deep end (same unit), or None.
        kind: one of ``settings.PICK_KINDS``, or None for all.

    Raises:
        ingest.axis.DepthRangeError: ``depth_min > depth_max``, or a bound not finite.
    """
    picks = Pick.objects.filter(image=image).select_related("author").order_by("depth", "id")
    if depth_min is not None and depth_max is not None:
        depth_range_check(depth_min, depth_max)
    if depth_min is not None:
        picks = picks.filter(depth__gte=depth_min)
    if depth_max is not None:
        picks = picks.filter(depth__lte=depth_max)
    if kind:
        picks = picks.filter(kind=kind)
    return picks


def pick_can_change(pick: Pick, user, *, manages_image: bool) -> bool:
    """The image's owner, staff and the pick's author may change (PATCH) or delete a pick."""
    if manages_image:
        return True
    return bool(user is not None and user.is_authenticated and pick.author_id == user.pk)


def survey_of(well_id: int) -> Survey | None:
    """The survey of well ``well_id`` with its well and stations loaded, or None."""
    return (
        Survey.objects.filter(well_id=well_id)
        .select_related("well", "author")
        .prefetch_related("stations")
        .first()
    )


@dataclass(frozen=True)
class SurveyArrays:
    """A survey's stations as arrays, measured depths in the unit asked for.

    Attributes:
        md: ``(k,) float64`` measured depths, increasing.
        inclination: ``(k,) float64`` degrees.
        azimuth: ``(k,) float64`` degrees.
    """

    md: np.ndarray
    inclination: np.ndarray
    azimuth: np.ndarray

    def orientation(self, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The hole's inclination and azimuth at measured depths ``at`` (NaN outside the survey)."""
        return core.survey_orientation(self.md, self.inclination, self.azimuth, at)

    def in_unit(self, factor: float) -> SurveyArrays:
        """The same stations with measured depths multiplied by ``factor`` (:func:`unit_factor`)."""
        return SurveyArrays(md=self.md * factor, inclination=self.inclination, azimuth=self.azimuth)


def survey_arrays(survey: Survey | None) -> SurveyArrays | None:
    """An uploaded survey's stations as arrays (the well's depth unit), or None (< 2 stations)."""
    if survey is None:
        return None
    stations = list(survey.stations.all())
    if len(stations) < 2:
        return None
    return SurveyArrays(
        md=np.array([s.md for s in stations], dtype=np.float64),
        inclination=np.array([s.inclination for s in stations], dtype=np.float64),
        azimuth=np.array([s.azimuth for s in stations], dtype=np.float64),
    )


#: Mnemonics (upper case) of a well's inclination and azimuth curves, by preference: LAS
#: logs name them DEVI and HAZI (hole deviation and azimuth), DLIS and others INCL and AZIM.
INCLINATION_CURVES = ("DEVI", "INCL", "INC", "DEV", "HDEV")
AZIMUTH_CURVES = ("HAZI", "AZIM", "AZI", "HAZ")


def survey_from_curves(well_id: int, *, max_stations: int) -> SurveyArrays | None:
    """A survey made of the well's inclination and azimuth curves (LAS/DLIS), or None.

    The inclination curve's samples (at most ``max_stations``, min/max-decimated
    beyond: :func:`ingest.curves.curve_window`) are the stations; the azimuth is
    interpolated at their depths (unwrapped across north, so 359 and 1 average
    to 0). Nodata samples, inclinations outside 0..180 and depths outside the
    azimuth curve are left out. None without both curves or with fewer than two
    stations left. Depths in the well's depth unit.
    """
    curves = {curve.mnemonic.upper(): curve for curve in Curve.objects.filter(well_id=well_id)}
    inclination = next((curves[name] for name in INCLINATION_CURVES if name in curves), None)
    azimuth = next((curves[name] for name in AZIMUTH_CURVES if name in curves), None)
    if inclination is None or azimuth is None or not inclination.file or not azimuth.file:
        return None
    try:
        inc, azi = (
            curve_window(
                storage_reader(curve.file.name),
                depth_min=None,
                depth_max=None,
                max_points=max_stations,
                name=curve.file.name,
            )
            for curve in (inclination, azimuth)
        )
    except (OSError, ValueError):  # a curve file missing from the storage: no survey
        return None
    azi_ok = np.isfinite(azi.value)
    azi_depth, azi_value = azi.depth[azi_ok], azi.value[azi_ok]
    if azi_depth.size < 2:
        return None
    md, incl = inc.depth, inc.value
    keep = np.isfinite(incl) & (incl >= 0) & (incl <= 180) & (md >= azi_depth[0]) & (md <= azi_depth[-1])
    keep[1:] &= np.diff(md) > 0  # decimation may repeat a depth: stations strictly deeper
    md, incl = md[keep], incl[keep]
    if md.size < 2:
        return None
    unwrapped = np.degrees(np.unwrap(np.radians(azi_value)))
    return SurveyArrays(
        md=md, inclination=incl, azimuth=core.wrap_azimuth(np.interp(md, azi_depth, unwrapped))
    )


@dataclass(frozen=True)
class WellSurvey:
    """The survey a well's picks use: an uploaded one, else one from its curves.

    Attributes:
        source: ``"upload"`` (``POST /api/v1/wells/{id}/survey``) or ``"curves"``
            (its inclination and azimuth curves, :func:`survey_from_curves`).
        arrays: the stations, measured depths in the well's depth unit.
        survey: the uploaded survey's row (None for curves).
    """

    source: str
    arrays: SurveyArrays
    survey: Survey | None


def well_survey(well: Well, *, max_stations: int = 10_000) -> WellSurvey | None:
    """The survey of ``well``: its uploaded survey, else its inclination and azimuth curves, else None."""
    uploaded = survey_of(well.pk)
    arrays = survey_arrays(uploaded)
    if arrays is not None:
        return WellSurvey("upload", arrays, uploaded)
    arrays = survey_from_curves(well.pk, max_stations=max_stations)
    return None if arrays is None else WellSurvey("curves", arrays, None)


@dataclass(frozen=True)
class PickContext:
    """What reading an image's picks needs once per request: its diameter and its well's survey.

    Attributes:
        depth_unit: the image's depth unit.
        diameter: the borehole's diameter (depth unit), or None.
        survey: the well's survey in the image's depth unit, or None.
    """

    depth_unit: str
    diameter: float | None
    survey: SurveyArrays | None


def pick_context(image: Image) -> PickContext:
    """The :class:`PickContext` of ``image``: its diameter, its well's survey (:func:`well_survey`)."""
    survey = None
    well = image.well if image.well_id is not None else None
    found = well_survey(well) if well is not None else None
    if well is not None and found is not None:
        survey = found.arrays.in_unit(unit_factor(well.depth_unit, image.depth_unit))
    return PickContext(depth_unit=image.depth_unit, diameter=image_diameter(image), survey=survey)


def pick_geometries(picks: list[Pick], context: PickContext) -> dict[int, dict[str, float | None]]:
    """The dip, amplitude and true dip of each pick, as read now (by pick id).

    The stored one of dip and amplitude is kept; the other comes from the
    diameter (None while it is unknown). True dip and its azimuth come from the
    survey at the pick's depth (:func:`picks.core.true_dip`; the hole's
    orientation at every pick's depth interpolated in one call), None without a
    survey covering that depth or without a dip.

    Returns:
        pick id -> ``dip``, ``amplitude``, ``true_dip``, ``true_dip_azimuth``
        (degrees; the amplitude in the depth unit).
    """
    inclinations = azimuths = np.full(len(picks), np.nan)
    if context.survey is not None and picks:
        inclinations, azimuths = context.survey.orientation(np.array([pick.depth for pick in picks]))
    geometries = {}
    for pick, inclination, azimuth in zip(picks, inclinations, azimuths, strict=True):
        dip, amplitude = pick.dip, pick.amplitude
        if dip is None and amplitude is not None and context.diameter:
            dip = core.dip_from_amplitude(amplitude, context.diameter)
        if amplitude is None and dip is not None and context.diameter:
            amplitude = core.amplitude_from_dip(dip, context.diameter)
        true_dip = true_azimuth = None
        if dip is not None and math.isfinite(inclination):
            true_dip, true_azimuth = core.true_dip(dip, pick.dip_azimuth, float(inclination), float(azimuth))
        geometries[pick.pk] = {
            "dip": dip,
            "amplitude": amplitude,
            "true_dip": true_dip,
            "true_dip_azimuth": true_azimuth,
        }
    return geometries
