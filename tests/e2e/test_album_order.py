"""Ordering an album by hand in Chromium: the move buttons work as plain forms, the
order setting switches back to dates, and the page fits a phone's width."""

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


def test_order_an_album_by_hand(tab, tmp_path):
    page = tab.page
    sign_up(tab)
    names = [unique(f"order{n}") + ".png" for n in range(3)]
    files = [write_landscape(tmp_path, name, 30 + n) for n, name in enumerate(names)]
    for file in files:  # one at a time, so that the upload order is the date order
        expect_uploaded(tab, choose_and_upload(tab, [file], "private"))
    album_of_selection(tab, "Walk", names)
    first, second, third = names
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
