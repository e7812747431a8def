"""The trash in Chromium: delete from the image page, find the image in the Trash, restore
it, delete it again and delete it for good after the confirmation page; every page is
checked at 1280 px and fits a 390 px phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import open_image_page, signed_up_with_pictures

pytestmark = pytest.mark.e2e

LONG_NAME = "a-rather-long-holiday-photo-name-without-any-spaces-in-it.png"


def test_delete_restore_and_delete_for_good(tab, tmp_path):
    page = tab.page
    signed_up_with_pictures(tab, tmp_path, [LONG_NAME], 7)
    image_id = open_image_page(tab, "public", LONG_NAME)

    with tab.navigation(tab.url("/myfiles")):
        page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text(f"Moved “{LONG_NAME}” to the trash.")
    expect(page.locator("#public-images")).not_to_contain_text(LONG_NAME)

    with tab.navigation(tab.url("/trash")):
        page.get_by_role("link", name="Trash", exact=True).click()
    item = page.locator(f"#trashed-{image_id}")
    expect(item.locator(".filename")).to_have_text(LONG_NAME)
    expect(item.get_by_alt_text(LONG_NAME)).to_have_js_property("complete", True)
    tab.assert_fits(390)

    with tab.navigation(tab.url(f"/image/{image_id}")):
        item.get_by_role("button", name=f"Restore {LONG_NAME}").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Restored “{LONG_NAME}”.")
    with tab.navigation(tab.url("/myfiles")):
        page.get_by_role("button", name="Delete", exact=True).click()

    tab.goto("/trash")
    with tab.navigation(tab.url(f"/trash/{image_id}/delete")):
        item.get_by_role("button", name=f"Delete forever {LONG_NAME}").click()
    expect(page.get_by_role("heading", name=re.compile("for good"))).to_contain_text(LONG_NAME)
    tab.assert_fits(390)
    with tab.navigation(tab.url("/trash")):
        page.get_by_role("button", name="Delete for good").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Deleted “{LONG_NAME}” for good.")
    expect(page.locator("#trash-empty")).to_have_text("The trash is empty.")
    tab.assert_fits(390)


def test_empty_trash_asks_first(tab, tmp_path):
    page = tab.page
    signed_up_with_pictures(tab, tmp_path, ["e0.png", "e1.png"], 20)
    for n in range(2):
        with tab.navigation(tab.url("/myfiles")):
            page.get_by_role("button", name=f"Delete e{n}.png").click()
    tab.goto("/trash")
    expect(page.locator(".trash-item")).to_have_count(2)
    with tab.navigation(tab.url("/trash/empty")):
        page.get_by_role("button", name="Empty trash").click()
    expect(page.get_by_role("heading", name="Empty the trash?")).to_be_visible()
    expect(page.locator("#to-delete li")).to_have_count(2)
    tab.assert_fits(390)
    with tab.navigation(tab.url("/trash")):
        page.get_by_role("button", name="Delete for good").click()
    expect(page.locator(".alert-success")).to_contain_text("Deleted 2 images for good.")
