"""No N+1 on the lists and details: the same number of queries for 1 row as for 50.

Each list (images, wells, picks, the dashboard) and each detail (an image, a well
with its images and curves) is asked for twice, once over 1 row and once over 50
rows, each row with everything its serializer reads (owner, webhook deliveries,
well, images, curves, pick authors); the queries Django sends are counted and
must be equal. The indexes these queries use on PostgreSQL are checked by
tests/integration/test_lists_plans.py.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ingest.models import Curve, Image, WebhookDelivery, Well
from picks.models import Pick

pytestmark = pytest.mark.django_db


def user(username: str):
    return get_user_model().objects.get_or_create(username=username)[0]


def make_well(owner, n: int, *, images: int = 2, curves: int = 2, public: bool = True) -> Well:
    """A succeeded well of ``owner`` with ``images`` images (one private) and ``curves`` curves."""
    well = Well.objects.create(
        name=f"well {n}", owner=owner, public=public, format="las", status="succeeded", sha256=f"{n:064x}"
    )
    for k in range(images):
        Image.objects.create(
            name=f"well {n} image {k}", owner=owner, well=well, public=k % 2 == 0, sha256=f"{n}{k}"
        )
    for k in range(curves):
        Curve.objects.create(well=well, mnemonic=f"C{k}", file=f"curves/{n}-{k}.npy")
    return well


def make_images(owner, count: int, *, well: Well | None = None) -> list[Image]:
    """``count`` images of ``owner``, each with two webhook deliveries and a well; half private."""
    images = []
    for n in range(count):
        image = Image.objects.create(
            name=f"log {n}",
            owner=owner,
            public=n % 2 == 0,
            status="succeeded",
            sha256=f"{n:064x}",
            well=well,
            depth_min=0.0,
            depth_max=10.0,
            depth_step=0.1,
            rows=101,
            columns=8,
            webhook_url="https://hooks.example.com/x",
        )
        for attempt in (1, 2):
            WebhookDelivery.objects.create(
                image=image, attempt=attempt, url=image.webhook_url, event_status="succeeded", duration=0.1
            )
        images.append(image)
    return images


def queries(client, path: str) -> int:
    """The number of queries answering ``GET path`` (which must answer 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


def counts(client, path_of, make, *, rows: tuple[int, int] = (1, 50)) -> list[int]:
    """Queries of ``path_of(made)`` after ``make(rows)``, for each number of rows (data cleared between)."""
    found = []
    for count in rows:
        Image.objects.all().delete()
        Well.objects.all().delete()
        made = make(count)
        found.append(queries(client, path_of(made)))
    return found


@pytest.mark.parametrize("who", ["anonymous", "alice", "staff"])
@pytest.mark.parametrize(
    "query", ["", "?limit=50", "?owner=alice&status=succeeded&name=LOG", "?well=<well>&limit=100"]
)
def test_image_list_queries_do_not_grow_with_rows(people, who, query):
    alice = user("alice")

    def make(count):
        well = make_well(alice, 0, images=0)
        make_images(alice, count, well=well)
        return well

    first, many = counts(
        getattr(people, who), lambda well: "/api/v1/images" + query.replace("<well>", str(well.pk)), make
    )
    assert first == many


@pytest.mark.parametrize("who", ["anonymous", "alice"])
def test_image_detail_queries(people, who):
    alice = user("alice")

    def make(count):
        well = make_well(alice, 0, images=0)
        return make_images(alice, count, well=well)[0]

    first, many = counts(getattr(people, who), lambda image: f"/api/v1/images/{image.pk}", make)
    assert first == many


@pytest.mark.parametrize("who", ["anonymous", "alice", "staff"])
@pytest.mark.parametrize("query", ["", "?owner=alice&status=succeeded&name=WELL"])
def test_well_list_queries_do_not_grow_with_wells_images_or_curves(people, who, query):
    alice, bob = user("alice"), user("bob")

    def make(count):
        for n in range(count):
            make_well(alice if n % 2 == 0 else bob, n, images=1 if count == 1 else 6, curves=count % 7 + 1)

    first, many = counts(getattr(people, who), lambda _: "/api/v1/wells" + query, make)
    assert first == many


@pytest.mark.parametrize("who", ["anonymous", "alice"])
def test_well_detail_queries_do_not_grow_with_its_images_and_curves(people, who):
    alice = user("alice")
    first, many = counts(
        getattr(people, who),
        lambda well: f"/api/v1/wells/{well.pk}",
        lambda count: make_well(alice, 0, images=count, curves=count),
    )
    assert first == many


def test_picks_list_queries_do_not_grow_with_picks(people):
    alice = user("alice")

    def make(count):
        image = make_images(alice, 1, well=make_well(alice, 0, images=0))[0]
        for n in range(count):
            author = user(f"geologist{n % 7}")
            Pick.objects.create(image=image, author=author, depth=1.0 + n * 0.1, dip_azimuth=30.0, dip=10.0)
        return image

    for who in ("anonymous", "alice"):
        first, many = counts(
            getattr(people, who), lambda image: f"/api/v1/images/{image.pk}/picks?limit=100", make
        )
        assert first == many


def test_dashboard_queries_do_not_grow_with_images(people):
    alice = user("alice")
    for who in ("anonymous", "alice"):
        first, many = counts(getattr(people, who), lambda _: "/", lambda count: make_images(alice, count))
        assert first == many


def test_lists_really_hold_the_rows_counted(people):
    """The counts above are over full pages: the lists do answer 50 rows (and 25 public ones)."""
    alice = user("alice")
    make_images(alice, 50)
    assert len(people.alice.get("/api/v1/images?limit=50").json()["results"]) == 50
    assert people.anonymous.get("/api/v1/images?limit=50").json()["count"] == 25


@pytest.mark.parametrize("who", ["anonymous", "alice", "bob", "staff"])
def test_visible_count_is_the_count_of_the_rows(people, who):
    """The pagination's count (public and own private rows counted apart) is ``count(*)`` of what is seen."""
    from ingest.selectors import image_list, visible_count, well_list

    alice, bob = user("alice"), user("bob")
    for n, owner in enumerate((alice, alice, bob)):
        make_well(owner, n, images=5, public=n != 1)
    make_images(bob, 3)
    requester = None if who == "anonymous" else user(who)
    for filters in ({}, {"owner": "alice"}, {"owner": "bob"}, {"status": "succeeded"}, {"name": "LOG"}):
        for rows in (image_list(user=requester, **filters), well_list(user=requester, **filters)):
            assert visible_count(rows, requester) == rows.count() == len(list(rows)), (who, filters)
    listed = getattr(people, who).get("/api/v1/images?limit=200").json()
    assert listed["count"] == len(listed["results"]) == image_list(user=requester).count()


def delivery_queries(client, path: str) -> list[str]:
    """The queries on webhook deliveries that answering ``GET path`` sends (which must answer 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    return [query["sql"] for query in captured if "ingest_webhookdelivery" in query["sql"]]


def test_lists_read_webhook_deliveries_of_the_requesters_own_images_only(people):
    """Nobody else's deliveries are read: none for a page of others' images, one query for one's own."""
    alice = user("alice")
    made = make_images(alice, 6)
    assert delivery_queries(people.anonymous, "/api/v1/images") == []
    assert delivery_queries(people.bob, "/api/v1/images") == []
    assert delivery_queries(people.anonymous, f"/api/v1/images/{made[0].pk}") == []
    assert len(delivery_queries(people.alice, "/api/v1/images")) == 1
    assert len(delivery_queries(people.staff, "/api/v1/images")) == 1
    rows = people.alice.get("/api/v1/images").json()["results"]
    assert [[d["attempt"] for d in row["webhook_deliveries"]] for row in rows] == [[1, 2]] * 6
