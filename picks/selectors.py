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
from ingest.models import Image
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


def survey_arrays(survey: Survey | None, *, depth_unit: str) -> SurveyArrays | None:
    """A survey's stations as arrays in ``depth_unit``, or None without a usable survey (< 2 stations)."""
    if survey is None:
        return None
    stations = list(survey.stations.all())
    if len(stations) < 2:
        return None
    factor = unit_factor(survey.well.depth_unit, depth_unit)
    return SurveyArrays(
        md=np.array([s.md for s in stations]) * factor,
        inclination=np.array([s.inclination for s in stations], dtype=np.float64),
        azimuth=np.array([s.azimuth for s in stations], dtype=np.float64),
    )


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
    """The :class:`PickContext` of ``image`` (one query for the survey when it has a well)."""
    survey = None
    if image.well_id is not None:
        survey = survey_arrays(survey_of(image.well_id), depth_unit=image.depth_unit)
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
