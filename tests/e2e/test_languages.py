"""Languages in Chromium: a person switches to German on the Account page; the pages and
the scripts' messages are German from then on, and nothing is too wide for a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import UPLOAD_TIMEOUT, sign_up, write_landscape

pytestmark = pytest.mark.e2e


def test_switching_to_german_on_the_account_page(tab, tmp_path):
    page = tab.page
    sign_up(tab)
    tab.goto("/account")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.select_option("#language", "de")
    with tab.navigation():
        page.click("#save-language")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("h1")).to_have_text("Ihr Konto")
    expect(page.get_by_role("status").first).to_have_text("Ihre Sprache ist gespeichert.")
    expect(page.locator("#language")).to_have_value("de")
    tab.assert_fits(390)

    tab.goto("/myfiles")  # the scripts' strings come from the page's JSON block
    expect(page.locator("h1")).to_have_text("Meine Dateien")
    page.check("#visibility-public")
    with page.expect_file_chooser() as chooser:
        page.locator("#drop-zone").click()
    chooser.value.set_files([str(write_landscape(tmp_path, "berg.png", 7))])
    page.locator("#upload-form").get_by_role("button", name="Hochladen").click()
    row = page.locator("#upload-results li").first
    expect(row).to_have_attribute("data-result", "uploaded", timeout=UPLOAD_TIMEOUT)
    expect(row.locator(".upload-status")).to_have_text("Hochgeladen als berg.png (öffentlich)")
    expect(page.locator("#upload-summary")).to_have_text("1 hochgeladen, 0 fehlgeschlagen.")
    tab.assert_fits(390)

    for path in ("/trash", "/gallery", "/account"):
        tab.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "de")
        tab.assert_fits(390)
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="Navigation ein- und ausblenden").click()
    expect(page.get_by_role("link", name="Meine Dateien")).to_be_visible()
    tab.assert_fits(390)
