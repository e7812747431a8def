"""The navigation bar offers only what the viewer may open, in one set of words:
"Log in", "Log out", "Sign up" (the page headings stay the original's "User Login" and
"User Register")."""

from __future__ import annotations

import re

import pytest

from tests.helpers import settings

anonymous_gallery = settings("anonymous_gallery", ANONYMOUS_GALLERY=True)


def nav_links(response) -> list[str]:
    """The words of the navigation bar's links, in order."""
    html = response.get_data(as_text=True)
    nav = html.split('aria-label="Main navigation"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a class="nav-link"[^>]*>([^<]+)</a>', nav)


@pytest.mark.parametrize("path", ["/", "/login", "/signin"])
def test_visitors_see_no_links_that_bounce_to_the_login_page(client, path):
    assert nav_links(client.get(path)) == ["Home", "Log in", "Sign up"]


def test_visitors_see_the_public_gallery_when_it_is_open_to_them(anonymous_gallery, client):
    assert nav_links(client.get("/")) == ["Home", "Public gallery", "Log in", "Sign up"]
    assert client.get("/gallery").status_code == 200


def test_signed_in_users_see_their_files_and_the_gallery(auth, client):
    auth.signup("ann")
    assert nav_links(client.get("/myfiles")) == [
        "Home",
        "My Files",
        "Trash",
        "Albums",
        "Shared links",
        "Public gallery",
        "Account",
        "Log out",
    ]


def test_the_words_for_logging_in_and_out_are_the_same_everywhere(auth, client):
    login = client.get("/login").get_data(as_text=True)
    signup = client.get("/signin").get_data(as_text=True)
    assert '<h1 class="h3 mb-3">User Login</h1>' in login
    assert '<h1 class="h3 mb-3">User Register</h1>' in signup
    auth.signup("ann")
    pages = [login, signup, client.get("/myfiles").get_data(as_text=True)]
    for html in pages:
        visible = re.sub(r"<[^>]+>", " ", html.split("<body>", 1)[1]).replace("User Login", "")
        assert not re.search(r"\b(Login|Logout|Log-in|Signup|Sign-up)\b", visible), visible
