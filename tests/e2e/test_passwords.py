"""The account page's name, email and password forms, and a temporary password from an
admin, in Chromium on a phone's width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import PASSWORD, fill_login, log_in, log_out, make_admin, sign_up

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


def test_a_temporary_password_from_an_admin(tab, server):
    page = tab.page
    admin = make_admin(server)
    username = sign_up(tab)
    log_out(tab)
    log_in(tab, admin)
    tab.goto(f"/admin?q={username}")
    with tab.navigation(re.compile(r"/admin/users/\d+$")):
        page.locator("#users").get_by_role("link", name=username, exact=True).click()
    with tab.navigation(re.compile(r"/temporary-password$")):
        page.get_by_role("button", name="Set a temporary password").click()
    temporary = page.locator("#temporary-password").inner_text()
    tab.assert_fits(390)
    log_out(tab)

    tab.goto("/login")
    fill_login(tab, username, temporary)
    expect(page).to_have_url(tab.url("/account/new-password"))
    tab.check()
    tab.assert_fits(390)
    page.fill("#new-password", NEW)
    page.fill("#confirm-password", NEW)
    with tab.navigation(tab.url("/myfiles")):
        page.get_by_role("button", name="Set my password").click()
    expect(page.locator(".alert-success")).to_contain_text("Your new password is set.")
    log_out(tab)
    log_in(tab, username, NEW)
