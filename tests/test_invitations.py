"""Who may sign up: REGISTRATION open, invite or closed, and the admins' invitations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from tests.helpers import (
    PASSWORD,
    audit_rows,
    login,
    make_user,
    settings,
    signed_in_admin,
    users_by_name,
)
from web.accounts import invitations
from web.config import ConfigError, from_environment
from web.extensions import db
from web.models import Invitation, utcnow

invite_only = settings("invite_only", REGISTRATION="invite")
closed = settings("closed", REGISTRATION="closed")
LINK = re.compile(r"/signin\?invite=([A-Za-z0-9_-]{43})")


def signup(client, username="carol", email=None, token=None):
    url = f"/signin?invite={token}" if token else "/signin"
    return client.post(
        url,
        data={
            "name": username.title(),
            "username": username,
            "email": email or f"{username}@example.org",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )


@pytest.fixture
def boss(app):
    return signed_in_admin(app)


def invite(boss, email="", days="7", uses="1") -> str:
    response = boss.post("/admin/invitations", data={"email": email, "days": days, "uses": uses})
    assert response.status_code == 200, response.get_data(as_text=True)
    return LINK.search(response.get_data(as_text=True)).group(1)


def test_open_sign_up_is_the_default_and_ignores_invitation_links(app, client):
    assert app.config["REGISTRATION"] == "open"
    assert signup(client, token="not-a-token").status_code == 302
    assert "carol" in users_by_name(app)


def test_closed_sign_up_says_so_and_makes_no_account(closed, app, client):
    page = client.get("/signin")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert invitations.SIGNUP_CLOSED in html and 'name="password"' not in html
    response = signup(client)
    assert response.status_code == 403
    assert invitations.SIGNUP_CLOSED in response.get_data(as_text=True)
    assert "carol" not in users_by_name(app)


def test_closed_sign_up_refuses_invitations_too(closed, app, client, boss):
    token = invite(boss)
    assert invitations.SIGNUP_CLOSED in client.get(f"/signin?invite={token}").get_data(as_text=True)


def test_without_an_invitation_sign_up_is_refused(invite_only, app, client):
    page = client.get("/signin")
    assert page.status_code == 200 and invitations.BY_INVITATION in page.get_data(as_text=True)
    assert signup(client).status_code == 403
    bad = client.get("/signin?invite=" + "x" * 43)
    assert bad.status_code == 200 and invitations.NOT_VALID in bad.get_data(as_text=True)
    assert signup(client, token="x" * 500).status_code == 403
    assert "carol" not in users_by_name(app)


def test_an_invitation_signs_up_once_and_records_who(invite_only, app, client, boss):
    token = invite(boss)
    page = client.get(f"/signin?invite={token}").get_data(as_text=True)
    assert f'action="/signin?invite={token}"' in page
    assert signup(client, token=token).status_code == 302
    assert "carol" in users_by_name(app)
    again = app.test_client().get(f"/signin?invite={token}")
    assert invitations.USED_UP in again.get_data(as_text=True)
    assert signup(app.test_client(), "dave", token=token).status_code == 403
    listing = boss.get("/admin/invitations").get_data(as_text=True)
    assert "carol (" in listing and "1 of 1" in listing and ">used<" in listing
    with app.app_context():
        assert db.session.query(Invitation).one().token_hash != token  # kept hashed
    assert ("boss", "create invitation", "anyone, 1 use(s)") in audit_rows(app)


def test_an_invitation_for_several_uses(invite_only, app, client, boss):
    token = invite(boss, uses="2", days="")
    assert signup(client, "carol", token=token).status_code == 302
    assert signup(app.test_client(), "dave", token=token).status_code == 302
    assert signup(app.test_client(), "erin", token=token).status_code == 403
    assert "never" in boss.get("/admin/invitations").get_data(as_text=True)


def test_an_invitation_for_an_address_takes_only_that_address(invite_only, app, client, boss):
    token = invite(boss, email="carol@example.org")
    page = client.get(f"/signin?invite={token}").get_data(as_text=True)
    assert 'value="carol@example.org"' in page
    refused = signup(client, email="mallory@example.org", token=token)
    assert invitations.OTHER_EMAIL in refused.get_data(as_text=True)
    assert signup(client, email="Carol@Example.org", token=token).status_code == 302


def test_a_failed_sign_up_gives_the_use_back(invite_only, app, client, boss):
    make_user(app, "carol")
    token = invite(boss)
    response = signup(client, "carol", token=token)
    assert "This username is already taken." in response.get_data(as_text=True)
    assert signup(client, "dave", token=token).status_code == 302


def test_expired_and_revoked_invitations_say_so(invite_only, app, client, boss):
    expired, revoked = invite(boss), invite(boss)
    with app.app_context():
        first, second = db.session.scalars(select(Invitation.id).order_by(Invitation.id))
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == first)
            .values(expires_at=utcnow() - dt.timedelta(minutes=1))
        )
        db.session.commit()
    assert invitations.EXPIRED in client.get(f"/signin?invite={expired}").get_data(as_text=True)
    response = boss.post(f"/admin/invitations/{second}/revoke")
    assert response.status_code == 303
    assert invitations.REVOKED in client.get(f"/signin?invite={revoked}").get_data(as_text=True)
    listing = boss.get("/admin/invitations").get_data(as_text=True)
    assert ">expired<" in listing and ">revoked<" in listing
    assert ("boss", "revoke invitation", f"invitation {second}") in audit_rows(app)
    assert boss.post("/admin/invitations/999/revoke").status_code == 404


@pytest.mark.parametrize(
    ("email", "days", "uses", "message"),
    [
        ("not-an-address", "7", "1", "Enter a valid email address, or leave it empty."),
        ("", "0", "1", "Valid for: 1 to 365 days, or empty."),
        ("", "366", "1", "Valid for: 1 to 365 days, or empty."),
        ("", "seven", "1", "Valid for: 1 to 365 days, or empty."),
        ("", "7", "0", "Uses: a number from 1 to 1000."),
        ("", "7", "1001", "Uses: a number from 1 to 1000."),
        ("", "7", "²", "Uses: a number from 1 to 1000."),
    ],
)
def test_a_refused_invitation_says_why(app, boss, email, days, uses, message):
    response = boss.post("/admin/invitations", data={"email": email, "days": days, "uses": uses})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and not LINK.search(html)
    assert "No invitations yet." in html


def test_the_invitation_page_is_for_admins_only(app, client):
    make_user(app, "alice")
    login(client, "alice")
    assert client.get("/admin/invitations").status_code == 404
    assert client.post("/admin/invitations", data={"uses": "1"}).status_code == 404


def test_the_invitation_page_names_the_mode(invite_only, app, boss):
    assert "Sign-up is by invitation" in boss.get("/admin/invitations").get_data(as_text=True)


def test_registration_must_be_one_of_three():
    assert from_environment({"REGISTRATION": " Invite"})["REGISTRATION"] == "invite"
    with pytest.raises(ConfigError, match="REGISTRATION must be open, invite or closed"):
        from_environment({"REGISTRATION": "sometimes"})


def test_admins_make_accounts_on_the_command_line_when_sign_up_is_closed(closed, app):
    result = app.test_cli_runner().invoke(args=["create-user", "carol", "c@example.org"])
    assert result.exit_code == 0, result.output
    temporary = re.search(r"Temporary password: (\S+)", result.output).group(1)
    client = app.test_client()
    client.post("/login", data={"username": "carol", "password": temporary})
    assert client.get("/myfiles").location.endswith("/account/new-password")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["admin", "a@example.org"], "This username is reserved"),
        (["carol", "nope"], "Enter a valid email address."),
        (["alice", "a@example.org"], "This username is already taken."),
    ],
)
def test_create_user_says_why_it_cannot(app, arguments, message):
    make_user(app, "alice")
    result = app.test_cli_runner().invoke(args=["create-user", *arguments])
    assert result.exit_code == 1 and message in result.output
    assert set(users_by_name(app)) == {"alice"}


def test_admins_make_accounts_on_the_panel_when_sign_up_is_closed(closed, app, boss):
    response = boss.post(
        "/admin/users/new", data={"username": "carol", "email": "c@example.org", "name": ""}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    temporary = re.search(r'id="temporary-password">([^<]+)<', html).group(1)
    assert "It is shown this once." in html
    assert ("boss", "create user", "carol") in audit_rows(app)
    client = app.test_client()
    client.post("/login", data={"username": "carol", "password": temporary})
    assert client.get("/myfiles").location.endswith("/account/new-password")


@pytest.mark.parametrize(
    ("form", "message", "status"),
    [
        ({"username": "admin", "email": "a@example.org"}, "This username is reserved", 400),
        ({"username": "carol", "email": "nope"}, "Enter a valid email address.", 400),
        ({"username": "boss", "email": "b@example.org"}, "This username is already taken.", 409),
        ({"username": "carol", "email": "c@example.org", "name": "N" * 101}, "at most 100", 400),
    ],
)
def test_a_refused_account_says_why(app, boss, form, message, status):
    response = boss.post("/admin/users/new", data=form)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html and f'value="{form["email"]}"' in html
    assert set(users_by_name(app)) == {"boss"}
