"""Logging out when another site sends the browser to /logout: a page asks first."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import log_in, sign_up

pytestmark = pytest.mark.e2e

OTHER_SITE = "http://elsewhere.test"


def test_a_logout_link_on_another_site_asks_before_logging_out(tab):
    page = tab.page
    username = sign_up(tab)
    link = tab.serve_other_site(
        OTHER_SITE,
        "/offer",
        f'<!doctype html><title>Offer</title><a id="go" href="{tab.url("/logout")}">Win</a>',
    )

    def follow_the_link() -> None:
        page.goto(link)
        with tab.navigation(tab.url("/logout")):
            page.click("#go")
        expect(page.get_by_role("heading", name="Log out?")).to_be_visible()
        expect(page.locator("#logout-question")).to_contain_text(username)
        tab.assert_fits(390)

    follow_the_link()
    with tab.navigation(tab.url("/myfiles")):
        page.get_by_role("link", name="Stay signed in").click()
    expect(page.locator("nav")).to_contain_text(f"Signed in as {username}")

    follow_the_link()
    with tab.navigation(tab.url("/login")):
        page.locator("#logout-form").get_by_role("button", name="Log out").click()
    expect(page.locator(".alert-info")).to_contain_text("You are logged out.")
    tab.goto("/myfiles")
    expect(page).to_have_url(tab.url("/login"))  # signed out: My Files asks for a login

    log_in(tab, username)  # from the site itself, the Log out link logs out at once
    with tab.navigation(tab.url("/login")):
        page.get_by_role("link", name="Log out").click()
    expect(page.locator(".alert-info")).to_contain_text("You are logged out.")
