"""DELETE and PATCH of an image: owner or staff; a delete leaves nothing anywhere, even mid-job."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from large_image.cache_util.cache import LruCacheMetaclass

from ingest import selectors
from ingest.models import Image
from ingest.services import image_create_from_path, image_ingest
from tests.conftest import media_files
from tests.test_ingest_storage import s3, s3_endpoint  # noqa: F401 - the bucket fixtures
from tiles import source
from tiles.core.pyramid import pyramid_open
from tiles.services import _open_source

pytestmark = pytest.mark.django_db(transaction=True)

STYLE = '{"bands":[{"band":1,"palette":"viridis"}]}'


def upload(client: Client, path, **fields) -> dict:
    with open(path, "rb") as f:
        response = client.post("/api/v1/images", {"file": f, **fields})
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "succeeded"
    return response.json()


def warm(image_id: int) -> list[str]:
    """Serve an image every way (fast lane, our pyramid, large_image), so every cache holds it."""
    base = f"/api/v1/images/{image_id}"
    urls = [
        f"{base}/tiles/0/0/0.png",
        f"{base}/tiles/0/0/0.png",  # second time: the fast lane, from the ready cache
        f"{base}/data/region.png?top=0&bottom=50",
        f"{base}/tiles/0/0/0.png?style={STYLE}",  # a large_image source
        f"{base}/info/metadata",  # django-large-image's own source
    ]
    for url in urls:
        assert Client().get(url).status_code == 200, url
    return urls


def large_image_keys(path: str) -> list:
    return [
        key for cache, _ in LruCacheMetaclass.namedCaches.values() for key in cache if repr(path) in str(key)
    ]


def test_delete_by_owner_removes_row_files_and_every_cache(people, small_csv, settings):
    body = upload(people.alice, small_csv)
    image = Image.objects.get(pk=body["id"])
    pyramid = str(Path(settings.MEDIA_ROOT) / image.file.name)
    urls = warm(image.pk)
    assert len(media_files(settings)) == 2  # the CSV and the pyramid
    assert image.pk in selectors._READY
    # large_image's routes and styles open our sources (over our reader), never its own by path
    assert large_image_keys(pyramid) == []
    assert (image.pk, image.sha256) in source._SOURCES  # the image's ImageSource
    assert pyramid_open.cache_info().currsize >= 1 and _open_source.cache_info().currsize >= 1
    rendered = len(caches["tiles"]._cache)
    assert rendered >= 3

    response = people.alice.delete(f"/api/v1/images/{image.pk}")
    assert response.status_code == 204 and response.content == b""

    assert not Image.objects.filter(pk=image.pk).exists()
    assert media_files(settings) == []
    assert image.pk not in selectors._READY
    assert not [key for key in source._SOURCES if key[0] == image.pk]
    assert pyramid_open.cache_info().currsize == 0 and _open_source.cache_info().currsize == 0
    assert large_image_keys(pyramid) == []
    for url in urls:  # 404 on every route, the fast lane included (the normal stack answers)
        answer = Client().get(url)
        assert answer.status_code == 404 and "Allow" in answer.headers
    assert people.alice.get(f"/api/v1/images/{image.pk}").status_code == 404
    assert people.alice.delete(f"/api/v1/images/{image.pk}").status_code == 404  # second delete


def test_deleted_image_is_404_before_any_rendered_output_is_looked_up(people, small_csv, monkeypatch):
    body = upload(people.alice, small_csv)
    url = f"/api/v1/images/{body['id']}/tiles/0/0/0.png"
    assert Client().get(url).status_code == 200
    assert Client().get(url).status_code == 200  # cached: rendered output and ready row
    assert people.alice.delete(f"/api/v1/images/{body['id']}").status_code == 204

    def no_lookup(key, produce):
        raise AssertionError(f"a deleted image's output was looked up: {key}")

    monkeypatch.setattr("tiles.rest.viewsets.cached_render", no_lookup)
    assert Client().get(url).status_code == 404
    assert people.staff.get(url).status_code == 404


def test_delete_needs_owner_or_staff(people, small_csv, write_csv, settings):
    shared = upload(people.alice, small_csv)
    hidden = upload(people.alice, write_csv(["depth,col1", "1,2", "2,3"]), public="false")
    # bob sees the public image: 403; the private one does not exist for him: 404.
    forbidden = people.bob.delete(f"/api/v1/images/{shared['id']}")
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "permission_denied"
    assert people.bob.delete(f"/api/v1/images/{hidden['id']}").status_code == 404
    assert people.anonymous.delete(f"/api/v1/images/{shared['id']}").status_code == 401
    assert Image.objects.count() == 2 and len(media_files(settings)) == 4
    # Staff may delete anyone's image.
    assert people.staff.delete(f"/api/v1/images/{hidden['id']}").status_code == 204
    assert people.staff.delete(f"/api/v1/images/{shared['id']}").status_code == 204
    assert Image.objects.count() == 0 and media_files(settings) == []


def test_delete_of_a_running_job_leaves_nothing(people, small_csv, settings):
    alice = get_user_model().objects.get(username="alice")
    image, _ = image_create_from_path(path=small_csv, owner=alice, queue=False)
    answers = []

    def delete_midway(fraction: float) -> None:
        if not answers:
            answers.append(people.alice.delete(f"/api/v1/images/{image.pk}"))

    assert image_ingest(image_id=image.pk, on_progress=delete_midway) is None  # the job ends quietly
    assert [answer.status_code for answer in answers] == [204]
    assert not Image.objects.filter(pk=image.pk).exists()
    assert media_files(settings) == []  # no CSV, no pyramid, no partial
    scratch = Path(settings.DATA_DIR) / "scratch"
    assert not scratch.exists() or list(scratch.iterdir()) == []


def test_delete_removes_bucket_objects_and_the_cached_structure(people, small_csv, s3, settings):  # noqa: F811
    from django.core.cache import caches

    from tiles.services import structure_key

    body = upload(people.alice, small_csv)
    image = Image.objects.get(pk=body["id"])
    assert sorted(s3.keys()) == sorted([image.file.name, image.source.name])
    assert Client().get(f"/api/v1/images/{image.pk}/data/region.png?top=0&bottom=50").status_code == 200
    assert not (Path(settings.DATA_DIR) / "cache" / image.file.name).exists()  # ranged reads: no copy
    assert caches["tiles"].get(structure_key(image.file.name)) is not None  # the parsed TIFF structure

    assert people.alice.delete(f"/api/v1/images/{image.pk}").status_code == 204
    assert s3.keys() == []
    assert caches["tiles"].get(structure_key(image.file.name)) is None
    assert Client().get(f"/api/v1/images/{image.pk}/tiles/0/0/0.png").status_code == 404


def test_patch_changes_name_and_public_for_owner_and_staff(people, small_csv):
    body = upload(people.alice, small_csv, name="before")
    url = f"/api/v1/images/{body['id']}"
    renamed = people.alice.patch(url, {"name": "well-A"}, content_type="application/json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "well-A"
    hidden = people.alice.patch(url, {"public": False}, content_type="application/json")
    assert hidden.status_code == 200 and hidden.json()["public"] is False
    assert hidden["Cache-Control"] == "private, no-cache"
    assert people.bob.get(url).status_code == 404
    assert people.bob.patch(url, {"public": True}, content_type="application/json").status_code == 404
    shown = people.staff.patch(url, {"public": True, "name": "well-B"}, content_type="application/json")
    assert shown.status_code == 200 and shown.json()["public"] is True
    assert people.bob.get(url).json()["name"] == "well-B"
    image = Image.objects.get(pk=body["id"])
    assert (image.name, image.public, image.owner.username) == ("well-B", True, "alice")


def test_patch_writes_only_name_and_public_over_a_job_that_ended_meanwhile(people, small_csv, monkeypatch):
    body = upload(people.alice, small_csv, name="before")
    url = f"/api/v1/images/{body['id']}"
    done = Image.objects.get(pk=body["id"])
    assert done.status == "succeeded" and done.file
    # The PATCH reads the row while the job still runs; the job ends before the PATCH writes.
    stale = Image.objects.get(pk=body["id"])
    stale.status, stale.file, stale.progress, stale.attempts = "running", "", 0.5, 1
    monkeypatch.setattr("ingest.rest.viewsets.ImageViewSet.get_object", lambda self: stale)
    renamed = people.alice.patch(url, {"name": "well-A"}, content_type="application/json")
    assert renamed.status_code == 200
    after = Image.objects.get(pk=body["id"])
    assert (after.name, after.status, after.file.name, after.progress) == (
        "well-A",
        "succeeded",
        done.file.name,
        1.0,
    )


def test_patch_by_others_is_refused(people, small_csv):
    body = upload(people.alice, small_csv)
    url = f"/api/v1/images/{body['id']}"
    assert people.bob.patch(url, {"name": "mine"}, content_type="application/json").status_code == 403
    assert people.anonymous.patch(url, {"name": "mine"}, content_type="application/json").status_code == 401
    assert people.alice.put(url, {"name": "x"}, content_type="application/json").status_code == 405
    assert Image.objects.get(pk=body["id"]).name == body["name"]


@pytest.mark.parametrize("field", ["status", "owner", "depth_min", "webhook_url", "sha256", "file"])
def test_patch_of_another_field_is_400_naming_it(people, small_csv, field):
    body = upload(people.alice, small_csv)
    response = people.alice.patch(
        f"/api/v1/images/{body['id']}", {"name": "ok", field: "x"}, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter" and field in error["fields"]
    assert Image.objects.get(pk=body["id"]).name == body["name"]  # nothing changed


def test_patch_validates_name_and_public(people, small_csv):
    body = upload(people.alice, small_csv)
    url = f"/api/v1/images/{body['id']}"
    assert (
        "name"
        in people.alice.patch(url, {"name": ""}, content_type="application/json").json()["error"]["fields"]
    )
    bad = people.alice.patch(url, {"public": "maybe"}, content_type="application/json")
    assert bad.status_code == 400 and "public" in bad.json()["error"]["fields"]


def test_another_process_stops_serving_a_deleted_or_hidden_image_within_the_bound(
    people, small_csv, monkeypatch
):
    """A change made by another process: this one's cached ready row lives READY_CACHE_SECONDS at most."""
    body = upload(people.alice, small_csv)
    url = f"/api/v1/images/{body['id']}/tiles/0/0/0.png"
    assert Client().get(url).status_code == 200
    lane = Client().get(url)
    assert lane.status_code == 200 and "Allow" not in lane.headers  # the fast lane, from the cached row
    # Another process makes it private: no signal reaches this one.
    Image.objects.filter(pk=body["id"]).update(public=False)
    now = selectors.time.monotonic()
    monkeypatch.setattr(selectors.time, "monotonic", lambda: now + selectors.READY_CACHE_SECONDS / 2)
    assert Client().get(url).status_code == 200  # within the bound: still served
    monkeypatch.setattr(selectors.time, "monotonic", lambda: now + selectors.READY_CACHE_SECONDS + 0.01)
    assert Client().get(url).status_code == 404  # after it: the row is read again
    assert selectors.READY_CACHE_SECONDS <= 2.0


def test_another_process_deleting_the_pyramid_is_noticed_at_once(people, small_csv, settings):
    body = upload(people.alice, small_csv)
    url = f"/api/v1/images/{body['id']}/tiles/0/0/0.png"
    assert Client().get(url).status_code == 200 and Client().get(url).status_code == 200
    # Another process deletes the image: the row and, at its commit, the files (no signal here).
    image = Image.objects.get(pk=body["id"])
    Image.objects.filter(pk=image.pk)._raw_delete(Image.objects.db)
    (Path(settings.MEDIA_ROOT) / image.file.name).unlink()
    assert image.pk in selectors._READY
    answer = Client().get(url)
    assert answer.status_code == 404 and "Allow" in answer.headers


def test_upload_whose_image_is_deleted_during_its_in_process_job_is_404_and_leaves_nothing(
    people, small_csv, settings, monkeypatch
):
    from ingest import services

    real = services.csv_to_pyramid

    def delete_then_write(source, destination, **kwargs):
        image = Image.objects.get()
        services.image_delete(image=image)  # another request deletes it while the job runs
        return real(source, destination, **kwargs)

    monkeypatch.setattr(services, "csv_to_pyramid", delete_then_write)
    with open(small_csv, "rb") as f:
        response = people.alice.post("/api/v1/images", {"file": f})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert Image.objects.count() == 0 and media_files(settings) == []


def test_patch_or_delete_of_one_image_leaves_another_images_source(people, small_csv, write_csv):
    """A rename drops only that image's row and source; a delete drops only that image's source."""
    other = write_csv(["depth,col1,col2"] + [f"{10 + r},{r % 256},{r % 7}" for r in range(300)])
    a, b = upload(people.alice, small_csv), upload(people.alice, other)
    warm(a["id"]), warm(b["id"])
    b_source = source.ImageSource.for_image(Image.objects.get(pk=b["id"]))
    assert any(key[0] == a["id"] for key in source._SOURCES)
    opened = pyramid_open.cache_info().currsize

    url = f"/api/v1/images/{a['id']}"
    assert people.alice.patch(url, {"name": "well-A"}, content_type="application/json").status_code == 200
    assert not [key for key in source._SOURCES if key[0] == a["id"]] and a["id"] not in selectors._READY
    assert source._SOURCES[(b["id"], b_source.image.sha256)] is b_source
    assert pyramid_open.cache_info().currsize == opened >= 1  # pixels do not depend on a name
    assert Client().get(f"{url}/tiles/0/0/0.png").status_code == 200

    assert people.alice.delete(url).status_code == 204
    assert not [key for key in source._SOURCES if key[0] == a["id"]]
    assert source._SOURCES[(b["id"], b_source.image.sha256)] is b_source
    assert Client().get(f"/api/v1/images/{b['id']}/tiles/0/0/0.png").status_code == 200
