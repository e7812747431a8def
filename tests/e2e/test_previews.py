"""The image page in Chromium shows the preview rendition (not the original), loaded,
at 1280 px and on a 390 px phone without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import (
    choose_and_upload,
    expect_uploaded,
    open_image_page,
    refresh_gallery,
    sign_up,
    write_landscape,
)

pytestmark = pytest.mark.e2e


def test_the_image_page_shows_the_preview(tab, tmp_path):
    page = tab.page
    sign_up(tab)
    photo = write_landscape(tmp_path, "view.png", 11, (1800, 1200))
    expect_uploaded(tab, choose_and_upload(tab, [photo]))
    refresh_gallery(tab)
    number = open_image_page(tab, "public", "view.png")
    preview = page.locator("main img.preview")
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("(i) => i.currentSrc").endswith(f"/image/{number}/preview")
    size = page.evaluate(
        """async (url) => {
          const bitmap = await createImageBitmap(await (await fetch(url)).blob());
          return [bitmap.width, bitmap.height];
        }""",
        f"/image/{number}/preview",
    )
    assert size == [1600, 1067]
    tab.assert_fits(390)
    page.set_viewport_size({"width": 390, "height": 844})
    tab.goto(f"/image/{number}")
    expect(preview).to_have_js_property("complete", True)
    tab.assert_fits(390)
