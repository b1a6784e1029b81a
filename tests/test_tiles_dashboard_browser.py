"""The dashboard at / in a real browser (Playwright driving Debian's Chromium).

A user pastes a token, uploads a small CSV through the form and sees it appear in
the list, ingested, with a strip thumbnail and an embed URL that draws. Screenshots
go to ``test-artifacts/``.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from tests.test_tiles_viewer_browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS, COLUMNS = 30, 8


@pytest.fixture
def browser(live_server, tmp_path):
    """A page in Chromium that may use the clipboard, pointed at ``live_server``."""
    with chromium(live_server, tmp_path, ("clipboard-read", "clipboard-write")) as page:
        yield page


@pytest.fixture
def small_csv(tmp_path):
    """A 30 x 8 uint8 log at 1500.0..1502.9 ft, value = 8 * row + column."""
    lines = ["depth," + ",".join(f"col{c}" for c in range(1, COLUMNS + 1))]
    lines += [
        f"{1500 + row * 0.1:.1f}," + ",".join(str(8 * row + c) for c in range(COLUMNS)) for row in range(ROWS)
    ]
    path = tmp_path / "tiny-well.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tiles_dashboard_upload_form_ingests_a_csv(small_csv, api_token, browser):
    page = browser.page
    browser.goto("/")
    assert "No images yet" in page.inner_text("#image-list-body")

    page.set_input_files("#upload-file", str(small_csv))
    page.fill("#upload-name", "tiny well")
    page.select_option("#upload-unit", "ft")

    # A wrong token: refused, said so, and not kept.
    page.fill("#upload-token", "not-a-token")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/images") and r.request.method == "POST"):
        page.click("#upload-button")
    page.wait_for_selector("#upload-status[data-state=failed]")
    assert "refused the token" in page.inner_text("#upload-text")
    assert page.evaluate("localStorage.getItem('depthtiles.token')") is None
    # Chromium logs the refused request itself; nothing else went wrong.
    assert len(browser.errors) == 1 and "401" in browser.errors[0], browser.errors
    browser.errors.clear()

    # The right token: uploaded (progress events), ingested, listed.
    page.fill("#upload-token", api_token)
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/images") and r.request.method == "POST"
    ) as posted:
        page.click("#upload-button")
    assert posted.value.request.headers["authorization"] == f"Token {api_token}"
    assert posted.value.status in (200, 201, 202), posted.value.text()
    image_id = posted.value.json()["id"]
    page.wait_for_selector("#upload-status[data-state=done]")
    assert float(page.get_attribute("#upload-form", "data-uploaded")) == 1.0
    assert page.eval_on_selector("#upload-progress", "e => e.value") == 1
    assert page.inner_text("#upload-text").startswith("Ingested “tiny well”: 30 × 8 px.")
    assert page.get_attribute("#upload-viewer-link", "href").endswith(f"/images/{image_id}")

    row = page.locator(f"tr.image-row[data-image-id='{image_id}']")
    row.wait_for()
    assert row.get_attribute("data-status") == "succeeded"
    assert row.locator(".image-name").inner_text() == "tiny well"
    assert row.locator(".col-depth").inner_text().strip() == "1500.0 – 1502.9 ft"
    assert row.locator(".col-size").inner_text().startswith("30 × 8 px")
    assert row.locator(f"a[href='/images/{image_id}']").count() >= 1
    assert row.locator(f"a[href='/api/v1/images/{image_id}']").count() == 1
    thumb = row.locator("img.thumb")
    thumb.evaluate("img => img.decode()")
    assert thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [48, 240]

    # The embed snippet: copied as is, and it draws the whole log as a 64 x 400 strip.
    embed = row.locator(".embed-url").input_value()
    assert embed.startswith(browser.base_url + f"/api/v1/images/{image_id}/data/thumbnail.png?")
    assert "depth_min=1500.0&depth_max=1502.9" in embed
    row.locator(".copy-button").click()
    page.wait_for_function("document.querySelector('.copy-button').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == embed
    strip = page.request.get(embed)
    assert strip.status == 200
    pixels = np.asarray(PILImage.open(io.BytesIO(strip.body())).convert("LA"))
    assert pixels.shape == (400, 64, 2)
    # Values grow with depth (8 * row + column): dark at the top, lighter at the bottom.
    assert pixels[:20, :, 0].mean() < 30
    assert pixels[-20:, :, 0].mean() > 200
    browser.screenshot("dashboard-after-upload.png")

    # The token is kept for the next visit.
    page.reload()
    assert page.input_value("#upload-token") == api_token
    detail = page.request.get(f"{browser.base_url}/api/v1/images/{image_id}").json()
    assert (detail["depth_unit"], detail["rows"], detail["columns"]) == ("ft", ROWS, COLUMNS)
    assert browser.errors == []


@pytest.fixture
def many_images(db, sample_image):
    """The sample log (oldest) and 22 newer images still pending: 23, two pages of 20."""
    from ingest.models import Image

    newer = [Image.objects.create(name=f"pending-{i:02d}", status=Image.Status.PENDING) for i in range(22)]
    return sample_image, newer


def test_tiles_dashboard_pages_newest_first(many_images, browser):
    sample, newer = many_images
    browser.goto("/")
    names = browser.page.eval_on_selector_all(".image-row .image-name", "es => es.map(e => e.textContent)")
    assert names == [image.name for image in reversed(newer)][:20]
    assert "23 images, showing 1–20, newest first" in browser.page.inner_text(".list-count")
    browser.screenshot("dashboard-page-1.png")

    # The oldest image, the sample, is on page 2 with its strip.
    with browser.page.expect_response(lambda r: "/data/thumbnail.png" in r.url and r.status == 200):
        browser.page.click(".pagination a[rel=next]")
    assert browser.page.url.endswith("/?page=2")
    rows = browser.page.locator(".image-row")
    assert rows.count() == 3
    row = browser.page.locator(f"tr[data-image-id='{sample.pk}']")
    assert "9000.1 – 9546.0 m" in row.inner_text()
    assert browser.page.inner_text(".pagination .page-current") == "2"
    thumb = row.locator("img.thumb")
    thumb.evaluate("img => img.decode()")
    shot = browser.screenshot("dashboard-page-2.png")
    # The strip is drawn: grey log pixels, not the empty placeholder.
    box = thumb.bounding_box()
    top, left = int(box["y"]) + 2, int(box["x"]) + 2
    strip = shot[top : top + int(box["height"]) - 4, left : left + 44]
    assert strip.std() > 15
    assert browser.errors == []
