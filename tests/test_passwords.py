"""Changing one's password, name and email on the account page."""

from __future__ import annotations

import re

import pytest

from tests.helpers import (
    PASSWORD,
    audit_rows,
    login,
    make_user,
    settings,
    signed_in,
    signed_in_admin,
    user_id,
)
from web.accounts import passwords
from web.extensions import db
from web.models import User

NEW = "Velvet-orchard-compass-77"


@pytest.fixture
def alice(app):
    return signed_in(app, "alice")


def change(client, current=PASSWORD, new=NEW, confirm=None):
    return client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "confirm_password": confirm or new},
    )


def can_log_in(app, password: str) -> bool:
    response = app.test_client().post("/login", data={"username": "alice", "password": password})
    return response.status_code == 302


def test_the_account_page_has_the_password_and_profile_forms(app, alice):
    html = alice.get("/account").get_data(as_text=True)
    assert 'action="/account/password"' in html and 'action="/account/profile"' in html
    assert 'value="alice@example.org"' in html and 'autocomplete="new-password"' in html


def test_changing_the_password_ends_every_other_session_but_this_one(app, alice):
    laptop = app.test_client()
    login(laptop, "alice")
    response = change(alice)
    assert response.status_code == 303
    page = alice.get("/account", follow_redirects=True).get_data(as_text=True)
    assert "Your password is changed. Every other session of yours has ended." in page
    assert laptop.get("/account").status_code == 302  # sent to the login page
    assert alice.get("/account").status_code == 200
    assert can_log_in(app, NEW) and not can_log_in(app, PASSWORD)
    assert ("alice", "change password", "alice") in audit_rows(app)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("not-my-password-at-all", NEW, NEW, "Your current password is not right."),
        (PASSWORD, "short", "short", "Use at least 10 characters."),
        (PASSWORD, "password1234", "password1234", "This password is too easy to guess."),
        (PASSWORD, "alice-Velvet-orchard-9", None, "must not contain your username"),
        (PASSWORD, NEW, NEW + "x", "The new passwords do not match."),
        (PASSWORD, PASSWORD, PASSWORD, "The new password must differ from the current one."),
        (PASSWORD, "x" * 201, None, "Use at most 200 characters."),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app, alice, current, new, confirm, message
):
    laptop = app.test_client()
    login(laptop, "alice")
    response = change(alice, current, new, confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert can_log_in(app, PASSWORD)
    assert laptop.get("/account").status_code == 200
    assert audit_rows(app) == []


def profile(client, name="Alice Liddell", email="alice@example.org", password=""):
    return client.post(
        "/account/profile", data={"name": name, "email": email, "password": password}
    )


def test_the_name_changes_without_the_password(app, alice):
    assert profile(alice).status_code == 303
    page = alice.get("/account").get_data(as_text=True)
    assert "Alice Liddell" in page


def test_a_new_email_needs_the_password(app, alice):
    response = profile(alice, email="wonder@example.org")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "To change your email, enter your current password." in page
    assert 'value="wonder@example.org"' in page  # what was typed stays in the form
    assert "alice@example.org" in alice.get("/account").get_data(as_text=True)
    assert profile(alice, email="wonder@example.org", password=PASSWORD).status_code == 303
    follow = alice.get("/account").get_data(as_text=True)
    assert 'value="wonder@example.org"' in follow
    assert ("alice", "change email", "alice: alice@example.org → wonder@example.org") in (
        audit_rows(app)
    )


@pytest.mark.parametrize(
    ("name", "email", "message"),
    [
        ("  ", "alice@example.org", "Enter your name."),
        ("A" * 101, "alice@example.org", "Names are at most 100 characters."),
        ("Alice", "not-an-address", "Enter a valid email address."),
        ("Alice", "", "Enter a valid email address."),
    ],
)
def test_a_refused_profile_change_says_why(app, alice, name, email, message):
    response = profile(alice, name, email, PASSWORD)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert "Alice" in alice.get("/account").get_data(as_text=True)
    assert audit_rows(app) == []


def test_nothing_to_save_says_so(app, alice):
    response = profile(alice, name="Alice", email="alice@example.org")
    assert response.status_code == 303
    assert "Nothing changed." in alice.get("/account").get_data(as_text=True)


limited = settings("limited", RATELIMIT_ENABLED=True)


def test_guessing_the_current_password_is_rate_limited(limited, app, alice):
    for _ in range(5):
        assert change(alice, current="not-my-password-at-all").status_code == 400
    response = change(alice)
    assert response.status_code == 429
    assert can_log_in(app, PASSWORD)


def test_anonymous_visitors_cannot_change_a_password(app, client):
    assert change(client).status_code in (302, 401)


# --- temporary passwords -----------------------------------------------------------------

TEMPORARY = re.compile(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}")


@pytest.fixture
def boss(app):
    return signed_in_admin(app)


def log_in_with(app, password: str):
    client = app.test_client()
    response = client.post("/login", data={"username": "alice", "password": password})
    return client, response


def choose(client, new=NEW, confirm=None):
    return client.post(
        "/account/new-password", data={"new_password": new, "confirm_password": confirm or new}
    )


def test_an_admin_sets_a_temporary_password_shown_once(app, alice, boss):
    alice_id = user_id(app, "alice")
    assert 'id="temporary-password-form"' in boss.get(f"/admin/users/{alice_id}").get_data(
        as_text=True
    )
    response = boss.post(f"/admin/users/{alice_id}/temporary-password")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    temporary = TEMPORARY.search(html).group(0)
    assert "It is shown this once." in html
    assert temporary not in boss.get(f"/admin/users/{alice_id}").get_data(as_text=True)
    assert alice.get("/account").status_code == 302  # her session ended
    assert ("boss", "temporary password", "alice") in audit_rows(app)
    assert not can_log_in(app, PASSWORD)

    client, login_answer = log_in_with(app, temporary)
    assert login_answer.status_code == 302
    for path in ("/myfiles", "/account", "/gallery"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.location.endswith("/account/new-password")
    page = client.get("/account/new-password").get_data(as_text=True)
    assert "You logged in with a temporary password from an administrator." in page
    assert choose(client, "short").status_code == 400
    assert choose(client, temporary).status_code == 400
    response = choose(client)
    assert response.status_code == 303 and response.location.endswith("/myfiles")
    assert client.get("/myfiles").status_code == 200
    assert client.get("/account/new-password").status_code == 302  # nothing left to choose
    assert can_log_in(app, NEW) and not can_log_in(app, temporary)
    assert ("alice", "change password", "alice") in audit_rows(app)


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("short", "short", "Use at least 10 characters."),
        (NEW, NEW + "x", "The new passwords do not match."),
        ("password1234", "password1234", "This password is too easy to guess."),
    ],
)
def test_a_refused_new_password_after_a_temporary_one_says_why(app, alice, new, confirm, message):
    with app.app_context():
        temporary = passwords.set_temporary(None, db.session.get(User, user_id(app, "alice")))
    client, _ = log_in_with(app, temporary)
    response = choose(client, new, confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get("/myfiles").status_code == 302  # still to choose


def test_an_admin_cannot_set_their_own_temporary_password(app, boss):
    boss_id = user_id(app, "boss")
    assert 'id="temporary-password-form"' not in boss.get(f"/admin/users/{boss_id}").get_data(
        as_text=True
    )
    response = boss.post(f"/admin/users/{boss_id}/temporary-password")
    assert response.status_code == 400
    assert "Change your own password on your Account page." in response.get_data(as_text=True)
    assert boss.get("/myfiles").status_code == 200
    assert audit_rows(app) == []


def test_only_admins_set_temporary_passwords(app, alice):
    make_user(app, "bob")
    assert alice.post(f"/admin/users/{user_id(app, 'bob')}/temporary-password").status_code == 404


def test_set_password_on_the_command_line(app, alice):
    result = app.test_cli_runner().invoke(args=["set-password", "ALICE"])
    assert result.exit_code == 0, result.output
    temporary = TEMPORARY.search(result.output).group(0)
    assert "They must choose a new password when they next log in." in result.output
    assert alice.get("/account").status_code == 302
    assert ("(command line)", "temporary password", "alice") in audit_rows(app)
    client, _ = log_in_with(app, temporary)
    assert client.get("/myfiles").location.endswith("/account/new-password")


def test_set_password_names_an_unknown_user(app):
    result = app.test_cli_runner().invoke(args=["set-password", "nobody"])
    assert result.exit_code == 1
    assert "There is no user nobody." in result.output
