"""The image page in Chromium shows the preview rendition (not the original), loaded,
at 1280 px and on a 390 px phone without sideways scrolling; the preview is made in the
background after the upload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import open_image_page, signed_up_with_pictures

pytestmark = pytest.mark.e2e


def test_the_image_page_shows_the_preview(tab, tmp_path):
    page = tab.page
    signed_up_with_pictures(tab, tmp_path, ["view.png"], 11, (1800, 1200))
    number = open_image_page(tab, "public", "view.png")
    preview = page.locator("main img.preview")
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("(i) => i.currentSrc").endswith(f"/image/{number}/preview")
    # Made in the background after the upload: until then the thumbnail stands in,
    # never kept by the browser without asking again.
    size = page.evaluate(
        """async (url) => {
          for (let tries = 0; tries < 100; tries++) {
            const bitmap = await createImageBitmap(await (await fetch(url)).blob());
            if (bitmap.width > 400) return [bitmap.width, bitmap.height];
            await new Promise((done) => setTimeout(done, 100));
          }
          return null;
        }""",
        f"/image/{number}/preview",
    )
    assert size == [1600, 1067]
    tab.assert_fits(390)
    page.set_viewport_size({"width": 390, "height": 844})
    tab.goto(f"/image/{number}")
    expect(preview).to_have_js_property("complete", True)
    tab.assert_fits(390)
