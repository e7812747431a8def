"""The image page in Chromium shows the preview rendition (not the original), loaded,
at 1280 px and on a 390 px phone without sideways scrolling; the preview is made in the
background after the upload, as WebP or, with PREVIEW_FORMAT=avif, as AVIF."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .helpers import open_image_page, signed_up_with_pictures
from .live_server import LiveServer, live_server

pytestmark = pytest.mark.e2e

# Fetch the preview until it is no longer the thumbnail standing in (400 px wide); the
# browser decodes it: its width, height and content type.
PREVIEW_MADE_JS = """async (url) => {
  for (let tries = 0; tries < 100; tries++) {
    const response = await fetch(url);
    const bitmap = await createImageBitmap(await response.blob());
    const type = response.headers.get("Content-Type");
    if (bitmap.width > 400) return [bitmap.width, bitmap.height, type];
    await new Promise((done) => setTimeout(done, 100));
  }
  return null;
}"""


def preview_made(page, number: int) -> list | None:
    return page.evaluate(PREVIEW_MADE_JS, f"/image/{number}/preview")


@pytest.fixture(scope="module")
def avif_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The embedded default with PREVIEW_FORMAT=avif."""
    with live_server(tmp_path_factory.mktemp("e2e-avif"), {"PREVIEW_FORMAT": "avif"}) as running:
        yield running


def test_the_image_page_shows_the_preview(tab, tmp_path):
    page = tab.page
    signed_up_with_pictures(tab, tmp_path, ["view.png"], 11, (1800, 1200))
    number = open_image_page(tab, "public", "view.png")
    preview = page.locator("main img.preview")
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("(i) => i.currentSrc").endswith(f"/image/{number}/preview")
    # Made in the background after the upload: until then the thumbnail stands in,
    # never kept by the browser without asking again.
    assert preview_made(page, number) == [1600, 1067, "image/webp"]
    tab.assert_fits(390)
    page.set_viewport_size({"width": 390, "height": 844})
    tab.goto(f"/image/{number}")
    expect(preview).to_have_js_property("complete", True)
    tab.assert_fits(390)


def test_an_avif_preview_shows_in_chromium(open_tab, avif_server, tmp_path):
    tab = open_tab(avif_server)
    page = tab.page
    signed_up_with_pictures(tab, tmp_path, ["avif.png"], 12, (1800, 1200))
    number = open_image_page(tab, "public", "avif.png")
    assert preview_made(page, number) == [1600, 1067, "image/avif"]
    tab.goto(f"/image/{number}")
    preview = page.locator("main img.preview")
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("(i) => i.naturalWidth") == 1600  # decoded, not broken
    tab.assert_fits(390)
