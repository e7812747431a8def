"""The viewer across a gallery's pages, in Chromium, on a server of three pictures a
page: → on the last picture of page 1 shows the first of page 2, whose cards join the
grid (one month header, the "Next page" link gone with the last page), and the
slideshow goes on into the next page too; an album and its shared link as well. And
the grid's actions take no room under the pictures where there is a mouse: they lie
over the picture, shown on hover and keyboard focus; on a touch screen they stay under
the name, at least 44 px tall."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .helpers import (
    Tab,
    album_of_selection,
    choose_and_upload,
    expect_uploaded,
    refresh_gallery,
    sign_up,
    write_landscape,
)
from .live_server import LiveServer, live_server

pytestmark = pytest.mark.e2e

PAGE_SIZE = 3
THUMB = re.compile(r'<a href="/image/(\d+)" class="thumb-link"')


@pytest.fixture(scope="module")
def paged_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e-paged"), {"PAGE_SIZE": str(PAGE_SIZE)}) as on:
        yield on


def _private_ids(html: str) -> list[int]:
    """The ids of a My Files page's private grid, in its order."""
    section = html.split('id="private-images"', 1)[1]
    return [int(n) for n in THUMB.findall(section)]


def _with_pictures(tab: Tab, folder, count: int) -> list[int]:
    """A new user with ``count`` private pictures, on My Files: all their ids, in the
    grid's order, from its pages as the server gives them."""
    sign_up(tab)
    paths = [write_landscape(folder, f"page{n}.png", 90 + n) for n in range(count)]
    expect_uploaded(tab, choose_and_upload(tab, paths, "private"))
    refresh_gallery(tab)
    ids = _private_ids(tab.page.content())
    assert len(ids) == PAGE_SIZE
    more = tab.page.locator('#private-images nav a[rel="next"]').get_attribute("href")
    ids += _private_ids(tab.page.request.get(tab.url(more or "")).text())
    assert len(ids) == count
    return ids


def _at(tab: Tab, number: int, position: str) -> None:
    expect(tab.page).to_have_url(tab.url(f"/image/{number}"))
    tab.check()
    expect(tab.page.locator("#viewer-image")).to_have_attribute("src", f"/image/{number}/preview")
    expect(tab.page.locator("#viewer-position")).to_have_text(position)


def test_the_viewer_walks_on_into_the_next_page(open_tab, paged_server, tmp_path):
    tab = open_tab(paged_server)
    page = tab.page
    page.clock.install()
    ids = _with_pictures(tab, tmp_path, 5)
    cards = page.locator("#private-images .gallery-item")
    expect(cards).to_have_count(3)

    page.locator(f'#private-images a.thumb-link[href="/image/{ids[2]}"]').click()
    _at(tab, ids[2], "3 / 3")
    expect(page.locator("#viewer-next")).to_be_visible()  # more to come
    page.keyboard.press("ArrowRight")
    _at(tab, ids[3], "4 / 5")  # the first of page 2, without leaving the viewer
    expect(cards).to_have_count(5)
    expect(page.locator("#private-images .month-header")).to_have_count(1)
    expect(page.locator('#private-images nav a[rel="next"]')).to_have_count(0)  # the last page
    page.keyboard.press("ArrowLeft")
    _at(tab, ids[2], "3 / 5")
    page.keyboard.press("End")  # the last picture loaded
    _at(tab, ids[4], "5 / 5")
    expect(page.locator("#viewer-next")).to_be_hidden()
    page.keyboard.press("ArrowRight")
    _at(tab, ids[4], "5 / 5")
    page.keyboard.press("Escape")
    expect(page).to_have_url(tab.url("/myfiles"))
    tab.check()

    refresh_gallery(tab)  # the slideshow goes on into the next page too
    expect(cards).to_have_count(3)
    page.locator(f'#private-images a.thumb-link[href="/image/{ids[1]}"]').click()
    _at(tab, ids[1], "2 / 3")
    page.select_option("#viewer-interval", "3")
    page.locator("#viewer-play").click()
    page.clock.run_for(3_000)
    _at(tab, ids[2], "3 / 3")
    page.clock.run_for(3_000)
    _at(tab, ids[3], "4 / 5")
    page.clock.run_for(3_000)
    _at(tab, ids[4], "5 / 5")
    page.clock.run_for(3_000)
    _at(tab, ids[0], "1 / 5")  # round again after the last of all
    page.locator("#viewer-play").click()


def test_the_grid_actions_take_no_room_under_the_pictures(open_tab, paged_server, tmp_path):
    tab = open_tab(paged_server)
    page = tab.page
    _with_pictures(tab, tmp_path, 4)
    item = page.locator("#private-images .gallery-item").first
    actions = item.locator(".card-actions")
    delete = item.get_by_role("button", name=re.compile(r"^Delete "))
    page.mouse.move(0, 0)
    expect(actions).to_have_css("opacity", "0")
    # The caption is the name and its padding alone; the actions lie over the picture.
    gap = item.evaluate(
        """(li) => li.getBoundingClientRect().bottom
                   - li.querySelector("a.filename").getBoundingClientRect().bottom"""
    )
    assert gap <= 9, gap
    picture = item.locator("a.thumb-link").bounding_box()
    over = actions.bounding_box()
    assert picture and over
    assert (
        picture["y"] < over["y"]
        and over["y"] + over["height"] <= picture["y"] + picture["height"] + 1
    )
    assert over["y"] > picture["y"] + picture["height"] / 2  # the picture's middle stays free
    item.hover()
    expect(actions).to_have_css("opacity", "1")
    page.mouse.move(0, 0)
    expect(actions).to_have_css("opacity", "0")
    delete.focus()  # the keyboard reaches them, and they show
    expect(actions).to_have_css("opacity", "1")
    page.keyboard.press("Shift+Tab")
    expect(item.locator("input.select-image")).to_be_focused()
    expect(actions).to_have_css("opacity", "1")
    tab.assert_fits(390)

    phone = open_tab(paged_server, has_touch=True, is_mobile=True)  # a touch screen
    phone.page.set_viewport_size({"width": 390, "height": 844})
    phone.page.context.add_cookies(tab.page.context.cookies())
    phone.goto("/myfiles")
    item = phone.page.locator("#private-images .gallery-item").first
    expect(item.locator(".card-actions")).to_have_css("opacity", "1")  # always shown
    for control in (
        item.get_by_role("button", name=re.compile(r"^Delete ")),
        item.locator(".form-check"),
    ):
        box = control.bounding_box()
        assert box and box["height"] >= 44, box
    phone.assert_fits(390)


def _walks_on(tab: Tab, grid: str) -> None:
    """On a grid of three pictures and a "Next page" of one: the viewer opened on the
    third steps on to the fourth, now in the grid."""
    page = tab.page
    links = page.locator(f"{grid} a.thumb-link")
    expect(links).to_have_count(3)
    third = links.nth(2).get_attribute("href")
    links.nth(2).click()
    expect(page).to_have_url(tab.url(third or ""))
    expect(page.locator("#viewer-position")).to_have_text("3 / 3")
    page.keyboard.press("ArrowRight")
    expect(links).to_have_count(4)
    fourth = links.nth(3).get_attribute("href")
    expect(page).to_have_url(tab.url(fourth or ""))
    tab.check()
    expect(page.locator("#viewer-image")).to_have_attribute("src", f"{fourth}/preview")
    expect(page.locator("#viewer-position")).to_have_text("4 / 4")
    page.keyboard.press("Escape")
    tab.check()


def test_an_album_and_its_shared_link_walk_on_into_the_next_page(open_tab, paged_server, tmp_path):
    tab = open_tab(paged_server)
    page = tab.page
    _with_pictures(tab, tmp_path, 4)
    first_page = page.locator("#private-images a.filename").all_inner_texts()
    album_of_selection(tab, "Long trip", first_page)
    album = urlsplit(page.url).path
    tab.goto("/myfiles")
    with tab.navigation():
        page.locator('#private-images nav a[rel="next"]').click()
    page.locator("#private-images .select-image").check()
    with tab.navigation():
        page.locator("#add-selected").click()
    tab.goto(album)
    _walks_on(tab, "#album-images")

    page.locator("#share-box summary").click()
    with tab.navigation():
        page.locator("#share-form").get_by_role("button", name="Create link").click()
    visitor = open_tab(paged_server)
    visitor.goto(urlsplit(page.locator("#new-link").input_value()).path)
    _walks_on(visitor, "#shared-album-images")
