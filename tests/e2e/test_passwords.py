"""The account page's name, email and password forms in Chromium, on a phone's width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import PASSWORD, fill_login, log_out, sign_up

pytestmark = pytest.mark.e2e

NEW = "Velvet-orchard-compass-77"


def test_change_name_email_and_password(tab):
    page = tab.page
    username = sign_up(tab)
    tab.goto("/account")
    tab.assert_fits(390)
    page.fill("#profile-name", "Renamed Tester")
    page.fill("#profile-email", f"new-{username}@example.org")
    tab.expect_http_error(400, "/account/profile")
    with tab.navigation():
        page.locator("#profile-form").get_by_role("button", name="Save").click()
    expect(page.locator("#profile-error")).to_have_text(
        "To change your email, enter your current password."
    )
    tab.assert_fits(390)
    page.fill("#profile-password", PASSWORD)
    with tab.navigation(tab.url("/account")):
        page.locator("#profile-form").get_by_role("button", name="Save").click()
    expect(page.locator("#account-details")).to_contain_text(f"new-{username}@example.org")
    expect(page.locator("#account-details")).to_contain_text("Renamed Tester")

    page.fill("#current-password", PASSWORD)
    page.fill("#new-password", NEW)
    page.fill("#confirm-password", NEW)
    with tab.navigation(tab.url("/account")):
        page.locator("#password-form").get_by_role("button", name="Change password").click()
    expect(page.locator(".alert-success")).to_contain_text("Your password is changed.")
    log_out(tab)
    tab.goto("/login")
    fill_login(tab, username, NEW)
    expect(page).to_have_url(tab.url("/myfiles"))
