"""Upload feedback in Chromium: each new image's card and the counters appear without a
reload, one file can be cancelled on its way and retried, a pasted image is uploaded,
and on a phone the upload card folds once the user has images."""

from __future__ import annotations

import contextlib

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Route, expect

from .helpers import (
    choose_and_upload,
    expect_uploaded,
    gallery_image,
    sign_up,
    write_landscape,
)

pytestmark = pytest.mark.e2e

PASTE_JS = """async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 120; canvas.height = 60;
  const context = canvas.getContext("2d");
  context.fillStyle = "#3a7"; context.fillRect(0, 0, 120, 60);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const data = new DataTransfer();
  data.items.add(new File([blob], "pasted.png", { type: "image/png" }));
  document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
}"""


def test_cards_counters_cancel_retry_paste_and_the_phone_card(tab, tmp_path):
    page = tab.page
    sign_up(tab)
    page.set_viewport_size({"width": 390, "height": 844})
    usage = page.locator("#usage")
    expect(usage).to_contain_text("You have 0 images")
    upload_card = page.locator("section.upload-card")
    expect(upload_card).not_to_have_class("upload-compact")
    expect(page.locator("#file")).to_be_visible()

    paths = [write_landscape(tmp_path, f"{n}.png", s) for n, s in (("one", 40), ("two", 41))]
    expect_uploaded(tab, choose_and_upload(tab, paths))
    for name in ("one.png", "two.png"):
        expect(gallery_image(tab, "public", name)).to_have_count(1)
    expect(usage).to_contain_text("You have 2 images using ")
    expect(page.locator("#public-images .empty-state")).to_have_count(0)
    # the card folded to the drop zone and the button, as after a reload
    assert "upload-compact" in (upload_card.get_attribute("class") or "").split()
    expect(page.locator("#file")).to_be_hidden()
    expect(page.locator("#drop-zone")).to_be_visible()
    tab.assert_fits(390)

    held: list[Route] = []
    page.route("**/api/images", lambda route: held.append(route))
    [row] = choose_and_upload(tab, [write_landscape(tmp_path, "slow.png", 47)])
    expect(row.locator(".upload-cancel")).to_be_visible()
    for _ in range(200):  # at most 10 s for the request to reach the route
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the upload never left the page"
    row.get_by_role("button", name="Cancel the upload of slow.png").click()
    expect(row).to_have_attribute("data-result", "failed")
    expect(row.locator(".upload-status")).to_have_text("Cancelled")
    expect(row.locator(".upload-cancel")).to_be_hidden()
    expect(gallery_image(tab, "public", "slow.png")).to_have_count(0)
    # The held request must never reach the server: removing the route could let it go
    # on (as the next handler would), which a busy machine showed as a stored slow.png.
    for route in held:
        with contextlib.suppress(PlaywrightError):
            route.abort()
    page.unroute("**/api/images")
    row.get_by_role("button", name="Retry the upload of slow.png").click()
    expect_uploaded(tab, [row])
    expect(row.locator(".upload-retry")).to_be_hidden()
    expect(gallery_image(tab, "public", "slow.png")).to_have_count(1)
    expect(usage).to_contain_text("You have 3 images using ")

    page.check("#visibility-private")
    page.evaluate(PASTE_JS)
    pasted = page.locator("#upload-results li").last
    expect(pasted.locator(".upload-name")).to_have_text("pasted.png")
    expect_uploaded(tab, [pasted])
    expect(gallery_image(tab, "private", "pasted.png")).to_have_count(1)
    expect(usage).to_contain_text("You have 4 images using ")
    expect(page.locator("#upload-summary")).to_have_text("4 uploaded, 0 failed.")
    tab.assert_fits(390)


ROWS_JS = """() => {
  const rows = new Map();
  document.querySelectorAll("#public-images img.thumb").forEach((img) => {
    if (!img.alt.startsWith("shape")) { return; }  // pictures of other tests' users
    const box = img.getBoundingClientRect();
    const top = Math.round(box.top);
    if (!rows.has(top)) { rows.set(top, []); }
    rows.get(top).push({ name: img.alt, width: box.width, height: box.height });
  });
  return Array.from(rows.values());
}"""


def test_the_gallery_is_a_justified_grid_by_month(tab, tmp_path):
    page = tab.page
    sign_up(tab)
    sizes = [(480, 320), (300, 400), (600, 300), (400, 400)]
    paths = [
        write_landscape(tmp_path, f"shape{n}.png", 50 + n, size) for n, size in enumerate(sizes)
    ]
    expect_uploaded(tab, choose_and_upload(tab, paths))
    tab.goto("/myfiles")
    expect(page.locator("#public-images .month-header")).to_have_count(1)
    rows = page.evaluate(ROWS_JS)
    assert len(rows[0]) == 4, rows  # the newest four share the first row at 1280 px
    heights = [cell["height"] for cell in rows[0]]
    assert max(heights) - min(heights) <= 1.5, rows
    for cell in rows[0]:  # each at its own ratio
        w, h = sizes[int(cell["name"][len("shape") : -len(".png")])]
        assert abs(cell["width"] / cell["height"] - w / h) < 0.03, (sizes, rows)
    # the actions show on hover; the filename always
    item = page.locator("#public-images .gallery-item").first
    actions = item.locator(".card-actions")
    page.mouse.move(0, 0)
    expect(actions).to_have_css("opacity", "0")
    expect(item.locator(".filename")).to_be_visible()
    item.hover()
    expect(actions).to_have_css("opacity", "1")
    # select mode: a click on a picture ticks it instead of opening the viewer
    page.get_by_role("button", name="Select", exact=True).click()
    expect(page.locator("#select-mode")).to_have_attribute("aria-pressed", "true")
    item.locator("a.thumb-link").click()
    expect(item.locator("input.select-image")).to_be_checked()
    expect(page.locator("#viewer")).to_be_hidden()
    item.locator("a.thumb-link").click()
    expect(item.locator("input.select-image")).not_to_be_checked()
    page.locator("#select-mode").click()
    expect(page.locator("#select-mode")).to_have_attribute("aria-pressed", "false")
    page.set_viewport_size({"width": 390, "height": 844})
    tab.assert_fits(390)
    for row in page.evaluate(ROWS_JS):
        heights = [cell["height"] for cell in row]
        assert max(heights) - min(heights) <= 1.5, row
