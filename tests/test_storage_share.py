"""The ingest job shares a stored pyramid's structure with every web process (issue 16).

Once an image's pyramid is in the bucket and its success committed, ``ingest``
sends :data:`ingest.signals.pyramid_stored`; ``tiles`` answers by putting the TIFF
structure in the shared tiles cache, so a web process that never opened the
pyramid answers its first tile with one ranged GET. moto in server mode, as in
tests/test_storage_ranges.py; requests are counted by the storage's own counter.
"""

from __future__ import annotations

import lasio
import numpy as np
import pytest
from django.core.cache import caches
from django.dispatch import receiver

from ingest import storage
from ingest.models import Image, Well
from ingest.signals import pyramid_stored
from tests import test_ingest_storage
from tiles import services
from tiles.source import forget_all

s3_endpoint = test_ingest_storage.s3_endpoint
s3 = test_ingest_storage.s3


def _requests() -> int:
    return storage.range_stats["requests"]


def _ingest(path, name: str) -> Image:
    from ingest.services import image_create_from_path, image_ingest

    image, _ = image_create_from_path(path=path, name=name, queue=False)
    image = image_ingest(image_id=image.pk)
    assert image.status == Image.Status.SUCCEEDED, image.error
    return image


@pytest.mark.django_db(transaction=True)
def test_storage_share_an_ingested_pyramid_s_first_tile_is_one_ranged_get(client, s3, sample_csv):
    caches["tiles"].clear()
    image = _ingest(sample_csv, "shared")
    assert caches["tiles"].get(services.structure_key(image.file.name)) is not None
    forget_all()  # a web process that never opened the pyramid; the tiles cache is shared
    before = _requests()
    response = client.get(f"/api/v1/images/{image.pk}/tiles/5/0/7.png")
    assert response.status_code == 200
    assert _requests() - before == 1  # the tile's bytes; no structure read


@pytest.mark.django_db(transaction=True)
def test_storage_share_a_well_s_images_are_shared_at_its_success(client, s3, tmp_path):
    from ingest.wells import well_create, well_ingest

    caches["tiles"].clear()
    depth = 2000 + np.arange(300) * 0.1
    las = lasio.LASFile()
    las.append_curve("DEPT", depth, unit="M")
    for k in range(8):
        las.append_curve(f"PAD{k + 1}", np.sin(depth + k), unit="mS")
    las.append_curve("GR", np.linspace(10, 100, depth.size), unit="gAPI")
    path = tmp_path / "shared.las"
    las.write(str(path), version=2.0)
    with open(path, "rb") as stream:
        well, _ = well_create(stream=stream, name="shared well", owner=None, queue=False)
    well = well_ingest(well_id=well.pk)
    assert well is not None and well.status == Well.Status.SUCCEEDED, well and well.error
    names = list(Image.objects.filter(well=well).values_list("file", flat=True))
    assert len(names) == 1
    assert caches["tiles"].get(services.structure_key(names[0])) is not None


@pytest.mark.django_db(transaction=True)
def test_storage_share_a_failing_receiver_does_not_fail_the_job(s3, sample_csv):
    calls = []

    @receiver(pyramid_stored, dispatch_uid="tests.failing")
    def failing(sender, image_id, name, **kwargs):
        calls.append(name)
        raise RuntimeError("a receiver that fails")

    try:
        image = _ingest(sample_csv, "still fine")
    finally:
        pyramid_stored.disconnect(dispatch_uid="tests.failing")
    assert calls == [image.file.name]
    assert Image.objects.get(pk=image.pk).status == Image.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_storage_share_nothing_is_shared_from_the_local_disk(sample_csv):
    caches["tiles"].clear()
    image = _ingest(sample_csv, "local")
    assert caches["tiles"].get(services.structure_key(image.file.name)) is None
