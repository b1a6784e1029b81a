"""``python manage.py ingest PATH``: ingest a CSV from the local disk, with a progress bar."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from tqdm import tqdm

from ingest.axis import ON_DUPLICATE
from ingest.models import Image
from ingest.pipeline import IngestOptions
from ingest.reader import CsvFormatError
from ingest.services import image_create_from_path, image_ingest


class Command(BaseCommand):
    help = "Ingest a depth-indexed CSV into a pyramidal TIFF (skips a file already ingested)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--name", default=None)
        parser.add_argument("--depth-unit", choices=[u.value for u in Image.DepthUnit], default="m")
        parser.add_argument("--force", action="store_true", help="ingest again even if already ingested")
        parser.add_argument("--base-url", default=None, help="print the viewer URL under this address")
        parser.add_argument("--on-duplicate", choices=ON_DUPLICATE, default="error")
        parser.add_argument("--resample", action="store_true", help="snap irregular depths to a grid")
        parser.add_argument("--target-width", type=int, default=None, help="columns after resampling")

    def handle(
        self, *args, path: Path, name, depth_unit, force, base_url, on_duplicate, resample, target_width, **_
    ):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            image, created = image_create_from_path(
                path=path,
                name=name,
                depth_unit=depth_unit,
                force=force,
                queue=False,
                options=IngestOptions(
                    on_duplicate=on_duplicate, resample=resample, target_width=target_width
                ),
            )
        except CsvFormatError as exc:
            raise CommandError(f"{path}: {exc}") from None
        if not created:
            self.stdout.write(f"{path} is already ingested as image {image.pk} ({image.status})")
            self._print_viewer(image, base_url)
            return
        with tqdm(total=100, unit="%", desc=f"image {image.pk}", disable=None) as bar:

            def advance(fraction: float) -> None:
                bar.update(round(fraction * 100) - bar.n)

            image = image_ingest(image_id=image.pk, on_progress=advance)
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
