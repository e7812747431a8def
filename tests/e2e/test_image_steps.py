"""The image page's keys in Chromium: → and ← walk the gallery, Escape goes back to it,
and keys typed into a field are left alone; the page fits a 390 px phone."""

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


def test_arrow_keys_walk_the_gallery_and_escape_goes_back(tab, tmp_path):
    """Private pictures: their gallery holds only this user's images, whatever other tests
    uploaded to the same server (the public gallery is shared by every test)."""
    page = tab.page
    sign_up(tab)
    paths = [write_landscape(tmp_path, f"step{n}.png", 40 + n) for n in range(3)]
    expect_uploaded(tab, choose_and_upload(tab, paths, "private"))
    refresh_gallery(tab)
    names = page.locator("#private-images a.filename").all_inner_texts()  # the gallery's order
    assert sorted(names) == ["step0.png", "step1.png", "step2.png"]
    first = open_image_page(tab, "private", names[0])
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

    with tab.navigation(tab.url("/myfiles")):
        page.keyboard.press("Escape")
    expect(page.locator(f'a.filename[href="/image/{first}"]')).to_have_count(1)
