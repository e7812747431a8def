"""The admin's user list on a phone in Chromium: one block per user with each value under
its column's name, every action on screen, and no sideways scrolling at 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import log_in, make_admin, sign_up

pytestmark = pytest.mark.e2e


def test_the_user_list_stacks_on_a_phone(open_tab, server):
    user = sign_up(open_tab(server))
    tab = open_tab(server)
    page = tab.page
    log_in(tab, make_admin(server))
    page.set_viewport_size({"width": 390, "height": 844})
    tab.goto(f"/admin?q={user}")
    row = page.locator("#users tbody tr").filter(has=page.get_by_role("link", name=user))
    expect(row).to_have_count(1)
    tab.assert_fits(390)
    promote = row.get_by_role("button", name=f"Promote {user}")
    delete = row.get_by_role("link", name=f"Delete {user}")
    for action in (promote, delete):
        expect(action).to_be_in_viewport()
        box = action.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
    label = row.locator('td[data-label="Storage"]').evaluate(
        "(td) => getComputedStyle(td, '::before').content"
    )
    assert label == '"Storage"'
