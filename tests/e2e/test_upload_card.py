"""The upload card on a phone in Chromium: once the user has images it is compact (the
drop zone, which opens the file chooser, stands in for the file field), so the gallery
starts on the first screen; uploading from it still works."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import (
    choose_and_upload,
    expect_uploaded,
    gallery_image,
    sign_up,
    signed_up_with_pictures,
    write_landscape,
)

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


def test_the_upload_card_is_compact_on_a_phone_once_there_are_images(tab, tmp_path):
    page = tab.page
    signed_up_with_pictures(tab, tmp_path, ["first.png"], 5)
    page.set_viewport_size(PHONE)
    tab.goto("/myfiles")
    card = page.locator("section.card").filter(has=page.locator("#upload-form"))
    height = card.evaluate("(c) => c.getBoundingClientRect().height")
    assert height <= 380, height  # it was 494 px: more than half the screen
    expect(page.locator("#file")).to_be_hidden()
    expect(page.locator("#drop-zone")).to_be_visible()
    top = gallery_image(tab, "public", "first.png").evaluate(
        "(img) => img.getBoundingClientRect().top"
    )
    assert top < PHONE["height"], top  # the gallery starts on the first screen
    tab.assert_fits(390)
    expect_uploaded(tab, choose_and_upload(tab, [write_landscape(tmp_path, "second.png", 6)]))


def test_a_new_user_on_a_phone_still_sees_the_file_field(tab):
    page = tab.page
    sign_up(tab)
    page.set_viewport_size(PHONE)
    tab.goto("/myfiles")
    expect(page.locator("#file")).to_be_visible()
    tab.assert_fits(390)
