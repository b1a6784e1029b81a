"""The workstation pages (/images/{id}/tracks, /wells/{id}): who sees them, and their configuration."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from ingest.models import Image
from tiles.core.pyramid import zoom_levels

pytestmark = pytest.mark.django_db


def ingest(path, name: str, *, owner=None, public: bool = True) -> Image:
    from ingest.services import image_create_from_path, image_ingest

    image, _ = image_create_from_path(path=path, name=name, owner=owner, queue=False, force=True)
    image = image_ingest(image_id=image.pk)
    assert image.status == "succeeded", image.error
    if not public:
        Image.objects.filter(pk=image.pk).update(public=False)
        image.refresh_from_db()
    return image


def logged_in(username: str) -> Client:
    user, _ = get_user_model().objects.get_or_create(username=username)
    client = Client()
    client.force_login(user)
    return client


def test_tiles_well_tracks_page_carries_the_image_track_config(anonymous_client, small_csv):
    image = ingest(small_csv, "small")
    response = anonymous_client.get(f"/images/{image.pk}/tracks")
    assert response.status_code == 200
    config = response.context["config"]
    assert config["default_tracks"] == ["depth", f"img:{image.pk}"]
    assert config["curves"] == []
    (track,) = config["images"]
    assert track["id"] == image.pk
    assert (track["rows"], track["columns"], track["depth_step"]) == (600, 16, 0.5)
    assert track["zooms"] == zoom_levels(16, 600, 256) == 3
    assert track["tile_url"] == f"/api/v1/images/{image.pk}/tiles"
    assert track["value_unit"] == ""
    assert (config["depth_min"], config["depth_max"], config["depth_unit"]) == (1000.0, 1299.5, "m")
    assert config["depth_decimals"] == 1
    html = response.content.decode()
    assert 'id="well-config"' in html and "tiles/well/main.js" in html
    assert "private" not in response.get("Cache-Control", "")
    # The tile URL the page builds answers.
    assert anonymous_client.get(track["tile_url"] + "/2/0/0.png").status_code == 200


def test_tiles_well_tracks_page_adds_only_images_the_user_may_see(small_csv, write_csv):
    alice = get_user_model().objects.create(username="alice")
    mine = ingest(small_csv, "mine", owner=alice)
    hidden = ingest(small_csv, "hidden", owner=alice, public=False)
    other = ingest(small_csv, "other")
    path = f"/images/{mine.pk}/tracks?t=depth,img:{mine.pk},img:{other.pk},img:{hidden.pk},img:999999"

    bob = logged_in("bob").get(path)
    assert [i["id"] for i in bob.context["config"]["images"]] == [mine.pk, other.pk]
    owner = logged_in("alice").get(path)
    assert [i["id"] for i in owner.context["config"]["images"]] == [mine.pk, other.pk, hidden.pk]
    assert "private" in owner["Cache-Control"]


def test_tiles_well_tracks_page_of_a_private_image_is_404_for_others(small_csv):
    alice = get_user_model().objects.create(username="alice")
    hidden = ingest(small_csv, "hidden", owner=alice, public=False)
    assert Client().get(f"/images/{hidden.pk}/tracks").status_code == 404
    assert logged_in("bob").get(f"/images/{hidden.pk}/tracks").status_code == 404
    response = logged_in("alice").get(f"/images/{hidden.pk}/tracks")
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]


def test_tiles_well_tracks_page_of_an_image_not_ready_says_so(anonymous_client, db):
    image = Image.objects.create(name="waiting", status=Image.Status.PENDING)
    response = anonymous_client.get(f"/images/{image.pk}/tracks")
    assert response.status_code == 200
    assert response.context["config"]["images"] == []
    assert "The image is not ready (pending)" in response.content.decode()


def test_tiles_well_pages_unknown_ids_are_404(anonymous_client, db):
    assert anonymous_client.get("/images/123456/tracks").status_code == 404
    assert anonymous_client.get("/wells/123456").status_code == 404


def test_tiles_well_default_tracks_put_curves_two_a_track():
    from tiles.views import well_default_tracks

    images = [Image(pk=4), Image(pk=5)]
    assert well_default_tracks(images, ["GR", "CALI", "ILD"]) == [
        "depth",
        "img:4",
        "img:5",
        "curve:GR|CALI",
        "curve:ILD",
    ]
    many = well_default_tracks(images, [f"C{k}" for k in range(20)])
    assert len(many) == 3 + 4 and many[-1] == "curve:C6|C7"


@pytest.fixture
def small_well(db, tmp_path):
    """A LAS 2.0 well (lasio): a 4-sector image in ft, GR and CALI; owned by alice, private."""
    import lasio
    import numpy as np

    from ingest.models import Well
    from ingest.wells import well_create, well_ingest

    alice = get_user_model().objects.create(username="alice")
    depth = 5000 + np.arange(50) * 0.5
    las = lasio.LASFile()
    las.append_curve("DEPT", depth, unit="F")
    for k in range(4):
        las.append_curve(f"PAD{k + 1}", np.full(50, k + 1.0), unit="mS")
    las.append_curve("GR", np.linspace(10, 100, 50), unit="gAPI")
    las.append_curve("CALI", np.full(50, 8.5), unit="in")
    path = tmp_path / "small.las"
    las.write(str(path), version=2.0)
    with open(path, "rb") as stream:
        well, _ = well_create(stream=stream, name="small well", owner=alice, queue=False, public=False)
    well = well_ingest(well_id=well.pk)
    assert well is not None and well.status == Well.Status.SUCCEEDED, well and well.error
    return well


def test_tiles_well_page_carries_images_and_curves(small_well):
    response = logged_in("alice").get(f"/wells/{small_well.pk}")
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    config = response.context["config"]
    (image,) = config["images"]
    assert (image["columns"], image["rows"], image["depth_unit"], image["value_unit"]) == (4, 50, "ft", "mS")
    assert [c["mnemonic"] for c in config["curves"]] == ["GR", "CALI"]
    assert config["curves"][0]["url"].endswith(f"/api/v1/wells/{small_well.pk}/curves/GR")
    assert config["default_tracks"] == ["depth", f"img:{image['id']}", "curve:GR|CALI"]
    assert (config["depth_min"], config["depth_max"], config["depth_unit"]) == (5000.0, 5024.5, "ft")


def test_tiles_well_page_of_a_private_well_is_404_for_others(small_well):
    assert Client().get(f"/wells/{small_well.pk}").status_code == 404
    assert logged_in("bob").get(f"/wells/{small_well.pk}").status_code == 404


def test_tiles_well_page_preloads_every_module_it_imports(anonymous_client, small_csv):
    from pathlib import Path

    from tiles.views import WORKSTATION_MODULES

    static = Path(__file__).resolve().parents[1] / "static"
    well_modules = {f"tiles/well/{p.name}" for p in (static / "tiles" / "well").glob("*.js")}
    assert well_modules <= set(WORKSTATION_MODULES)
    imported = set()
    for module in well_modules:
        for name in re.findall(r"from '\.\./viewer/([\w-]+\.js)'", (static / module).read_text()):
            imported.add(f"tiles/viewer/{name}")
    assert set(WORKSTATION_MODULES) == well_modules | imported
    image = ingest(small_csv, "small")
    html = anonymous_client.get(f"/images/{image.pk}/tracks").content.decode()
    for module in WORKSTATION_MODULES:
        assert f'<link rel="modulepreload" href="/static/{module}">' in html
