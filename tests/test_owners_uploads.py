"""Uploads have owners: dedupe per owner (also under a race), quotas per owner (413, 429)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from ingest import services
from ingest.models import Image
from tests.conftest import media_files

pytestmark = pytest.mark.django_db(transaction=True)

SMALL = ["depth,col1,col2", "1.0,10,20", "1.1,30,40", "1.2,50,60"]


def post(client, path, url="/api/v1/images", **fields):
    with open(path, "rb") as f:
        return client.post(url, {"file": f, **fields})


def test_same_bytes_from_another_user_is_a_new_image_with_its_own_name_and_webhook(
    people, small_csv, monkeypatch
):
    monkeypatch.setattr("ingest.services._queue_webhook", lambda *args, **kwargs: None)  # no delivery here
    mine = post(people.alice, small_csv, name="alice's")
    again = post(people.alice, small_csv, name="renamed?")
    theirs = post(people.bob, small_csv, name="bob's", webhook_url="https://93.184.215.14/bob")
    assert (mine.status_code, again.status_code, theirs.status_code) == (202, 200, 202)
    assert again.json()["id"] == mine.json()["id"] and again.json()["name"] == "alice's"
    assert theirs.json()["id"] != mine.json()["id"]
    bobs = Image.objects.get(pk=theirs.json()["id"])
    assert (bobs.owner.username, bobs.name, bobs.webhook_url) == (
        "bob",
        "bob's",
        "https://93.184.215.14/bob",
    )
    assert Image.objects.get(pk=mine.json()["id"]).webhook_url == ""
    assert bobs.dedupe_key == Image.objects.get(pk=mine.json()["id"]).dedupe_key
    # force=true: a new image of alice's, outside the dedupe (no key).
    forced = post(people.alice, small_csv, force="true")
    assert forced.status_code == 202 and Image.objects.get(pk=forced.json()["id"]).dedupe_key is None


def test_dedupe_key_covers_the_options(people, small_csv):
    first = post(people.alice, small_csv)
    other = post(people.alice, small_csv, target_width=8)
    assert other.status_code == 202 and other.json()["id"] != first.json()["id"]


def test_a_failed_image_gives_its_dedupe_key_up(people, write_csv):
    bad = write_csv(["depth,col1", "1,2", "2,abc"])
    first = post(people.alice, bad)
    assert first.status_code == 422
    second = post(people.alice, bad)
    assert second.status_code == 422 and second.json()["image"]["id"] != first.json()["image"]["id"]
    assert Image.objects.get(pk=first.json()["image"]["id"]).dedupe_key is None


def test_concurrent_same_uploads_of_one_owner_make_one_image(people, small_csv, settings, monkeypatch):
    """The race: another request inserts the same row between our lookup and our insert.

    Our request stores its CSV; meanwhile the other one (run inside that step) finds no
    image either and commits its own. Our insert then breaks the unique constraint on
    (owner, dedupe_key): we delete our CSV and answer the winner's image.
    """
    alice = get_user_model().objects.get(username="alice")
    real_put = services.storage_put
    winners = []

    def put_then_lose_the_race(local_path, name):
        stored = real_put(local_path, name)
        if name.startswith("uploads/") and not winners:
            winners.append(None)
            winners[0], created = services.image_create_from_path(path=small_csv, owner=alice, queue=False)
            assert created
        return stored

    monkeypatch.setattr(services, "storage_put", put_then_lose_the_race)
    image, created = services.image_create_from_path(path=small_csv, owner=alice, queue=False)
    assert created is False and image.pk == winners[0].pk
    assert Image.objects.filter(owner=alice).count() == 1
    # The loser's stored CSV is gone; only the winner's remains.
    assert [path.name for path in media_files(settings)] == [winners[0].source.name.split("/")[-1]]


def test_concurrent_uploads_through_http_answer_the_same_image(people, small_csv, monkeypatch):
    real_put = services.storage_put
    inner = []

    def put_then_lose_the_race(local_path, name):
        stored = real_put(local_path, name)
        if name.startswith("uploads/") and not inner:
            inner.append(None)
            inner[0] = post(people.alice, small_csv)
        return stored

    monkeypatch.setattr(services, "storage_put", put_then_lose_the_race)
    outer = post(people.alice, small_csv)
    assert (inner[0].status_code, outer.status_code) == (202, 200)
    assert inner[0].json()["id"] == outer.json()["id"]
    assert Image.objects.count() == 1


def test_quota_bytes_is_413_before_anything_is_stored(people, small_csv, write_csv, settings):
    size = small_csv.stat().st_size
    settings.QUOTA_BYTES = size + 10
    assert post(people.alice, small_csv).status_code == 202
    over = post(people.alice, write_csv(SMALL))
    assert over.status_code == 413
    error = over.json()["error"]
    assert error["code"] == "quota_exceeded" and str(settings.QUOTA_BYTES) in error["message"]
    assert Image.objects.count() == 1 and len(media_files(settings)) == 2  # nothing new stored
    # Per user: bob still has his whole quota; staff are not exempt.
    assert post(people.bob, write_csv(SMALL)).status_code == 202
    settings.QUOTA_BYTES = 10
    assert post(people.staff, write_csv(SMALL)).status_code == 413
    # Deleting frees the quota; 0 turns it off.
    assert (
        people.alice.delete(f"/api/v1/images/{Image.objects.get(owner__username='alice').pk}").status_code
        == 204
    )
    settings.QUOTA_BYTES = size + 10
    assert post(people.alice, write_csv(SMALL)).status_code == 202
    settings.QUOTA_BYTES = 0
    assert post(people.alice, small_csv).status_code == 202


def test_quota_of_an_owner_already_full_is_413_before_the_body_is_read(
    people, small_csv, settings, monkeypatch
):
    settings.QUOTA_BYTES = small_csv.stat().st_size
    assert post(people.alice, small_csv).status_code == 202
    monkeypatch.setattr(services, "_spool_upload", lambda stream: pytest.fail("the body was read"))
    assert post(people.alice, small_csv, force="true").status_code == 413


def test_quota_is_checked_again_when_the_row_is_made(people, write_csv, settings, monkeypatch):
    """Uploads started together pass the first check; the second check, under a lock, counts them."""
    monkeypatch.setattr("ingest.services._queue_ingest", lambda image_id: None)  # a busy worker
    settings.MAX_CONCURRENT_JOBS = 1
    alice = get_user_model().objects.get(username="alice")
    real_put = services.storage_put

    def put_while_another_upload_commits(path, name):
        stored = real_put(path, name)
        Image.objects.create(name="concurrent", owner=alice, source="uploads/other.csv", sha256="0" * 64)
        return stored

    monkeypatch.setattr(services, "storage_put", put_while_another_upload_commits)
    answer = post(people.alice, write_csv(SMALL))
    assert answer.status_code == 429 and answer.json()["error"]["code"] == "too_many_jobs"
    assert list(Image.objects.values_list("name", flat=True)) == ["concurrent"]
    assert [p for p in media_files(settings) if p.suffix == ".csv"] == []  # its CSV was not kept


def test_concurrent_jobs_quota_is_429(people, write_csv, settings, monkeypatch):
    monkeypatch.setattr("ingest.services._queue_ingest", lambda image_id: None)  # a busy worker
    settings.MAX_CONCURRENT_JOBS = 2
    first = post(people.alice, write_csv(SMALL))
    second = post(people.alice, write_csv([*SMALL, "1.3,1,1"]))
    assert (first.status_code, second.status_code) == (202, 202)
    third = post(people.alice, write_csv([*SMALL, "1.4,1,1"]))
    assert third.status_code == 429
    assert third.json()["error"]["code"] == "too_many_jobs" and "2" in third.json()["error"]["message"]
    assert Image.objects.filter(owner__username="alice").count() == 2
    assert post(people.bob, write_csv(SMALL)).status_code == 202  # per user
    # A job that ends frees its slot.
    Image.objects.filter(pk=first.json()["id"]).update(status=Image.Status.SUCCEEDED)
    assert post(people.alice, write_csv([*SMALL, "1.5,1,1"])).status_code == 202
    settings.MAX_CONCURRENT_JOBS = 0
    assert post(people.alice, write_csv([*SMALL, "1.6,1,1"])).status_code == 202


def test_classic_upload_has_an_owner_or_none_when_anonymous(people, write_csv, settings):
    mine = post(people.alice, write_csv(SMALL), url="/upload-csv/")
    assert mine.status_code == 200 and Image.objects.get(pk=mine.json()["id"]).owner.username == "alice"
    assert post(people.anonymous, write_csv(SMALL), url="/upload-csv/").status_code == 401
    settings.CLASSIC_UPLOAD_PUBLIC = True
    anonymous = post(people.anonymous, write_csv(SMALL), url="/upload-csv/")
    assert anonymous.status_code == 200 and Image.objects.get(pk=anonymous.json()["id"]).owner is None
    assert anonymous.json()["id"] != mine.json()["id"]  # dedupe is per owner
    # Nobody owns it: only staff may delete it.
    url = f"/api/v1/images/{anonymous.json()['id']}"
    assert people.alice.delete(url).status_code == 403
    assert people.staff.delete(url).status_code == 204


def test_ingest_command_sets_the_owner(small_csv, capsys, db):
    call_command("ingest", str(small_csv), "--owner", "demo")
    image = Image.objects.get()
    assert image.owner.username == "demo" and image.status == Image.Status.SUCCEEDED
    call_command("ingest", str(small_csv), "--owner", "demo")
    assert "already ingested" in capsys.readouterr().out and Image.objects.count() == 1
    call_command("ingest", str(small_csv), "--owner", "other")
    assert Image.objects.count() == 2
