"""Two-factor login: enabling with a current code, recovery codes shown once and kept
hashed, the login's second step, wrong codes as failed logins, turning it off, the
admin's reset, REQUIRE_2FA_FOR_ADMINS, and the secret encrypted with SECRET_KEY."""

from __future__ import annotations

import html
import re
import time

import pyotp
import pytest
from sqlalchemy import select, update

from tests.helpers import PASSWORD, audit_rows, login, make_user, settings, user_id
from web.extensions import db
from web.models import RecoveryCode, User

limited = settings("limited", RATELIMIT_ENABLED=True)
required = settings("required", REQUIRE_2FA_FOR_ADMINS=True)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def secret_on_page(client) -> str:
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'src="data:image/png;base64,' in body  # the QR code, made by the app
    return re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', body).group(1)


def code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset)


def enable(client) -> tuple[str, list[str]]:
    """Turn two-factor login on; the secret and the recovery codes shown."""
    secret = secret_on_page(client)
    response = client.post("/account/two-factor/enable", data={"code": code(secret)})
    assert response.status_code == 200, text_of(response)
    codes = re.findall(r'<li class="col">([a-z0-9]{5}-[a-z0-9]{5})</li>', response.get_data(True))
    return secret, codes


def signed_in_with_2fa(app, username: str = "alice"):
    make_user(app, username)
    client = app.test_client()
    login(client, username)
    secret, codes = enable(client)
    client.get("/logout")
    return client, secret, codes


def password_step(client, username: str = "alice", password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def test_enabling_needs_a_current_code_and_shows_ten_recovery_codes_once(app):
    make_user(app, "alice")
    client = app.test_client()
    login(client, "alice")
    secret = secret_on_page(client)
    assert secret_on_page(client) == secret  # the same key until it is confirmed
    wrong = client.post("/account/two-factor/enable", data={"code": "000000"})
    assert wrong.status_code == 400
    assert "That code is not right." in text_of(wrong)
    old = client.post("/account/two-factor/enable", data={"code": code(secret, -300)})
    assert old.status_code == 400
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "alice"))
        assert not user.totp_enabled
        assert user.totp_secret and secret not in user.totp_secret  # encrypted at rest
    response = client.post("/account/two-factor/enable", data={"code": code(secret)})
    assert response.status_code == 200
    codes = re.findall(r'<li class="col">([a-z0-9]{5}-[a-z0-9]{5})</li>', response.get_data(True))
    assert len(set(codes)) == 10
    with app.app_context():
        hashes = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(hashes) == 10 and not any(c.replace("-", "") in hashes for c in codes)
    again = client.get("/account/two-factor").get_data(as_text=True)
    assert "10 recovery codes left" in again and codes[0] not in again
    assert re.search(r"id=\"two-factor-summary\">On ", text_of(client.get("/account")))
    assert ("alice", "enable 2fa", "two-factor login of alice") in audit_rows(app)


def test_the_login_asks_for_a_code_after_the_password_and_signs_in_only_then(app):
    client, secret, _codes = signed_in_with_2fa(app)
    response = password_step(client)
    assert response.status_code == 303 and response.headers["Location"] == "/login/code"
    assert client.get("/myfiles").status_code == 302  # not signed in yet
    wrong = client.post("/login/code", data={"code": "123456"})
    assert wrong.status_code == 400 and "That code is not right." in text_of(wrong)
    assert client.get("/myfiles").status_code == 302
    password_step(client)
    # The code of the step used to enable was used already; the next step's is new.
    answer = client.post("/login/code", data={"code": code(secret, 30)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/myfiles"
    assert client.get("/myfiles").status_code == 200


def test_a_code_works_once(app):
    client, secret, _codes = signed_in_with_2fa(app)
    password_step(client)
    assert client.post("/login/code", data={"code": code(secret, 30)}).status_code == 302
    other = app.test_client()
    password_step(other)
    assert other.post("/login/code", data={"code": code(secret, 30)}).status_code == 400


def test_a_recovery_code_logs_in_once(app):
    client, _secret, codes = signed_in_with_2fa(app)
    password_step(client)
    response = client.post("/login/code", data={"code": codes[3].upper()}, follow_redirects=True)
    assert "You used a recovery code; 9 left." in text_of(response)
    client.get("/logout")
    password_step(client)
    assert client.post("/login/code", data={"code": codes[3]}).status_code == 400


def test_the_code_step_without_a_right_password_sends_back_to_the_login(app):
    client = app.test_client()
    response = client.get("/login/code", follow_redirects=True)
    assert response.request.path == "/login"
    assert "Log in with your username and password first" in text_of(response)
    client.post("/login/code", data={"code": "123456"})
    assert client.get("/myfiles").status_code == 302  # still not signed in


def test_the_code_must_follow_the_password_within_five_minutes(app):
    client, secret, _codes = signed_in_with_2fa(app)
    password_step(client)
    with client.session_transaction() as session:
        pending = session["pending_login"]
        session["pending_login"] = {**pending, "at": pending["at"] - 301}
    response = client.post("/login/code", data={"code": code(secret, 30)})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/myfiles").status_code == 302


def test_enabling_twice_or_disabling_when_off_says_so(app):
    make_user(app, "alice")
    client = app.test_client()
    login(client, "alice")
    off = client.post("/account/two-factor/disable", data={"password": PASSWORD, "code": "1"})
    assert off.status_code == 400 and "Two-factor login is off already." in text_of(off)
    secret, _codes = enable(client)
    again = client.post("/account/two-factor/enable", data={"code": code(secret, 30)})
    assert again.status_code == 400 and "Two-factor login is already on." in text_of(again)


def test_a_key_unreadable_while_enabling_starts_again(app):
    make_user(app, "alice")
    client = app.test_client()
    login(client, "alice")
    secret = secret_on_page(client)
    app.config["SECRET_KEY"] = "another-long-secret-key-for-this-test-only"
    login(client, "alice")  # the old session cookie is not valid under the new key
    response = client.post("/account/two-factor/enable", data={"code": code(secret)})
    assert response.status_code == 400
    assert "Start again: scan the new code below with your app." in text_of(response)
    assert secret_on_page(client) != secret


def test_wrong_disabling_attempts_are_limited(limited, app):
    make_user(app, "alice")
    client = app.test_client()
    login(client, "alice")
    enable(client)
    data = {"password": PASSWORD, "code": "000000"}
    statuses = [client.post("/account/two-factor/disable", data=data).status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]


def test_wrong_codes_count_as_failed_logins(limited, app):
    client, _secret, _codes = signed_in_with_2fa(app)
    password_step(client)
    statuses = [client.post("/login/code", data={"code": "000000"}).status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]
    # The same counter refuses the password step too.
    assert password_step(client).status_code == 429


def test_turning_it_off_needs_the_password_and_a_code(app):
    client, secret, codes = signed_in_with_2fa(app)
    password_step(client)
    client.post("/login/code", data={"code": codes[0]})
    wrong_password = client.post(
        "/account/two-factor/disable", data={"password": "nope", "code": code(secret)}
    )
    assert wrong_password.status_code == 400
    assert "The password is not right." in text_of(wrong_password)
    wrong_code = client.post(
        "/account/two-factor/disable", data={"password": PASSWORD, "code": "000000"}
    )
    assert wrong_code.status_code == 400 and "That code is not right." in text_of(wrong_code)
    with app.app_context():
        assert db.session.scalar(select(User.totp_enabled).where(User.username == "alice"))
    done = client.post(
        "/account/two-factor/disable", data={"password": PASSWORD, "code": code(secret, 30)}
    )
    assert done.status_code == 303
    client.get("/logout")
    assert password_step(client).headers["Location"] == "/myfiles"
    with app.app_context():
        assert db.session.scalar(select(RecoveryCode.id)) is None


def test_an_admin_resets_a_users_second_factor(app):
    _client, _secret, _codes = signed_in_with_2fa(app)
    make_user(app, "boss", is_admin=True)
    admin = app.test_client()
    login(admin, "boss")
    address = f"/admin/users/{user_id(app, 'alice')}/two-factor/reset"
    assert "Two-factor login: on." in text_of(admin.get(f"/admin/users/{user_id(app, 'alice')}"))
    response = admin.post(address, follow_redirects=True)
    assert "Two-factor login of alice is off" in text_of(response)
    again = admin.post(address, follow_redirects=True)
    assert "alice has no two-factor login to reset." in text_of(again)
    assert ("boss", "reset 2fa", "two-factor login of alice") in audit_rows(app)
    user = app.test_client()
    assert password_step(user).headers["Location"] == "/myfiles"


def test_only_admins_reset(app):
    _client, _secret, _codes = signed_in_with_2fa(app)
    bob = app.test_client()
    make_user(app, "bob")
    login(bob, "bob")
    address = f"/admin/users/{user_id(app, 'alice')}/two-factor/reset"
    assert bob.post(address).status_code == 404


def test_admins_must_enable_it_first_when_required(required, app):
    make_user(app, "boss", is_admin=True)
    admin = app.test_client()
    login(admin, "boss")
    response = admin.get("/admin")
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    shown = admin.get("/admin/audit", follow_redirects=True)
    assert "Turn on two-factor login before you use the admin panel." in text_of(shown)
    assert "Administrators must turn on two-factor login" in text_of(
        admin.get("/account/two-factor")
    )
    enable(admin)
    assert admin.get("/admin").status_code == 200


def test_a_new_secret_key_leaves_recovery_codes_working(app):
    _client, secret, codes = signed_in_with_2fa(app)
    app.config["SECRET_KEY"] = "another-long-secret-key-for-this-test-only"
    client = app.test_client()
    password_step(client)
    assert client.post("/login/code", data={"code": code(secret, 30)}).status_code == 400
    assert client.post("/login/code", data={"code": codes[1]}).status_code == 302


@pytest.mark.parametrize("typed", ["", " ", "x" * 41, "12345", "1234567", "١٢٣٤٥٦"])
def test_odd_codes_are_wrong_codes(app, typed):
    client, _secret, _codes = signed_in_with_2fa(app)
    password_step(client)
    assert client.post("/login/code", data={"code": typed}).status_code == 400
    with app.app_context():
        db.session.execute(update(User).values(totp_last_step=None))
        db.session.commit()
