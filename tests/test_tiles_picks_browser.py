"""Picks in the workstation (/images/{id}/tracks) in a real browser (Playwright on Debian's Chromium).

The real sample log (9000.1..9546.0 m, 200 columns by 0.1 m) owned by a user
whose API token the page is given, in an 8.5-inch hole. A geologist turns
pick mode on, clicks three points on the image, sees the fitted sinusoid drawn
through them, saves it as a fracture, and finds it in the picks list, drawn
over the image and as a tadpole at its depth, after a reload too; then edits,
exports and deletes it from the list. Screenshots go to ``/tmp/picks-*.png``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth import get_user_model

from ingest.models import Image
from picks import core
from picks.models import Pick
from tests.conftest import make_token
from tests.test_tiles_viewer_browser import Browser
from tests.test_tiles_well_browser import (
    PX_PER_M_1_200,
    canvas_pixels,
    open_tracks,
    page_errors,
    set_view,
    shot,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: An 8.5-inch hole, in metres.
DIAMETER = 8.5 * 0.0254
#: The view of every test: 9100 m at the top edge, 1:200.
TOP = 9100.0
#: The three clicks (CSS px in the 220 px image body), along the dark bed near 9112.3 m:
#: azimuths 49, 180 and 311 degrees.
CLICKS = [(30, 228), (110, 236), (190, 231)]
#: static/tiles/well/picks.js KIND_COLOURS.
FRACTURE = (0xE6, 0x9F, 0x00)
FAULT = (0xD7, 0x26, 0x3D)
MAGENTA = (0xFF, 0x00, 0xFF)


@pytest.fixture(autouse=True)
def _database_beside_playwright(monkeypatch):
    """Let the test read the database while Playwright's event loop runs in this thread.

    Django refuses ORM calls from a thread with a running event loop
    (SynchronousOnlyOperation); the test's own reads are synchronous and do not
    overlap the live server's, which runs in its own thread.
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def geologist(db):
    """A user and their API token."""
    token = make_token("geologist")
    return get_user_model().objects.get(username="geologist"), token


@pytest.fixture
def owned_image(geologist, sample_csv) -> Image:
    """The sample log ingested for the geologist, in an 8.5-inch hole."""
    from ingest.services import image_create_from_path, image_ingest

    image, _ = image_create_from_path(path=sample_csv, name="sample", owner=geologist[0], queue=False)
    ingested = image_ingest(image_id=image.pk)
    assert ingested is not None and ingested.status == "succeeded", ingested
    Image.objects.filter(pk=image.pk).update(borehole_diameter=DIAMETER)
    ingested.refresh_from_db()
    return ingested


@pytest.fixture
def browser(live_server, tmp_path):
    """A page in Chromium, pointed at ``live_server``. Request it after any database fixture."""
    from tests.test_tiles_viewer_browser import chromium

    with chromium(live_server, tmp_path) as page:
        yield page


def layout(image: Image) -> str:
    return f"/images/{image.pk}/tracks?t=depth,img:{image.pk},picks:{image.pk}&w=72,220,160"


def body(image: Image) -> str:
    return f".ws-track[data-kind=image][data-id='{image.pk}'] .ws-track-body"


def tadpoles(image: Image) -> str:
    return f".ws-track[data-kind=picks][data-id='{image.pk}'] .ws-track-body"


def open_desk(browser: Browser, image: Image, token: str) -> None:
    open_tracks(browser, layout(image))
    set_view(browser, TOP, PX_PER_M_1_200)
    browser.page.fill("#ws-token", token)


def depth_at(y: float) -> float:
    return TOP + y / PX_PER_M_1_200


def sinusoid_rows(depth: float, amplitude: float, dip_azimuth: float, width: int = 220) -> np.ndarray:
    """Screen y (CSS px) of a sinusoid at each column centre of an unturned track."""
    azimuths = (np.arange(width) + 0.5) / width * 360.0
    return (core.sinusoid_depth(azimuths, depth, amplitude, dip_azimuth) - TOP) * PX_PER_M_1_200


def colour_near(pixels: np.ndarray, x: int, y: float, colour: tuple[int, int, int], reach: int = 2) -> bool:
    """Whether a pixel within ``reach`` rows of (x, y) has ``colour``.

    Each channel within 64: the lines are antialiased.
    """
    rows = pixels[max(0, round(y) - reach) : round(y) + reach + 1, x, :3].astype(int)
    return bool((np.abs(rows - np.array(colour)).max(axis=1) <= 64).any())


def listed(browser: Browser) -> list[dict]:
    return browser.page.eval_on_selector_all(
        "#ws-picks-rows tr.ws-pick-row",
        "rows => rows.map(r => ({id: Number(r.dataset.id), depth: Number(r.dataset.depth),"
        " cells: [...r.children].map(c => c.textContent.trim())}))",
    )


def wait_listed(browser: Browser, count: int) -> list[dict]:
    browser.page.wait_for_function(
        f"document.querySelectorAll('#ws-picks-rows tr.ws-pick-row').length === {count}"
    )
    browser.page.wait_for_timeout(400)  # the tracks draw the picks on the next frames
    return listed(browser)


def api_pick(browser: Browser, image: Image, pk: int) -> dict:
    """The pick as the API answers it (dip and amplitude both, from the diameter)."""
    return browser.page.evaluate(
        "url => fetch(url, {headers: {Accept: 'application/json'}}).then(r => r.json())",
        f"/api/v1/images/{image.pk}/picks/{pk}",
    )


def assert_drawn(browser: Browser, image: Image, pk: int, colour: tuple[int, int, int]) -> None:
    """The pick's sinusoid over the image, its tadpole at its depth, in the kind's colour."""
    pick = api_pick(browser, image, pk)
    drawn = json.loads(browser.page.get_attribute(body(image), "data-picks"))
    assert pk in drawn
    pixels = canvas_pixels(browser, body(image))
    rows = sinusoid_rows(pick["depth"], pick["amplitude"], pick["dip_azimuth"])
    on_line = [colour_near(pixels, x, rows[x], colour) for x in range(0, 220, 5)]
    assert sum(on_line) >= 0.95 * len(on_line), on_line
    marks = json.loads(browser.page.get_attribute(tadpoles(image), "data-tadpoles"))
    (mark,) = [m for m in marks if m[0] == pk]
    assert mark[2] == pytest.approx((pick["depth"] - TOP) * PX_PER_M_1_200, abs=0.01)
    assert mark[1] == pytest.approx(8 + pick["dip"] / 90 * (160 - 16), abs=0.01)
    dots = canvas_pixels(browser, tadpoles(image))
    assert colour_near(dots, round(mark[1]), mark[2], colour)


def test_tiles_picks_three_clicks_fit_save_draw_and_survive_a_reload(owned_image, geologist, browser):
    page = browser.page
    open_desk(browser, owned_image, geologist[1])
    page.click("#ws-pick")
    box = page.locator(body(owned_image)).bounding_box()
    for x, y in CLICKS[:2]:
        page.mouse.click(box["x"] + x, box["y"] + y)
    assert page.get_attribute("#ws-pick-figures", "data-points") == "2"
    assert page.is_disabled("#ws-pick-save")
    page.mouse.click(box["x"] + CLICKS[2][0], box["y"] + CLICKS[2][1])
    page.wait_for_timeout(300)
    figures = page.eval_on_selector("#ws-pick-figures", "e => ({...e.dataset})")
    assert figures["points"] == "3"

    # The live fit is the server's fit of the same points.
    points = page.evaluate("window.workstation.picks.draft.points")
    for point, (x, y) in zip(points, CLICKS, strict=True):
        assert point["azimuth"] == pytest.approx(x / 220 * 360, abs=1e-6)
        assert point["depth"] == pytest.approx(depth_at(y), abs=1e-6)
    server = page.evaluate(
        "([url, points]) => fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({points})}).then(r => r.json())",
        [f"/api/v1/images/{owned_image.pk}/picks/fit", points],
    )
    assert float(figures["depth"]) == pytest.approx(server["depth"], abs=1e-9)
    assert float(figures["amplitude"]) == pytest.approx(server["amplitude"], abs=1e-9)
    assert float(figures["dipAzimuth"]) == pytest.approx(server["dip_azimuth"], abs=1e-7)
    assert float(figures["dip"]) == pytest.approx(server["dip"], abs=1e-9)
    assert server["rms"] < 1e-9

    # The live sinusoid (magenta) passes through the three clicks and runs across the track.
    pixels = canvas_pixels(browser, body(owned_image))
    rows = sinusoid_rows(server["depth"], server["amplitude"], server["dip_azimuth"])
    for x, y in CLICKS:
        assert abs(rows[x] - y) < 1.0
        assert colour_near(pixels, x + 6, rows[x + 6], MAGENTA)
    on_line = [colour_near(pixels, x, rows[x], MAGENTA) for x in range(0, 220, 5)]
    assert sum(on_line) >= 0.95 * len(on_line), on_line
    shot(browser, "picks-1-live-fit.png", ".ws-desk")

    page.select_option("#ws-pick-kind", "fracture")
    page.select_option("#ws-pick-confidence", "high")
    page.fill("#ws-pick-comment", "open fracture, halo")
    page.click("#ws-pick-save")
    (row,) = wait_listed(browser, 1)
    pick = Pick.objects.get()
    assert (pick.kind, pick.confidence, pick.comment) == ("fracture", "high", "open fracture, halo")
    assert len(pick.points) == 3
    assert pick.depth == pytest.approx(server["depth"], abs=1e-9)
    assert pick.author is not None and pick.author.username == "geologist"
    assert row["id"] == pick.pk
    assert row["cells"][0] == f"{pick.depth:.3f}"
    assert row["cells"][1] == f"{server['dip']:.1f}"
    assert row["cells"][3] == "fracture"
    assert page.get_attribute("#ws-pick-figures", "data-points") == "0"
    assert_drawn(browser, owned_image, pick.pk, FRACTURE)
    shot(browser, "picks-2-saved.png", ".ws-desk")

    # Esc clears the points being picked, a second Esc leaves pick mode.
    page.mouse.click(box["x"] + 50, box["y"] + 300)
    assert page.get_attribute("#ws-pick-figures", "data-points") == "1"
    page.keyboard.press("Escape")
    assert page.get_attribute("#ws-pick-figures", "data-points") == "0"
    page.keyboard.press("Escape")
    assert page.get_attribute("#ws-pick", "aria-pressed") == "false"
    assert page.is_hidden("#ws-pick-form")

    # A reload (the address keeps the view and the tadpole track) shows the pick again.
    page.wait_for_timeout(400)
    page.reload()
    page.wait_for_selector("#ws-tracks[data-state=ready]", state="attached")
    set_view(browser, TOP, PX_PER_M_1_200)
    (again,) = wait_listed(browser, 1)
    assert again["id"] == pick.pk
    assert_drawn(browser, owned_image, pick.pk, FRACTURE)
    shot(browser, "picks-3-after-reload.png")
    assert page_errors(browser) == []


def test_tiles_picks_list_jumps_edits_exports_and_deletes(owned_image, geologist, browser):
    user = geologist[0]
    deep = Pick.objects.create(
        image=owned_image, author=user, depth=9300.0, dip=40.0, dip_azimuth=300.0, kind="bedding", comment=""
    )
    near = Pick.objects.create(
        image=owned_image,
        author=user,
        depth=9101.5,
        dip=25.0,
        dip_azimuth=20.0,
        kind="bedding",
        comment="bed",
    )
    page = browser.page
    open_desk(browser, owned_image, geologist[1])
    rows = wait_listed(browser, 2)
    assert [r["id"] for r in rows] == [near.pk, deep.pk]  # shallowest first
    assert_drawn(browser, owned_image, near.pk, (0x00, 0xB0, 0x50))

    # A click on a row centres its depth.
    page.click(f"#ws-picks-rows tr[data-id='{deep.pk}'] td:first-child")
    page.wait_for_timeout(400)
    view = page.eval_on_selector("#ws-range", "e => ({...e.dataset})")
    assert (float(view["top"]) + float(view["bottom"])) / 2 == pytest.approx(9300.0, abs=0.01)

    # Edit: kind, confidence, comment by PATCH.
    row = f"#ws-picks-rows tr[data-id='{deep.pk}']"
    page.click(f"{row} .ws-pick-edit")
    page.select_option(f"{row} .ws-edit-kind", "fault")
    page.select_option(f"{row} .ws-edit-confidence", "low")
    page.fill(f"{row} .ws-edit-comment", "normal fault, drag folds")
    page.click(f"{row} .ws-edit-save")
    page.wait_for_function(
        f"document.querySelector(\"{row} td:nth-child(4)\")?.textContent.trim() === 'fault'"
    )
    deep.refresh_from_db()
    assert (deep.kind, deep.confidence, deep.comment) == ("fault", "low", "normal fault, drag folds")
    page.wait_for_timeout(400)
    top = float(page.eval_on_selector("#ws-range", "e => e.dataset.top"))
    marks = json.loads(page.get_attribute(tadpoles(owned_image), "data-tadpoles"))
    (mark,) = [m for m in marks if m[0] == deep.pk]
    assert mark[2] == pytest.approx((9300.0 - top) * PX_PER_M_1_200, abs=0.01)
    # The tail points to the dip azimuth, 300 degrees: up and to the left of the dot.
    dots = canvas_pixels(browser, tadpoles(owned_image))
    tail = (mark[1] + 10 * math.sin(math.radians(300)), mark[2] - 10 * math.cos(math.radians(300)))
    assert colour_near(dots, round(tail[0]), tail[1], FAULT, reach=1)
    mirror = (mark[1] - 10 * math.sin(math.radians(300)), mark[2] + 10 * math.cos(math.radians(300)))
    assert not colour_near(dots, round(mirror[0]), mirror[1], FAULT, reach=1)
    shot(browser, "picks-4-edited-fault.png", ".ws-desk")

    # Export: the CSV of the image's picks, with the edited one.
    with page.expect_download() as download:
        page.click("#ws-picks-export")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(text)))
    assert len(table) == 3
    assert any("fault" in line and "normal fault, drag folds" in line for line in table)
    assert "m" in ",".join(table[0])

    # Delete asks once more, then the pick is gone from the list, the database and the tracks.
    page.click(f"{row} .ws-pick-delete")
    assert page.inner_text(f"{row} .ws-pick-delete") == "Sure?"
    assert Pick.objects.filter(pk=deep.pk).exists()
    page.click(f"{row} .ws-pick-delete")
    (left,) = wait_listed(browser, 1)
    assert left["id"] == near.pk
    assert not Pick.objects.filter(pk=deep.pk).exists()
    marks = json.loads(page.get_attribute(tadpoles(owned_image), "data-tadpoles"))
    assert deep.pk not in [m[0] for m in marks]
    shot(browser, "picks-5-deleted.png", ".ws-desk")

    # The tadpole track filters by kind, and says so in the address.
    page.click(f"#ws-picks-rows tr[data-id='{near.pk}'] td:first-child")
    page.wait_for_timeout(400)
    assert near.pk in [m[0] for m in json.loads(page.get_attribute(tadpoles(owned_image), "data-tadpoles"))]
    track = f".ws-track[data-kind=picks][data-id='{owned_image.pk}']"
    page.click(f"{track} .ws-settings > summary")
    page.uncheck(f"{track} input[value=bedding]")
    page.wait_for_timeout(400)
    assert json.loads(page.get_attribute(tadpoles(owned_image), "data-tadpoles")) == []
    assert "t2.kinds=fracture%7Cfault%7Cbreakout%7Cother" in page.url
    assert page_errors(browser) == []


def test_tiles_picks_without_a_token_says_so_and_keeps_the_points(owned_image, browser):
    page = browser.page
    open_tracks(browser, layout(owned_image))
    set_view(browser, TOP, PX_PER_M_1_200)
    page.click("#ws-pick")
    box = page.locator(body(owned_image)).bounding_box()
    for x, y in CLICKS:
        page.mouse.click(box["x"] + x, box["y"] + y)
    with page.expect_response(lambda r: r.url.endswith("/picks") and r.request.method == "POST") as answer:
        page.click("#ws-pick-save")
    assert answer.value.status in (401, 403)
    page.wait_for_function("document.querySelector('#ws-picks-message').textContent.includes('Not saved')")
    assert "token" in page.inner_text("#ws-picks-message")
    assert page.get_attribute("#ws-pick-figures", "data-points") == "3"
    assert not Pick.objects.exists()
    browser.errors.clear()  # the refused POST is logged by Chromium as a console error
