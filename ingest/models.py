"""The image (one uploaded CSV, its ingestion job and the pyramid it became), the well and its curves.

A well groups what was logged in one borehole: one uploaded file (LAS 2.0, DLIS
or CSV), its header facts, the images its job made (``Image.well``) and its
curves (:class:`Curve`). Image and well share the job's columns
(:class:`JobFields`: status, progress, error, attempts, lease; :mod:`ingest.jobs`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver


def public_default() -> bool:
    """A new image's ``public`` flag: ``DJANGO_PUBLIC_READ`` (settings.PUBLIC_READ)."""
    return bool(settings.PUBLIC_READ)


class JobStatus(models.TextChoices):
    """The status of an ingestion job (an image's, a well's)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DepthUnit(models.TextChoices):
    """The unit of depths: metres or feet."""

    METRE = "m"
    FOOT = "ft"


class JobFields(models.Model):
    """The columns of an ingestion job on its row, shared by :class:`Image` and :class:`Well`.

    Every change of them is a conditional update of :mod:`ingest.jobs`.
    """

    Status = JobStatus

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    error_line = models.PositiveIntegerField(null=True, blank=True)

    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="times a worker started the job (a job killing its worker ends failed)"
    )
    lease_expires = models.DateTimeField(
        null=True, blank=True, help_text="a running job's lease, renewed while it runs; lapsed: resumed"
    )

    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    objects = models.Manager()

    #: The columns that say where the error is besides ``error_line`` (cleared by a new attempt).
    ERROR_WHERE: dict[str, str] = {}

    class Meta:
        abstract = True

    @property
    def duration(self) -> float | None:
        """Seconds the job ran, or None while it has not finished."""
        if self.started and self.finished:
            return (self.finished - self.started).total_seconds()
        return None


class Image(JobFields):
    """A depth-indexed image and the job that ingests it.

    The pyramid (``file``) exists only once ``status`` is ``succeeded``; it is
    moved into place whole, so a row never points at a half-written file.
    Row 0 of the image is the shallowest scanline; row ``r`` stands for the depth
    ``depth_min + r * depth_step`` in ``depth_unit``.
    """

    DepthUnit = DepthUnit
    ERROR_WHERE = {"error_column": ""}

    name = models.CharField(max_length=255)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="images",
        help_text="the uploader; null only for anonymous classic uploads",
    )
    public = models.BooleanField(
        default=public_default, help_text="readable by anyone; else only by its owner and staff"
    )
    dedupe_key = models.CharField(  # noqa: DJ001 - NULL (not deduped) is outside the unique constraint
        max_length=64,
        null=True,
        blank=True,
        help_text="sha256 of bytes and options: one image per owner and key (null: not deduped)",
    )
    source = models.FileField(upload_to="uploads/", max_length=255)
    source_size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    file = models.FileField(upload_to="images/", max_length=255, blank=True)

    error_column = models.CharField(max_length=64, blank=True)

    depth_unit = models.CharField(max_length=4, choices=DepthUnit.choices, default=DepthUnit.METRE)
    depth_min = models.FloatField(null=True, blank=True)
    depth_max = models.FloatField(null=True, blank=True)
    depth_step = models.FloatField(null=True, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True)
    columns = models.PositiveIntegerField(null=True, blank=True)
    levels = models.PositiveSmallIntegerField(null=True, blank=True)
    dtype = models.CharField(
        max_length=8, blank=True, help_text="uint8 (integers 0..255, with alpha) or float32 (NaN nodata)"
    )

    value_min = models.FloatField(null=True, blank=True, help_text="smallest stored value")
    value_max = models.FloatField(null=True, blank=True, help_text="largest stored value")
    value_p2 = models.FloatField(null=True, blank=True, help_text="2nd percentile of the values")
    value_p98 = models.FloatField(null=True, blank=True, help_text="98th percentile of the values")

    rows_read = models.PositiveIntegerField(default=0)
    rows_dropped = models.PositiveIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)

    webhook_url = models.URLField(max_length=1000, blank=True)
    options = models.JSONField(
        default=dict, blank=True, help_text="input policy: on_duplicate, resample, target_width"
    )

    well = models.ForeignKey(
        "Well",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="images",
        help_text="the well this image belongs to (null: a lone image)",
    )
    value_unit = models.CharField(
        max_length=64, blank=True, help_text="the unit of the values, e.g. g/cc or gAPI ('' unknown)"
    )
    azimuth_offset = models.FloatField(
        default=0.0,
        help_text="degrees clockwise added to every column's azimuth (north-oriented images)",
    )
    borehole_diameter = models.FloatField(
        null=True,
        blank=True,
        help_text="borehole diameter in the depth unit, for dips (null: unknown)",
    )

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "dedupe_key"],
                condition=models.Q(dedupe_key__isnull=False),
                name="image_one_per_owner_and_content",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "lease_expires"], name="image_status_lease"),
            # The lists (ingest.selectors.image_list): newest first, all of them, the public
            # ones (anonymous), an owner's. A name filter has a trigram index (0005, PostgreSQL).
            models.Index(fields=["-created", "-id"], name="image_created"),
            models.Index(
                fields=["-created", "-id"], name="image_public_created", condition=models.Q(public=True)
            ),
            models.Index(fields=["owner", "-created", "-id"], name="image_owner_created_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk}, {self.status})"

    @property
    def is_ready(self) -> bool:
        """True when the pyramid can be served."""
        return self.status == self.Status.SUCCEEDED and bool(self.file)

    @property
    def pyramid_name(self) -> str:
        """The storage name a successful job gives the pyramid: ``images/<id>-<sha256[:16]>.tiff``."""
        return f"images/{self.pk}-{self.sha256[:16]}.tiff"

    @property
    def made_by_well_job(self) -> bool:
        """True for an image its well's job makes (no upload of its own: no ``source``)."""
        return self.well_id is not None and not self.source


class WebhookDelivery(models.Model):
    """One attempt to tell ``image.webhook_url`` that the job ended, and its answer."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="webhook_deliveries")
    attempt = models.PositiveSmallIntegerField()
    url = models.URLField(max_length=1000)
    event_status = models.CharField(max_length=16, help_text="the image status announced")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration = models.FloatField(help_text="seconds")
    delivered = models.BooleanField(default=False, help_text="answered 2xx")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["image", "attempt"]

    def __str__(self) -> str:
        return f"webhook of image {self.image_id}, attempt {self.attempt}"


@receiver(post_delete, sender=Image)
def _image_delete_files(sender, instance: Image, **kwargs) -> None:
    """A deleted image takes its pyramid and its CSV with it (files, objects, cached copies).

    Deferred to the commit, so a rolled-back delete keeps them. The pyramid's
    name is also derived (:attr:`Image.pyramid_name`), so a job that stored it
    after this row was loaded leaves nothing either (the job itself removes a
    pyramid it stores after the commit: ``ingest.services.image_ingest``).
    """
    from ingest.storage import storage_delete

    names = {field.name for field in (instance.file, instance.source) if field}
    if instance.sha256:
        names.add(instance.pyramid_name)

    def delete_files() -> None:
        for name in names:
            storage_delete(name)

    transaction.on_commit(delete_files)


class Well(JobFields):
    """One borehole: an uploaded well log (LAS 2.0, DLIS or CSV), its job, its images and curves.

    The header facts are those the file gives (``""``/None where it gives none).
    The job (:func:`ingest.wells.well_ingest`) makes the well's images (each an
    :class:`Image` with ``well`` set and no ``source`` of its own) and its
    curves; a failed job leaves none. Depths are in ``depth_unit``.
    """

    class Format(models.TextChoices):
        LAS = "las"
        DLIS = "dlis"
        CSV = "csv"

    DepthUnit = DepthUnit
    ERROR_WHERE = {"error_where": ""}

    name = models.CharField(max_length=255)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="wells",
        help_text="the uploader",
    )
    public = models.BooleanField(
        default=public_default, help_text="readable by anyone; else only by its owner and staff"
    )
    dedupe_key = models.CharField(  # noqa: DJ001 - NULL (not deduped) is outside the unique constraint
        max_length=64,
        null=True,
        blank=True,
        help_text="sha256 of bytes and options: one well per owner and key (null: no dedupe)",
    )
    source = models.FileField(upload_to="uploads/", max_length=255)
    source_size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    format = models.CharField(max_length=8, choices=Format.choices)
    options = models.JSONField(
        default=dict, blank=True, help_text="input policy of its images: on_duplicate, resample, target_width"
    )

    well_name = models.CharField(max_length=255, blank=True)
    uwi = models.CharField(max_length=255, blank=True, help_text="unique well identifier (UWI/API number)")
    field = models.CharField(max_length=255, blank=True)
    company = models.CharField(max_length=255, blank=True)
    depth_unit = models.CharField(max_length=4, choices=DepthUnit.choices, default=DepthUnit.METRE)
    start = models.FloatField(null=True, blank=True, help_text="first depth of the file (depth_unit)")
    stop = models.FloatField(null=True, blank=True, help_text="last depth of the file (depth_unit)")
    step = models.FloatField(null=True, blank=True, help_text="depth step of the file (0: irregular)")
    bit_size = models.FloatField(null=True, blank=True, help_text="bit size in inches")
    header = models.JSONField(default=dict, blank=True, help_text="every header item: mnemonic -> text")

    error_where = models.CharField(
        max_length=255, blank=True, help_text="where the error is: a curve, a logical record and channel"
    )

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "dedupe_key"],
                condition=models.Q(dedupe_key__isnull=False),
                name="well_one_per_owner_and_content",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "lease_expires"], name="well_status_lease"),
            models.Index(fields=["-created", "-id"], name="well_created"),
            models.Index(
                fields=["-created", "-id"], name="well_public_created", condition=models.Q(public=True)
            ),
            models.Index(fields=["owner", "-created", "-id"], name="well_owner_created_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (well #{self.pk}, {self.status})"


class Curve(models.Model):
    """A 1-D curve of a well (gamma ray, caliper...): depth and value, sorted by depth.

    ``file`` is a ``.npy`` of ``(2, samples) float64``: row 0 the depth (in the
    well's ``depth_unit``, increasing), row 1 the value in ``unit`` (NaN: nodata).
    """

    well = models.ForeignKey(Well, on_delete=models.CASCADE, related_name="curves")
    mnemonic = models.CharField(max_length=64)
    unit = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=255, blank=True)
    samples = models.PositiveIntegerField(default=0)
    depth_min = models.FloatField(null=True, blank=True)
    depth_max = models.FloatField(null=True, blank=True)
    value_min = models.FloatField(null=True, blank=True, help_text="smallest value (null: all nodata)")
    value_max = models.FloatField(null=True, blank=True)
    file = models.FileField(upload_to="curves/", max_length=255)

    class Meta:
        ordering = ["well", "id"]
        constraints = [
            models.UniqueConstraint(fields=["well", "mnemonic"], name="curve_one_per_well_and_mnemonic"),
        ]

    def __str__(self) -> str:
        return f"{self.mnemonic} of well {self.well_id}"


def _delete_at_commit(names: set[str]) -> None:
    from ingest.storage import storage_delete

    def delete_files() -> None:
        for name in names:
            storage_delete(name)

    transaction.on_commit(delete_files)


@receiver(post_delete, sender=Well)
def _well_delete_files(sender, instance: Well, **kwargs) -> None:
    """A deleted well takes its uploaded file with it, at the commit (its images and curves cascade)."""
    if instance.source:
        _delete_at_commit({instance.source.name})


@receiver(post_delete, sender=Curve)
def _curve_delete_files(sender, instance: Curve, **kwargs) -> None:
    """A deleted curve takes its ``.npy`` with it, at the commit."""
    if instance.file:
        _delete_at_commit({instance.file.name})
