"""Personal access tokens: made on the account page and shown once, stored hashed, at
most 50, expiring, revoked by their owner or an admin, dead with their user, audited."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

from sqlalchemy import select, update

from tests.helpers import PASSWORD, audit_rows, make_user, signed_in
from web.accounts import tokens
from web.extensions import db
from web.models import ApiToken, User

TOKEN = re.compile(r'<code id="new-token">(imgrepo_[A-Za-z0-9_-]{43})</code>')


def create(client, name="laptop", scope="read-write", expires="never"):
    return client.post("/account/tokens", data={"name": name, "scope": scope, "expires": expires})


def new_token(client, **form) -> str:
    response = create(client, **form)
    assert response.status_code == 200, response.get_data(as_text=True)
    return TOKEN.search(response.get_data(as_text=True)).group(1)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def token_rows(app) -> list[ApiToken]:
    with app.app_context():
        return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))


def test_a_token_is_shown_once_in_full_and_only_its_hash_is_kept(app):
    alice = signed_in(app, "alice")
    page = create(alice, name="ShareX").get_data(as_text=True)
    secret = TOKEN.search(page).group(1)
    assert 'id="copy-token"' in page and 'id="sharex-download"' in page
    [row] = token_rows(app)
    assert row.token_hash == tokens.hash_secret(secret) and secret not in row.token_hash
    assert row.prefix == secret[:16] and row.scope == "read-write" and row.expires_at is None
    later = alice.get("/account").get_data(as_text=True)
    assert secret not in later and f"{secret[:16]}…" in later and "ShareX" in later
    assert alice.get("/api/v1/me", headers=bearer(secret)).json["username"] == "alice"


def test_the_sharex_file_uploads_with_the_token(app):
    alice = signed_in(app, "alice")
    page = create(alice).get_data(as_text=True)
    secret = TOKEN.search(page).group(1)
    link = re.search(r'id="sharex-download" href="data:application/json;base64,([^"]+)"', page)
    config = json.loads(base64.b64decode(link.group(1)))
    assert config["RequestURL"].endswith("/api/v1/images")
    assert config["Headers"]["Authorization"] == f"Bearer {secret}"
    assert config["FileFormName"] == "file" and config["Body"] == "MultipartFormData"
    read_page = create(alice, name="reader", scope="read").get_data(as_text=True)
    assert 'id="sharex-download"' not in read_page  # a read token cannot upload


def test_token_form_errors_are_shown_and_change_nothing(app):
    alice = signed_in(app, "alice")
    cases = [
        ({"name": "  "}, "Give the token a name"),
        ({"name": "x" * 101}, "at most 100 characters"),
        ({"scope": "admin"}, "Choose what the token may do"),
        ({"expires": "3"}, "Choose when the token expires"),
    ]
    for form, message in cases:
        response = create(alice, **form)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert token_rows(app) == []


def test_at_most_fifty_tokens(app):
    alice = signed_in(app, "alice")
    with app.app_context():
        user = db.session.get(User, 1) or db.session.scalar(select(User))
        for n in range(tokens.MAX_TOKENS):
            tokens.create(user, f"t{n}", "read")
    refused = create(alice)
    assert refused.status_code == 400
    assert "You already have 50 tokens" in refused.get_data(as_text=True)
    assert len(token_rows(app)) == 50
    assert 'id="token-form"' not in alice.get("/account").get_data(as_text=True)


def test_an_expired_token_no_longer_works(app):
    alice = signed_in(app, "alice")
    secret = new_token(alice, expires="7")
    [row] = token_rows(app)
    assert dt.timedelta(days=6) < row.expires_at - row.created_at <= dt.timedelta(days=7)
    client = app.test_client()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    with app.app_context():
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.session.execute(update(ApiToken).values(expires_at=past))
        db.session.commit()
    refused = client.get("/api/v1/me", headers=bearer(secret))
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_gets_401_and_both_are_audited(app):
    alice = signed_in(app, "alice")
    secret = new_token(alice, name="old")
    [row] = token_rows(app)
    response = alice.post(f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 303
    assert "Revoked the token “old”" in alice.get("/account").get_data(as_text=True)
    assert token_rows(app) == []
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401
    actions = [(who, what) for who, what, _ in audit_rows(app)]
    assert actions == [("alice", "create token"), ("alice", "revoke token")]
    assert "“old”" in audit_rows(app)[0][2]


def test_nobody_revokes_someone_elses_token_but_an_admin(app):
    alice = signed_in(app, "alice")
    secret = new_token(alice)
    [row] = token_rows(app)
    bob = signed_in(app, "bob")
    assert bob.post(f"/account/tokens/{row.id}/revoke").status_code == 404
    assert bob.post(f"/admin/tokens/{row.id}/revoke").status_code == 404
    assert len(token_rows(app)) == 1
    make_user(app, "chief", is_admin=True)
    admin = app.test_client()
    admin.post("/login", data={"username": "chief", "password": PASSWORD})
    listing = admin.get(f"/admin/users/{row.user_id}").get_data(as_text=True)
    assert row.prefix in listing and 'id="user-tokens"' in listing
    response = admin.post(f"/admin/tokens/{row.id}/revoke")
    assert response.status_code == 303 and token_rows(app) == []
    assert admin.post(f"/admin/tokens/{row.id}/revoke").status_code == 404
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert audit_rows(app)[-1][:2] == ("chief", "revoke token")


def test_tokens_of_a_deleted_user_stop_at_once(app):
    alice = signed_in(app, "alice")
    secret = new_token(alice)
    client = app.test_client()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    with app.app_context():  # closed: the first step of every removal
        db.session.execute(update(User).where(User.username == "alice").values(state="deleting"))
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    with app.app_context():
        db.session.execute(update(User).where(User.username == "alice").values(state="active"))
        db.session.commit()
    assert alice.post("/account/delete", data={"password": PASSWORD}).status_code == 303
    assert token_rows(app) == []
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_last_use_is_recorded(app):
    alice = signed_in(app, "alice")
    secret = new_token(alice)
    assert token_rows(app)[0].last_used_at is None
    app.test_client().get("/api/v1/me", headers=bearer(secret))
    assert token_rows(app)[0].last_used_at is not None
    page = alice.get("/account").get_data(as_text=True)
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d UTC</td>", page)


def test_forged_and_malformed_tokens_get_401(app):
    signed_in(app, "alice")
    client = app.test_client()
    for header in ("Bearer imgrepo_" + "A" * 43, "Bearer nottoken", "Bearer " + "x" * 5000):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.content_type == "application/problem+json"
