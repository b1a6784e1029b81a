"""``python manage.py ingest_well PATH [--owner USERNAME]``: ingest a local LAS, DLIS or CSV as a well."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ingest.axis import ON_DUPLICATE
from ingest.jobs import JobLeaseHeld
from ingest.models import Well
from ingest.pipeline import IngestOptions
from ingest.reader import CsvFormatError
from ingest.services import QuotaExceededError, TooManyJobsError
from ingest.welllog import WellLogError
from ingest.wells import well_create, well_ingest


class Command(BaseCommand):
    """``ingest_well PATH``: a well from a local file (format from its content), with a progress bar."""

    help = "Ingest a well log (LAS 2.0, DLIS or CSV): its images and curves (skips a file already ingested)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--name", default=None)
        parser.add_argument("--owner", default=None, help="the well's owner (username; created if missing)")
        parser.add_argument(
            "--depth-unit", choices=[u.value for u in Well.DepthUnit], default="m", help="a CSV's"
        )
        parser.add_argument("--force", action="store_true", help="ingest again even if already ingested")
        parser.add_argument("--on-duplicate", choices=ON_DUPLICATE, default="error")
        parser.add_argument("--resample", action="store_true", help="snap irregular depths to a grid")

    def handle(self, *args, path: Path, name, owner, depth_unit, force, on_duplicate, resample, **_):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        user = None
        if owner:
            user, created = get_user_model().objects.get_or_create(username=owner)
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
        try:
            with open(path, "rb") as stream:
                well, created = well_create(
                    stream=stream,
                    name=name or path.stem,
                    owner=user,
                    depth_unit=depth_unit,
                    force=force,
                    queue=False,
                    options=IngestOptions(on_duplicate=on_duplicate, resample=resample),
                )
        except (WellLogError, CsvFormatError, QuotaExceededError, TooManyJobsError) as exc:
            raise CommandError(f"{path}: {exc}") from None
        if not created and well.status not in (Well.Status.PENDING, Well.Status.RUNNING):
            self.stdout.write(f"{path} is already ingested as well {well.pk} ({well.status})")
            return
        with tqdm(total=100, unit="%", desc=f"well {well.pk}", disable=None) as bar:

            def advance(fraction: float) -> None:
                bar.update(round(fraction * 100) - bar.n)

            try:
                done = well_ingest(well_id=well.pk, on_progress=advance)
            except JobLeaseHeld:
                raise CommandError(f"well {well.pk} is being ingested by a worker") from None
        if done is None:
            raise CommandError(f"well {well.pk} was deleted while it was ingested")
        if done.status != Well.Status.SUCCEEDED:
            raise CommandError(f"well {done.pk} failed: {done.error}")
        images = ", ".join(
            f"{image.name} ({image.rows} x {image.columns})" for image in done.images.order_by("id")
        )
        curves = ", ".join(curve.mnemonic for curve in done.curves.all())
        self.stdout.write(f"well {done.pk}: images {images or 'none'}; curves {curves or 'none'}")
