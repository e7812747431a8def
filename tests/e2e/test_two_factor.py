"""Two-factor login in Chromium: turn TOTP on (codes computed with pyotp), log out, log
in with a code, then with a recovery code."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect

from .helpers import PASSWORD, fill_login, log_out, sign_up

pytestmark = pytest.mark.e2e


def test_enable_totp_then_log_in_with_a_code_and_with_a_recovery_code(tab):
    page = tab.page
    username = sign_up(tab)
    tab.goto("/account")
    with tab.navigation():
        page.locator("#two-factor-summary").get_by_role("link", name="Turn it on").click()
    expect(page.locator("#totp-qr")).to_be_visible()
    assert page.evaluate("document.getElementById('totp-qr').naturalWidth") > 0
    tab.assert_fits()
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text())
    page.fill("#enable-code", totp.now())
    with tab.navigation():
        page.get_by_role("button", name="Turn two-factor login on").click()
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    recovery = codes.nth(0).inner_text()
    tab.assert_fits()
    log_out(tab)

    _log_in_with(tab, username, _next_code(totp))
    expect(page).to_have_url(tab.url("/myfiles"))
    log_out(tab)

    _log_in_with(tab, username, recovery)
    expect(page).to_have_url(tab.url("/myfiles"))
    expect(page.locator(".alert-warning")).to_contain_text("You used a recovery code; 9 left.")
    tab.goto("/account/two-factor")
    expect(page.locator("#two-factor-status")).to_contain_text("9 recovery codes left")
    tab.assert_fits()


def _log_in_with(tab, username: str, code: str) -> None:
    page = tab.page
    tab.goto("/login")
    fill_login(tab, username, PASSWORD)
    expect(page.locator("h1")).to_have_text("Two-factor login")
    tab.assert_fits()
    page.fill("#code", code)
    with tab.navigation():
        page.locator("main form").get_by_role("button", name="Log in").click()


def _next_code(totp: pyotp.TOTP) -> str:
    """A code not used yet: the next time step's (accepted, as clocks drift)."""
    return totp.at(time.time() + 30)
