"""Background jobs in Chromium: a bulk delete and a reset above JOB_THRESHOLD run in the
background, and their pages follow them until they end (on a server of their own, since
a reset empties it)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .helpers import log_in, make_admin, signed_up_with_pictures
from .live_server import LiveServer, live_server

pytestmark = pytest.mark.e2e

JOB_TIMEOUT = 15_000  # ms: the pages reload every 2-3 s until the job ends


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The embedded default where more than one image is "many"."""
    with live_server(tmp_path_factory.mktemp("e2e-jobs"), {"JOB_THRESHOLD": "1"}) as running:
        yield running


def test_a_bulk_delete_and_a_reset_run_as_jobs_their_pages_follow(open_tab, jobs_server, tmp_path):
    user_tab = open_tab(jobs_server)
    page = user_tab.page
    signed_up_with_pictures(user_tab, tmp_path, ["one.png", "two.png"], seed=40)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#select-all").check()
    with user_tab.navigation(re.compile(r"/jobs/\d+$")):
        page.locator("#bulk-delete-form").get_by_role("button", name="Delete selected").click()
    expect(page.locator(".alert-info")).to_have_text("Deleting 2 images in the background.")
    expect(page.locator("h1")).to_contain_text("Background job")
    job = page.locator(".job")
    expect(job).to_have_attribute("data-state", "done", timeout=JOB_TIMEOUT)
    expect(job.locator(".job-message")).to_have_text("Moved 2 images to the trash.")
    expect(job.locator(".job-progress")).to_contain_text("2 of 2 done")
    user_tab.assert_fits()

    admin_tab = open_tab(jobs_server)
    admin = admin_tab.page
    log_in(admin_tab, make_admin(jobs_server))
    admin_tab.goto("/admin")
    with admin_tab.navigation(admin_tab.url("/admin/jobs")):
        admin.get_by_role("link", name="Jobs").click()
    expect(admin.locator("#jobs .job")).to_have_count(1)
    expect(admin.locator("#jobs")).to_contain_text("Delete of selected images")

    admin_tab.goto("/admin/reset")
    admin.fill("#reset-confirm", "RESET")
    with admin_tab.navigation(admin_tab.url("/admin/jobs")):
        admin.get_by_role("button", name="Reset the repository").click()
    expect(admin.locator(".alert-info")).to_have_text(
        "The reset runs in the background; its progress is shown below."
    )
    reset = admin.locator("#jobs .job").first
    expect(reset).to_contain_text("Reset of the repository")
    expect(reset).to_have_attribute("data-state", "done", timeout=JOB_TIMEOUT)
    expect(reset.locator(".job-message")).to_contain_text("Reset done: removed 1 user(s)")
    admin_tab.assert_fits()

    # The Jobs tab starts the making of missing previews (none are left after the reset).
    with admin_tab.navigation(admin_tab.url("/admin/jobs")):
        admin.get_by_role("button", name="Make missing previews").click()
    previews = admin.locator("#jobs .job").first
    expect(previews).to_contain_text("Previews and thumbnails made again")
    expect(previews).to_have_attribute("data-state", "done", timeout=JOB_TIMEOUT)
    expect(previews.locator(".job-message")).to_have_text("Made the renditions of 0 of 0 image(s).")
