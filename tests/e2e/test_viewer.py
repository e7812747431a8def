"""The viewer in Chromium: a thumbnail of My Files opens the picture full screen; the
arrow keys, Home, End and a swipe walk the grid while the address follows; the
slideshow steps on its own (a fake clock, no sleeping); Escape and Back close it and
give the gallery's address back, Forward opens it again; the address opens the image's
own page; the neighbours' previews are fetched ahead; it fits a 390 px phone in both
themes. An album and its shared link open the viewer too."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .helpers import (
    Tab,
    album_of_selection,
    choose_and_upload,
    expect_uploaded,
    image_id,
    refresh_gallery,
    sign_up,
    write_landscape,
)

pytestmark = pytest.mark.e2e

BODY = {"dark": "rgb(33, 37, 41)", "light": "rgb(255, 255, 255)"}  # Bootstrap's body colours


def _at(tab: Tab, number: int) -> None:
    """The viewer shows image ``number``, and the address is that image's page."""
    expect(tab.page).to_have_url(tab.url(f"/image/{number}"))
    tab.check()  # the address changed (history.pushState): check the page again
    picture = tab.page.locator("#viewer-image")
    expect(picture).to_have_attribute("src", f"/image/{number}/preview")


def _asked(tab: Tab, asked: list[str], path: str) -> None:
    """The page has asked for ``path`` (within a second)."""
    for _ in range(20):
        if tab.url(path) in asked:
            return
        tab.page.wait_for_timeout(50)
    raise AssertionError(f"{path} was not asked for: {asked}")


def _swipe(tab: Tab, dx: int) -> None:
    stage = tab.page.locator("#viewer-stage")
    box = stage.bounding_box()
    assert box
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    pointer = {"isPrimary": True, "pointerId": 7, "pointerType": "touch", "clientY": y}
    stage.dispatch_event("pointerdown", {**pointer, "clientX": x})
    stage.dispatch_event("pointerup", {**pointer, "clientX": x + dx})


def _fits(tab: Tab, width: int) -> None:
    """Nothing of the open viewer sticks out of a ``width`` px wide window."""
    tab.assert_fits(width)
    tab.page.set_viewport_size({"width": width, "height": 844})
    overflow = tab.page.evaluate(
        """() => {
          const viewer = document.getElementById("viewer");
          const out = [...viewer.querySelectorAll("button, a, select, h2")]
            .filter((e) => e.offsetParent !== null)
            .map((e) => [e.id, e.getBoundingClientRect()])
            .filter(([, r]) => r.left < 0 || r.right > window.innerWidth)
            .map(([id]) => id);
          return [viewer.scrollWidth - viewer.clientWidth, out];
        }"""
    )
    assert overflow == [0, []], overflow
    tab.page.set_viewport_size({"width": 1280, "height": 800})


def test_the_viewer_walks_the_gallery(tab, tmp_path):
    page = tab.page
    page.clock.install()
    sign_up(tab)
    paths = [write_landscape(tmp_path, f"view{n}.png", 60 + n) for n in range(3)]
    expect_uploaded(tab, choose_and_upload(tab, paths, "private"))  # a gallery of its own
    refresh_gallery(tab)
    names = page.locator("#private-images a.filename").all_inner_texts()  # the grid's order
    ids = [image_id(tab, "private", name) for name in names]
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    viewer = page.locator("#viewer")

    page.locator(f'#private-images a.thumb-link[href="/image/{ids[0]}"]').click()
    expect(viewer).to_be_visible()
    _at(tab, ids[0])
    expect(page.locator("#viewer-name")).to_have_text(names[0])
    expect(page).to_have_title(f"{names[0]} · Image Repository")  # as the image's page
    expect(page.locator("#viewer-position")).to_have_text("1 / 3")
    expect(page.locator("#viewer-image")).to_have_js_property("complete", True)
    assert page.locator("#viewer-image").evaluate("(i) => i.naturalWidth") > 0
    expect(page.locator("#viewer-prev")).to_be_hidden()
    _asked(tab, asked, f"/image/{ids[1]}/preview")  # the next one's preview, ahead

    page.keyboard.press("ArrowRight")
    _at(tab, ids[1])
    expect(page.locator("#viewer-position")).to_have_text("2 / 3")
    page.keyboard.press("ArrowLeft")
    _at(tab, ids[0])
    page.keyboard.press("End")
    _at(tab, ids[2])
    expect(page.locator("#viewer-next")).to_be_hidden()
    page.keyboard.press("Home")
    _at(tab, ids[0])
    _swipe(tab, -150)  # finger to the left: the next picture
    _at(tab, ids[1])
    _swipe(tab, 150)
    _at(tab, ids[0])
    _swipe(tab, 10)  # a tap is no swipe
    _at(tab, ids[0])

    page.get_by_role("button", name="Details").click()
    details = page.locator("#viewer-details")
    expect(details).to_be_visible()
    field = lambda name: details.locator(f'[data-viewer-field="{name}"] dd')  # noqa: E731
    expect(field("visibility")).to_have_text("private")
    expect(field("dimensions")).to_have_text("480 × 320 px")
    expect(field("date")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"))
    expect(field("size")).to_have_text(re.compile(r"^\d+(\.\d)? KB$"))
    expect(page.locator("#viewer-download")).to_have_attribute(
        "href", f"/image/{ids[0]}/file?download=1"
    )
    expect(page.locator("#viewer-original")).to_have_attribute("href", f"/image/{ids[0]}/file")

    page.select_option("#viewer-interval", "3")  # the slideshow: Space starts it
    page.locator("#viewer-stage").focus()
    page.keyboard.press(" ")
    play = page.locator("#viewer-play")
    expect(play).to_have_attribute("aria-pressed", "true")
    expect(play).to_have_text("Stop the slideshow")
    for number in (ids[1], ids[2], ids[0]):  # and goes round after the last
        page.clock.run_for(3_000)
        _at(tab, number)
    play.click()  # the button stops it
    expect(play).to_have_attribute("aria-pressed", "false")
    page.clock.run_for(10_000)
    _at(tab, ids[0])

    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(page).to_have_url(tab.url("/myfiles"))
    expect(page).to_have_title("My Files · Image Repository")
    tab.check()
    expect(page.locator(f'#private-images a.thumb-link[href="/image/{ids[0]}"]')).to_be_focused()

    page.locator(f'#private-images a.thumb-link[href="/image/{ids[1]}"]').click()
    _at(tab, ids[1])
    page.keyboard.press("ArrowRight")
    _at(tab, ids[2])
    page.go_back()  # Back closes the viewer
    expect(viewer).to_be_hidden()
    expect(page).to_have_url(tab.url("/myfiles"))
    tab.check()
    page.go_forward()  # and Forward opens it again where it was
    expect(viewer).to_be_visible()
    _at(tab, ids[2])
    with tab.navigation(tab.url(f"/image/{ids[2]}")):
        page.reload()  # the address is the image's own page
    expect(page.locator("h1")).to_have_text(names[2])


def test_the_viewer_fits_a_phone_in_either_theme(tab, tmp_path):
    page = tab.page
    sign_up(tab)
    name = "a-rather-long-name-of-a-picture-taken-on-holiday-by-the-sea.png"
    expect_uploaded(tab, choose_and_upload(tab, [write_landscape(tmp_path, name, 70)], "private"))
    for theme in ("dark", "light"):
        page.emulate_media(color_scheme=theme)
        page.set_viewport_size({"width": 1280, "height": 800})
        refresh_gallery(tab)
        expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
        page.set_viewport_size({"width": 390, "height": 844})
        number = image_id(tab, "private", name)
        page.locator(f'#private-images a.thumb-link[href="/image/{number}"]').click()
        _at(tab, number)
        background = page.locator("#viewer").evaluate("(v) => getComputedStyle(v).backgroundColor")
        assert background == BODY[theme]
        page.get_by_role("button", name="Details").click()
        expect(page.locator("#viewer-details")).to_be_visible()
        _fits(tab, 390)
        page.get_by_role("button", name="Close the viewer").click()
        expect(page.locator("#viewer")).to_be_hidden()
        expect(page).to_have_url(tab.url("/myfiles"))
        tab.check()


def test_an_album_and_its_shared_link_open_the_viewer(tab, open_tab, server, tmp_path):
    page = tab.page
    sign_up(tab)
    paths = [write_landscape(tmp_path, f"trip{n}.png", 80 + n) for n in range(2)]
    expect_uploaded(tab, choose_and_upload(tab, paths, "private"))
    refresh_gallery(tab)
    album_of_selection(tab, "Trip", ["trip0.png", "trip1.png"])
    album = urlsplit(page.url).path
    links = page.locator("#album-images a.thumb-link")
    pages = [links.nth(n).get_attribute("href") for n in range(2)]
    links.first.click()
    expect(page).to_have_url(tab.url(pages[0]))
    tab.check()
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(tab.url(pages[1]))
    tab.check()
    page.keyboard.press("Escape")
    expect(page).to_have_url(tab.url(album))
    tab.check()

    page.locator("#share-box summary").click()
    with tab.navigation():
        page.locator("#share-form").get_by_role("button", name="Create link").click()
    path = urlsplit(page.locator("#new-link").input_value()).path
    visitor = open_tab(server)
    visitor.goto(path)
    shared = visitor.page.locator("#shared-album-images a.thumb-link")
    first = shared.first.get_attribute("href")
    shared.first.click()
    expect(visitor.page.locator("#viewer")).to_be_visible()
    expect(visitor.page).to_have_url(visitor.url(first))
    visitor.check()
    picture = visitor.page.locator("#viewer-image")
    expect(picture).to_have_attribute("src", f"{first}/preview")  # never the original
    expect(visitor.page.locator("#viewer-original")).to_have_attribute("href", f"{first}/file")
    expect(picture).to_have_js_property("complete", True)
    expect(visitor.page.locator('[data-viewer-field="owner"]')).to_be_hidden()
    visitor.page.keyboard.press("Escape")
    expect(visitor.page).to_have_url(visitor.url(path))
    visitor.check()
