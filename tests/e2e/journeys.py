"""The main journey, run on both servers (test_journeys.py and test_mysql_s3.py)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from .helpers import (
    Tab,
    drop_files,
    expect_thumbnail_shown,
    expect_uploaded,
    fill_signup,
    gallery_image,
    open_image_page,
    refresh_gallery,
    unique,
    write_landscape,
)


def main_journey(tab: Tab, folder: Path) -> None:
    """Sign up, drop three images, see them, make one private, delete it."""
    page = tab.page
    # The home page leads to the sign-up form, which lands on /myfiles.
    tab.goto("/")
    expect(page.locator("h1")).to_have_text("Image Repository")
    with tab.navigation(tab.url("/signin")):
        page.locator("main").get_by_role("link", name="Sign up").click()
    username = unique("ann")
    fill_signup(tab, username)
    expect(page).to_have_url(tab.url("/myfiles"))
    expect(page.locator(".alert-success")).to_contain_text("Your account is ready")
    expect(page.locator("#usage")).to_contain_text("You have 0 images")

    # Drag and drop three images: each gets a progress bar that fills, then "uploaded".
    tag = unique("")
    names = [f"dawn-{tag}.png", f"lagoon-{tag}.jpg", f"dusk-{tag}.png"]
    paths = [write_landscape(folder, name, seed) for seed, name in enumerate(names)]
    rows = drop_files(tab, paths, "public")
    expect_uploaded(tab, rows)
    for row, name in zip(rows, names, strict=True):
        expect(row.locator(".upload-status")).to_have_text(f"Uploaded as {name} (public)")
    expect(page.locator("#upload-summary")).to_have_text("3 uploaded, 0 failed.")

    # The refreshed gallery shows the three thumbnails.
    refresh_gallery(tab)
    expect(page.locator("#usage")).to_contain_text("You have 3 images")
    for name in names:
        expect_thumbnail_shown(tab, "public", name)

    # The image page shows the image and its details.
    chosen = names[1]
    number = open_image_page(tab, "public", chosen)
    preview = page.locator("main img.preview")
    expect(preview).to_have_attribute("src", f"/image/{number}/preview")
    assert preview.evaluate("(i) => i.currentSrc").endswith(f"/image/{number}/preview")
    details = page.locator("#image-details")
    expect(details).to_contain_text(username)
    expect(details).to_contain_text("480 × 320 px")
    expect(details.locator("dd").nth(1)).to_have_text("public")

    # Switch it to private with the edit form: it moves to "My private images".
    edit = page.locator("#edit-form")
    edit.locator("#edit-private").check()
    with tab.navigation(tab.url(f"/image/{number}")):
        edit.get_by_role("button", name="Save changes").click()
    expect(page.locator(".alert-success")).to_have_text(f"Saved: “{chosen}” is now private.")
    expect(details.locator("dd").nth(1)).to_have_text("private")
    expect(page.locator("#edit-private")).to_be_checked()
    tab.goto("/myfiles")
    expect_thumbnail_shown(tab, "private", chosen)
    expect(gallery_image(tab, "public", chosen)).to_have_count(0)

    # Delete it from its page: gone from the gallery, and its address answers 404.
    assert open_image_page(tab, "private", chosen) == number
    with tab.navigation(tab.url("/myfiles")):
        page.locator("main").get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator(".alert-success")).to_have_text(
        f"Moved “{chosen}” to the trash. You can restore it from the Trash for 30 days."
    )
    expect(gallery_image(tab, "private", chosen)).to_have_count(0)
    expect(gallery_image(tab, "public", chosen)).to_have_count(0)
    expect(page.locator("#private-images")).to_contain_text("No private images yet")
    expect(page.locator("#usage")).to_contain_text("You have 2 images")
    for name in (names[0], names[2]):
        expect_thumbnail_shown(tab, "public", name)
    tab.expect_http_error(404, re.escape(f"/image/{number}"))
    tab.goto(f"/image/{number}", status=404)
    expect(page.locator("#error-message")).to_have_text("No such image.")
