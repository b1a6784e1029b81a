"""The workstation (/images/{id}/tracks, /wells/{id}) in a real browser (Playwright on Debian's Chromium).

Each test serves the real sample log (9000.1..9546.0 m, 5,460 x 200 pixels, a
0.1 m step) from ``live_server`` and reads what a log analyst would see: the
track canvases' pixels (decoded in the page with ``getImageData``), the depth
ticks, the readout under the cursor, the page address. Screenshots go to
``/tmp/ws-*.png`` for a person to look at.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from ingest.models import Image
from tests.test_tiles_viewer_browser import Browser, chromium

SHOTS = Path("/tmp")
SAMPLE_TOP = 9000.1
SAMPLE_STEP = 0.1
#: CSS px per metre at 1:200 (96 px per inch): 1 / 0.0254 * 96 / 200.
PX_PER_M_1_200 = 96 / 0.0254 / 200

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(live_server, tmp_path):
    """A page in Chromium, pointed at ``live_server``. Request it after any database fixture."""
    with chromium(live_server, tmp_path) as page:
        yield page


def page_errors(browser: Browser) -> list[str]:
    """Console errors and failed requests, but the pixel reads the readout cancels when the mouse moves on."""
    cancelled = {f"requestfailed: {url}" for url in browser.aborted if "/data/pixel?" in url}
    return [error for error in browser.errors if error not in cancelled]


@pytest.fixture
def twin_images(db, sample_csv):
    """The sample ingested twice (two names, one owner): two image tracks of one log."""
    from ingest.services import image_create_from_path, image_ingest

    images = []
    for name in ("sample A", "sample B"):
        image, _ = image_create_from_path(path=sample_csv, name=name, queue=False, force=True)
        image = image_ingest(image_id=image.pk)
        assert image.status == "succeeded", image.error
        images.append(image)
    assert images[0].pk != images[1].pk
    return images


def open_tracks(browser: Browser, path: str) -> None:
    """Open a workstation page and wait until every track has drawn what it shows."""
    browser.goto(path)
    browser.page.wait_for_selector("#ws-tracks[data-state=ready]", state="attached")
    browser.page.wait_for_timeout(200)


def wait_ready(browser: Browser) -> None:
    browser.page.wait_for_timeout(350)  # the address and a redraw follow on the next frames
    browser.page.wait_for_selector("#ws-tracks[data-state=ready]", state="attached")


def canvas_pixels(browser: Browser, selector: str) -> np.ndarray:
    """A track canvas's bitmap as ``(h, w, 4) uint8`` RGBA (device px = CSS px here)."""
    data = browser.page.eval_on_selector(
        selector,
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
                 return {w: c.width, h: c.height, px: Array.from(d.data)}; }""",
    )
    return np.array(data["px"], dtype=np.uint8).reshape(data["h"], data["w"], 4)


def view_figures(browser: Browser) -> dict[str, float]:
    data = browser.page.eval_on_selector("#ws-range", "e => ({...e.dataset})")
    return {key: float(value) for key, value in data.items()}


def shot(browser: Browser, name: str, selector: str | None = None) -> np.ndarray:
    target = browser.page.locator(selector) if selector else browser.page
    png = target.screenshot(path=str(SHOTS / name))
    return np.asarray(PILImage.open(io.BytesIO(png)).convert("RGB"))


def image_body(image: Image) -> str:
    return f".ws-track[data-kind=image][data-id='{image.pk}'] .ws-track-body"


def set_view(browser: Browser, top: float, px_per_unit: float) -> None:
    """Set the shared view exactly (depth at the top edge, CSS px per metre) and wait for the tiles."""
    browser.page.evaluate(
        "([top, ppu]) => { const w = window.workstation; w.setView(new w.view.constructor(top, ppu)); }",
        [top, px_per_unit],
    )
    wait_ready(browser)


def major_tick_rows(depth_canvas: np.ndarray) -> list[int]:
    """Screen rows of the depth track's labelled ticks: only they reach 8 px from its right edge."""
    column = depth_canvas[:, depth_canvas.shape[1] - 8, :]
    dark = (column[:, 3] > 128) & (column[:, :3].max(axis=1) < 128)
    return [int(y) for y in np.flatnonzero(dark)]


def test_tiles_well_opens_at_1_200_with_a_metre_18_9_px(sample_image, browser):
    open_tracks(browser, f"/images/{sample_image.pk}/tracks")
    shot(browser, "ws-single-1-200.png")
    figures = view_figures(browser)
    assert abs(figures["ratio"] - 200) < 1e-6
    assert abs(figures["top"] - SAMPLE_TOP) < 1e-6
    assert browser.page.input_value("#ws-scale") == "200"

    # Measured on screen: the labelled ticks of the depth track, and their labels.
    rows = major_tick_rows(canvas_pixels(browser, ".ws-track-depth .ws-track-body"))
    ticks = json.loads(browser.page.get_attribute(".ws-track-depth .ws-track-body", "data-ticks"))
    assert len(rows) == len(ticks) >= 5, (rows, ticks)
    depths = [depth for depth, _ in ticks]
    assert depths[:2] == [9005, 9010]
    px_per_m = np.diff(rows) / np.diff(depths)
    assert np.all(np.abs(px_per_m - PX_PER_M_1_200) <= 1 / 5), px_per_m  # ± 1 px over 5 m
    assert abs((rows[-1] - rows[0]) / (depths[-1] - depths[0]) - PX_PER_M_1_200) < 0.05
    assert page_errors(browser) == []


@pytest.mark.parametrize("ratio", [20, 50, 100, 500, 1000])
def test_tiles_well_preset_scales_measured_between_depth_ticks(sample_image, browser, ratio):
    open_tracks(browser, f"/images/{sample_image.pk}/tracks")
    browser.page.select_option("#ws-scale", str(ratio))
    wait_ready(browser)
    assert abs(view_figures(browser)["ratio"] - ratio) < 1e-6
    rows = major_tick_rows(canvas_pixels(browser, ".ws-track-depth .ws-track-body"))
    ticks = json.loads(browser.page.get_attribute(".ws-track-depth .ws-track-body", "data-ticks"))
    depths = [depth for depth, _ in ticks]
    assert len(rows) == len(depths) >= 3, (rows, depths)
    expected = 96 / 0.0254 / ratio
    measured = (rows[-1] - rows[0]) / (depths[-1] - depths[0])
    assert abs(measured - expected) * min(1.0, depths[-1] - depths[0]) <= 1, (measured, expected)
    assert abs(measured - expected) / expected < 0.01, (measured, expected)
    if ratio == 1000:
        shot(browser, "ws-single-1-1000.png")
    assert page_errors(browser) == []


def test_tiles_well_fit_shows_the_whole_log(sample_image, browser):
    open_tracks(browser, f"/images/{sample_image.pk}/tracks?scale=fit")
    figures = view_figures(browser)
    height = browser.page.eval_on_selector(".ws-track-depth .ws-track-body", "c => c.clientHeight")
    assert abs(figures["top"] - SAMPLE_TOP) < 1e-6
    assert abs(figures["bottom"] - 9546.0) < 1e-6
    assert abs(figures["pxPerUnit"] - height / (9546.0 - SAMPLE_TOP)) < 1e-9
    assert browser.page.input_value("#ws-scale") == "fit"
    pixels = canvas_pixels(browser, image_body(sample_image))
    assert pixels[2, :, 3].min() == 255 and pixels[-3, :, 3].min() == 255, "the log from top to bottom"
    shot(browser, "ws-single-fit.png")
    assert page_errors(browser) == []


def test_tiles_well_tracks_are_aligned_by_depth(twin_images, sample_reference, browser):
    a, b = twin_images
    open_tracks(
        browser, f"/images/{a.pk}/tracks?t=depth,img:{a.pk},img:{b.pk}&w=72,200,200&scale=50&top=9100"
    )
    figures = view_figures(browser)
    shot(browser, "ws-twins-1-50.png")
    pixels_a = canvas_pixels(browser, image_body(a))
    pixels_b = canvas_pixels(browser, image_body(b))
    # One log twice, one depth axis: the two canvases are the same pixels, row for row.
    assert pixels_a.shape == pixels_b.shape
    np.testing.assert_array_equal(pixels_a, pixels_b)

    # A known scanline is where its depth says, in both tracks: its stored values, grey.
    _, values = sample_reference
    width = pixels_a.shape[1]
    for row in (1000, 1003, 1010):
        y = round((SAMPLE_TOP + row * SAMPLE_STEP - figures["top"]) * figures["pxPerUnit"])
        for column in (0, 57, 123, 199):
            x = int((column + 0.5) * width / 200)
            for pixels in (pixels_a, pixels_b):
                assert abs(int(pixels[y, x, 0]) - int(values[row, column])) <= 1, (row, column)

    # The cursor: one depth in every track, the same row and sector in both images.
    box = browser.page.locator(image_body(a)).bounding_box()
    browser.page.mouse.move(box["x"] + 123.5 * box["width"] / 200, box["y"] + 300)
    browser.page.wait_for_timeout(400)
    readouts = browser.page.eval_on_selector_all(".ws-track-readout", "ns => ns.map(n => ({...n.dataset}))")
    assert len({r["depth"] for r in readouts}) == 1, readouts
    depth = float(readouts[0]["depth"])
    assert abs(depth - (figures["top"] + 300 / figures["pxPerUnit"])) < 0.01
    row = round((depth - SAMPLE_TOP) / SAMPLE_STEP)
    assert readouts[1]["row"] == readouts[2]["row"] == str(row)
    assert readouts[1]["column"] == readouts[2]["column"] == "123"
    assert readouts[1]["value"] == readouts[2]["value"] == str(values[row, 123])
    cursor = browser.page.locator("#ws-cursor").bounding_box()
    assert abs(cursor["y"] - (box["y"] + 300)) <= 1
    assert cursor["width"] > 400
    shot(browser, "ws-twins-cursor.png")
    assert page_errors(browser) == []


def test_tiles_well_images_fill_their_track_width(sample_image, browser):
    open_tracks(
        browser, f"/images/{sample_image.pk}/tracks?t=depth,img:{sample_image.pk}&w=72,300&scale=1000"
    )
    rows = slice(10, 300)
    pixels = canvas_pixels(browser, image_body(sample_image))
    assert pixels.shape[1] == 300
    assert pixels[rows, :, 3].min() == 255, "every column of the track is drawn"

    # Wider by dragging the track's right edge: the log widens with it, the depth scale stays.
    handle = browser.page.locator(".ws-track-image .ws-resize").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + 200
    browser.page.mouse.move(x, y)
    browser.page.mouse.down()
    browser.page.mouse.move(x + 250, y, steps=5)
    browser.page.mouse.up()
    wait_ready(browser)
    wide = canvas_pixels(browser, image_body(sample_image))
    assert wide.shape[1] == 550
    assert wide[rows, :, 3].min() == 255
    assert abs(view_figures(browser)["ratio"] - 1000) < 1e-6
    # Same depths, stretched across: column c of the log at x = (c + 0.5) * 550 / 200.
    for column in (3, 100, 190):
        np.testing.assert_array_equal(
            wide[rows, int((column + 0.5) * 550 / 200)], pixels[rows, int((column + 0.5) * 300 / 200)]
        )
    assert "w=72%2C550" in browser.page.url
    shot(browser, "ws-wide.png")
    assert page_errors(browser) == []


def runs(line: np.ndarray) -> list[int]:
    """Lengths of the runs of equal pixels along ``(n, 4)``."""
    change = np.flatnonzero(np.any(line[1:] != line[:-1], axis=1)) + 1
    edges = np.concatenate([[0], change, [len(line)]])
    return list(np.diff(edges))


def test_tiles_well_beyond_native_resolution_pixels_are_blocks(sample_image, browser):
    open_tracks(browser, f"/images/{sample_image.pk}/tracks?t=depth,img:{sample_image.pk}&w=72,1000")
    # 8 CSS px per row (an 8x zoom of 1 px per scanline), the top edge on a row's edge.
    set_view(browser, SAMPLE_TOP + 999.5 * SAMPLE_STEP, 8 / SAMPLE_STEP)
    pixels = canvas_pixels(browser, image_body(sample_image))
    shot(browser, "ws-blocks-8x.png", image_body(sample_image))
    assert browser.page.get_attribute(image_body(sample_image), "data-page") == "0"
    # Down each column: runs of 8 px (or several rows of one value); across: 5 px per column.
    for x in (2, 333, 777):
        lengths = runs(pixels[:, x])
        assert all(n % 8 == 0 for n in lengths[:-1]), lengths
    for y in (3, 400):
        lengths = runs(pixels[y])
        assert all(n % 5 == 0 for n in lengths), lengths
    # Nearest, not smoothed: each 8 x 5 block is one colour, and the colours are stored values.
    blocks = pixels[: 8 * 60, :1000].reshape(60, 8, 200, 5, 4)
    assert (blocks.max(axis=(1, 3)) == blocks.min(axis=(1, 3))).all()
    assert page_errors(browser) == []


def test_tiles_well_azimuth_header_and_wrap(sample_image, browser):
    open_tracks(browser, f"/images/{sample_image.pk}/tracks?t=depth,img:{sample_image.pk}&w=72,400&scale=100")
    header = ".ws-track-image .ws-azimuth"
    assert json.loads(browser.page.get_attribute(header, "data-ticks")) == [
        ["N", 0],
        ["E", 100],
        ["S", 200],
        ["W", 300],
    ]
    before = canvas_pixels(browser, image_body(sample_image))
    top = view_figures(browser)["top"]
    shot(browser, "ws-azimuth-0.png", ".ws-track-image")

    # Drag the image a quarter turn to the left: east comes to the left edge, north wraps to the right.
    box = browser.page.locator(image_body(sample_image)).bounding_box()
    x, y = box["x"] + 300, box["y"] + 200
    browser.page.mouse.move(x, y)
    browser.page.mouse.down()
    browser.page.mouse.move(x - 100, y, steps=10)
    browser.page.mouse.up()
    wait_ready(browser)
    assert json.loads(browser.page.get_attribute(header, "data-ticks")) == [
        ["E", 0],
        ["S", 100],
        ["W", 200],
        ["N", 300],
    ]
    assert browser.page.get_attribute(".ws-track-image", "data-azimuth") == "90"
    assert view_figures(browser)["top"] == top, "a sideways drag turns the image, the depth stays"
    after = canvas_pixels(browser, image_body(sample_image))
    shot(browser, "ws-azimuth-90.png", ".ws-track-image")
    # Column x now shows what x + 100 showed, around the seam.
    np.testing.assert_array_equal(after[:, :300], before[:, 100:])
    np.testing.assert_array_equal(after[:, 300:], before[:, :100])
    assert "t1.az=90" in browser.page.url
    assert page_errors(browser) == []


def track_order(browser: Browser) -> list[str]:
    """The tracks left to right: "depth", "image<id>", "curve"."""
    return browser.page.eval_on_selector_all(
        ".ws-track", "ns => ns.map(n => n.dataset.kind + (n.dataset.id || ''))"
    )


def test_tiles_well_layout_survives_a_reload(twin_images, browser):
    a, b = twin_images
    open_tracks(browser, f"/images/{a.pk}/tracks?t=depth,img:{a.pk},img:{b.pk}")
    page = browser.page
    # Change everything a user can: scale, depth, order, width, colours, turn.
    page.select_option("#ws-scale", "500")
    wait_ready(browser)
    box = page.locator(image_body(a)).bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 400)
    page.mouse.down()
    page.mouse.move(box["x"] + 150, box["y"] + 100, steps=6)  # deeper, and turned
    page.mouse.up()
    page.click(f".ws-track[data-id='{b.pk}'] button[title='Move left']")
    page.click(f".ws-track[data-id='{a.pk}'] .ws-settings summary")
    page.select_option(f".ws-track[data-id='{a.pk}'] .ws-settings select", "viridis")
    page.click(f".ws-track[data-id='{a.pk}'] .ws-settings summary")
    wait_ready(browser)
    before = view_figures(browser)
    order = track_order(browser)
    assert order == ["depth", f"image{b.pk}", f"image{a.pk}"]
    pixels = {i.pk: canvas_pixels(browser, image_body(i)) for i in (a, b)}
    url = page.url
    assert "scale=500" in url and "t2.cmap=viridis" in url and "t2.az=" in url, url
    shot(browser, "ws-reload-before.png")

    page.reload()
    wait_ready(browser)
    after = view_figures(browser)
    assert abs(after["top"] - before["top"]) < 1e-3
    assert abs(after["ratio"] - 500) < 1e-6
    assert page.url == url
    assert track_order(browser) == order
    assert page.get_attribute(f".ws-track[data-id='{a.pk}']", "data-azimuth") != "0"
    for image in (a, b):
        again = canvas_pixels(browser, image_body(image))
        assert np.abs(again.astype(int) - pixels[image.pk]).max() <= 1, image.name
    coloured = pixels[a.pk][..., 0] != pixels[a.pk][..., 2]
    assert coloured.mean() > 0.9, "viridis, not grey"
    assert not (pixels[b.pk][..., 0] != pixels[b.pk][..., 2]).any(), "the other track stays grey"
    shot(browser, "ws-reload-after.png")
    assert page_errors(browser) == []


def test_tiles_well_add_remove_reorder_tracks(twin_images, browser):
    a, b = twin_images
    open_tracks(browser, f"/images/{a.pk}/tracks?t=depth,img:{a.pk},img:{b.pk}")
    page = browser.page

    def kinds() -> list[str]:
        return track_order(browser)

    page.select_option("#ws-add", "depth")
    assert kinds() == ["depth", f"image{a.pk}", f"image{b.pk}", "depth"]
    page.locator(".ws-track").nth(0).locator("button[title='Move right']").click()
    assert kinds() == [f"image{a.pk}", "depth", f"image{b.pk}", "depth"]
    page.locator(".ws-track").nth(1).locator("button[title='Remove the track']").click()
    page.locator(f".ws-track[data-id='{b.pk}'] button[title='Remove the track']").click()
    assert kinds() == [f"image{a.pk}", "depth"]
    page.select_option("#ws-add", f"img:{b.pk}")
    wait_ready(browser)
    assert kinds() == [f"image{a.pk}", "depth", f"image{b.pk}"]
    assert f"t=img%3A{a.pk}%2Cdepth%2Cimg%3A{b.pk}" in page.url
    pixels = canvas_pixels(browser, image_body(b))
    assert pixels[..., 3].min() == 255
    assert page_errors(browser) == []


WELL_TOP, WELL_STEP, WELL_ROWS, WELL_SECTORS = 2000.0, 0.1, 1000, 36
#: GR (gAPI) and ILD (ohm.m) are constant over each quarter of the well.
GR_BLOCKS = (30.0, 60.0, 90.0, 120.0)
ILD_BLOCKS = (1.0, 10.0, 100.0, 1000.0)
#: The colour of a track's first curve (static/tiles/well/curves.js CURVE_COLOURS[0]).
FIRST_COLOUR = (0x00, 0x72, 0xB2)


@pytest.fixture
def las_well(db, tmp_path):
    """A LAS 2.0 well written with lasio: a 36-sector image (ohm.m), GR and ILD in four blocks."""
    import lasio

    from ingest.wells import well_create, well_ingest

    depth = WELL_TOP + np.arange(WELL_ROWS) * WELL_STEP
    azimuth = np.arange(WELL_SECTORS) * 2 * np.pi / WELL_SECTORS
    image = 10 + 5 * np.sin(azimuth[None, :] - depth[:, None] * 2)  # a sinusoid per metre or so
    block = np.arange(WELL_ROWS) * 4 // WELL_ROWS
    las = lasio.LASFile()
    las.well["WELL"].value = "ALPHA-1"
    las.append_curve("DEPT", depth, unit="M")
    for k in range(WELL_SECTORS):
        las.append_curve(f"RES{k + 1}", image[:, k], unit="ohm.m", descr="resistivity image")
    las.append_curve("GR", np.array(GR_BLOCKS)[block], unit="gAPI", descr="gamma ray")
    las.append_curve("ILD", np.array(ILD_BLOCKS)[block], unit="ohm.m", descr="deep induction")
    path = tmp_path / "alpha.las"
    las.write(str(path), version=2.0, fmt="%.4f")
    with open(path, "rb") as stream:
        well, _ = well_create(stream=stream, name="alpha", owner=None, queue=False)
    well = well_ingest(well_id=well.pk)
    assert well is not None and well.status == "succeeded", well and well.error
    return well


def curve_x(pixels: np.ndarray, y: int) -> float:
    """Mean x of the first curve's colour in a screen row of a curve track."""
    row = pixels[y, :, :3].astype(int)
    # The grid is > 390 away; a fill has the curve's colour at a third of its opacity.
    match = np.flatnonzero((np.abs(row - FIRST_COLOUR).sum(axis=1) < 150) & (pixels[y, :, 3] > 160))
    assert match.size, f"no curve in row {y}"
    return float(match.mean())


def block_row(figures: dict[str, float], block: int) -> int:
    """Screen row of the middle of a quarter of the well."""
    depth = WELL_TOP + (block + 0.5) * WELL_ROWS / 4 * WELL_STEP
    return round((depth - figures["top"]) * figures["pxPerUnit"])


def test_tiles_well_page_shows_the_well_images_and_curves(las_well, browser):
    open_tracks(browser, f"/wells/{las_well.pk}")
    page = browser.page
    kinds = page.eval_on_selector_all(".ws-track", "ns => ns.map(n => n.dataset.kind)")
    assert kinds == ["depth", "image", "curve"]
    assert page.inner_text(".ws-track-curve .ws-track-title") == "GR, ILD"
    heads = page.eval_on_selector_all(".ws-curve-head", "ns => ns.map(n => n.innerText.replace(/\\n/g, ' '))")
    assert heads == ["20 GR (gAPI) 120", "1 ILD (ohm.m) log 1000"], heads
    assert page.inner_text(".ws-track-image .ws-legend-unit") == "ohm.m"
    page.select_option("#ws-scale", "fit")
    wait_ready(browser)
    shot(browser, "ws-well-fit.png")
    assert page_errors(browser) == []


def test_tiles_well_curve_limits_and_log_scale(las_well, browser):
    width = 300
    open_tracks(
        browser,
        f"/wells/{las_well.pk}?t=depth,curve:GR,curve:ILD&w=72,{width},{width}&scale=fit"
        "&t1.GR=0,150,fill=0&t2.ILD=0.1,10000,log",
    )
    figures = view_figures(browser)
    gr = ".ws-track-curve >> nth=0"
    ild = ".ws-track-curve >> nth=1"
    gr_pixels = canvas_pixels(browser, f"{gr} >> .ws-track-body")
    ild_pixels = canvas_pixels(browser, f"{ild} >> .ws-track-body")
    shot(browser, "ws-curves-log.png")
    for block, (gr_value, ild_value) in enumerate(zip(GR_BLOCKS, ILD_BLOCKS, strict=True)):
        y = block_row(figures, block)
        # Linear 0..150 gAPI: GR 30, 60, 90, 120 at 1/5, 2/5, 3/5, 4/5 of the track.
        assert abs(curve_x(gr_pixels, y) - gr_value / 150 * width) <= 1.5, block
        # Log 0.1..10,000 ohm.m (five decades): ILD 1, 10, 100, 1000 at 1/5 ... 4/5.
        assert abs(curve_x(ild_pixels, y) - (np.log10(ild_value) + 1) / 5 * width) <= 1.5, block
        # GR is filled down to its baseline, 0 gAPI at the left edge (a third opaque); ILD is not filled.
        for x in (10, 30):  # off the grid lines
            assert (
                60 < gr_pixels[y, x, 3] < 120
                and np.abs(gr_pixels[y, x, :3].astype(int) - FIRST_COLOUR).sum() < 20
            )
            assert ild_pixels[y, x, 3] == 0
        assert gr_pixels[y, round(gr_value / 150 * width) + 20, 3] == 0, "nothing right of the curve"

    # The same ILD on a linear 0..2000 scale: 1 and 10 ohm.m crowd the left edge, 1000 at half.
    page = browser.page
    page.click(f"{ild} >> .ws-settings summary")
    page.fill(f"{ild} >> .ws-right", "2000")
    page.fill(f"{ild} >> .ws-left", "0")
    page.uncheck(f"{ild} >> .ws-log")
    page.click(f"{ild} >> .ws-settings summary")
    wait_ready(browser)
    linear = canvas_pixels(browser, f"{ild} >> .ws-track-body")
    assert curve_x(linear, block_row(figures, 0)) <= 1.5
    assert abs(curve_x(linear, block_row(figures, 3)) - 1000 / 2000 * width) <= 1.5
    assert re.search(r"t2\.ILD=0%2C2000(&|$)", page.url), page.url
    assert page.get_attribute(f"{ild} >> .ws-curve-head", "data-scale") == "linear"
    shot(browser, "ws-curves-linear.png")

    # The readout: each curve's value at the cursor's depth, the same depth as the depth track's.
    box = page.locator(f"{gr} >> .ws-track-body").bounding_box()
    page.mouse.move(box["x"] + 10, box["y"] + block_row(figures, 2))
    page.wait_for_timeout(200)
    readouts = page.eval_on_selector_all(".ws-track-readout", "ns => ns.map(n => ({...n.dataset}))")
    assert len({r["depth"] for r in readouts}) == 1
    assert json.loads(readouts[1]["values"]) == {"GR": 90}
    assert json.loads(readouts[2]["values"]) == {"ILD": 100}
    assert page.inner_text(f"{gr} >> .ws-track-readout") == "GR 90 gAPI"
    assert page_errors(browser) == []


def test_tiles_well_curves_are_asked_for_the_depth_range_in_view(las_well, browser):
    open_tracks(browser, f"/wells/{las_well.pk}?t=depth,curve:GR&scale=200&top=2010")
    asked = [r.url for r in browser.responses if re.search(r"/api/v1/wells/\d+/curves/GR\?", r.url)]
    assert asked, "no curve request"
    query = dict(part.split("=") for part in asked[-1].split("?")[1].split("&"))
    figures = view_figures(browser)
    span = figures["bottom"] - figures["top"]
    height = browser.page.eval_on_selector(".ws-track-curve .ws-track-body", "c => c.clientHeight")
    assert abs(float(query["depth_min"]) - (figures["top"] - span / 2)) < 1e-6
    assert abs(float(query["depth_max"]) - (figures["bottom"] + span / 2)) < 1e-6
    assert int(query["max_points"]) == round(4 * height)
    assert page_errors(browser) == []


def tile_queries(browser: Browser, image: Image, since: int) -> set[str]:
    """The query strings of the tile requests of an image after the ``since``-th response."""
    prefix = f"/api/v1/images/{image.pk}/tiles/"
    return {
        r.url.split("?", 1)[1] if "?" in r.url else "" for r in browser.responses[since:] if prefix in r.url
    }


def test_tiles_well_normalisation_switching(sample_image, browser):
    open_tracks(
        browser, f"/images/{sample_image.pk}/tracks?t=depth,img:{sample_image.pk}&w=72,300&scale=200&top=9050"
    )
    page = browser.page
    body = image_body(sample_image)
    plain = canvas_pixels(browser, body)
    assert tile_queries(browser, sample_image, 0) == {""}
    settings = ".ws-track-image .ws-settings"
    page.click(f"{settings} summary")

    seen = len(browser.responses)
    page.select_option(f"{settings} .ws-normalize", "static")
    wait_ready(browser)
    assert tile_queries(browser, sample_image, seen) == {"normalize=static"}
    static = canvas_pixels(browser, body)
    assert np.abs(static.astype(int) - plain).mean() > 5, "static equalisation changes the grey levels"
    assert page.inner_text(".ws-track-image .ws-legend-unit") == "static percentile"

    seen = len(browser.responses)
    page.select_option(f"{settings} .ws-normalize", "dynamic")
    wait_ready(browser)
    assert tile_queries(browser, sample_image, seen) == {"normalize=dynamic&window=0.6"}
    dynamic = canvas_pixels(browser, body)
    assert np.abs(dynamic.astype(int) - static).mean() > 5
    # Equalised over 0.6 m, every window spans the whole grey scale: more contrast than static.
    assert dynamic[..., 0].std() > static[..., 0].std()

    seen = len(browser.responses)
    page.fill(f"{settings} .ws-window", "5")
    page.press(f"{settings} .ws-window", "Enter")
    wait_ready(browser)
    assert tile_queries(browser, sample_image, seen) == {"normalize=dynamic&window=5"}
    wider = canvas_pixels(browser, body)
    assert np.abs(wider.astype(int) - dynamic).mean() > 2
    assert page.inner_text(".ws-track-image .ws-legend-unit") == "dynamic, 5 m percentile"
    assert "t1.norm=dynamic&t1.win=5" in page.url
    page.click(f"{settings} summary")
    shot(browser, "ws-dynamic-5m.png")

    page.reload()
    wait_ready(browser)
    np.testing.assert_array_equal(canvas_pixels(browser, body), wider)
    assert page_errors(browser) == []


def test_tiles_well_wheel_zooms_drag_pans_goto_centres(sample_image, browser):
    open_tracks(browser, f"/images/{sample_image.pk}/tracks?t=depth,img:{sample_image.pk}&scale=200&top=9100")
    page = browser.page
    before = view_figures(browser)
    box = page.locator(image_body(sample_image)).bounding_box()
    x, y = box["x"] + 100, box["y"] + 250
    depth_at_mouse = before["top"] + 250 / before["pxPerUnit"]

    page.mouse.move(x, y)
    page.mouse.wheel(0, -300)  # zoom in about the mouse
    wait_ready(browser)
    zoomed = view_figures(browser)
    assert zoomed["ratio"] < 200
    # The depth under the mouse stays (to the pixel: Chromium rounds the mouse position).
    assert abs(zoomed["top"] + 250 / zoomed["pxPerUnit"] - depth_at_mouse) <= 1 / zoomed["pxPerUnit"]
    assert page.input_value("#ws-scale") == "free"
    assert page.inner_text("#ws-scale-free") == f"1:{round(zoomed['ratio'])}"

    page.mouse.down()
    page.mouse.move(x, y - 200, steps=5)  # drag the log up 200 px: 200 px deeper
    page.mouse.up()
    wait_ready(browser)
    panned = view_figures(browser)
    assert abs(panned["top"] - (zoomed["top"] + 200 / zoomed["pxPerUnit"])) < 1e-6
    assert panned["ratio"] == zoomed["ratio"]

    page.keyboard.down("Shift")
    page.mouse.wheel(0, 100)  # shift + wheel scrolls 100 px deeper
    page.keyboard.up("Shift")
    wait_ready(browser)
    scrolled = view_figures(browser)
    assert abs(scrolled["top"] - (panned["top"] + 100 / panned["pxPerUnit"])) < 1e-6

    page.fill("#ws-goto-depth", "9400")
    page.click("#ws-goto button[type=submit]")
    wait_ready(browser)
    centred = view_figures(browser)
    assert abs((centred["top"] + centred["bottom"]) / 2 - 9400) < 1e-6
    page.select_option("#ws-scale", "200")
    wait_ready(browser)
    assert abs((view_figures(browser)["top"] + view_figures(browser)["bottom"]) / 2 - 9400) < 1e-6
    assert page_errors(browser) == []
