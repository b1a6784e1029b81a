"""/api/v1/images/{id}/picks: fit, create, list, detail, change, delete, CSV; owner rules and bounds.

On the real sample (samples/img.csv: 9000.1..9546 m by 0.1 m), owned by alice.
Points on the wall are generated from known planes by the sinusoid of the
convention, with an 8.5-inch bit on the image's well (the diameter), and
fitted back through the API.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from django.contrib.auth import get_user_model

from ingest.models import Image, Well
from picks import core
from picks.models import Pick

pytestmark = pytest.mark.django_db

#: An 8.5-inch bit, in metres.
D = 8.5 * 0.0254


@pytest.fixture
def alice_image(people, sample_csv) -> Image:
    """The sample log, uploaded by alice (public), on a well with an 8.5-inch bit."""
    from ingest.services import image_create_from_path, image_ingest

    alice = get_user_model().objects.get(username="alice")
    image, _ = image_create_from_path(path=sample_csv, name="sample", owner=alice, queue=False)
    image = image_ingest(image_id=image.pk)
    assert image.status == "succeeded", image.error
    well = Well.objects.create(
        name="well", owner=alice, public=True, format="las", bit_size=8.5, status="succeeded", sha256="0" * 64
    )
    image.well = well
    image.save(update_fields=["well"])
    return image


def url(image: Image, suffix: str = "") -> str:
    return f"/api/v1/images/{image.pk}/picks{suffix}"


def post(client, path: str, body) -> object:
    return client.post(path, body, content_type="application/json")


def patch(client, path: str, body) -> object:
    return client.patch(path, body, content_type="application/json")


def wall(dip: float, dip_azimuth: float, azimuths, depth: float = 9100.0) -> list[dict]:
    """Points of the plane's sinusoid at ``azimuths`` in the 8.5-inch hole."""
    depths = core.sinusoid_depth(
        np.asarray(azimuths, float), depth, core.amplitude_from_dip(dip, D), dip_azimuth
    )
    return [{"azimuth": float(a), "depth": float(d)} for a, d in zip(azimuths, depths, strict=True)]


def angle_diff(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def assert_error(response, status: int, code: str, *words: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    for word in words:
        assert word in error["message"], error["message"]
    return error


# -- fit ------------------------------------------------------------------------------


@pytest.mark.parametrize(("dip", "dip_azimuth"), [(12.0, 0.5), (35.0, 358.0), (70.0, 181.0)])
def test_picks_api_fit_recovers_a_known_plane_across_the_seam(people, alice_image, dip, dip_azimuth):
    points = wall(dip, dip_azimuth, [340.0, 355.0, 5.0, 20.0])
    answer = post(people.anonymous, url(alice_image, "/fit"), {"points": points})
    assert answer.status_code == 200, answer.content
    fit = answer.json()
    assert abs(fit["dip"] - dip) < 0.5
    assert angle_diff(fit["dip_azimuth"], dip_azimuth) < 1.0
    assert fit["depth"] == pytest.approx(9100.0, abs=1e-6)
    assert fit["amplitude"] == pytest.approx(core.amplitude_from_dip(dip, D), rel=1e-6)
    assert fit["rms"] < 1e-9
    assert fit["diameter"] == pytest.approx(D)
    assert fit["depth_unit"] == "m"


def test_picks_api_fit_with_noise(people, alice_image):
    """24 points with 5 mm of noise (sigma): dip within 2 degrees, azimuth within 4 (about 5 sigma)."""
    rng = np.random.default_rng(7)
    azimuths = np.arange(24) * 15.0 + 2.0
    points = wall(40.0, 200.0, azimuths)
    for point, noise in zip(points, rng.normal(0, 0.005, len(points)), strict=True):
        point["depth"] += float(noise)
    fit = post(people.bob, url(alice_image, "/fit"), {"points": points}).json()
    assert abs(fit["dip"] - 40.0) < 2.0
    assert angle_diff(fit["dip_azimuth"], 200.0) < 4.0
    assert 0.002 < fit["rms"] < 0.008


def test_picks_api_fit_by_columns_and_rows(people, alice_image):
    """Pixels: column c is centred on (c + 0.5) * 360 / columns, row r is depth_min + r * step."""
    columns = alice_image.columns
    picked = [3, 40, 77, 150, 199]
    azimuths = (np.array(picked) + 0.5) * 360.0 / columns
    depths = core.sinusoid_depth(azimuths, 9100.0, core.amplitude_from_dip(20.0, D), 100.0)
    rows = (depths - alice_image.depth_min) / alice_image.depth_step  # fractional rows
    points = [{"column": c, "row": float(r)} for c, r in zip(picked, rows, strict=True)]
    fit = post(people.alice, url(alice_image, "/fit"), {"points": points}).json()
    assert fit["dip"] == pytest.approx(20.0, abs=1e-6)
    assert fit["dip_azimuth"] == pytest.approx(100.0, abs=1e-6)
    np.testing.assert_allclose([p["azimuth"] for p in fit["points"]], azimuths)


def test_picks_api_fit_dip_null_without_a_diameter(people, alice_image):
    Image.objects.filter(pk=alice_image.pk).update(well=None)
    fit = post(people.alice, url(alice_image, "/fit"), {"points": wall(30.0, 10.0, [0, 120, 240])}).json()
    assert fit["dip"] is None
    assert fit["diameter"] is None
    assert fit["amplitude"] == pytest.approx(core.amplitude_from_dip(30.0, D))


@pytest.mark.parametrize(
    ("points", "words"),
    [
        (
            [{"azimuth": 10, "depth": 9100}, {"azimuth": 10, "depth": 9101}, {"azimuth": 10, "depth": 9102}],
            "three",
        ),
        (
            [{"azimuth": 0, "depth": 9100}, {"azimuth": 360, "depth": 9101}, {"azimuth": 90, "depth": 9102}],
            "three",
        ),
        ([{"azimuth": 0, "depth": 9100}, {"azimuth": 90, "depth": 9101}], "at least 3"),
        ([{"azimuth": 0, "depth": 9100}] * 65, "no more than 64"),
        (
            [{"azimuth": 0, "depth": 9100}, {"azimuth": 90, "depth": 1}, {"azimuth": 180, "depth": 9100}],
            "outside",
        ),
        ([{"column": 0, "row": 0}, {"column": 200, "row": 0}, {"column": 5, "row": 1}], "column 200"),
        ([{"column": 0, "row": 0}, {"column": 1, "row": 5460}, {"column": 5, "row": 1}], "row 5460"),
        (
            [{"column": 0, "row": 0, "azimuth": 3}, {"column": 1, "row": 0}, {"column": 5, "row": 1}],
            "one pair",
        ),
        ([{"azimuth": 0}, {"column": 1, "row": 0}, {"column": 5, "row": 1}], "one pair"),
        ([{"x": 0, "y": 1}, {"column": 1, "row": 0}, {"column": 5, "row": 1}], "unknown keys"),
        ([{"azimuth": 1e6, "depth": 9100}] * 3, "720"),
        ("not a list", "list"),
    ],
)
def test_picks_api_fit_refuses_bad_points_with_words(people, alice_image, points, words):
    error = assert_error(
        post(people.alice, url(alice_image, "/fit"), {"points": points}), 400, "invalid_parameter"
    )
    assert words in error["message"], error["message"]
    assert "points" in error["fields"]


def test_picks_api_fit_refuses_a_body_that_is_not_an_object(people, alice_image):
    assert_error(post(people.alice, url(alice_image, "/fit"), [1, 2, 3]), 400, "invalid_parameter")
    response = people.alice.post(url(alice_image, "/fit"), b"{", content_type="application/json")
    assert_error(response, 400, "parse_error")


# -- create, read, change, delete -------------------------------------------------------


def test_picks_api_crud(people, alice_image):
    points = wall(25.0, 300.0, [10, 100, 200, 300])
    created = post(people.alice, url(alice_image), {"points": points, "kind": "fracture", "comment": "open"})
    assert created.status_code == 201, created.content
    pick = created.json()
    assert created["Location"] == pick["url"] == f"http://testserver{url(alice_image)}/{pick['id']}"
    assert pick["dip"] == pytest.approx(25.0, abs=1e-6)
    assert pick["dip_azimuth"] == pytest.approx(300.0, abs=1e-6)
    assert pick["depth"] == pytest.approx(9100.0, abs=1e-6)
    assert pick["amplitude"] == pytest.approx(core.amplitude_from_dip(25.0, D))
    assert pick["rms"] < 1e-9
    assert (pick["kind"], pick["confidence"], pick["comment"], pick["author"]) == (
        "fracture",
        "medium",
        "open",
        "alice",
    )
    assert pick["depth_unit"] == "m"
    assert len(pick["points"]) == 4
    assert pick["true_dip"] is None  # no survey

    detail = url(alice_image, f"/{pick['id']}")
    assert people.anonymous.get(detail).json() == pick

    # Kind, confidence and comment change alone; the geometry stays.
    changed = patch(people.alice, detail, {"kind": "fault", "confidence": "high", "comment": ""}).json()
    assert (changed["kind"], changed["confidence"], changed["comment"]) == ("fault", "high", "")
    assert changed["dip"] == pick["dip"] and changed["points"] == pick["points"]

    # A dip by hand keeps the depth, drops the points and the fit; the amplitude follows the diameter.
    by_hand = patch(people.alice, detail, {"dip": 45.0, "dip_azimuth": -10}).json()
    assert by_hand["dip"] == 45.0 and by_hand["dip_azimuth"] == 350.0
    assert by_hand["amplitude"] == pytest.approx(D / 2)
    assert by_hand["points"] == [] and by_hand["rms"] is None
    assert by_hand["depth"] == pick["depth"]

    # New points are fitted again.
    refit = patch(people.alice, detail, {"points": wall(10.0, 45.0, [0, 90, 180], depth=9200.0)}).json()
    assert refit["dip"] == pytest.approx(10.0, abs=1e-6) and refit["depth"] == pytest.approx(9200.0)

    assert people.alice.delete(detail).status_code == 204
    assert_error(people.alice.get(detail), 404, "not_found")
    assert not Pick.objects.exists()


def test_picks_api_create_by_hand(people, alice_image):
    pick = post(
        people.alice, url(alice_image), {"depth": 9300.05, "amplitude": 0.05, "dip_azimuth": 720}
    ).json()
    assert pick["depth"] == 9300.05 and pick["dip_azimuth"] == 0.0
    assert pick["dip"] == pytest.approx(math.degrees(math.atan(0.1 / D)))
    assert pick["kind"] == "other"
    flat = post(people.alice, url(alice_image), {"depth": 9000.1}).json()
    assert (flat["dip"], flat["dip_azimuth"], flat["amplitude"]) == (0.0, 0.0, 0.0)


def test_picks_api_dip_follows_a_diameter_known_later(people, alice_image):
    """A pick fitted without a diameter keeps its amplitude; its dip appears once the well has a bit size."""
    Well.objects.filter(pk=alice_image.well_id).update(bit_size=None)
    pick = post(people.alice, url(alice_image), {"points": wall(30.0, 90.0, [0, 120, 240])}).json()
    assert pick["dip"] is None
    Well.objects.filter(pk=alice_image.well_id).update(bit_size=8.5)
    assert people.alice.get(pick["url"]).json()["dip"] == pytest.approx(30.0, abs=1e-6)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "depth", "needs its depth"),
        ({"depth": 8000.0}, "depth", "outside the image"),
        ({"depth": 9100.0, "dip": 10, "amplitude": 0.1}, "dip", "not both"),
        ({"depth": 9100.0, "points": [{"azimuth": 0, "depth": 9100}] * 3}, "depth", "not both"),
        ({"depth": 9100.0, "dip": 90}, "dip", "89.9"),
        ({"depth": 9100.0, "dip": -1}, "dip", "0"),
        ({"depth": 9100.0, "amplitude": -0.1}, "amplitude", "0"),
        ({"depth": 9100.0, "kind": "volcano"}, "kind", "not a valid choice"),
        ({"depth": 9100.0, "confidence": 0.5}, "confidence", "not a valid choice"),
        ({"depth": 9100.0, "comment": "x" * 2001}, "comment", "2000"),
        ({"depth": 9100.0, "author": "bob"}, "author", "cannot be set"),
        ({"depth": "deep"}, "depth", "valid number"),
        ({"points": [{"azimuth": 0, "depth": 9100}] * 2}, "points", "3"),
    ],
)
def test_picks_api_create_refuses_with_the_field_named(people, alice_image, body, field, words):
    error = assert_error(post(people.alice, url(alice_image), body), 400, "invalid_parameter")
    assert field in error["fields"], error
    assert words in error["message"], error["message"]
    assert not Pick.objects.exists()


def test_picks_api_picks_per_image_are_bounded(people, alice_image, monkeypatch):
    monkeypatch.setattr("picks.services.MAX_PICKS_PER_IMAGE", 2)
    for depth in (9100.0, 9101.0):
        assert post(people.alice, url(alice_image), {"depth": depth}).status_code == 201
    assert_error(post(people.alice, url(alice_image), {"depth": 9102.0}), 400, "invalid_parameter", "2 picks")
    assert Pick.objects.count() == 2


def test_picks_api_image_not_ready_is_409(people, alice_image):
    Image.objects.filter(pk=alice_image.pk).update(status="running")
    assert_error(post(people.alice, url(alice_image), {"depth": 9100.0}), 409, "image_not_ready")
    assert_error(
        post(people.alice, url(alice_image, "/fit"), {"points": wall(1, 2, [0, 90, 180])}),
        409,
        "image_not_ready",
    )


# -- owner rules -------------------------------------------------------------------------


def test_picks_api_owner_rules_on_a_public_image(people, alice_image):
    pick = post(people.alice, url(alice_image), {"depth": 9100.0}).json()
    detail = url(alice_image, f"/{pick['id']}")
    for reader in (people.anonymous, people.bob, people.staff):
        assert reader.get(url(alice_image)).json()["count"] == 1
        assert reader.get(detail).status_code == 200
        assert reader.get(url(alice_image, ".csv")).status_code == 200
    # bob sees the image but may not pick it, nor change alice's pick.
    assert_error(post(people.bob, url(alice_image), {"depth": 9100.0}), 403, "permission_denied", "owner")
    assert_error(patch(people.bob, detail, {"kind": "fault"}), 403, "permission_denied")
    assert_error(people.bob.delete(detail), 403, "permission_denied")
    # Anonymous writes need a token; a fit does not (it writes nothing).
    assert_error(post(people.anonymous, url(alice_image), {"depth": 9100.0}), 401, "not_authenticated")
    assert_error(patch(people.anonymous, detail, {"kind": "fault"}), 401, "not_authenticated")
    assert (
        post(people.anonymous, url(alice_image, "/fit"), {"points": wall(1, 2, [0, 90, 180])}).status_code
        == 200
    )
    # Staff manage every image.
    assert patch(people.staff, detail, {"kind": "fault"}).json()["kind"] == "fault"
    staff_pick = post(people.staff, url(alice_image), {"depth": 9200.0}).json()
    assert staff_pick["author"] == "staff"
    # The image's owner may delete a pick someone else made on it.
    assert people.alice.delete(staff_pick["url"]).status_code == 204
    assert Pick.objects.filter(author__username="alice").count() == 1


def test_picks_api_author_keeps_their_pick(people, alice_image):
    """A pick's author may change it after losing the right to manage the image (staff no more)."""
    pick = post(people.staff, url(alice_image), {"depth": 9100.0}).json()
    get_user_model().objects.filter(username="staff").update(is_staff=False)
    assert patch(people.staff, pick["url"], {"comment": "mine"}).json()["comment"] == "mine"
    assert_error(post(people.staff, url(alice_image), {"depth": 9100.0}), 403, "permission_denied")
    assert people.staff.delete(pick["url"]).status_code == 204


def test_picks_api_private_image_picks_are_hidden(people, alice_image):
    pick = post(people.alice, url(alice_image), {"depth": 9100.0}).json()
    Image.objects.filter(pk=alice_image.pk).update(public=False)
    detail = url(alice_image, f"/{pick['id']}")
    for stranger in (people.bob, people.anonymous):
        for response in (
            stranger.get(url(alice_image)),
            stranger.get(detail),
            stranger.get(url(alice_image, ".csv")),
            post(stranger, url(alice_image, "/fit"), {"points": wall(1, 2, [0, 90, 180])}),
        ):
            assert_error(response, 404, "not_found")
    assert_error(patch(people.bob, detail, {"kind": "fault"}), 404, "not_found")
    assert_error(people.bob.delete(detail), 404, "not_found")
    mine = people.alice.get(url(alice_image))
    assert mine.json()["count"] == 1
    assert mine["Cache-Control"] == "private, no-cache"
    assert "Authorization" in mine["Vary"]
    assert people.staff.get(detail).status_code == 200


def test_picks_api_pick_of_another_image_is_404(people, alice_image, sample_image):
    pick = post(people.alice, url(alice_image), {"depth": 9100.0}).json()
    assert_error(people.alice.get(url(sample_image, f"/{pick['id']}")), 404, "not_found")
    assert_error(people.alice.get("/api/v1/images/999999/picks"), 404, "not_found")


# -- list, filters, CSV ----------------------------------------------------------------


@pytest.fixture
def five_picks(people, alice_image) -> list[dict]:
    specs = [
        (9100.0, "bedding", "plain"),
        (9150.5, "fracture", 'quote " and, comma'),
        (9200.0, "fault", "line\nbreak, ünïcode"),
        (9300.0, "fracture", "=HYPERLINK(1)"),
        (9400.0, "breakout", ""),
    ]
    picks = []
    for depth, kind, comment in specs:
        body = {
            "depth": depth,
            "dip": depth / 1000,
            "dip_azimuth": depth / 100,
            "kind": kind,
            "comment": comment,
        }
        picks.append(post(people.alice, url(alice_image), body).json())
    return picks


def test_picks_api_list_filters_and_pages(people, alice_image, five_picks):
    everything = people.bob.get(url(alice_image)).json()
    assert [p["depth"] for p in everything["results"]] == [9100.0, 9150.5, 9200.0, 9300.0, 9400.0]
    ranged = people.bob.get(url(alice_image), {"depth_min": 9150.5, "depth_max": 9300}).json()
    assert [p["depth"] for p in ranged["results"]] == [9150.5, 9200.0, 9300.0]
    fractures = people.bob.get(url(alice_image), {"kind": "fracture", "depth_min": 9200}).json()
    assert [p["depth"] for p in fractures["results"]] == [9300.0]
    page = people.bob.get(url(alice_image), {"limit": 2, "offset": 2}).json()
    assert page["count"] == 5 and [p["depth"] for p in page["results"]] == [9200.0, 9300.0]
    assert "offset=4" in page["next"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "volcano"}, "kind"),
        ({"depth_min": 9300, "depth_max": 9100}, "depth_min"),
        ({"depth_min": "nan"}, "depth_min"),
        ({"depth_max": "1e400"}, "depth_max"),
        ({"limit": 0}, "limit"),
        ({"limit": 10**9}, "limit"),
    ],
)
def test_picks_api_list_refuses_bad_filters(people, alice_image, query, field):
    error = assert_error(people.alice.get(url(alice_image), query), 400, "invalid_parameter")
    assert field in error["fields"]
    assert_error(
        people.alice.get(url(alice_image, ".csv"), query if field != "limit" else {"kind": "x"}),
        400,
        "invalid_parameter",
    )


def test_picks_api_csv_round_trip(people, alice_image, five_picks):
    response = people.bob.get(url(alice_image, ".csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"image-{alice_image.pk}-picks.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert list(rows[0]) == [
        "depth_m",
        "dip",
        "dip_azimuth",
        "amplitude_m",
        "true_dip",
        "true_dip_azimuth",
        "kind",
        "confidence",
        "comment",
        "author",
        "created",
    ]
    listed = people.bob.get(url(alice_image)).json()["results"]
    assert len(rows) == len(listed) == 5
    for row, pick in zip(rows, listed, strict=True):
        assert float(row["depth_m"]) == pick["depth"]
        assert float(row["dip"]) == pick["dip"]
        assert float(row["dip_azimuth"]) == pick["dip_azimuth"]
        assert float(row["amplitude_m"]) == pytest.approx(pick["amplitude"], rel=1e-15)
        assert row["true_dip"] == row["true_dip_azimuth"] == ""
        assert (row["kind"], row["confidence"], row["author"]) == (pick["kind"], pick["confidence"], "alice")
        assert row["created"].replace("+00:00", "Z") == pick["created"]
        # Text is kept whole (quotes, commas, line breaks, accents); a formula is shown, not run.
        expected = "'" + pick["comment"] if pick["comment"].startswith("=") else pick["comment"]
        assert row["comment"] == expected
    filtered = people.bob.get(url(alice_image, ".csv"), {"kind": "fracture"}).content.decode()
    assert [float(r["depth_m"]) for r in csv.DictReader(io.StringIO(filtered))] == [9150.5, 9300.0]


def test_picks_api_csv_header_names_the_depth_unit(people, write_csv):
    from ingest.services import image_create_from_path, image_ingest

    alice = get_user_model().objects.get(username="alice")
    path = write_csv(["depth,col1,col2,col3,col4", *(f"{3000 + r},1,2,3,4" for r in range(10))])
    image, _ = image_create_from_path(path=path, owner=alice, depth_unit="ft", queue=False)
    image = image_ingest(image_id=image.pk)
    post(people.alice, url(image), {"depth": 3004.0, "dip": 5})
    text = people.alice.get(url(image, ".csv")).content.decode()
    header, row = text.splitlines()[:2]
    assert header.startswith("depth_ft,dip,dip_azimuth,amplitude_ft,")
    assert row.startswith("3004.0,5.0,0.0,,")  # no diameter: no amplitude
