"""Sign-up by invitation in Chromium: an admin makes an invitation on the panel, /signin
without it says sign-up is by invitation, and the link signs up; an admin makes an
account on the panel; on a phone's width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .helpers import fill_signup, log_in, log_out, make_admin, unique
from .live_server import LiveServer, live_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def invite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The embedded default with REGISTRATION=invite."""
    with live_server(tmp_path_factory.mktemp("e2e-invite"), {"REGISTRATION": "invite"}) as running:
        yield running


def test_sign_up_by_invitation(open_tab, invite_server):
    tab = open_tab(invite_server)
    page = tab.page
    admin = make_admin(invite_server)
    log_in(tab, admin)
    tab.goto("/admin/invitations")
    expect(page.locator("#no-invitations")).to_be_visible()
    page.fill("#invitation-days", "3")
    with tab.navigation(tab.url("/admin/invitations")):
        page.get_by_role("button", name="Make invitation").click()
    link = page.locator("#invitation-link").inner_text()
    tab.assert_fits(390)
    log_out(tab)

    tab.goto("/signin")
    expect(page.locator("#signup-refused")).to_have_text(
        "Sign-up is by invitation only. Ask an administrator of this site for an invitation link."
    )
    tab.assert_fits(390)
    parts = urlsplit(link)
    tab.goto(f"{parts.path}?{parts.query}")
    username = unique("guest")
    fill_signup(tab, username)
    expect(page).to_have_url(tab.url("/myfiles"))
    log_out(tab)

    log_in(tab, admin)
    tab.goto("/admin/invitations")
    expect(page.locator("#invitations")).to_contain_text(f"{username} (")
    expect(page.locator("#invitations")).to_contain_text("used")
    tab.assert_fits(390)

    made = unique("made")
    page.fill("#account-username", made)
    page.fill("#account-email", f"{made}@example.org")
    with tab.navigation(tab.url("/admin/users/new")):
        page.get_by_role("button", name="Make account").click()
    expect(page.locator("#temporary-password")).to_have_text(re.compile(r"^[a-z2-9-]{19}$"))
    tab.assert_fits(390)
