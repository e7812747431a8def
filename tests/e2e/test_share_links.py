"""Albums and share links in Chromium: the owner shares a private image with a password,
a person without an account opens the link in a fresh browser, sees and downloads the
image, the owner revokes the link, and the link shows "nothing here"; the same for an
album made and filled from an image's page. Every page fits a phone's width."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .helpers import (
    Tab,
    album_of_selection,
    choose_and_upload,
    expect_uploaded,
    open_image_page,
    refresh_gallery,
    sign_up,
    unique,
    write_landscape,
)

pytestmark = pytest.mark.e2e

LINK_PASSWORD = "harbour-view-77"


def download_original(visitor: Tab, name: str) -> None:
    with visitor.page.expect_download() as download:
        visitor.page.locator("#shared-download").click()
    assert download.value.suggested_filename == name


def revoke_and_see_the_404(owner: Tab, visitor: Tab, path: str) -> None:
    """The owner revokes their only link; the visitor's next look finds nothing there."""
    owner.goto("/shared-links")
    with owner.navigation():
        owner.page.locator("#link-list").get_by_role("button", name="Revoke").click()
    expect(owner.page.locator(".alert-success")).to_contain_text("Revoked the link")
    expect(owner.page.locator("#no-links")).to_be_visible()
    visitor.expect_http_error(404, path)
    visitor.goto(path, status=404)
    expect(visitor.page.locator("main")).to_contain_text("There is nothing at this address.")


def test_share_an_image_by_link_then_revoke_it(tab, open_tab, server, tmp_path):
    page = tab.page
    sign_up(tab)
    name = unique("shared") + ".png"
    expect_uploaded(tab, choose_and_upload(tab, [write_landscape(tmp_path, name, 11)], "private"))
    refresh_gallery(tab)
    open_image_page(tab, "private", name)
    page.locator("#share-box summary").click()
    page.select_option("#share-expires", "1d")
    page.fill("#share-password", LINK_PASSWORD)
    with tab.navigation():
        page.locator("#share-form").get_by_role("button", name="Create link").click()
    link = page.locator("#new-link").input_value()
    path = urlsplit(link).path
    assert path.startswith("/s/") and len(path) > 30, link
    expect(page.locator("#link-list")).to_contain_text(name)
    tab.assert_fits(390)

    visitor = open_tab(server)
    answer = visitor.goto(path)
    assert answer.headers["x-robots-tag"].startswith("noindex")
    assert answer.headers["referrer-policy"] == "no-referrer"
    expect(visitor.page.locator("h1")).to_have_text("This link needs a password")
    visitor.assert_fits(390)
    visitor.page.fill("#share-password", LINK_PASSWORD)
    with visitor.navigation(link):
        visitor.page.get_by_role("button", name="Open").click()
    expect(visitor.page.locator("h1")).to_have_text(name)
    expect(visitor.page.locator("#shared-image img")).to_have_attribute("src", f"{path}/preview")
    expect(visitor.page.locator("#shared-image img")).to_have_js_property("complete", True)
    expect(visitor.page.get_by_role("link", name="My Files")).to_have_count(0)
    visitor.assert_fits(390)
    download_original(visitor, name)

    revoke_and_see_the_404(tab, visitor, path)


def test_make_an_album_fill_it_and_share_it(tab, open_tab, server, tmp_path):
    page = tab.page
    sign_up(tab)
    name = unique("album") + ".png"
    expect_uploaded(tab, choose_and_upload(tab, [write_landscape(tmp_path, name, 12)], "private"))
    refresh_gallery(tab)
    with tab.navigation(tab.url("/albums")):
        page.get_by_role("link", name="Albums", exact=True).click()
    expect(page.locator("#no-albums")).to_be_visible()
    page.fill("#album-title", "Summer by the sea")
    page.fill("#album-description", "Rocks, waves and a lighthouse")
    with tab.navigation():
        page.get_by_role("button", name="Make album").click()
    expect(page.locator("h1")).to_have_text("Summer by the sea")
    expect(page.locator("#album-empty")).to_be_visible()
    tab.assert_fits(390)

    tab.goto("/myfiles")
    open_image_page(tab, "private", name)
    with tab.navigation():
        page.locator("#image-albums").click()
    tab.assert_fits(390)
    with tab.navigation():
        page.locator("#add-to-album-form").get_by_role("button", name="Add").click()
    expect(page.locator("#holding-albums")).to_contain_text("Summer by the sea")
    with tab.navigation():
        page.locator("#holding-albums a").click()
    expect(page.locator("#album-images img")).to_have_attribute("alt", name)
    tab.assert_fits(390)
    tab.goto("/albums")
    expect(page.locator("#album-list")).to_contain_text("1 image")
    tab.assert_fits(390)

    with tab.navigation():
        page.locator("#album-list a.album-title").click()
    page.locator("#share-box summary").click()
    page.fill("#share-password", LINK_PASSWORD)
    with tab.navigation():
        page.locator("#share-form").get_by_role("button", name="Create link").click()
    path = urlsplit(page.locator("#new-link").input_value()).path
    expect(page.locator("#link-list")).to_contain_text("Summer by the sea")

    visitor = open_tab(server)
    visitor.goto(path)
    visitor.page.fill("#share-password", LINK_PASSWORD)
    with visitor.navigation():
        visitor.page.get_by_role("button", name="Open").click()
    expect(visitor.page.locator("h1")).to_have_text("Summer by the sea")
    visitor.assert_fits(390)
    with visitor.navigation():
        visitor.page.locator("#shared-album-images a.filename").click()
    expect(visitor.page.locator("h1")).to_have_text(name)
    visitor.assert_fits(390)
    download_original(visitor, name)
    revoke_and_see_the_404(tab, visitor, path)


def test_add_the_selected_images_to_an_album(tab, tmp_path):
    sign_up(tab)
    names = [unique("pick") + ".png" for _ in range(2)]
    files = [write_landscape(tmp_path, name, 20 + n) for n, name in enumerate(names)]
    expect_uploaded(tab, choose_and_upload(tab, files, "private"))
    album_of_selection(tab, "Picks", names)
