"""Ordering an album by hand in Chromium: the move buttons work as plain forms, a picture
dragged with the mouse to another place stays there, the order setting switches back to
dates, and the page fits a phone's width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import (
    album_of_selection,
    choose_and_upload,
    expect_uploaded,
    sign_up,
    unique,
    write_landscape,
)

pytestmark = pytest.mark.e2e


def names_shown(tab) -> list[str]:
    return tab.page.locator("#album-images a.filename").all_inner_texts()


def album_of_three(tab, tmp_path, stem: str, title: str, shade: int) -> list[str]:
    """Sign up, upload three pictures and put them in the album ``title``, whose page is
    shown; their names, oldest first."""
    sign_up(tab)
    names = [unique(f"{stem}{n}") + ".png" for n in range(3)]
    files = [write_landscape(tmp_path, name, shade + n) for n, name in enumerate(names)]
    for file in files:  # one at a time, so that the upload order is the date order
        expect_uploaded(tab, choose_and_upload(tab, [file], "private"))
    album_of_selection(tab, title, names)
    return names


def test_order_an_album_by_hand(tab, tmp_path):
    page = tab.page
    first, second, third = album_of_three(tab, tmp_path, "order", "Walk", 30)
    assert names_shown(tab) == [third, second, first]  # by date, newest first
    expect(page.locator("#album-images li").first.locator(".move-earlier")).to_be_disabled()
    tab.assert_fits(390)

    with tab.navigation():
        page.get_by_role("button", name=f"Move later: {third}").click()
    assert names_shown(tab) == [second, third, first]
    expect(page.locator("#album-order")).to_have_value("manual")
    with tab.navigation():
        page.get_by_role("button", name=f"To the front: {first}").click()
    assert names_shown(tab) == [first, second, third]
    with tab.navigation():
        page.get_by_role("button", name=f"Move earlier: {third}").click()
    assert names_shown(tab) == [first, third, second]
    tab.assert_fits(390)

    page.select_option("#album-order", "oldest")
    with tab.navigation():
        page.locator("#album-order-form").get_by_role("button", name="Apply").click()
    expect(page.locator(".alert-success")).to_contain_text("by date (oldest first)")
    assert names_shown(tab) == [first, second, third]
    page.select_option("#album-order", "manual")
    with tab.navigation():
        page.locator("#album-order-form").get_by_role("button", name="Apply").click()
    assert names_shown(tab) == [first, third, second]  # the order by hand was kept
    tab.assert_fits(390)


def test_drag_a_picture_to_another_place(tab, tmp_path):
    page = tab.page
    first, second, third = album_of_three(tab, tmp_path, "drag", "Drag", 40)
    assert names_shown(tab) == [third, second, first]
    expect(page.locator("#album-drag-hint")).to_be_visible()
    items = page.locator("#album-images li")
    expect(items.first).to_have_attribute("draggable", "true")

    # The oldest picture, dragged onto the left half of the first one, goes to the front.
    box = items.first.bounding_box()
    assert box is not None
    with tab.navigation():  # the order is saved, then the page is loaded again
        page.drag_and_drop(
            f"#album-images li:has-text('{first}') img",
            "#album-images li >> nth=0",
            target_position={"x": 5, "y": box["height"] / 2},
        )
    assert names_shown(tab) == [first, third, second]
    page.reload()
    tab.check()
    assert names_shown(tab) == [first, third, second]
    expect(page.locator("#album-order")).to_have_value("manual")
    expect(page.locator("#album-arrange-problem")).to_be_hidden()
    tab.assert_fits(390)
