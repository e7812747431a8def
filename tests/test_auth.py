"""Sign-up, login and logout: the original's contract and the account rules."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.helpers import PASSWORD, flashes, make_user
from web.extensions import db, storage
from web.models import User

SIGNUP = {
    "name": "Alice Example",
    "username": "alice",
    "email": "alice@example.org",
    "password": PASSWORD,
    "confirm_password": PASSWORD,
}


def users(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(User.username).order_by(User.id)))


def test_signup_page_is_headed_user_register(client):
    page = client.get("/signin")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "User Register" in html
    for field in ("name", "username", "email", "password", "confirm_password"):
        assert f'name="{field}"' in html


def test_signup_creates_account_and_bucket_and_logs_in(app, client):
    response = client.post("/signin", data=SIGNUP)
    assert response.status_code == 302
    assert response.headers["Location"] == "/myfiles"
    assert "?" not in response.headers["Location"]
    assert users(app) == ["alice"]
    with app.app_context():
        assert storage.store.bucket_exists(app.config["USER_BUCKET_PREFIX"] + "alice")
    assert client.get("/myfiles").status_code == 200


@pytest.mark.parametrize("length", [72, 73, 200])
def test_long_passwords_up_to_the_form_limit_are_accepted(app, client, length):
    """The strength check judges the first 72 characters; longer ones must not fail."""
    password = (PASSWORD + "-" + "wandering-owl-" * 20)[:length]
    response = client.post(
        "/signin", data={**SIGNUP, "password": password, "confirm_password": password}
    )
    assert response.status_code == 302
    assert users(app) == ["alice"]
    client.get("/logout")
    login = client.post("/login", data={"username": "alice", "password": password})
    assert login.status_code == 302


@pytest.mark.parametrize("missing", ["name", "username", "email", "password", "confirm_password"])
def test_signup_with_a_missing_field_shows_the_form_again(app, client, missing):
    data = {k: v for k, v in SIGNUP.items() if k != missing}
    response = client.post("/signin", data=data)
    assert response.status_code == 200
    assert "User Register" in response.get_data(as_text=True)
    assert "This field is required." in response.get_data(as_text=True)
    assert users(app) == []


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 31, "1alice", "al ice", "alice!", "äli", "al-ice", ""],
)
def test_invalid_usernames_are_refused(app, client, username):
    response = client.post("/signin", data={**SIGNUP, "username": username})
    assert response.status_code == 200
    assert users(app) == []
    html = response.get_data(as_text=True)
    assert "3–30 letters or digits" in html or "This field is required." in html


def test_usernames_of_3_and_30_characters_are_accepted(app, client):
    assert client.post("/signin", data={**SIGNUP, "username": "abc"}).status_code == 302
    other = app.test_client()
    name = "a" + "b1" * 14 + "c"
    assert len(name) == 30
    assert other.post("/signin", data={**SIGNUP, "username": name}).status_code == 302
    assert users(app) == ["abc", name]


def test_username_is_unique_ignoring_case(app, client):
    make_user(app, "alice")
    response = client.post("/signin", data={**SIGNUP, "username": "Alice"})
    assert response.status_code == 200
    assert "This username is already taken." in response.get_data(as_text=True)
    assert users(app) == ["alice"]


def test_email_may_repeat(app, client):
    make_user(app, "alice", email="shared@example.org")
    response = client.post(
        "/signin", data={**SIGNUP, "username": "bob", "email": "shared@example.org"}
    )
    assert response.status_code == 302
    assert users(app) == ["alice", "bob"]


def test_passwords_must_match(app, client):
    response = client.post("/signin", data={**SIGNUP, "confirm_password": PASSWORD + "x"})
    assert response.status_code == 200
    assert "The passwords do not match." in response.get_data(as_text=True)
    assert users(app) == []


def test_invalid_email_is_refused(app, client):
    response = client.post("/signin", data={**SIGNUP, "email": "not-an-email"})
    assert response.status_code == 200
    assert "Invalid email address." in response.get_data(as_text=True)
    assert users(app) == []


def test_login_page_is_headed_user_login(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "User Login" in page.get_data(as_text=True)


def test_login_ignores_username_case(app, client):
    make_user(app, "alice")
    response = client.post("/login", data={"username": "ALICE", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/myfiles"


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong-password-123"), ("nobody", PASSWORD)]
)
def test_wrong_credentials_get_one_generic_message(app, client, username, password):
    make_user(app, "alice")
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 200
    assert flashes(response) == ["Invalid username or password."]
    assert client.get("/myfiles").status_code == 302


@pytest.mark.parametrize("missing", ["username", "password"])
def test_login_with_a_missing_field_shows_the_form_again(app, client, missing):
    data = {"username": "alice", "password": PASSWORD}
    del data[missing]
    response = client.post("/login", data=data)
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)


def test_logout_redirects_to_login_and_ends_the_session(auth, client):
    auth.signup("alice")
    response = client.get("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/myfiles").status_code == 302


def test_post_logout_is_not_allowed(client):
    assert client.post("/logout").status_code == 405


def test_myfiles_sends_anonymous_visitors_to_login_without_data_in_the_url(client):
    response = client.get("/myfiles")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_login_returns_to_the_page_that_asked_for_it(app, client):
    make_user(app, "alice")
    client.get("/image/12345")  # anonymous: 404, not a login redirect
    client.get("/myfiles")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.headers["Location"] == "/myfiles"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_accepts_only_local_paths(app, client, target):
    make_user(app, "alice")
    response = client.post(
        "/login", query_string={"next": target}, data={"username": "alice", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/myfiles"


def test_next_with_a_local_path_is_followed(app, client):
    make_user(app, "alice")
    response = client.post(
        "/login",
        query_string={"next": "/image/7"},
        data={"username": "alice", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/image/7"


@pytest.mark.real_password_hashing
def test_passwords_are_hashed(app):
    make_user(app, "alice")
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
        assert PASSWORD not in stored
        assert stored.startswith(("scrypt:", "pbkdf2:"))
        assert db.session.scalar(select(func.count(User.id))) == 1
