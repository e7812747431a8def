"""Logging out: GET /logout logs out (the original's link), but when another site sent the
browser there a page asks first, and only its CSRF-protected button logs out."""

from __future__ import annotations

import re

import pytest

from tests.helpers import flashes, login, make_user, settings

QUESTION = "Another site sent you to the logout address."


@pytest.fixture
def alice(app):
    make_user(app, "alice")
    client = app.test_client()
    login(client, "alice")
    return client


def signed_in_as(client, username: str) -> bool:
    return f"Signed in as {username}" in client.get("/myfiles").get_data(as_text=True)


FOREIGN = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://elsewhere.example"},
    {"Origin": "null"},
    {"Referer": "https://elsewhere.example/page"},
    {"Referer": "http://localhost.elsewhere.example/"},
    {"Referer": "http://[not-a-host/"},
    {"Origin": "http://[::1"},
    {"Referer": "http://élsewhere.example/ü"},
    {"Sec-Fetch-Site": "none", "Referer": "https://elsewhere.example/"},
]


@pytest.mark.parametrize("headers", FOREIGN)
def test_a_logout_sent_by_another_site_asks_first(app, alice, headers):
    response = alice.get("/logout", headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 class="h3 mb-3">Log out?</h1>' in html and QUESTION in html
    assert re.search(r'<form method="post" action="/logout/confirm"', html)
    assert 'name="csrf_token"' in html
    assert signed_in_as(alice, "alice")


OWN = [
    {},
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"},
    {"Referer": "http://localhost/myfiles"},
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
]


@pytest.mark.parametrize("headers", OWN)
def test_a_logout_from_this_site_or_typed_logs_out_at_once(app, alice, headers):
    response = alice.get("/logout", headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert "You are logged out." in flashes(alice.get("/login"))
    assert not signed_in_as(alice, "alice")


def test_an_anonymous_visitor_sent_by_another_site_just_goes_to_login(app, client):
    response = client.get("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_the_button_logs_out(app, alice):
    alice.get("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    response = alice.post("/logout/confirm")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/login")
    assert "You are logged out." in flashes(alice.get("/login"))
    assert not signed_in_as(alice, "alice")


def test_confirming_takes_only_a_post(app, alice):
    assert alice.get("/logout/confirm").status_code == 405
    assert alice.post("/logout").status_code == 405
    assert signed_in_as(alice, "alice")


csrf_on = settings("csrf_on", WTF_CSRF_ENABLED=True)


def test_the_button_needs_the_pages_csrf_token(csrf_on, app):
    make_user(app, "alice")
    alice = app.test_client()
    login(alice, "alice")
    forged = alice.post("/logout/confirm")
    assert forged.status_code == 400
    assert "The form was missing its security token" in forged.get_data(as_text=True)
    assert signed_in_as(alice, "alice")
    page = alice.get("/logout", headers={"Sec-Fetch-Site": "cross-site"}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    response = alice.post("/logout/confirm", data={"csrf_token": token})
    assert response.status_code == 303
    assert not signed_in_as(alice, "alice")
