"""The image: one uploaded CSV, its ingestion job and the pyramid it became."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver


def public_default() -> bool:
    """A new image's ``public`` flag: ``DJANGO_PUBLIC_READ`` (settings.PUBLIC_READ)."""
    return bool(settings.PUBLIC_READ)


class Image(models.Model):
    """A depth-indexed image and the job that ingests it.

    The pyramid (``file``) exists only once ``status`` is ``succeeded``; it is
    moved into place whole, so a row never points at a half-written file.
    Row 0 of the image is the shallowest scanline; row ``r`` stands for the depth
    ``depth_min + r * depth_step`` in ``depth_unit``.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class DepthUnit(models.TextChoices):
        METRE = "m"
        FOOT = "ft"

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

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    error_line = models.PositiveIntegerField(null=True, blank=True)
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

    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="times a worker started the job (a job killing its worker ends failed)"
    )
    lease_expires = models.DateTimeField(
        null=True, blank=True, help_text="a running job's lease, renewed while it runs; lapsed: resumed"
    )

    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

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
            models.Index(fields=["owner", "-created"], name="image_owner_created"),
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
    def duration(self) -> float | None:
        """Seconds the job ran, or None while it has not finished."""
        if self.started and self.finished:
            return (self.finished - self.started).total_seconds()
        return None


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
