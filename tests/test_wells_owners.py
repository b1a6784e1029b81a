"""Wells are owned like images: private wells, who may change them, images naming a well, CSV wells."""

from __future__ import annotations

import io

import numpy as np
import pytest

from ingest.models import Image, Well
from tests.conftest import media_files
from tests.test_wells_las import region, upload_well, write_las

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def private_well(people, tmp_path) -> dict:
    log = write_las(tmp_path / "private.las", rows=80)
    return upload_well(people.alice, log.path, public="false")


def test_wells_owners_private_well_is_seen_by_its_owner_and_staff_only(people, private_well):
    url = private_well["url"]
    assert private_well["public"] is False
    for who in (people.alice, people.staff):
        assert who.get(url).status_code == 200
        assert who.get(url + "/curves/GR").status_code == 200
    for who in (people.bob, people.anonymous):
        assert who.get(url).status_code == 404
        assert who.get(url + "/curves").status_code == 404
        assert who.get(url + "/curves/GR").status_code == 404
        assert who.get("/api/v1/wells").json()["results"] == []
        for image in private_well["images"]:  # its images are private too
            assert who.get(f"/api/v1/images/{image['id']}").status_code == 404
    response = people.alice.get(url)
    assert response["Cache-Control"] == "private, no-cache"


def test_wells_owners_public_well_read_by_anyone_changed_by_owner_or_staff(people, private_well):
    url = private_well["url"]
    assert people.bob.patch(url, {"public": True}, content_type="application/json").status_code == 404
    changed = people.alice.patch(url, {"public": True, "name": "ALPHA"}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["name"] == "ALPHA"
    assert people.anonymous.get(url).json()["name"] == "ALPHA"
    image = private_well["images"][0]["id"]
    assert people.anonymous.get(f"/api/v1/images/{image}").status_code == 200  # public with its well
    assert people.bob.patch(url, {"name": "mine"}, content_type="application/json").status_code == 403
    assert people.bob.delete(url).status_code == 403
    assert people.anonymous.delete(url).status_code == 401
    refused = people.alice.patch(url, {"format": "dlis"}, content_type="application/json")
    assert refused.status_code == 400 and "format" in refused.json()["error"]["fields"]
    assert people.staff.delete(url).status_code == 204
    assert Well.objects.count() == 0 and Image.objects.count() == 0


def test_wells_owners_csv_well_has_one_image_and_no_curve(people, small_csv, settings):
    well = upload_well(people.alice, small_csv, depth_unit="ft", name="core photo")
    assert (well["format"], well["status"], well["depth_unit"], well["curves"]) == (
        "csv",
        "succeeded",
        "ft",
        [],
    )
    (image,) = well["images"]
    assert (image["name"], image["columns"], image["rows"], image["dtype"]) == (
        "core photo",
        16,
        600,
        "uint8",
    )
    expected = (np.arange(600)[:, None] + 3 * np.arange(16)[None, :]) % 256
    np.testing.assert_array_equal(region(people.alice, image["id"]), expected)
    assert len(media_files(settings)) == 2  # the CSV and the pyramid
    assert people.alice.delete(well["url"]).status_code == 204
    assert media_files(settings) == []


def test_wells_owners_bad_csv_well_fails_with_line_and_column(people, write_csv):
    path = write_csv(["depth,col1,col2", "1,1,2", "2,x,3"])
    with open(path, "rb") as f:
        response = people.alice.post("/api/v1/wells", {"file": f})
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["line"], error["where"]) == ("invalid_csv", 3, "column col1")
    assert Image.objects.count() == 0


def test_wells_owners_image_upload_may_name_a_well_its_uploader_manages(people, private_well, small_csv):
    well_id = private_well["id"]
    with open(small_csv, "rb") as f:
        mine = people.alice.post("/api/v1/images", {"file": f, "well": well_id})
    assert mine.status_code == 202, mine.content
    assert (mine.json()["well"], mine.json()["value_unit"]) == (well_id, "")
    names = [image["name"] for image in people.alice.get(private_well["url"]).json()["images"]]
    assert names == ["ABDC", "GRAS", "small"]
    with open(small_csv, "rb") as f:
        hidden = people.bob.post("/api/v1/images", {"file": f, "well": well_id})
    assert hidden.status_code == 400 and "well" in hidden.json()["error"]["fields"]
    people.alice.patch(private_well["url"], {"public": True}, content_type="application/json")
    with open(small_csv, "rb") as f:
        foreign = people.bob.post("/api/v1/images", {"file": f, "well": well_id})
    assert foreign.status_code == 403
    with open(small_csv, "rb") as f:
        missing = people.alice.post("/api/v1/images", {"file": f, "well": well_id + 100})
    assert missing.status_code == 400
    # Deleting the well deletes the image uploaded to it too.
    assert people.alice.delete(private_well["url"]).status_code == 204
    assert people.alice.get(f"/api/v1/images/{mine.json()['id']}").status_code == 404


def test_wells_owners_same_file_twice_is_the_same_well(people, tmp_path):
    log = write_las(tmp_path / "twice.las", rows=50)
    first = upload_well(people.alice, log.path)
    again = upload_well(people.alice, log.path, status=200)
    assert again["id"] == first["id"]
    forced = upload_well(people.alice, log.path, force="true")
    assert forced["id"] != first["id"]
    other = upload_well(people.bob, log.path)
    assert other["id"] not in (first["id"], forced["id"])


def test_wells_owners_quota_counts_the_well_files(people, tmp_path, settings):
    log = write_las(tmp_path / "quota.las", rows=50)
    size = log.path.stat().st_size
    settings.QUOTA_BYTES = size + size // 2
    upload_well(people.alice, log.path)
    second = write_las(tmp_path / "second.las", rows=51)
    with open(second.path, "rb") as f:
        response = people.alice.post("/api/v1/wells", {"file": f})
    assert response.status_code == 413 and response.json()["error"]["code"] == "quota_exceeded"
    assert Well.objects.count() == 1


def test_wells_owners_binary_file_is_refused_at_once(people, tmp_path, settings):
    path = tmp_path / "noise.bin"
    path.write_bytes(bytes(range(256)) * 10)
    with open(path, "rb") as f:
        response = people.alice.post("/api/v1/wells", {"file": f})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_well_log"
    assert Well.objects.count() == 0 and media_files(settings) == []


def test_wells_owners_anonymous_cannot_upload(people, tmp_path):
    log = write_las(tmp_path / "anon.las", rows=50)
    with open(log.path, "rb") as f:
        assert people.anonymous.post("/api/v1/wells", {"file": f}).status_code == 401


def test_wells_owners_npy_of_a_private_curve_is_private(people, private_well):
    response = people.alice.get(private_well["url"] + "/curves/GR?format=npy")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-cache"
    assert np.load(io.BytesIO(response.content)).shape[0] == 2
