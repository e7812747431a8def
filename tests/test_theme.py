"""Dark mode: every page, error pages included, loads the theme script in its head (so
that it is drawn in the right theme at once) and has the theme toggle in its menu."""

from __future__ import annotations

import re

import pytest

THEME_SCRIPT = '<script src="/static/js/theme.js"></script>\n</head>'
TOGGLE = re.compile(
    r'<button type="button" [^>]*id="theme-toggle" aria-pressed="false"[^>]*hidden>'
)


@pytest.mark.parametrize("path, status", [("/login", 200), ("/no/such/page", 404)])
def test_pages_carry_the_theme_script_and_toggle(app, client, path, status):
    response = client.get(path)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert THEME_SCRIPT in html
    assert TOGGLE.search(html)


def test_signed_in_pages_too(app, auth, client):
    auth.signup("alice")
    for path in ("/myfiles", "/trash", "/account"):
        html = client.get(path).get_data(as_text=True)
        assert THEME_SCRIPT in html and TOGGLE.search(html), path


def test_the_theme_script_is_served_by_the_app(app, client):
    response = client.get("/static/js/theme.js")
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert b"prefers-color-scheme: dark" in response.data
