"""Upload results on a phone in Chromium: each row links to its new image, and rows with
long names stay inside a 390 px screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import choose_and_upload, expect_uploaded, sign_up, write_landscape

pytestmark = pytest.mark.e2e

LONG = "an-uncommonly-long-filename-from-a-camera-that-names-things-verbosely-0001.png"


def test_result_rows_link_to_the_new_images_and_fit_a_phone(tab, tmp_path):
    page = tab.page
    sign_up(tab)
    page.set_viewport_size({"width": 390, "height": 844})
    rows = choose_and_upload(tab, [write_landscape(tmp_path, LONG, 3)])
    expect_uploaded(tab, rows)
    link = rows[0].locator("a.upload-link")
    expect(link).to_have_text(LONG)
    expect(rows[0].locator(".upload-status")).to_have_text(f"Uploaded as {LONG} (public)")
    tab.assert_fits(390)
    with tab.navigation(re.compile(r"/image/\d+$")):
        link.click()
    expect(page.locator("h1")).to_have_text(LONG)
    tab.assert_fits(390)
