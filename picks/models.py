"""Picks (planes picked on an image as sinusoids) and a well's deviation survey.

The math is :mod:`picks.core`; the convention (depth of a plane on the wall,
column azimuths, true dip) is written there and in the README's "Picks".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Confidence(models.TextChoices):
    """How sure the interpreter is of a pick."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Pick(models.Model):
    """A planar feature picked on an image: the sinusoid it makes on the wall.

    A pick is given either by its dip or by its amplitude (exactly one of the two
    columns is stored; the other is computed when read from the image's borehole
    diameter, :func:`picks.selectors.pick_geometries`), so a diameter set after the
    picking changes the dips read, not the sinusoids drawn. A pick fitted from
    ``points`` stores the amplitude and the fit's ``rms``.

    Attributes:
        depth: ``d0``, the depth of the sinusoid's centre line (the image's depth unit).
        dip_azimuth: azimuth of the deepest point, degrees ``[0, 360)`` clockwise
            from the image's azimuth 0.
        amplitude: half the trough-to-peak height (depth unit), or None (given by dip).
        dip: degrees 0..90, or None (given by amplitude).
        points: the points it was fitted from, ``[{"azimuth": deg, "depth": d}, ...]`` ([] if none).
        rms: the fit's RMS residual (depth unit), None when not fitted.
    """

    Confidence = Confidence

    image = models.ForeignKey("ingest.Image", on_delete=models.CASCADE, related_name="picks")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="picks",
        help_text="who picked it (null: the account was deleted)",
    )
    depth = models.FloatField(help_text="depth of the sinusoid's centre line (the image's depth unit)")
    dip_azimuth = models.FloatField(help_text="degrees [0, 360) clockwise from the image's azimuth 0")
    amplitude = models.FloatField(null=True, blank=True, help_text="half trough-to-peak (depth unit)")
    dip = models.FloatField(null=True, blank=True, help_text="degrees 0..90 (given by dip)")
    kind = models.CharField(max_length=32, help_text="one of settings.PICK_KINDS")
    confidence = models.CharField(max_length=8, choices=Confidence.choices, default=Confidence.MEDIUM)
    comment = models.TextField(blank=True)
    points = models.JSONField(default=list, blank=True)
    rms = models.FloatField(null=True, blank=True, help_text="RMS residual of the fit (depth unit)")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["image", "depth", "id"]
        indexes = [models.Index(fields=["image", "depth"], name="pick_image_depth")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amplitude__isnull=True) | models.Q(dip__isnull=True),
                name="pick_given_by_dip_or_amplitude",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.depth:g} on image {self.image_id}"


class Survey(models.Model):
    """A well's deviation survey: stations of measured depth, inclination and azimuth.

    One per well; a new upload replaces it whole. Measured depths are in the
    well's depth unit.
    """

    well = models.OneToOneField("ingest.Well", on_delete=models.CASCADE, related_name="survey")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"survey of well {self.well_id}"


class SurveyStation(models.Model):
    """One station of a survey: the hole's direction at a measured depth."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="stations")
    md = models.FloatField(help_text="measured depth (the well's depth unit)")
    inclination = models.FloatField(help_text="degrees from vertical, 0..180")
    azimuth = models.FloatField(help_text="degrees clockwise from north, [0, 360)")

    class Meta:
        ordering = ["survey", "md"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "md"], name="survey_station_one_per_md"),
        ]

    def __str__(self) -> str:
        return f"station at {self.md:g} of survey {self.survey_id}"
