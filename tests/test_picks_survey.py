"""/api/v1/wells/{id}/survey, and the true dip it gives the picks of the well's images.

The survey is uploaded as a CSV (md, inclination, azimuth); picks then carry
``true_dip`` and ``true_dip_azimuth`` (JSON and CSV), checked on cases with a
known answer.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from ingest.models import Curve, Image, Well
from picks.models import Survey, SurveyStation

pytestmark = pytest.mark.django_db


@pytest.fixture
def well(people) -> Well:
    alice = get_user_model().objects.get(username="alice")
    return Well.objects.create(
        name="well", owner=alice, public=True, format="las", bit_size=8.5, status="succeeded", sha256="0" * 64
    )


@pytest.fixture
def well_image(people, sample_csv, well) -> Image:
    """The sample log (9000.1..9546 m), alice's, on ``well``."""
    from ingest.services import image_create_from_path, image_ingest

    image, _ = image_create_from_path(path=sample_csv, owner=well.owner, queue=False)
    image = image_ingest(image_id=image.pk)
    image.well = well
    image.save(update_fields=["well"])
    return image


def upload(client, well: Well, text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return client.post(f"/api/v1/wells/{well.pk}/survey", {"file": SimpleUploadedFile("survey.csv", data)})


def test_picks_survey_upload_and_read(people, well):
    empty = people.anonymous.get(f"/api/v1/wells/{well.pk}/survey").json()
    assert (empty["source"], empty["stations"], empty["created"]) == (None, [], None)
    answer = upload(people.alice, well, "MD,Inc,Azi\n0,0,0\n9000,30,90\n9600,30,90\n")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["well"] == well.pk and body["depth_unit"] == "m" and body["author"] == "alice"
    assert body["source"] == "upload"
    assert body["stations"] == [
        {"md": 0.0, "inclination": 0.0, "azimuth": 0.0},
        {"md": 9000.0, "inclination": 30.0, "azimuth": 90.0},
        {"md": 9600.0, "inclination": 30.0, "azimuth": 90.0},
    ]
    assert people.bob.get(f"/api/v1/wells/{well.pk}/survey").json() == body
    # A new upload replaces the survey whole.
    upload(people.alice, well, "md,inclination,azimuth\n0,0,0\n100,1,2\n")
    assert SurveyStation.objects.count() == 2 and Survey.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("md,inclination,azimuth\n0,0,0\n10,x,0\n", 3, "inclination"),
        ("md,inclination,azimuth\n0,0,0\n10,1,400\n", 3, "azimuth"),
        ("md,inclination,azimuth\n0,0,0\n-1,1,1\n", 3, "md"),
        ("md,inclination\n0,0\n", 1, None),
        (b"md,inclination,azimuth\n\xff\xfe\n", None, None),
    ],
)
def test_picks_survey_bad_csv_is_422_with_line_and_column(people, well, text, line, column):
    upload(people.alice, well, "md,inclination,azimuth\n0,0,0\n10,1,1\n")
    answer = upload(people.alice, well, text)
    assert answer.status_code == 422, answer.content
    error = answer.json()["error"]
    assert error["code"] == "invalid_csv"
    assert error.get("line") == line and error.get("column") == column
    # The survey before the failed upload is kept whole.
    assert list(SurveyStation.objects.values_list("md", flat=True)) == [0.0, 10.0]


def test_picks_survey_bounds(people, well, monkeypatch):
    monkeypatch.setattr("picks.rest.viewsets.MAX_SURVEY_BYTES", 100)
    answer = upload(people.alice, well, "md,inclination,azimuth\n" + "".join(f"{i},0,0\n" for i in range(40)))
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "upload_too_large"
    monkeypatch.setattr("picks.rest.viewsets.MAX_SURVEY_STATIONS", 3)
    answer = upload(people.alice, well, "md,inclination,azimuth\n0,0,0\n1,0,0\n2,0,0\n3,0,0\n")
    assert answer.status_code == 422 and "more than 3" in answer.json()["error"]["message"]
    answer = people.alice.post(f"/api/v1/wells/{well.pk}/survey", {"file": "not a file"})
    assert answer.status_code == 400 and "file" in answer.json()["error"]["fields"]
    assert not Survey.objects.exists()


def test_picks_survey_owner_rules(people, well):
    text = "md,inclination,azimuth\n0,0,0\n10,1,1\n"
    assert upload(people.bob, well, text).status_code == 403
    assert upload(people.anonymous, well, text).status_code == 401
    assert upload(people.staff, well, text).status_code == 201
    Well.objects.filter(pk=well.pk).update(public=False)
    assert people.bob.get(f"/api/v1/wells/{well.pk}/survey").status_code == 404
    assert upload(people.bob, well, text).status_code == 404
    mine = people.alice.get(f"/api/v1/wells/{well.pk}/survey")
    assert mine.status_code == 200 and mine["Cache-Control"] == "private, no-cache"
    assert people.alice.get("/api/v1/wells/999999/survey").status_code == 404


def test_picks_survey_vertical_well_true_dip_is_apparent(people, well, well_image):
    upload(people.alice, well, "md,inclination,azimuth\n0,0,0\n10000,0,0\n")
    pick = people.alice.post(
        f"/api/v1/images/{well_image.pk}/picks",
        {"depth": 9100.0, "dip": 35.0, "dip_azimuth": 222.0},
        content_type="application/json",
    ).json()
    assert pick["true_dip"] == pytest.approx(35.0, abs=1e-9)
    assert pick["true_dip_azimuth"] == pytest.approx(222.0, abs=1e-9)


def test_picks_survey_horizontal_bed_in_a_30_degree_well(people, well, well_image):
    """The hole turns from vertical at 0 m to 30 degrees east at 9000 m (minimum curvature), then holds.

    A bed picked at 9100 m with apparent dip 30 deepest on the high side (drawn
    at the hole azimuth, 90) is horizontal: true dip 0. One with apparent dip 15
    there is tilted 15 degrees the other way: true dip 15 towards the west.
    """
    upload(people.alice, well, "md,inclination,azimuth\n0,0,90\n9000,30,90\n9600,30,90\n")
    body = {"depth": 9100.0, "dip": 30.0, "dip_azimuth": 90.0, "kind": "bedding"}
    pick = people.alice.post(
        f"/api/v1/images/{well_image.pk}/picks", body, content_type="application/json"
    ).json()
    assert pick["true_dip"] == pytest.approx(0.0, abs=1e-9)
    body = {"depth": 9100.0, "dip": 15.0, "dip_azimuth": 90.0}
    other = people.alice.post(f"/api/v1/images/{well_image.pk}/picks", body, content_type="application/json")
    assert other.json()["true_dip"] == pytest.approx(15.0, abs=1e-9)
    assert other.json()["true_dip_azimuth"] == pytest.approx(270.0, abs=1e-9)
    rows = list(csv.DictReader(io.StringIO(people.bob.get(f"/api/v1/images/{well_image.pk}/picks.csv").text)))
    assert [float(r["true_dip"]) for r in rows] == pytest.approx([0.0, 15.0], abs=1e-9)
    assert float(rows[1]["true_dip_azimuth"]) == pytest.approx(270.0, abs=1e-9)


def test_picks_survey_outside_its_depths_gives_no_true_dip(people, well, well_image):
    upload(people.alice, well, "md,inclination,azimuth\n0,0,0\n9050,10,0\n")
    pick = people.alice.post(
        f"/api/v1/images/{well_image.pk}/picks",
        {"depth": 9100.0, "dip": 5.0},
        content_type="application/json",
    ).json()
    assert pick["true_dip"] is None and pick["true_dip_azimuth"] is None


def test_picks_survey_in_feet_applies_to_an_image_in_metres(people, well, well_image):
    """A survey of a well in ft (md in ft) at a pick's depth in m: 9100 m is 29855.6 ft."""
    Well.objects.filter(pk=well.pk).update(depth_unit="ft")
    upload(people.alice, well, "md,inclination,azimuth\n29800,0,0\n29900,90,0\n")
    body = {"depth": 9100.0, "dip": 0.0}
    pick = people.alice.post(
        f"/api/v1/images/{well_image.pk}/picks", body, content_type="application/json"
    ).json()
    # Along a 90-degree arc over 100 ft, at (29855.64 - 29800) / 100 of it: the hole's inclination;
    # a plane perpendicular to the hole (apparent dip 0) dips as much as the hole is inclined.
    expected = (9100.0 / 0.3048 - 29800.0) / 100.0 * 90.0
    assert pick["true_dip"] == pytest.approx(expected, abs=1e-6)


def store_curve(settings, well: Well, mnemonic: str, depth, value) -> Curve:
    """A curve of ``well`` stored as the well job stores it: ``(2, n) float64`` .npy (depth, value)."""
    name = f"curves/{well.pk}-{mnemonic}.npy"
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.array([depth, value], dtype=np.float64))
    return Curve.objects.create(well=well, mnemonic=mnemonic, samples=len(depth), file=name)


def test_picks_survey_from_the_wells_curves(people, settings, well, well_image):
    """Without an uploaded survey, the well's DEVI and HAZI curves are its survey (HAZI across north)."""
    depth = np.arange(9000.0, 9600.0, 0.5)
    inclination = np.where(depth < 9050, np.nan, 30.0)  # nodata at the top: left out
    azimuth = np.where(depth < 9300, 359.0, 1.0)  # 359 -> 1: through north, not south
    store_curve(settings, well, "DEVI", depth, inclination)
    store_curve(settings, well, "hazi", depth, azimuth)
    body = people.bob.get(f"/api/v1/wells/{well.pk}/survey").json()
    assert body["source"] == "curves" and body["author"] is None and body["created"] is None
    assert body["stations"][0] == {"md": 9050.0, "inclination": 30.0, "azimuth": 359.0}
    assert len(body["stations"]) == (9600 - 9050) * 2
    assert all(s["azimuth"] > 358.9 or s["azimuth"] < 1.1 for s in body["stations"])
    # A horizontal bed in this 30-degree hole shows 30 degrees on the high side (drawn at the azimuth).
    pick = people.alice.post(
        f"/api/v1/images/{well_image.pk}/picks",
        {"depth": 9100.0, "dip": 30.0, "dip_azimuth": 359.0},
        content_type="application/json",
    ).json()
    assert pick["true_dip"] == pytest.approx(0.0, abs=1e-9)
    # Above the curves' first valid sample there is no survey.
    above = people.alice.post(
        f"/api/v1/images/{well_image.pk}/picks",
        {"depth": 9010.0, "dip": 30.0},
        content_type="application/json",
    ).json()
    assert above["true_dip"] is None
    # An uploaded survey wins over the curves.
    upload(people.alice, well, "md,inclination,azimuth\n0,0,0\n10000,0,0\n")
    assert people.alice.get(pick["url"]).json()["true_dip"] == pytest.approx(30.0, abs=1e-9)


def test_picks_survey_curves_missing_or_lost_give_none(people, settings, well, well_image):
    depth = np.arange(9000.0, 9100.0, 1.0)
    store_curve(settings, well, "DEVI", depth, np.full(depth.size, 10.0))
    assert people.alice.get(f"/api/v1/wells/{well.pk}/survey").json()["source"] is None  # no azimuth curve
    azimuth = store_curve(settings, well, "AZIM", depth, np.full(depth.size, 10.0))
    assert people.alice.get(f"/api/v1/wells/{well.pk}/survey").json()["source"] == "curves"
    (Path(settings.MEDIA_ROOT) / azimuth.file.name).unlink()
    assert people.alice.get(f"/api/v1/wells/{well.pk}/survey").json()["source"] is None
