"""The filters of the image and well lists: owner, well, status, name; bounded; documented.

Filters narrow what the requester may see and never widen it; a bad value is a
400 naming the parameter; a detail is never filtered; the OpenAPI schema lists
each filter as a query parameter of its list.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from ingest.models import Image, Well

pytestmark = pytest.mark.django_db


def user(username: str):
    return get_user_model().objects.get_or_create(username=username)[0]


@pytest.fixture
def catalogue(people):
    """alice: well W1 (2 images: Troll FMI public, Troll UBI private), a failed lone image; bob: 1 of each."""
    alice, bob = user("alice"), user("bob")
    w1 = Well.objects.create(name="Troll A-1", owner=alice, public=True, format="las", sha256="a1")
    w2 = Well.objects.create(name="Brent B-2", owner=bob, public=False, format="las", sha256="b2")
    rows = {
        "troll_fmi": Image.objects.create(name="Troll FMI run 1", owner=alice, well=w1, public=True),
        "troll_ubi": Image.objects.create(name="Troll UBI run 2", owner=alice, well=w1, public=False),
        "alice_failed": Image.objects.create(name="lone", owner=alice, public=True, status="failed"),
        "bob_public": Image.objects.create(name="Brent FMI", owner=bob, well=w2, public=True),
        "bob_private": Image.objects.create(name="brent secret", owner=bob, public=False),
    }
    return {"people": people, "w1": w1, "w2": w2, **{k: v.pk for k, v in rows.items()}}


def names(client, path: str) -> set[str]:
    response = client.get(path)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return {row["name"] for row in body["results"]}


def test_image_filters_narrow_what_each_requester_sees(catalogue):
    people, w1 = catalogue["people"], catalogue["w1"]
    assert names(people.anonymous, "/api/v1/images?owner=alice") == {"Troll FMI run 1", "lone"}
    assert names(people.alice, "/api/v1/images?owner=alice") == {"Troll FMI run 1", "Troll UBI run 2", "lone"}
    assert names(people.bob, "/api/v1/images?owner=alice") == {"Troll FMI run 1", "lone"}
    assert names(people.staff, "/api/v1/images?owner=bob") == {"Brent FMI", "brent secret"}
    assert names(people.alice, f"/api/v1/images?well={w1.pk}") == {"Troll FMI run 1", "Troll UBI run 2"}
    assert names(people.bob, f"/api/v1/images?well={w1.pk}") == {"Troll FMI run 1"}
    assert names(people.anonymous, "/api/v1/images?status=failed") == {"lone"}
    assert names(people.anonymous, "/api/v1/images?status=running") == set()
    assert names(people.anonymous, "/api/v1/images?name=fmi") == {"Troll FMI run 1", "Brent FMI"}
    assert names(people.bob, "/api/v1/images?name=BRENT") == {"Brent FMI", "brent secret"}
    assert names(people.alice, "/api/v1/images?name=troll&owner=alice&status=pending") == {
        "Troll FMI run 1",
        "Troll UBI run 2",
    }


def test_unknown_owner_or_well_is_an_empty_list(catalogue):
    people = catalogue["people"]
    assert names(people.alice, "/api/v1/images?owner=nobody") == set()
    # An empty value is no filter (an HTML form sends its empty fields).
    assert len(names(people.alice, "/api/v1/images?name=&status=&owner=&well=")) == 4  # all she sees
    assert names(people.alice, "/api/v1/images?well=999999") == set()
    # An image is seen by its own flag: bob's private well still shows its public image.
    assert names(people.alice, f"/api/v1/images?well={catalogue['w2'].pk}") == {"Brent FMI"}
    assert names(people.alice, "/api/v1/wells?owner=nobody") == set()


def test_well_filters(catalogue):
    people = catalogue["people"]
    assert names(people.anonymous, "/api/v1/wells") == {"Troll A-1"}
    assert names(people.bob, "/api/v1/wells?owner=bob") == {"Brent B-2"}
    assert names(people.alice, "/api/v1/wells?owner=bob") == set()
    assert names(people.staff, "/api/v1/wells?name=b-2") == {"Brent B-2"}
    assert names(people.staff, "/api/v1/wells?status=pending") == {"Troll A-1", "Brent B-2"}
    assert names(people.staff, "/api/v1/wells?status=succeeded") == set()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/images?status=done", "status"),
        ("/api/v1/images?well=0", "well"),
        ("/api/v1/images?well=x", "well"),
        ("/api/v1/images?well=99999999999", "well"),
        ("/api/v1/images?name=" + "a" * 101, "name"),
        ("/api/v1/images?owner=" + "a" * 151, "owner"),
        ("/api/v1/wells?status=done", "status"),
        ("/api/v1/wells?name=" + "a" * 101, "name"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(people, path, field):
    response = people.alice.get(path)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert field in error["fields"]


def test_a_detail_is_never_filtered(catalogue):
    people = catalogue["people"]
    response = people.anonymous.get(f"/api/v1/images/{catalogue['troll_fmi']}?status=failed&owner=bob")
    assert response.status_code == 200
    response = people.anonymous.get(f"/api/v1/wells/{catalogue['w1'].pk}?name=nothing")
    assert response.status_code == 200
    assert [image["name"] for image in response.json()["images"]] == ["Troll FMI run 1"]


def test_the_schema_documents_each_filter(anonymous_client):
    schema = anonymous_client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    expected = {
        "/api/v1/images": {"owner", "well", "status", "name", "limit", "offset"},
        "/api/v1/wells": {"owner", "status", "name", "limit", "offset"},
    }
    for path, parameters in expected.items():
        listed = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert set(listed) == parameters
        assert listed["name"]["schema"] == {"type": "string", "minLength": 1, "maxLength": 100}
        assert set(listed["status"]["schema"]["enum"]) == {"pending", "running", "succeeded", "failed"}
    detail = schema["paths"]["/api/v1/images/{id}"]["get"]
    assert {p["name"] for p in detail.get("parameters", [])} == {"id"}
