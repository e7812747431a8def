"""Admin panel and comments, in Chromium against the embedded server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import (
    fill_login,
    image_id,
    log_in,
    make_admin,
    open_image_page,
    refresh_gallery,
    sign_up,
    unique,
    upload_public_and_private,
)

pytestmark = pytest.mark.e2e


def test_admin_deletes_a_user(open_tab, server, tmp_path):
    """An admin finds a user in /admin, confirms, and the user and their images are gone."""
    victim_tab = open_tab(server)
    victim = sign_up(victim_tab)
    tag = unique("")
    public_name, private_name = f"gone-{tag}.png", f"gone-private-{tag}.png"
    upload_public_and_private(victim_tab, tmp_path, public_name, private_name, 1)
    refresh_gallery(victim_tab)
    public_id = image_id(victim_tab, "public", public_name)
    private_id = image_id(victim_tab, "private", private_name)
    # A user who is not an admin gets no admin link, and /admin does not exist for them.
    expect(victim_tab.page.locator("nav").get_by_role("link", name="Admin")).to_have_count(0)
    victim_tab.expect_http_error(404, "/admin")
    victim_tab.goto("/admin", status=404)

    admin = make_admin(server)
    admin_tab = open_tab(server)
    page = admin_tab.page
    log_in(admin_tab, admin)
    with admin_tab.navigation(admin_tab.url("/admin")):
        page.locator("nav").get_by_role("link", name="Admin").click()
    expect(page.locator("h1")).to_have_text("Administration")
    page.fill("#user-search", victim)
    with admin_tab.navigation():
        page.get_by_role("button", name="Search").click()
    row = page.locator("#users tbody tr").filter(has=page.get_by_role("link", name=victim))
    expect(row).to_have_count(1)
    expect(row.locator(".image-count")).to_have_text("2")

    with admin_tab.navigation(re.compile(r"/admin/users/\d+/delete$")):
        row.get_by_role("link", name=f"Delete {victim}").click()
    warning = page.locator("#delete-user-warning")
    expect(warning).to_contain_text("their 1 public image,")
    expect(warning).to_contain_text("their 1 private image ")
    with admin_tab.navigation(admin_tab.url("/admin")):
        page.get_by_role("button", name=f"Delete {victim}").click()
    expect(page.locator(".alert-success")).to_have_text(
        f"Deleted user {victim} with their images and comments."
    )
    expect(page.locator("#users").get_by_role("link", name=victim, exact=True)).to_have_count(0)
    admin_tab.goto("/admin/audit")
    expect(page.locator("#audit-log")).to_contain_text(victim)

    # Their images are gone for everyone, the admin included.
    for number in (public_id, private_id):
        admin_tab.expect_http_error(404, f"/image/{number}")
        admin_tab.goto(f"/image/{number}", status=404)
    admin_tab.goto("/gallery")
    expect(page.locator("main")).not_to_contain_text(public_name)

    # The deleted user's session is over and the account cannot log in again.
    victim_tab.goto("/myfiles")  # answered by the login page
    expect(victim_tab.page).to_have_url(re.compile(r"/login"))
    fill_login(victim_tab, victim, "Quiet-harbor-lantern-42")
    expect(victim_tab.page.locator("main .alert-danger")).to_have_text(
        "Invalid username or password."
    )


def test_comment_on_a_public_image(open_tab, server, tmp_path):
    """Bob comments on Alice's public image; Alice sees and deletes it; private: closed."""
    alice_tab = open_tab(server)
    alice = sign_up(alice_tab)
    tag = unique("")
    name, private_name = f"talk-{tag}.png", f"quiet-{tag}.png"
    upload_public_and_private(alice_tab, tmp_path, name, private_name, 2)

    bob_tab = open_tab(server)
    page = bob_tab.page
    bob = sign_up(bob_tab)
    bob_tab.goto("/gallery")
    number = open_image_page(bob_tab, "public", name)
    expect(page.locator("#image-details")).to_contain_text(alice)
    expect(page.locator("#no-comments")).to_have_text("No comments yet.")
    text = "Lovely light!\nWhere is this? <b>not bold</b>"
    page.fill("#comment-body", text)
    with bob_tab.navigation(re.compile(rf"/image/{number}\b")):
        page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".alert-success")).to_have_text("Your comment is posted.")
    comment = page.locator("#comment-list li.comment")
    expect(comment).to_have_count(1)
    expect(comment.locator(".comment-author")).to_have_text(bob)
    body = comment.locator(".comment-body")
    expect(body).to_have_text("Lovely light!Where is this? <b>not bold</b>")  # text as typed
    expect(body.locator("br")).to_have_count(1)  # the line break is kept
    expect(body.locator("b")).to_have_count(0)  # and the markup is not interpreted

    # Alice sees the count in her gallery and the comment on the page, and may delete it.
    refresh_gallery(alice_tab)
    apage = alice_tab.page
    expect(apage.locator(f"#comment-count-{number}")).to_have_text("1 comment")
    open_image_page(alice_tab, "public", name)
    expect(apage.locator("#comment-list .comment-author")).to_have_text(bob)
    delete = apage.locator("#comment-list").get_by_role(
        "button", name=f"Delete the comment by {bob}"
    )
    with alice_tab.navigation(re.compile(rf"/image/{number}\b")):
        delete.click()
    expect(apage.locator(".alert-success")).to_have_text("The comment is deleted.")
    expect(apage.locator("#no-comments")).to_be_visible()

    # A private image takes no comments.
    alice_tab.goto("/myfiles")
    open_image_page(alice_tab, "private", private_name)
    expect(apage.locator("#comments-closed")).to_have_text("Private images take no comments.")
    expect(apage.locator("#comment-form")).to_have_count(0)
