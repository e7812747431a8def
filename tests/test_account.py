"""Deleting one's own account: the password, the last admin, a failure half-way."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.helpers import (
    PASSWORD,
    audit_rows,
    break_removes,
    comment_rows,
    flashes,
    image_rows,
    last_image_id,
    login,
    login_status,
    make_user,
    objects,
    say,
    stored_objects,
    upload,
    user_id,
    users_by_name,
)
from web.extensions import db
from web.models import DELETING, AuditEntry
from web.operations import fsck


@pytest.fixture
def alice(app):
    """alice, signed in, with a public and a private image; bob commented on the public one."""
    make_user(app, "alice")
    make_user(app, "bob")
    client, bob = app.test_client(), app.test_client()
    login(client, "alice")
    login(bob, "bob")
    upload(client, "alice-public.png")
    say(bob, last_image_id(app), "bob was here")
    upload(client, "alice-private.png", visibility="private")
    upload(bob, "bob.png")
    say(client, last_image_id(app), "alice was here")
    return client


def delete_account(client, password: str):
    return client.post("/account/delete", data={"password": password})


def test_the_account_page_shows_the_user_and_the_delete_form(app, alice):
    html = alice.get("/account").get_data(as_text=True)
    assert "alice@example.org" in html and "2 (" in html
    assert 'action="/account/delete"' in html and 'autocomplete="current-password"' in html
    assert 'href="/account"' in alice.get("/myfiles").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(app, client):
    for response in (client.get("/account"), delete_account(client, "whatever")):
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_wrong_password_changes_nothing(app, alice):
    before = (users_by_name(app), image_rows(app), objects(app), comment_rows(app))
    for password in ("", "not-my-password-at-all"):
        response = delete_account(alice, password)
        assert response.status_code == 400
        assert "The password is not correct. Nothing was changed." in response.get_data(
            as_text=True
        )
    assert (users_by_name(app), image_rows(app), objects(app), comment_rows(app)) == before
    assert alice.get("/myfiles").status_code == 200  # still signed in


def test_deleting_the_account_removes_everything_of_the_user(app, alice):
    response = delete_account(alice, PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "Your account, your images and your comments are deleted. Goodbye!" in flashes(
        alice.get("/login")
    )
    assert set(users_by_name(app)) == {"bob"}
    assert [r[0] for r in image_rows(app)] == ["bob.png"]
    pub, prefix = app.config["PUBLIC_BUCKET"], app.config["USER_BUCKET_PREFIX"]
    assert objects(app) == stored_objects(app, pub, "bob.png")
    with app.app_context():
        assert f"{prefix}alice" not in app.extensions["object_store"].list_buckets()
    assert comment_rows(app) == []  # hers on bob's image, and bob's on hers
    assert audit_rows(app) == []  # not an admin action
    follow = alice.get("/myfiles")
    assert follow.status_code == 302 and "/login" in follow.headers["Location"]
    assert login_status(app, "alice") == 200  # refused


def test_the_last_admin_cannot_delete_their_account(app):
    make_user(app, "boss", is_admin=True)
    boss = app.test_client()
    login(boss, "boss")
    page = boss.get("/account").get_data(as_text=True)
    assert "You are the only admin, so you cannot delete your account." in page
    response = delete_account(boss, PASSWORD)
    assert response.status_code == 409
    assert "You are the last admin, so you cannot delete your account." in response.get_data(
        as_text=True
    )
    assert users_by_name(app) == {"boss": (True, "active")}
    make_user(app, "dana", is_admin=True)
    assert delete_account(boss, PASSWORD).status_code == 303
    assert users_by_name(app) == {"dana": (True, "active")}


def test_a_deleted_admins_audit_entries_keep_their_name(app):
    make_user(app, "boss", is_admin=True)
    make_user(app, "dana", is_admin=True)
    make_user(app, "carol")
    boss = app.test_client()
    login(boss, "boss")
    boss.post(f"/admin/users/{user_id(app, 'carol')}/promote")
    delete_account(boss, PASSWORD)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry))
        assert (entry.actor_id, entry.actor_username, entry.action) == (None, "boss", "promote")


def test_a_removal_that_fails_half_way_closes_the_account_and_fsck_finishes_it(
    app, alice, monkeypatch
):
    break_removes(monkeypatch, app)
    response = delete_account(alice, PASSWORD)
    assert response.status_code == 303
    assert any("Your account is closed." in m for m in flashes(alice.get("/login")))
    assert users_by_name(app)["alice"] == (False, DELETING)
    assert login_status(app, "alice") == 200  # cannot log in from the first step
    monkeypatch.undo()
    with app.app_context():
        report = fsck.run(grace=dt.timedelta(0))
    assert report.failed == []
    assert set(users_by_name(app)) == {"bob"}
    assert [r[0] for r in image_rows(app)] == ["bob.png"]
    assert comment_rows(app) == []


@pytest.fixture
def limited(config):
    config["RATELIMIT_ENABLED"] = True
    return config


def test_guessing_the_password_to_delete_an_account_is_rate_limited(limited, app, alice):
    for _ in range(5):
        assert delete_account(alice, "not-my-password-at-all").status_code == 400
    response = delete_account(alice, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts. For your safety, try again in" in response.get_data(
        as_text=True
    )
    assert "alice" in users_by_name(app)
