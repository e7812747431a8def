"""An admin deleting one image from the panel in Chromium: "Delete" puts it in the
owner's trash, where the owner finds it; "Delete for good" asks first, then it is gone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import (
    log_in,
    make_admin,
    sign_up,
    unique,
    upload_public_and_private,
)

pytestmark = pytest.mark.e2e


def test_admin_deletes_to_the_trash_or_for_good(open_tab, server, tmp_path):
    owner_tab = open_tab(server)
    owner = sign_up(owner_tab)
    tag = unique("")
    public_name, private_name = f"kept-{tag}.png", f"purged-{tag}.png"
    upload_public_and_private(owner_tab, tmp_path, public_name, private_name, 3)

    admin_tab = open_tab(server)
    page = admin_tab.page
    log_in(admin_tab, make_admin(server))
    admin_tab.goto("/admin")
    page.fill("#user-search", owner)
    with admin_tab.navigation():
        page.get_by_role("button", name="Search").click()
    with admin_tab.navigation(re.compile(r"/admin/users/\d+$")):
        page.locator("#users").get_by_role("link", name=owner, exact=True).click()
    user_page = page.url
    admin_tab.assert_fits(390)
    card = page.locator("#user-images li", has_text=public_name)
    with admin_tab.navigation(user_page):
        card.get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.locator(".alert-success")).to_contain_text(
        f"Moved “{public_name}” to the trash of {owner}."
    )
    card = page.locator("#user-images li", has_text=private_name)
    with admin_tab.navigation(re.compile(r"/delete-for-good$")):
        card.get_by_role("link", name=re.compile("^Delete for good")).click()
    expect(page.locator("#purge-image-warning")).to_contain_text("It cannot be undone.")
    admin_tab.assert_fits(390)
    with admin_tab.navigation(user_page):
        page.get_by_role("button", name="Delete for good").click()
    expect(page.locator(".alert-success")).to_contain_text(f"“{private_name}” of {owner} for good")
    expect(page.locator("#user-images li")).to_have_count(0)

    owner_tab.goto("/trash")
    expect(owner_tab.page.locator("main")).to_contain_text(public_name)
    expect(owner_tab.page.locator("main")).not_to_contain_text(private_name)
