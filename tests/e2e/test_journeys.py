"""User journeys in Chromium against the embedded server (SQLite + files).

All journeys share one server, so every user name and public file name is fresh.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, expect

from .helpers import (
    choose_and_upload,
    drop_files,
    expect_failed,
    expect_thumbnail_shown,
    expect_uploaded,
    fill_login,
    fill_signup,
    gallery_image,
    image_id,
    log_in,
    log_out,
    refresh_gallery,
    sign_up,
    unique,
    upload_public_and_private,
    write_landscape,
    write_not_an_image,
    write_oversized,
)
from .journeys import main_journey

pytestmark = pytest.mark.e2e


def test_main_journey(tab, tmp_path):
    """Sign up, drop three images, gallery, image page, make private, delete."""
    main_journey(tab, tmp_path)


def test_private_image_is_invisible_to_another_user(open_tab, server, tmp_path):
    """Bob, in his own browser context, cannot list or open Alice's private image."""
    alice = open_tab(server)
    sign_up(alice)
    tag = unique("")
    public_name, private_name = f"shared-{tag}.png", f"secret-{tag}.png"
    upload_public_and_private(alice, tmp_path, public_name, private_name, 3)
    refresh_gallery(alice)
    expect_thumbnail_shown(alice, "public", public_name)
    expect_thumbnail_shown(alice, "private", private_name)
    secret_id = image_id(alice, "private", private_name)
    public_id = image_id(alice, "public", public_name)
    addresses = [f"/image/{secret_id}", f"/image/{secret_id}/file", f"/image/{secret_id}/thumb"]
    for path in addresses:  # the owner gets them
        assert alice.page.request.get(alice.url(path)).status == 200, path

    bob = open_tab(server)
    sign_up(bob)
    page = bob.page
    # Alice's public image is there (the page does list other people's images) ...
    expect_thumbnail_shown(bob, "public", public_name)
    # ... her private one is not, under any form.
    expect(page.locator("main")).not_to_contain_text(private_name)
    leaks = ", ".join(f'[href="{path}"], [src="{path}"]' for path in addresses)
    expect(page.locator(leaks)).to_have_count(0)
    expect(page.locator("#private-images")).to_contain_text("No private images yet")
    bob.goto("/gallery")
    expect(gallery_image(bob, "public", public_name)).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text(private_name)

    # Pasting its addresses: 404 in the tab and for a request with Bob's cookies.
    for path in addresses:
        bob.expect_http_error(404, re.escape(path))
        bob.goto(path, status=404)
        expect(page.locator("#error-message")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text(private_name)
        response = page.request.get(bob.url(path))
        assert response.status == 404, (path, response.status)
        assert private_name not in response.text()
    assert page.request.get(bob.url(f"/image/{public_id}/file")).status == 200


def test_login_and_signup_errors(tab):
    """Wrong password at /login; weak and mismatched passwords at /signin."""
    page = tab.page
    username = unique("carol")

    tab.goto("/signin")
    fill_signup(tab, username, password="short1")
    expect(page.locator("#password-errors")).to_have_text("Use at least 10 characters.")
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    fill_signup(tab, username, password="password1234")
    expect(page.locator("#password-errors")).to_contain_text("too easy to guess")
    fill_signup(tab, username, confirm="Quiet-harbor-lantern-43")
    expect(page.locator("#confirm_password-errors")).to_have_text("The passwords do not match.")
    expect(page).to_have_url(tab.url("/signin"))

    fill_signup(tab, username)  # now a strong password: the account is created
    expect(page).to_have_url(tab.url("/myfiles"))
    log_out(tab)

    fill_login(tab, username, "Quiet-harbor-lantern-41")
    expect(page.locator("main .alert-danger")).to_have_text("Invalid username or password.")
    expect(page).to_have_url(tab.url("/login"))
    fill_login(tab, unique("nobody"), "Quiet-harbor-lantern-42")
    expect(page.locator("main .alert-danger")).to_have_text("Invalid username or password.")
    log_in(tab, username)
    expect(page.locator("nav")).to_contain_text(f"Signed in as {username}")


def test_upload_errors_are_shown_per_file(tab, tmp_path):
    """Duplicate public name, oversized file and a text file: each row says what failed."""
    page = tab.page
    sign_up(tab)
    name = f"pier-{unique('')}.png"
    expect_uploaded(tab, drop_files(tab, [write_landscape(tmp_path, name, 5)]))

    again = tmp_path / "again"
    again.mkdir()
    files = [
        write_landscape(again, name, 6),
        write_oversized(tmp_path),
        write_not_an_image(tmp_path),
    ]
    for status in (409, 413, 400):  # Chromium logs each refused upload in the console
        tab.expect_http_error(status, "/api/images")
    rows = drop_files(tab, files)
    expect_failed(tab, rows[0], "already exists")
    expect_failed(tab, rows[1], re.compile(r"larger than the limit of 2 MB"))
    expect_failed(tab, rows[2], "not an accepted image")
    expect(page.locator("#upload-summary")).to_have_text("1 uploaded, 3 failed.")

    refresh_gallery(tab)
    expect(page.locator("#usage")).to_contain_text("You have 1 image using")
    expect(gallery_image(tab, "public", name)).to_have_count(1)
    for other in ("huge.png", "fake.jpg"):
        expect(page.get_by_alt_text(other, exact=True)).to_have_count(0)


def test_bulk_delete(tab, tmp_path):
    """Upload by drop and by the file chooser; select all on /myfiles, confirm the dialog:
    every image of the user is deleted."""
    page = tab.page
    sign_up(tab)
    tag = unique("")
    public = [write_landscape(tmp_path, f"bulk{i}-{tag}.png", 10 + i) for i in range(2)]
    private = [write_landscape(tmp_path, f"bulk2-{tag}.jpg", 12)]
    expect_uploaded(tab, drop_files(tab, public, "public"))
    expect_uploaded(tab, choose_and_upload(tab, private, "private"))  # the other way in
    expect(page.locator("#upload-summary")).to_have_text("3 uploaded, 0 failed.")
    refresh_gallery(tab)
    expect(page.locator("#usage")).to_contain_text("You have 3 images")

    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    select_all = page.locator("#select-all")
    expect(select_all).to_be_visible()
    select_all.check()
    boxes = page.locator('input.select-image[form="bulk-delete-form"]')
    expect(boxes).to_have_count(3)  # only the user's own images can be selected
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()
    with tab.navigation(tab.url("/myfiles")):
        page.locator("#bulk-delete-form").get_by_role("button", name="Delete selected").click()
    assert dialogs == ["Move 3 images to the trash? You can restore them for 30 days."]
    expect(page.locator(".alert-success")).to_have_text(
        "Moved 3 images to the trash. You can restore them from the Trash for 30 days."
    )
    expect(page.locator("#usage")).to_contain_text("You have 0 images")
    for path in public + private:
        expect(page.get_by_alt_text(path.name, exact=True)).to_have_count(0)
    expect(page.locator("#private-images")).to_contain_text("No private images yet")
