"""Writes on picks and surveys, and the sinusoid fit of points given on an image.

Every bound is checked before any work: points per fit (:data:`MAX_POINTS`),
picks per image (:data:`MAX_PICKS_PER_IMAGE`, under a lock on the image's row),
stations per survey (:data:`MAX_SURVEY_STATIONS`). A refused request raises
:class:`PickError` naming the field at fault; the HTTP layer answers it 400.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import transaction

from ingest.models import Image, Well
from picks import core
from picks.models import Pick, Survey, SurveyStation
from picks.selectors import image_azimuth_offset, image_diameter
from tiles.source import ImageSource

#: Points of one fit or pick: three at least (a sinusoid has three coefficients).
MIN_POINTS = 3
MAX_POINTS = 64
#: Picks one image may hold.
MAX_PICKS_PER_IMAGE = 10_000
#: Longest pick comment (characters).
MAX_COMMENT = 2000
#: Stations of one survey, and the size of its CSV.
MAX_SURVEY_STATIONS = 10_000
MAX_SURVEY_BYTES = 1024 * 1024
#: Steepest dip a pick may be given (degrees): tan(90) has no amplitude.
MAX_DIP = 89.9
#: The default kind of a pick created without one.
DEFAULT_KIND = "other"

#: The columns that place a pick on the wall (given by hand, or fitted from points).
GEOMETRY = ("depth", "dip", "dip_azimuth", "amplitude")


class PickError(ValueError):
    """A pick or fit request that cannot be done (bad points, conflicting fields, too many picks).

    Attributes:
        field: the request field at fault (``points``, ``depth``...), or None.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FitResult:
    """A fitted sinusoid on an image, and the plane it stands for.

    Attributes:
        fit: the sinusoid (depth, amplitude, dip azimuth, rms; depth unit and degrees).
        dip: degrees, or None when the borehole's diameter is unknown.
        diameter: the diameter used (depth unit), or None.
        azimuths: ``(n,) float64`` the points' azimuths (degrees, [0, 360)).
        depths: ``(n,) float64`` the points' depths (depth unit).
    """

    fit: core.SinusoidFit
    dip: float | None
    diameter: float | None
    azimuths: np.ndarray
    depths: np.ndarray

    @property
    def points(self) -> list[dict[str, float]]:
        """The points as stored on a pick: ``[{"azimuth", "depth"}, ...]``."""
        return [
            {"azimuth": float(a), "depth": float(d)} for a, d in zip(self.azimuths, self.depths, strict=True)
        ]


def _wall_points(image: Image, points: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The ``(azimuth, depth)`` of points given as ``{"azimuth", "depth"}`` or ``{"column", "row"}``.

    A column is turned into its centre's azimuth (:func:`picks.core.column_azimuth`,
    the image's ``azimuth_offset`` added), a row into its depth by the image's
    depth axis (:class:`ingest.axis.DepthAxis`, fractional rows allowed).

    Raises:
        PickError: a column or row outside the image, or a depth outside its span.
        tiles.services.ImageNotReadyError: the image has no depth axis yet.
    """
    source = ImageSource.for_image(image)
    axis = source.axis
    half = axis.depth_step / 2
    top, bottom = axis.depth_min - half, axis.depth(source.rows - 1) + half
    azimuths, depths = [], []
    for number, point in enumerate(points, start=1):
        if "column" in point:
            column, row = point["column"], point["row"]
            if not -0.5 <= column <= source.columns - 0.5:
                raise PickError(
                    f"point {number}: column {column:g} is outside the image (0..{source.columns - 1})",
                    "points",
                )
            if not -0.5 <= row <= source.rows - 0.5:
                raise PickError(
                    f"point {number}: row {row:g} is outside the image (0..{source.rows - 1})", "points"
                )
            azimuths.append(float(core.column_azimuth(column, source.columns, image_azimuth_offset(image))))
            depths.append(axis.depth(row))
        else:
            azimuths.append(float(core.wrap_azimuth(point["azimuth"])))
            depths.append(point["depth"])
            if not top <= point["depth"] <= bottom:
                raise PickError(
                    f"point {number}: depth {point['depth']:g} is outside the image "
                    f"({axis.depth_min:g}..{axis.depth_max:g} {image.depth_unit})",
                    "points",
                )
    return np.array(azimuths), np.array(depths)


def pick_fit(*, image: Image, points: list[dict]) -> FitResult:
    """Fit a sinusoid to points on ``image``: its centre depth, amplitude, dip azimuth, dip and RMS.

    Args:
        image: a ready image.
        points: ``MIN_POINTS..MAX_POINTS`` dicts, each ``{"azimuth", "depth"}``
            (degrees, depth unit) or ``{"column", "row"}`` (pixels, may be fractional).

    Raises:
        PickError: too few or too many points, points outside the image, or
            points that do not determine a sinusoid (fewer than three distinct azimuths).
        tiles.services.ImageNotReadyError: the image is not ready.
    """
    if not MIN_POINTS <= len(points) <= MAX_POINTS:
        raise PickError(f"give {MIN_POINTS} to {MAX_POINTS} points; got {len(points)}", "points")
    azimuths, depths = _wall_points(image, points)
    try:
        fit = core.fit_sinusoid(azimuths, depths)
    except core.DegenerateFitError as exc:
        raise PickError(str(exc), "points") from None
    diameter = image_diameter(image)
    dip = core.dip_from_amplitude(fit.amplitude, diameter) if diameter else None
    return FitResult(fit=fit, dip=dip, diameter=diameter, azimuths=azimuths, depths=depths)


def _check_depth(image: Image, depth: float) -> None:
    """Refuse a pick's depth outside the image's span (half a step of slack at each end)."""
    axis = ImageSource.for_image(image).axis
    half = axis.depth_step / 2
    if not axis.depth_min - half <= depth <= axis.depth_max + half:
        span = f"{axis.depth_min:g}..{axis.depth_max:g} {image.depth_unit}"
        raise PickError(f"depth {depth:g} is outside the image ({span})", "depth")


def _resolve(image: Image, data: dict, pick: Pick | None) -> dict:
    """The columns a create (``pick`` None) or a change writes, from the request's fields.

    Points (three or more) are fitted, and then no geometry field may be given
    with them; geometry fields replace the pick's (dip or amplitude: the one
    given is kept, the other cleared) and drop its points and fit; an empty
    ``points`` list only drops them.
    """
    given = [name for name in GEOMETRY if name in data]
    columns = {name: data[name] for name in ("kind", "confidence", "comment") if name in data}
    points = data.get("points")
    if points:
        if given:
            raise PickError(f"give points (to fit) or {', '.join(given)}, not both", given[0])
        result = pick_fit(image=image, points=points)
        return columns | {
            "depth": result.fit.depth,
            "dip_azimuth": result.fit.dip_azimuth,
            "amplitude": result.fit.amplitude,
            "dip": None,
            "rms": result.fit.rms,
            "points": result.points,
        }
    if "dip" in data and "amplitude" in data:
        raise PickError("give dip or amplitude, not both (the other follows from the diameter)", "dip")
    if pick is None and "depth" not in data:
        raise PickError("a pick needs its depth, or points to fit", "depth")
    if "points" in data or given:
        columns |= {"points": [], "rms": None}
    if "depth" in data:
        _check_depth(image, data["depth"])
        columns["depth"] = data["depth"]
    if "dip_azimuth" in data or pick is None:
        columns["dip_azimuth"] = float(core.wrap_azimuth(data.get("dip_azimuth", 0.0)))
    if "dip" in data:
        columns |= {"dip": data["dip"], "amplitude": None}
    elif "amplitude" in data:
        columns |= {"amplitude": data["amplitude"], "dip": None}
    elif pick is None:
        columns |= {"dip": 0.0, "amplitude": None}
    return columns


def pick_create(*, image: Image, author, data: dict) -> Pick:
    """Create a pick on ``image`` from validated request fields (points fitted on save).

    Args:
        image: a ready image the author may manage.
        author: the requesting user.
        data: any of ``depth``, ``dip``, ``dip_azimuth``, ``amplitude``, ``kind``,
            ``confidence``, ``comment``, ``points`` (see :func:`pick_fit`).

    Raises:
        PickError: conflicting or missing fields, bad points, or the image
            already holds :data:`MAX_PICKS_PER_IMAGE` picks.
    """
    columns = _resolve(image, data, None)
    columns.setdefault("kind", DEFAULT_KIND)
    with transaction.atomic():
        # The image's row is the lock: two requests cannot both take the last place.
        Image.objects.select_for_update().filter(pk=image.pk).exists()
        if Pick.objects.filter(image=image).count() >= MAX_PICKS_PER_IMAGE:
            raise PickError(f"the image already has {MAX_PICKS_PER_IMAGE:,} picks, the most allowed")
        return Pick.objects.create(image=image, author=author if author.is_authenticated else None, **columns)


def pick_update(*, pick: Pick, data: dict) -> Pick:
    """Change a pick: new points are fitted; a geometry field given by hand drops its points.

    Only the changed columns are written (and ``updated``).

    Raises:
        PickError: see :func:`pick_create`.
    """
    columns = _resolve(pick.image, data, pick)
    for name, value in columns.items():
        setattr(pick, name, value)
    if columns:
        pick.save(update_fields=[*columns, "updated"])
    return pick


def pick_delete(*, pick: Pick) -> None:
    """Delete a pick."""
    pick.delete()


def survey_replace(
    *, well: Well, author, md: np.ndarray, inclination: np.ndarray, azimuth: np.ndarray
) -> Survey:
    """Give ``well`` this survey, replacing any it had, in one transaction.

    Args:
        well: the well.
        author: the requesting user.
        md: ``(k,)`` measured depths, increasing, in the well's depth unit.
        inclination: ``(k,)`` degrees 0..180.
        azimuth: ``(k,)`` degrees [0, 360).

    Raises:
        picks.core.SurveyError: fewer than two stations, values out of range, depths not increasing.
        PickError: more than :data:`MAX_SURVEY_STATIONS` stations.
    """
    core.survey_check(md, inclination, azimuth)
    if len(md) > MAX_SURVEY_STATIONS:
        raise PickError(f"more than {MAX_SURVEY_STATIONS:,} stations", "file")
    with transaction.atomic():
        Survey.objects.filter(well=well).delete()
        survey = Survey.objects.create(well=well, author=author if author.is_authenticated else None)
        SurveyStation.objects.bulk_create(
            SurveyStation(survey=survey, md=float(m), inclination=float(i), azimuth=float(a))
            for m, i, a in zip(md, inclination, azimuth, strict=True)
        )
    return survey
