"""``python manage.py ingest PATH [--owner USERNAME]``: ingest a local CSV, with a progress bar."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from tqdm import tqdm

from ingest.axis import ON_DUPLICATE
from ingest.jobs import JobLeaseHeld
from ingest.models import Image
from ingest.pipeline import IngestOptions
from ingest.reader import CsvFormatError
from ingest.services import QuotaExceededError, TooManyJobsError, image_create_from_path, image_ingest


class Command(BaseCommand):
    """``ingest PATH``: ingest a local CSV, with a progress bar."""

    help = "Ingest a depth-indexed CSV into a pyramidal TIFF (skips a file already ingested)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--name", default=None)
        parser.add_argument(
            "--owner", default=None, help="the image's owner (username; created if missing); default none"
        )
        parser.add_argument("--depth-unit", choices=[u.value for u in Image.DepthUnit], default="m")
        parser.add_argument("--force", action="store_true", help="ingest again even if already ingested")
        parser.add_argument("--base-url", default=None, help="print the viewer URL under this address")
        parser.add_argument("--on-duplicate", choices=ON_DUPLICATE, default="error")
        parser.add_argument("--resample", action="store_true", help="snap irregular depths to a grid")
        parser.add_argument("--target-width", type=int, default=None, help="columns after resampling")

    def handle(
        self,
        *args,
        path: Path,
        name,
        owner,
        depth_unit,
        force,
        base_url,
        on_duplicate,
        resample,
        target_width,
        **_,
    ):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        user = None
        if owner:
            user, created = get_user_model().objects.get_or_create(username=owner)
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
        try:
            image, created = image_create_from_path(
                path=path,
                name=name,
                owner=user,
                depth_unit=depth_unit,
                force=force,
                queue=False,
                options=IngestOptions(
                    on_duplicate=on_duplicate, resample=resample, target_width=target_width
                ),
            )
        except (CsvFormatError, QuotaExceededError, TooManyJobsError) as exc:
            raise CommandError(f"{path}: {exc}") from None
        if not created and image.status not in (Image.Status.PENDING, Image.Status.RUNNING):
            self.stdout.write(f"{path} is already ingested as image {image.pk} ({image.status})")
            self._print_viewer(image, base_url)
            return
        # A new image, or one whose run was cut short (Ctrl-C): run it here. A job a worker
        # still runs under a live lease is left to it (image_ingest's claim is conditional).
        with tqdm(total=100, unit="%", desc=f"image {image.pk}", disable=None) as bar:

            def advance(fraction: float) -> None:
                bar.update(round(fraction * 100) - bar.n)

            try:
                ingested = image_ingest(image_id=image.pk, on_progress=advance)
            except JobLeaseHeld:
                raise CommandError(f"image {image.pk} is being ingested by a worker") from None
        if ingested is None:
            raise CommandError(f"image {image.pk} was deleted while it was ingested")
        image = ingested
        if image.status != Image.Status.SUCCEEDED:
            raise CommandError(f"image {image.pk} failed: {image.error}")
        self.stdout.write(
            f"image {image.pk}: {image.rows} x {image.columns} pixels, depth "
            f"{image.depth_min:g}..{image.depth_max:g} {image.depth_unit}, {image.levels} levels"
        )
        self._print_viewer(image, base_url)

    def _print_viewer(self, image: Image, base_url: str | None) -> None:
        if base_url:
            base = base_url.rstrip("/")
            self.stdout.write(self.style.SUCCESS(f"Viewer: {base}{reverse('image-viewer', args=[image.pk])}"))
            self.stdout.write(f"Images: {base}/    API: {base}{reverse('image-detail', args=[image.pk])}")
