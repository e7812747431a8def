"""Storage quotas in Chromium: an admin sets a user's quota on their page in the panel,
the user sees their usage against it and an upload over it is refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import (
    choose_and_upload,
    expect_failed,
    expect_uploaded,
    log_in,
    make_admin,
    sign_up,
    write_landscape,
)

pytestmark = pytest.mark.e2e


def test_admin_sets_a_quota_and_an_upload_over_it_is_refused(open_tab, server, tmp_path):
    user_tab = open_tab(server)
    user = sign_up(user_tab)
    expect_uploaded(user_tab, choose_and_upload(user_tab, [write_landscape(tmp_path, "a.png", 3)]))

    admin_tab = open_tab(server)
    page = admin_tab.page
    log_in(admin_tab, make_admin(server))
    admin_tab.goto(f"/admin?q={user}")
    row = page.locator("#users tbody tr").filter(
        has=page.get_by_role("link", name=user, exact=True)
    )
    with admin_tab.navigation(re.compile(r"/admin/users/\d+$")):
        row.get_by_role("link", name=user, exact=True).click()
    expect(page.locator("#quota")).to_contain_text("used, no limit")
    admin_tab.assert_fits()
    admin_tab.expect_http_error(400, r"/admin/users/\d+/quota")
    page.check("#quota-custom")
    page.fill("#quota-mb", "")  # custom, but no number: the server says why
    with admin_tab.navigation():
        page.get_by_role("button", name="Save the quota").click()
    expect(page.locator("#quota-error")).to_contain_text("Give the quota as a whole number of MB")
    page.check("#quota-custom")
    page.fill("#quota-mb", "0")
    with admin_tab.navigation(re.compile(r"/admin/users/\d+$")):
        page.get_by_role("button", name="Save the quota").click()
    expect(page.locator(".alert-success")).to_contain_text(f"The storage quota of {user} is saved.")
    expect(page.locator("#quota")).to_contain_text("of 0 bytes used (100 %)")
    admin_tab.assert_fits()
    admin_tab.goto(f"/admin?q={user}")
    expect(row.locator(".storage-used")).to_contain_text("of 0 bytes")
    admin_tab.assert_fits()

    user_tab.goto("/account")
    expect(user_tab.page.locator("#quota")).to_contain_text("of 0 bytes used (100 %)")
    user_tab.assert_fits()
    user_tab.goto("/myfiles")
    expect(user_tab.page.locator("#usage")).to_contain_text("Your storage quota:")
    user_tab.assert_fits()
    user_tab.expect_http_error(413, "/api/images")
    rows = choose_and_upload(user_tab, [write_landscape(tmp_path, "b.png", 4)])
    expect_failed(user_tab, rows[0], "would take you over your storage quota")
