"""The viewer and the list page in a real browser (Playwright driving Debian's Chromium).

Each test serves the real sample log (9000.1..9546.0 m, 5,460 x 200 pixels) from
``live_server`` and looks at what a user would see: tiles that arrive and are
drawn, a depth axis that matches the log, a colormap that recolours the map, a
thumbnail on the list page. Screenshots go to ``test-artifacts/`` at the
repository root (gitignored) for a person to look at.

The database is written before the browser starts: Playwright's sync API runs
an event loop in the test thread, where Django refuses ORM calls.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from django.db import connections
from PIL import Image as PILImage
from playwright.sync_api import sync_playwright

from benchmarks.workstation import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from ingest.models import Image

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMEOUT_MS = 20_000

SAMPLE_DEPTH_TOP = 9000.1
SAMPLE_DEPTH_BOTTOM = 9546.0

TILE_URL = re.compile(r"/api/v1/images/\d+/tiles/\d+/\d+/\d+\.png(\?|$)")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def is_tile(url: str) -> bool:
    return TILE_URL.search(url) is not None


class Browser:
    """One page in a fresh Chromium profile, with every console error and failed request.

    ``aborted`` lists the URLs of requests the page itself cancelled (``net::ERR_ABORTED``:
    e.g. a readout's pixel read superseded by the next mouse move); they are in
    ``errors`` too, for the tests to excuse by name.
    """

    def __init__(self, context, base_url: str):
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.aborted: list[str] = []
        self.responses = []
        self.page.on(
            "console",
            lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"requestfailed: {r.url}"))
        self.page.on(
            "requestfailed",
            lambda r: self.aborted.append(r.url) if r.failure == "net::ERR_ABORTED" else None,
        )
        # A lambda, not the bound method: Playwright tags the handler with an attribute.
        self.page.on("response", lambda r: self.responses.append(r))  # noqa: PLW0108

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def tile_responses(self) -> list:
        return [r for r in self.responses if is_tile(r.url)]

    def screenshot(self, name: str, selector: str | None = None) -> np.ndarray:
        """Save a screenshot under test-artifacts/ and return it as ``(h, w, 3) uint8`` RGB."""
        ARTIFACTS.mkdir(exist_ok=True)
        target = self.page.locator(selector) if selector else self.page
        png = target.screenshot(path=str(ARTIFACTS / name))
        return np.asarray(PILImage.open(io.BytesIO(png)).convert("RGB"))


@contextlib.contextmanager
def chromium(live_server, tmp_path, permissions: tuple[str, ...] = ()):
    """A :class:`Browser` in a fresh Chromium profile, pointed at ``live_server``."""
    with sync_playwright() as p:
        # A fresh profile in tmp_path (Playwright refuses --user-data-dir among the args).
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        if permissions:
            context.grant_permissions(list(permissions), origin=live_server.url)
        try:
            yield Browser(context, live_server.url)
        finally:
            context.close()


@pytest.fixture
def browser(live_server, tmp_path):
    """A page in Chromium, pointed at ``live_server``. Request it after any database fixture."""
    with chromium(live_server, tmp_path) as page:
        yield page


def open_viewer(browser: Browser, image: Image) -> None:
    """Open the viewer and wait until the tiles in view have been drawn."""
    with browser.page.expect_response(lambda r: is_tile(r.url) and r.status == 200):
        browser.goto(f"/images/{image.pk}")
    browser.page.wait_for_selector("#map[data-state=ready]", state="attached")
    # GeoJS draws on the next animation frame after the last tile arrives.
    browser.page.wait_for_timeout(300)


def view_range(browser: Browser) -> dict[str, float]:
    data = browser.page.eval_on_selector("#view-range", "e => ({...e.dataset})")
    return {key: float(value) for key, value in data.items()}


def log_column(shot: np.ndarray) -> np.ndarray:
    """The screenshot's middle column ``(h - 2, 3)``: the log is centred in the map.

    The first and last screen rows are left out: they blend the log's edge with the
    background.
    """
    return shot[1:-1, shot.shape[1] // 2, :].astype(int)


def test_tiles_viewer_loads_the_log_without_errors(sample_image, browser):
    open_viewer(browser, sample_image)

    tiles = browser.tile_responses()
    assert tiles, "no tile was requested"
    assert all(r.status == 200 for r in tiles), [(r.url, r.status) for r in tiles]
    assert {r.headers.get("content-type") for r in tiles} == {"image/png"}, [r.headers for r in tiles]
    browser.screenshot("viewer-whole-log.png")
    shot = browser.screenshot("viewer-whole-log-map.png", "#map")
    # The whole log fits the height: its pixels run from the top to the bottom of the map.
    column = log_column(shot)
    assert column.std() > 10, "the map shows no image"
    assert np.ptp(column[: len(column) // 10]) > 20, "no log at the top of the map"
    assert np.ptp(column[-len(column) // 10 :]) > 20, "no log at the bottom of the map"
    # Grey tiles draw grey pixels.
    assert np.abs(column[:, 0] - column[:, 1]).max() <= 2
    # A long, narrow log opens stretched wide enough to read (not a 27 px sliver).
    assert log_width(shot) >= 150
    assert browser.errors == []


def test_tiles_viewer_depth_axis_matches_the_log_range(sample_image, browser):
    open_viewer(browser, sample_image)

    view = view_range(browser)
    step = view["tickStep"]
    assert 0 < step <= 100
    assert abs(view["depthTop"] - SAMPLE_DEPTH_TOP) <= step
    assert abs(view["depthBottom"] - SAMPLE_DEPTH_BOTTOM) <= step
    text = browser.page.inner_text("#view-range")
    assert text == "9000.1 – 9546.0 m"
    assert browser.page.inner_text(".track-head").replace("\n", " ") == "Depth (m)"
    browser.screenshot("viewer-depth-axis.png", ".viewer-body")
    assert browser.errors == []


def test_tiles_viewer_depth_axis_follows_zoom_and_pan(sample_image, browser):
    open_viewer(browser, sample_image)
    whole = view_range(browser)
    box = browser.page.locator("#map").bounding_box()
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    browser.page.mouse.move(*middle)
    for _ in range(6):
        browser.page.mouse.wheel(0, -240)
        browser.page.wait_for_timeout(150)
    browser.page.wait_for_timeout(800)
    zoomed = view_range(browser)
    assert zoomed["zoom"] > whole["zoom"] + 1
    assert zoomed["tickStep"] < whole["tickStep"]
    assert whole["depthTop"] < zoomed["depthTop"] < zoomed["depthBottom"] < whole["depthBottom"]
    # Zoomed about the mouse in the middle of the map: the middle depth stays put.
    middle_depth = (SAMPLE_DEPTH_TOP + SAMPLE_DEPTH_BOTTOM) / 2
    assert abs((zoomed["depthTop"] + zoomed["depthBottom"]) / 2 - middle_depth) < 10

    # Drag the log up by a third of the map: the view moves deeper.
    span = zoomed["depthBottom"] - zoomed["depthTop"]
    browser.page.mouse.move(*middle)
    browser.page.mouse.down()
    browser.page.mouse.move(middle[0], middle[1] - box["height"] / 3, steps=8)
    browser.page.mouse.up()
    browser.page.wait_for_timeout(1500)  # GeoJS pans on with momentum, then stops
    panned = view_range(browser)
    assert panned["depthTop"] - zoomed["depthTop"] > span / 4
    assert panned["depthBottom"] - panned["depthTop"] == pytest.approx(span, abs=0.2)
    browser.page.wait_for_selector("#map[data-state=ready]", state="attached")
    browser.screenshot("viewer-zoomed.png")

    # "Whole log" goes back to the whole log.
    browser.page.click("#fit-button")
    browser.page.wait_for_timeout(300)
    assert view_range(browser)["depthTop"] == pytest.approx(SAMPLE_DEPTH_TOP)
    assert view_range(browser)["depthBottom"] == pytest.approx(SAMPLE_DEPTH_BOTTOM)
    assert browser.errors == []


def log_width(shot: np.ndarray) -> int:
    """Screen columns of the log in a map screenshot: those unlike the background."""
    background = shot[shot.shape[0] // 2, 2].astype(int)
    row = shot[shot.shape[0] // 2].astype(int)
    return int((np.abs(row - background).max(axis=1) > 12).sum())


def test_tiles_viewer_stretch_widens_the_log_and_keeps_the_depth_scale(sample_image, browser):
    open_viewer(browser, sample_image)
    # The whole log is about 27 px wide at square pixels: it opens stretched 8 times.
    opened = view_range(browser)
    assert opened["stretch"] == 8
    wide = log_width(browser.screenshot("viewer-stretch-8.png", "#map"))

    browser.page.select_option("#stretch", "1")
    browser.page.wait_for_selector("#map[data-state=ready]", state="attached")
    browser.page.wait_for_timeout(300)
    square = view_range(browser)
    narrow = log_width(browser.screenshot("viewer-stretch-1.png", "#map"))

    # Whole log in the map's height: 200 columns at height / 5,460 px each, then 8 times that.
    height = browser.page.locator("#map").bounding_box()["height"]
    assert square["stretch"] == 1
    assert narrow == pytest.approx(200 * height / 5460, abs=2)
    assert wide == pytest.approx(8 * 200 * height / 5460, abs=4)
    # Same depths in view, same depth scale.
    for key in ("depthTop", "depthBottom", "zoom"):
        assert square[key] == opened[key], key
    assert "stretch=1" in browser.page.url
    assert browser.errors == []


def test_tiles_viewer_colormap_recolours_the_map(sample_image, browser):
    open_viewer(browser, sample_image)
    before = browser.screenshot("viewer-colormap-gray.png", "#map")
    assert browser.page.input_value("#colormap") == "gray"
    assert all("palette=" not in r.url for r in browser.tile_responses())

    with browser.page.expect_response(
        lambda r: is_tile(r.url) and "palette=viridis" in r.url and r.status == 200
    ):
        browser.page.select_option("#colormap", "viridis")
    browser.page.wait_for_selector("#map[data-state=ready]", state="attached")
    browser.page.wait_for_timeout(300)
    after = browser.screenshot("viewer-colormap-viridis.png", "#map")
    browser.screenshot("viewer-colormap-viridis-page.png")

    assert before.shape == after.shape
    changed = np.abs(before.astype(int) - after.astype(int)).max(axis=2) > 30
    assert changed.mean() > 0.01, "the map did not change"
    # Grey before, coloured after, where the log is.
    before_log, after_log = log_column(before), log_column(after)
    assert np.abs(before_log[:, 0] - before_log[:, 2]).max() <= 2
    assert np.abs(after_log[:, 0] - after_log[:, 2]).mean() > 30
    # The choice is kept in the page address, and the region link follows it.
    assert "colormap=viridis" in browser.page.url
    assert "palette=viridis" in browser.page.get_attribute("#region-link", "href")
    assert browser.errors == []


def wait_ready(browser: Browser) -> None:
    """Wait until the tiles in view are drawn (after a change of view or colours)."""
    browser.page.wait_for_selector("#map[data-state=ready]", state="attached")
    browser.page.wait_for_timeout(300)


def show_depth(browser: Browser, depth: float, levels_past_full: float = 0) -> None:
    """Centre ``depth`` at a zoom relative to full resolution (0: one screen px per row)."""
    browser.page.evaluate(
        """([depth, extra]) => {
            const viewer = window.depthViewer;
            const full = viewer.map.zoomRange().max - 3;  // EXTRA_ZOOM levels past full resolution
            viewer.showDepth(depth, full + extra);
        }""",
        [depth, levels_past_full],
    )
    browser.page.wait_for_timeout(300)
    wait_ready(browser)


def screen_point(browser: Browser, row: int, column: int) -> tuple[float, float]:
    """Page coordinates of the middle of an image pixel (row, column) on the map."""
    point = browser.page.evaluate(
        """([row, column]) => {
            const viewer = window.depthViewer;
            const box = document.getElementById('map').getBoundingClientRect();
            const p = viewer.map.gcsToDisplay({x: (column + 0.5) * viewer.stretch(), y: row + 0.5});
            return [box.left + p.x, box.top + p.y];
        }""",
        [row, column],
    )
    return point[0], point[1]


def test_tiles_viewer_readout_shows_the_csv_value_and_azimuth(sample_image, sample_reference, browser):
    open_viewer(browser, sample_image)
    depths, values = sample_reference
    browser.page.select_option("#stretch", "1")  # square pixels: all 200 columns in view
    show_depth(browser, 9250.0, 2)  # 4 screen px per row and column
    # Known spots: 9250.0 m is row 2499; columns near both edges and in the middle.
    row = int(np.argmin(np.abs(depths - 9250.0)))
    assert depths[row] == pytest.approx(9250.0)
    for column in (3, 100, 187):
        x, y = screen_point(browser, row, column)
        with browser.page.expect_response(
            lambda r, c=column: "/data/pixel" in r.url and f"left={c}&" in r.url and r.status == 200
        ) as answer:
            browser.page.mouse.move(x, y)
        served = answer.value.json()
        browser.page.wait_for_function("document.getElementById('readout').textContent.includes('value')")
        text = browser.page.inner_text("#readout")
        match = re.fullmatch(
            r"Depth (\d+\.\d) m · row (\d+) · column (\d+) · azimuth (\d+\.\d)° · value (\d+)", text
        )
        assert match, text
        assert float(match[1]) == pytest.approx(depths[row])
        assert (int(match[2]), int(match[3])) == (row, column)
        # Azimuth of the middle of the column: 200 columns cover 360 degrees, 1.8 each.
        assert float(match[4]) == pytest.approx((column + 0.5) * 1.8, abs=0.05)
        # The value is the pixel endpoint's, which is the CSV's.
        assert int(match[5]) == served["value"] == values[row, column]
        if column == 100:
            browser.screenshot("viewer-readout.png")  # the cursor on the middle column, its readout above
        browser.page.mouse.move(x + 200, y)  # away, so the next spot reads afresh
    assert browser.errors == []


def test_tiles_viewer_colormaps_come_from_the_api_with_a_legend(sample_image, browser):
    with browser.page.expect_response(lambda r: r.url.endswith("/api/v1/colormaps")) as listed:
        open_viewer(browser, sample_image)
    catalogue = [c["name"] for c in listed.value.json()]
    options = browser.page.eval_on_selector_all("#colormap option", "os => os.map(o => o.value)")
    # Every colormap of the API, a "<name>_r" drawn by the Reverse box instead.
    assert options == [n for n in catalogue if not (n.endswith("_r") and n[:-2] in catalogue)]
    assert {"gray", "resistivity", "viridis", "twilight", "YlOrBr"} <= set(options)
    assert "viridis_r" not in options and "viridis_r" in catalogue

    def legend() -> np.ndarray:
        browser.page.wait_for_function(
            "(() => { const i = document.getElementById('colormap-legend');"
            " return i.complete && i.naturalWidth === 160; })()"
        )
        return browser.screenshot("viewer-legend.png", "#colormap-legend")[3:-3, 3:-3].astype(int)

    grey = legend()
    assert browser.page.get_attribute("#colormap-legend", "data-colormap") == "gray"
    # Grey runs from black (left) to white (right), labelled with min and max.
    assert grey[:, :4].mean() < 40 and grey[:, -4:].mean() > 215
    assert browser.page.inner_text("#legend-min") == "0"
    assert browser.page.inner_text("#legend-max") == "255"

    browser.page.select_option("#colormap", "viridis")
    wait_ready(browser)
    viridis = legend()
    # viridis: dark purple to yellow.
    left, right = viridis[:, :4].reshape(-1, 3).mean(0), viridis[:, -4:].reshape(-1, 3).mean(0)
    assert left[2] > left[1] and right[0] > 200 and right[1] > 200 and right[2] < 80, (left, right)
    before = browser.screenshot("viewer-viridis.png", "#map")

    # Reverse: the viridis_r colormap, legend and tiles flipped.
    with browser.page.expect_response(lambda r: is_tile(r.url) and "palette=viridis_r" in r.url):
        browser.page.check("#reverse")
    wait_ready(browser)
    flipped = legend()
    np.testing.assert_allclose(flipped.mean(0), viridis.mean(0)[::-1], atol=25)
    after = browser.screenshot("viewer-viridis-reversed.png", "#map")
    changed = np.abs(before.astype(int) - after.astype(int)).max(axis=2) > 30
    assert changed.mean() > 0.05, "reversing the colormap did not change the map"
    browser.screenshot("viewer-viridis-reversed-page.png")
    assert browser.errors == []


def saturated(column: np.ndarray) -> float:
    """Fraction of grey screen pixels at black or white."""
    grey = column.mean(axis=-1)
    return float(((grey <= 3) | (grey >= 252)).mean())


def set_slider(browser: Browser, selector: str, value: float) -> None:
    """Move a range input as a drag does: input events, then change on release."""
    browser.page.eval_on_selector(
        selector,
        """(e, v) => { e.value = String(v); e.dispatchEvent(new Event('input', {bubbles: true}));
                      e.dispatchEvent(new Event('change', {bubbles: true})); }""",
        value,
    )


def test_tiles_viewer_min_max_sliders_stretch_the_values(sample_image, browser):
    open_viewer(browser, sample_image)
    # uint8: the sliders span 0..255 and start there (the stored values as they are).
    for name, value in (("min", "0"), ("max", "255")):
        attrs = browser.page.eval_on_selector(f"#{name}-range", "e => [e.min, e.max, e.step, e.value]")
        assert attrs == ["0", "255", "1", value]
        assert browser.page.input_value(f"#{name}-value") == value
    before = log_column(browser.screenshot("viewer-range-default.png", "#map"))

    with browser.page.expect_response(
        lambda r: is_tile(r.url) and "min=150" in r.url and "max=200" in r.url and r.status == 200
    ):
        set_slider(browser, "#min-range", 150)
        set_slider(browser, "#max-range", 200)
    wait_ready(browser)
    after = log_column(browser.screenshot("viewer-range-150-200.png", "#map"))
    assert browser.page.input_value("#min-value") == "150"
    assert browser.page.inner_text("#legend-max") == "200"
    # Values below 150 draw black and above 200 white: far more saturated pixels.
    assert saturated(after) > saturated(before) + 0.3, (saturated(before), saturated(after))
    assert "min=150" in browser.page.get_attribute("#region-link", "href")

    # Typed: max below min pulls min down with it (the API refuses min > max).
    browser.page.fill("#max-value", "120")
    browser.page.press("#max-value", "Enter")
    assert browser.page.input_value("#min-value") == "120"
    assert browser.page.input_value("#max-value") == "120"

    # Reset: back to the default tiles (no min/max in their URL).
    browser.page.click("#range-reset")
    wait_ready(browser)
    assert "min=" not in browser.page.evaluate("window.depthViewer.layer.url()")
    reset = log_column(browser.screenshot("viewer-range-reset.png", "#map"))
    np.testing.assert_allclose(reset, before, atol=2)
    assert "min=" not in browser.page.url
    assert browser.errors == []


@pytest.fixture
def float_image(db, write_csv):
    """A float32 log: resistivities 1..1000 ohm.m, 40 scanlines x 8 columns."""
    from ingest.services import image_create_from_path, image_ingest

    rng = np.random.default_rng(5)
    lines = ["depth," + ",".join(f"col{i}" for i in range(1, 9))]
    for row in range(40):
        values = 10 ** rng.uniform(0, 3, 8)
        lines.append(f"{100 + row * 0.5:.1f}," + ",".join(f"{v:.3f}" for v in values))
    image, _ = image_create_from_path(path=write_csv(lines), name="resistivity", queue=False)
    image = image_ingest(image_id=image.pk)
    assert image.status == "succeeded" and image.dtype == "float32", image.error
    return image


def test_tiles_viewer_float_sliders_span_the_value_range(float_image, browser):
    open_viewer(browser, float_image)
    image = float_image
    low, high = (float(browser.page.get_attribute("#min-range", a)) for a in ("min", "max"))
    assert low == pytest.approx(image.value_min, abs=1.0)
    assert high == pytest.approx(image.value_max, abs=1.0)
    # They open on the 2nd..98th percentiles, what the tiles use without min/max.
    assert float(browser.page.input_value("#min-value")) == pytest.approx(image.value_p2, abs=1.0)
    assert float(browser.page.input_value("#max-value")) == pytest.approx(image.value_p98, abs=1.0)
    assert all("min=" not in r.url for r in browser.tile_responses())
    browser.screenshot("viewer-float.png")
    assert browser.errors == []


def test_tiles_viewer_view_state_survives_a_reload(sample_image, browser):
    open_viewer(browser, sample_image)
    browser.page.select_option("#colormap", "YlOrBr")
    browser.page.check("#reverse")
    browser.page.fill("#min-value", "40")
    browser.page.press("#min-value", "Enter")
    browser.page.fill("#max-value", "220")
    browser.page.press("#max-value", "Enter")
    box = browser.page.locator("#map").bounding_box()
    browser.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(4):
        browser.page.mouse.wheel(0, -240)
        browser.page.wait_for_timeout(150)
    browser.page.wait_for_timeout(800)
    browser.page.fill("#goto-depth", "9250")
    browser.page.press("#goto-depth", "Enter")
    wait_ready(browser)
    view = view_range(browser)
    assert 9240 < view["depthCentre"] < 9260
    # The address follows the view (throttled).
    browser.page.wait_for_function(
        "([d, z]) => { const q = new URLSearchParams(location.search);"
        " return Math.abs(q.get('depth') - d) < 0.01 && Math.abs(q.get('zoom') - z) < 0.001; }",
        arg=[view["depthCentre"], view["zoom"]],
    )
    query = dict(re.findall(r"[?&]([^=&]+)=([^&]*)", browser.page.url))
    assert query["colormap"] == "YlOrBr" and query["reverse"] == "1"
    assert (query["min"], query["max"]) == ("40", "220")
    shot = browser.screenshot("viewer-state-before-reload.png", "#map")

    # Reload the link: same view, same colours.
    link = browser.page.url
    browser.responses.clear()
    with browser.page.expect_response(lambda r: is_tile(r.url) and r.status == 200):
        browser.page.goto(link)
    wait_ready(browser)
    again = view_range(browser)
    for key in ("depthTop", "depthBottom", "zoom", "stretch"):
        assert again[key] == view[key], key
    assert again["depthCentre"] == pytest.approx(view["depthCentre"], abs=0.01)
    assert browser.page.input_value("#colormap") == "YlOrBr"
    assert browser.page.is_checked("#reverse")
    assert (browser.page.input_value("#min-value"), browser.page.input_value("#max-value")) == ("40", "220")
    tiles = browser.tile_responses()
    assert tiles and all("palette=YlOrBr_r&min=40&max=220" in r.url for r in tiles)
    reloaded = browser.screenshot("viewer-state-after-reload.png", "#map")
    assert np.abs(reloaded.astype(int) - shot.astype(int)).max(axis=2).mean() < 3
    assert browser.errors == []


def test_tiles_viewer_resize_keeps_the_centre_depth_and_zoom(sample_image, browser):
    open_viewer(browser, sample_image)
    show_depth(browser, 9300.0, -1)  # half a screen px per row: about 74 m in view
    before = view_range(browser)
    assert before["depthCentre"] == pytest.approx(9300.0, abs=0.1)
    height = browser.page.locator("#map").bounding_box()["height"]

    for size in ({"width": 900, "height": 600}, {"width": 1400, "height": 1000}):
        browser.page.set_viewport_size(size)
        browser.page.wait_for_timeout(600)
        wait_ready(browser)
        after = view_range(browser)
        new_height = browser.page.locator("#map").bounding_box()["height"]
        assert new_height != height
        assert after["zoom"] == before["zoom"]
        assert after["depthCentre"] == pytest.approx(9300.0, abs=0.1)
        # Same scale: the range in view grows or shrinks with the map's height, about the centre.
        span = before["depthBottom"] - before["depthTop"]
        assert after["depthBottom"] - after["depthTop"] == pytest.approx(span * new_height / height, abs=0.5)
        assert (after["depthTop"] + after["depthBottom"]) / 2 == pytest.approx(9300.0, abs=0.3)
        shot = browser.screenshot(f"viewer-resized-{size['width']}.png", "#map")
        assert log_column(shot).std() > 10, "no log in the middle of the resized map"
        # The depth labels follow: the track is redrawn at the new height.
        track = browser.screenshot(f"viewer-resized-{size['width']}-track.png", "#depth-track")
        assert track.shape[0] == pytest.approx(new_height, abs=4)
        ink = (track.mean(axis=2) < 128).any(axis=1)
        assert ink[-len(ink) // 4 :].any(), "no depth label in the bottom quarter of the track"
    assert browser.errors == []


def test_tiles_viewer_downloads_the_region_in_view(sample_image, sample_reference, browser):
    open_viewer(browser, sample_image)
    depths, values = sample_reference
    show_depth(browser, 9100.0, 1)  # 2 screen px per row
    view = view_range(browser)
    top = int(np.argmin(np.abs(depths - view["depthTop"])))
    bottom = int(np.argmin(np.abs(depths - view["depthBottom"])))
    assert 150 < bottom - top < 500

    formats = browser.page.eval_on_selector_all("#region-format option", "os => os.map(o => o.value)")
    assert formats == ["png", "jpeg", "webp", "tiff", "npy"]
    for fmt in formats:
        browser.page.select_option("#region-format", fmt)
        browser.page.wait_for_timeout(100)
        href = browser.page.get_attribute("#region-link", "href")
        window = f"depth_min={view['depthTop']:.1f}&depth_max={view['depthBottom']:.1f}"
        assert f"/data/region.{fmt}?{window}" in href

    # NPY: the stored values of the rows in view, exactly the CSV's.
    browser.page.select_option("#region-format", "npy")
    with browser.page.expect_download() as download:
        browser.page.click("#region-link")
    assert download.value.suggested_filename == (
        f"sample_{view['depthTop']:.1f}-{view['depthBottom']:.1f}m.npy"
    )
    array = np.load(download.value.path()).squeeze()
    np.testing.assert_array_equal(array, values[top : bottom + 1])

    # PNG with the colours on screen: viridis, one pixel per scanline and column.
    browser.page.select_option("#colormap", "viridis")
    wait_ready(browser)
    browser.page.select_option("#region-format", "png")
    with browser.page.expect_download() as download:
        browser.page.click("#region-link")
    png = np.asarray(PILImage.open(download.value.path()).convert("RGB"))
    assert png.shape == (bottom - top + 1, 200, 3)
    assert np.abs(png[..., 0].astype(int) - png[..., 2]).mean() > 30, "not coloured"
    browser.screenshot("viewer-download.png")
    assert browser.errors == []


@pytest.fixture
def not_ready_images(db):
    """Two images without a pyramid: one ingesting, one that failed."""
    running = Image.objects.create(name="running", status=Image.Status.RUNNING, progress=0.4)
    failed = Image.objects.create(
        name="broken", status=Image.Status.FAILED, error="line 7: not a number in column col3"
    )
    return running, failed


def test_tiles_viewer_not_ready_shows_status_instead_of_map(not_ready_images, browser):
    running, failed = not_ready_images

    # Polls the image every second, and shows its progress.
    with browser.page.expect_response(lambda r: r.url.endswith(f"/api/v1/images/{running.pk}")):
        browser.goto(f"/images/{running.pk}")
    browser.page.wait_for_function("document.getElementById('status-text').textContent.includes('%')")
    assert browser.page.inner_text("#status-text") == "Ingestion running… 40 %"
    assert browser.page.eval_on_selector("#status-progress", "e => e.value") == pytest.approx(0.4)
    assert browser.page.locator("#map").count() == 0
    # ... and keeps polling.
    browser.page.wait_for_event(
        "response", lambda r: r.url.endswith(f"/api/v1/images/{running.pk}"), timeout=3000
    )
    browser.screenshot("viewer-running.png")

    browser.goto(f"/images/{failed.pk}")
    assert browser.page.locator("#map").count() == 0
    assert "line 7: not a number in column col3" in browser.page.inner_text("#status")
    browser.screenshot("viewer-failed.png")
    assert not any("geo.min.js" in r.url for r in browser.responses), "GeoJS loaded for no map"
    assert browser.errors == []


@pytest.fixture
def pending_image(db, sample_csv):
    """The sample log uploaded but not ingested yet (status pending)."""
    from ingest.services import image_create_from_path

    image, _ = image_create_from_path(path=sample_csv, name="pending", queue=False)
    assert image.status == Image.Status.PENDING
    return image


def outside_event_loop(function) -> None:
    """Call ``function`` in a thread of its own: the test thread runs Playwright's event
    loop, where Django refuses ORM calls."""
    errors = []

    def run():
        try:
            function()
        except Exception as exc:  # noqa: BLE001 (any failure is re-raised in the test thread)
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def test_tiles_viewer_opens_the_map_once_ingestion_succeeds(pending_image, browser):
    from ingest.services import image_ingest

    browser.goto(f"/images/{pending_image.pk}")
    assert browser.page.inner_text("#status-text") == "Ingestion pending… 0 %"
    assert browser.page.locator("#map").count() == 0

    # The job runs while the page is open: the next poll sees it done and reloads.
    with browser.page.expect_navigation(timeout=5000):
        outside_event_loop(lambda: image_ingest(image_id=pending_image.pk))
    browser.page.wait_for_selector("#map[data-state=ready]", state="attached")
    browser.page.wait_for_timeout(300)
    assert browser.tile_responses() and all(r.status == 200 for r in browser.tile_responses())
    assert browser.page.is_hidden("#status")
    assert browser.page.inner_text("#view-range") == "9000.1 – 9546.0 m"
    browser.screenshot("viewer-after-ingestion.png")
    assert browser.errors == []


def test_tiles_list_shows_the_image_with_its_thumbnail(sample_image, browser):
    with browser.page.expect_response(lambda r: "/data/thumbnail.png" in r.url and r.status == 200):
        browser.goto("/")
    row = browser.page.locator(f"tr[data-image-id='{sample_image.pk}']")
    assert "sample" in row.inner_text()
    assert "9000.1 – 9546.0 m" in row.inner_text()
    assert "5460 × 200" in row.inner_text()
    thumb = row.locator("img.thumb")
    thumb.evaluate("img => img.decode()")
    size = thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size == [48, 240]
    assert row.locator(f"a[href='/images/{sample_image.pk}']").count() >= 1
    assert row.locator(f"a[href='/api/v1/images/{sample_image.pk}']").count() == 1
    browser.screenshot("list.png")
    assert browser.errors == []
