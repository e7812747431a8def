"""The API's pages in Chromium: the token section of the account page (made, shown once,
used, revoked) and the reference at /api/docs, both fitting a phone's width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import landscape, sign_up

pytestmark = pytest.mark.e2e


def test_make_use_and_revoke_a_token(tab):
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_up(tab)
    tab.goto("/account")
    expect(page.locator("#no-tokens")).to_be_visible()
    page.fill("#token-name", "ShareX on my laptop")
    page.select_option("#token-expires", "30")
    with tab.navigation(tab.url("/account/tokens")):
        page.locator("#token-form").get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"imgrepo_[A-Za-z0-9_-]{43}", secret), secret
    page.locator("#copy-token").click()
    expect(page.locator("#copy-token-status")).to_have_text("Copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    expect(page.locator("#sharex-download")).to_be_visible()
    expect(page.locator("#token-list")).to_contain_text("ShareX on my laptop")
    tab.assert_fits(390)

    upload = page.request.post(
        tab.url("/api/v1/images"),
        headers={"Authorization": f"Bearer {secret}"},
        multipart={
            "file": {"name": "api.png", "mimeType": "image/png", "buffer": landscape(5)},
            "visibility": "private",
        },
    )
    assert upload.status == 201, upload.text()
    tab.goto("/myfiles")
    expect(page.locator("#private-images")).to_contain_text("api.png")

    tab.goto("/account")
    expect(page.locator("#new-token")).to_have_count(0)  # shown once only
    with tab.navigation(tab.url("/account#tokens")):
        page.locator("#token-list").get_by_role("button", name="Revoke").click()
    expect(page.locator(".alert-success")).to_contain_text("Revoked the token")
    expect(page.locator("#no-tokens")).to_be_visible()
    refused = page.request.get(tab.url("/api/v1/me"), headers={"Authorization": f"Bearer {secret}"})
    assert refused.status == 401


def test_the_api_reference_page(tab):
    page = tab.page
    tab.goto("/api/docs")
    expect(page.locator("h1")).to_contain_text("Image Repository API")
    expect(page.locator("#upload_images")).to_contain_text("POST /api/v1/images")
    expect(page.locator("#schema-ImageItem")).to_contain_text("created_at")
    tab.assert_fits(390)
    with tab.navigation(tab.url("/api/v1/openapi.json")):
        page.get_by_role("link", name="/api/v1/openapi.json", exact=True).click()
    assert '"openapi": "3.1.0"' in page.content() or '"openapi":"3.1.0"' in page.content()
