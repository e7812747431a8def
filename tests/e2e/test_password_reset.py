"""A forgotten password in Chromium: the link on the login page, the request, the link
from the real mail (caught by an aiosmtpd server), the new password, on a phone's width."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .helpers import PASSWORD, Inbox, fill_login, log_in, sign_up
from .live_server import LiveServer, live_server

pytestmark = pytest.mark.e2e

NEW = "Velvet-orchard-compass-77"


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory, inbox: Inbox) -> Iterator[LiveServer]:
    """The embedded default, sending mail to the test's SMTP server."""
    env = inbox.mail_settings()
    with live_server(tmp_path_factory.mktemp("e2e-mail"), env) as running:
        yield running


def test_forgot_the_password(open_tab, mail_server, inbox):
    tab = open_tab(mail_server)
    page = tab.page
    username = sign_up(tab)
    with tab.navigation():
        page.get_by_role("link", name="Log out").click()
    tab.goto("/login")
    with tab.navigation(tab.url("/forgot")):
        page.get_by_role("link", name="Forgot your password?").click()
    tab.assert_fits(390)
    page.fill("#identifier", username)
    with tab.navigation(tab.url("/forgot")):
        page.get_by_role("button", name="Send me a link").click()
    expect(page.locator("#reset-sent")).to_contain_text("If an account matches")
    tab.assert_fits(390)
    path = inbox.link_path("/reset/[A-Za-z0-9_-]{43}")
    tab.goto(path)
    tab.assert_fits(390)
    page.fill("#new-password", NEW)
    page.fill("#confirm-password", NEW)
    with tab.navigation(tab.url("/login")):
        page.get_by_role("button", name="Set my password").click()
    expect(page.locator(".alert-success")).to_contain_text("Your new password is set")
    fill_login(tab, username, PASSWORD)
    expect(page.locator("main .alert-danger")).to_contain_text("Invalid username or password.")
    log_in(tab, username, NEW)
    tab.expect_http_error(410, re.escape(path))
    tab.goto(path, status=410)
    expect(page.locator("#reset-refused")).to_contain_text("was used already")
    tab.assert_fits(390)


def test_without_mail_the_page_says_to_ask_an_administrator(tab):
    tab.goto("/forgot")
    expect(tab.page.locator("#ask-an-admin")).to_contain_text("Ask an administrator")
    tab.assert_fits(390)
