"""The image page's keys in Chromium: → and ← walk the gallery, Escape goes back to it,
and keys typed into a field are left alone; the page fits a 390 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import open_image_page, signed_up_with_pictures

pytestmark = pytest.mark.e2e


def test_arrow_keys_walk_the_gallery_and_escape_goes_back(tab, tmp_path):
    page = tab.page
    signed_up_with_pictures(tab, tmp_path, ["step0.png", "step1.png", "step2.png"], 40)
    names = page.locator("#public-images a.filename").all_inner_texts()  # the gallery's order
    assert sorted(names) == ["step0.png", "step1.png", "step2.png"]
    first = open_image_page(tab, "public", names[0])
    expect(page.locator("#previous-image")).to_have_count(0)
    with tab.navigation():
        page.keyboard.press("ArrowRight")
    expect(page.locator("h1")).to_have_text(names[1])
    tab.assert_fits(390)
    with tab.navigation():
        page.keyboard.press("ArrowRight")
    expect(page.locator("h1")).to_have_text(names[2])
    expect(page.locator("#next-image")).to_have_count(0)
    with tab.navigation():
        page.keyboard.press("ArrowLeft")
    expect(page.locator("h1")).to_have_text(names[1])

    page.locator("#new-filename").focus()  # typing in a field moves the caret, not the page
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Escape")
    expect(page.locator("h1")).to_have_text(names[1])
    page.locator("#new-filename").blur()

    with tab.navigation(tab.url("/gallery")):
        page.keyboard.press("Escape")
    expect(page.locator(f'a.filename[href="/image/{first}"]')).to_have_count(1)
