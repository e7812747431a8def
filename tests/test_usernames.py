"""Whole-value patterns: a name followed by a newline (or other whitespace) is never a
second copy of a valid name; the sign-up and login forms drop surrounding whitespace."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.helpers import PASSWORD, make_user, users_by_name
from web import config as settings
from web.accounts.credentials import username_problem
from web.accounts.registration import register
from web.extensions import db, storage
from web.models import User
from web.rules import RuleError

SIGNUP = {"name": "Someone", "email": "someone@example.org"}
BAD_NAME = "Usernames are 3–30 letters or digits and start with a letter."


def sign_up(client, username: str):
    return client.post(
        "/signin",
        data={**SIGNUP, "username": username, "password": PASSWORD, "confirm_password": PASSWORD},
    )


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


@pytest.mark.parametrize("username", ["alice\n", "alice\r\n", " alice", "ALICE\t", "alice \n"])
def test_a_name_with_whitespace_around_it_is_not_a_second_alice(app, client, username):
    make_user(app, "alice")
    response = sign_up(client, username)
    assert response.status_code == 200
    assert "This username is already taken." in response.get_data(as_text=True)
    assert list(users_by_name(app)) == ["alice"]


@pytest.mark.parametrize("username", ["admin\n", "public\n", "Root\r\n", " system "])
def test_reserved_names_followed_by_whitespace_stay_reserved(app, client, username):
    response = sign_up(client, username)
    assert "This username is reserved; please choose another." in response.get_data(as_text=True)
    assert user_count(app) == 0


def test_the_public_bucket_name_followed_by_a_newline_is_reserved(app, client):
    response = sign_up(client, app.config["PUBLIC_BUCKET"] + "\n")
    assert "This username is reserved" in response.get_data(as_text=True)
    assert user_count(app) == 0


def test_surrounding_whitespace_is_dropped_at_sign_up(app, client):
    response = sign_up(client, "  carol\n")
    assert response.status_code == 302
    assert list(users_by_name(app)) == ["carol"]
    with app.app_context():
        assert db.session.scalar(select(User.bucket)).endswith("carol")


@pytest.mark.parametrize("username", ["car ol", "car\nol", "carol\x00", "carol\u00a0x"])
def test_whitespace_inside_a_name_is_refused(app, client, username):
    assert BAD_NAME in sign_up(client, username).get_data(as_text=True)
    assert user_count(app) == 0


@pytest.mark.parametrize("username", ["alice\n", " Alice ", "alice\r\n"])
def test_login_drops_the_same_surrounding_whitespace(app, client, username):
    make_user(app, "alice")
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    assert "Signed in as alice" in client.get("/myfiles").get_data(as_text=True)


@pytest.mark.parametrize("username", ["alice\n", "bob\n", "admin\n", "x" * 29 + "\n"])
def test_the_username_pattern_matches_the_whole_value(app, username):
    with app.app_context():
        assert username_problem(username) is not None
        with pytest.raises(RuleError):
            register("Someone", username, "someone@example.org", PASSWORD)
    assert user_count(app) == 0


def test_a_bucket_name_with_a_newline_is_refused_by_the_store(app):
    with app.app_context():
        with pytest.raises(ValueError, match="invalid bucket name"):
            storage.store.ensure_bucket(app.config["USER_BUCKET_PREFIX"] + "alice\n")
        assert app.config["USER_BUCKET_PREFIX"] + "alice\n" not in storage.store.list_buckets()


@pytest.mark.parametrize("value", ["public\n", "public\r\n", "public "])
def test_a_public_bucket_setting_with_a_newline_is_refused(tmp_path, value):
    env = {"DATA_DIR": str(tmp_path), "PUBLIC_BUCKET": value}
    with pytest.raises(settings.ConfigError, match="PUBLIC_BUCKET"):
        settings.finish(settings.from_environment(env))


def test_a_user_bucket_prefix_with_a_newline_is_refused(tmp_path):
    env = {"DATA_DIR": str(tmp_path), "USER_BUCKET_PREFIX": "user-\n"}
    with pytest.raises(settings.ConfigError, match="USER_BUCKET_PREFIX"):
        settings.finish(settings.from_environment(env))
