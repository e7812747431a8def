"""Dark mode in Chromium: the page follows the system's colour scheme, the toggle in the
menu switches it, and the choice is remembered by this browser across pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import sign_up

pytestmark = pytest.mark.e2e


def test_the_theme_follows_the_system_and_the_toggle_is_remembered(tab):
    page = tab.page
    html = page.locator("html")
    page.emulate_media(color_scheme="dark")
    tab.goto("/login")
    expect(html).to_have_attribute("data-bs-theme", "dark")
    toggle = page.locator("#theme-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    tab.assert_fits(390)

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="Toggle navigation").click()
    toggle.click()
    expect(html).to_have_attribute("data-bs-theme", "light")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.set_viewport_size({"width": 1280, "height": 800})

    sign_up(tab)  # other pages, after a reload: the choice holds against the system's
    expect(html).to_have_attribute("data-bs-theme", "light")
    tab.goto("/trash")
    expect(html).to_have_attribute("data-bs-theme", "light")
    toggle.click()
    expect(html).to_have_attribute("data-bs-theme", "dark")
    tab.expect_http_error(404, "/no/such/page")
    tab.goto("/no/such/page", status=404)
    expect(html).to_have_attribute("data-bs-theme", "dark")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(33, 37, 41)", background  # Bootstrap's dark body
    tab.assert_fits(390)


def test_a_light_system_gets_the_light_theme(tab):
    tab.page.emulate_media(color_scheme="light")
    tab.goto("/login")
    expect(tab.page.locator("html")).to_have_attribute("data-bs-theme", "light")
