"""A private image is seen by its owner and staff only, on every route; its answers are private."""

import io

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from PIL import Image as PILImage

from ingest.models import Image, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)

WHO = ("alice", "bob", "staff", "anonymous")
#: Who sees alice's private image.
SEES_PRIVATE = {"alice": True, "bob": False, "staff": True, "anonymous": False}


def upload(client: Client, path, **fields) -> dict:
    with open(path, "rb") as f:
        response = client.post("/api/v1/images", {"file": f, **fields})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "succeeded", body
    return body


@pytest.fixture
def private(people, small_csv) -> dict:
    """alice's private image (the small log)."""
    return upload(people.alice, small_csv, name="alice-private", public="false")


@pytest.fixture
def public(people, sample_csv) -> dict:
    """bob's public image (the sample log), uploaded before alice's private one."""
    return upload(people.bob, sample_csv, name="bob-public")


def test_upload_records_owner_and_public_flag(people, private):
    assert private["owner"] == "alice" and private["public"] is False
    image = Image.objects.get(pk=private["id"])
    assert image.owner.username == "alice" and not image.public


@pytest.mark.parametrize("who", WHO)
def test_list_shows_private_images_to_owner_and_staff_only(people, private, public, who):
    response = getattr(people, who).get("/api/v1/images")
    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["results"]]
    assert public["id"] in ids
    assert (private["id"] in ids) is SEES_PRIVATE[who]
    assert "Authorization" in response["Vary"]
    if who != "anonymous":  # a signed-in user's list holds their private images: never shared
        assert response["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(
    "route",
    [
        "",
        "/tiles/0/0/0.png?palette=viridis",
        "/tiles/metadata",
        "/tiles/0/0/0/corners",
        "/data/region.png?depth_min=1010&depth_max=1020",
        "/data/region.npy?top=0&bottom=4",
        "/data/thumbnail.png?width=8&height=100",
        "/data/pixel?left=3&top=10",
        "/data/histogram",
        "/info/metadata",
        "/info/bands",
    ],
)
def test_private_image_routes_answer_owner_and_staff_only(people, private, who, route):
    response = getattr(people, who).get(f"/api/v1/images/{private['id']}{route}")
    if SEES_PRIVATE[who]:
        assert response.status_code == 200, response.content
        assert response["Cache-Control"] == "private, no-cache"
        assert "Authorization" in response["Vary"]
    else:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_private_tile_pixels_are_the_stored_values_for_the_owner(people, private):
    response = people.alice.get(f"/api/v1/images/{private['id']}/data/region.png?top=0&bottom=600")
    pixels = np.asarray(PILImage.open(io.BytesIO(response.content)).convert("LA"))
    rows, columns = np.mgrid[0:600, 0:16]
    np.testing.assert_array_equal(pixels[..., 0], (rows + 3 * columns) % 256)


def test_fast_lane_never_answers_a_private_image(people, private):
    url = f"/api/v1/images/{private['id']}/tiles/0/0/0.png"
    assert people.alice.get(url).status_code == 200  # the owner's request caches the ready row
    anonymous = Client().get(url)
    assert anonymous.status_code == 404 and "Allow" in anonymous.headers  # the normal stack answered
    # A browser signed in as the owner (session cookie, no Authorization) passes the lane too.
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="alice"))
    answer = browser.get(url)
    assert answer.status_code == 200 and "Allow" in answer.headers
    assert answer["Cache-Control"] == "private, no-cache"


def test_fast_lane_answers_a_public_image_with_public_headers(people, public):
    url = f"/api/v1/images/{public['id']}/tiles/5/0/3.png"
    assert people.anonymous.get(url).status_code == 200
    fast = Client().get(url)
    assert fast.status_code == 200 and "Allow" not in fast.headers  # the lane answered
    assert fast["Cache-Control"] == "public, max-age=31536000, immutable"


def test_image_made_private_leaves_the_fast_lane_at_once(people, public):
    url = f"/api/v1/images/{public['id']}/tiles/5/0/3.png"
    assert Client().get(url).status_code == 200
    assert Client().get(url).status_code == 200  # cached row: the lane
    assert (
        people.bob.patch(
            f"/api/v1/images/{public['id']}", {"public": False}, content_type="application/json"
        ).json()["public"]
        is False
    )
    assert Client().get(url).status_code == 404
    assert people.bob.get(url)["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize("who", WHO)
def test_classic_frames_show_private_images_to_owner_and_staff_only(people, public, private, who):
    client = getattr(people, who)
    by_id = client.get(f"/get-images/1010/1011/?image={private['id']}")
    newest = client.get("/get-images/1010/1011/")
    if SEES_PRIVATE[who]:
        assert by_id.status_code == 200 and by_id.json()["image_id"] == private["id"]
        assert by_id["Cache-Control"] == "private, no-cache" and "Authorization" in by_id["Vary"]
        assert newest.json()["image_id"] == private["id"]  # the newest image they can see
    else:
        assert by_id.status_code == 404
        # The default image is the newest this requester can see: bob's public log, which has
        # no scanline at 1010 m (it starts deeper), not alice's newer private one.
        assert newest.status_code == 404 and newest.json()["error"]["code"] == "no_scanline_in_range"
        frames = client.get("/get-images/9100/9100.2/")
        assert frames.status_code == 200 and frames.json()["image_id"] == public["id"]
    assert "Authorization" in newest["Vary"]


@pytest.mark.parametrize("who", WHO)
def test_pages_show_private_images_to_their_session_user_only(people, private, public, who):
    browser = Client()
    if who != "anonymous":
        browser.force_login(get_user_model().objects.get(username=who))
    viewer = browser.get(f"/images/{private['id']}")
    listing = browser.get("/")
    html = listing.content.decode()
    assert f'data-image-id="{public["id"]}"' in html
    if SEES_PRIVATE[who]:
        assert viewer.status_code == 200
        assert viewer["Cache-Control"] == "private, no-cache"
        assert f'data-image-id="{private["id"]}"' in html and "private" in html
        assert listing["Cache-Control"] == "private, no-cache"
    else:
        assert viewer.status_code == 404
        assert f'data-image-id="{private["id"]}"' not in html
        assert "alice-private" not in html


@pytest.mark.parametrize("who", WHO)
def test_webhook_url_and_deliveries_are_shown_to_owner_and_staff_only(people, who, small_csv):
    body = upload(people.alice, small_csv, name="hooked")  # public
    Image.objects.filter(pk=body["id"]).update(webhook_url="https://hooks.example.org/secret-path")
    WebhookDelivery.objects.create(
        image_id=body["id"],
        attempt=1,
        url="https://hooks.example.org/secret-path",
        event_status="succeeded",
        status_code=200,
        duration=0.1,
        delivered=True,
    )
    client = getattr(people, who)
    detail = client.get(f"/api/v1/images/{body['id']}").json()
    listed = next(item for item in client.get("/api/v1/images").json()["results"] if item["id"] == body["id"])
    for shown in (detail, listed):
        if who in ("alice", "staff"):
            assert shown["webhook_url"] == "https://hooks.example.org/secret-path"
            assert [d["status_code"] for d in shown["webhook_deliveries"]] == [200]
        else:
            assert shown["webhook_url"] is None and shown["webhook_deliveries"] is None
            assert "secret-path" not in client.get(f"/api/v1/images/{body['id']}").content.decode()


def test_admin_is_for_staff_and_shows_private_images(people, private):
    staff = get_user_model().objects.get(username="staff")
    staff.is_superuser = True
    staff.save()
    browser = Client()
    browser.force_login(staff)
    page = browser.get("/admin/ingest/image/")
    assert page.status_code == 200 and "alice-private" in page.content.decode()
    outsider = Client()
    outsider.force_login(get_user_model().objects.get(username="bob"))
    assert outsider.get("/admin/ingest/image/").status_code == 302  # to the admin login


def test_reads_still_need_a_token_when_public_read_is_off(people, private, settings):
    settings.PUBLIC_READ = False
    assert people.anonymous.get("/api/v1/images").status_code == 401
    assert people.anonymous.get(f"/api/v1/images/{private['id']}/tiles/0/0/0.png").status_code == 401
    assert people.bob.get(f"/api/v1/images/{private['id']}").status_code == 404
    assert people.alice.get(f"/api/v1/images/{private['id']}").status_code == 200


def test_private_tile_revalidates_with_private_headers_and_others_get_404_not_304(people, private):
    url = f"/api/v1/images/{private['id']}/tiles/0/0/0.png"
    first = people.alice.get(url)
    etag = first["ETag"]
    again = people.alice.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["Cache-Control"] == "private, no-cache"
    assert "Authorization" in again["Vary"]
    # Knowing the ETag tells nothing: another requester is refused before it is compared.
    assert people.bob.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404
    assert Client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404
