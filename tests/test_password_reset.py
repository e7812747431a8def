"""Forgotten passwords: a link by real mail (an aiosmtpd server on a free loopback port
catches it), followed from the captured message; the same answer whether or not an
account matches; limits; used, expired and superseded links."""

from __future__ import annotations

import datetime as dt
import re
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

from support.processes import free_port
from tests.helpers import PASSWORD, audit_rows, login, make_user, settings
from web.accounts import password_reset
from web.config import ConfigError, load
from web.extensions import db
from web.models import PasswordReset, utcnow

NEW = "Velvet-orchard-compass-77"
SENT = "If an account matches what you entered, we have sent an email"
PUBLIC_URL = "https://photos.example.org"


class Inbox:
    """An SMTP handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def wait(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} messages came"
        return self.messages

    def quiet(self, count: int, wait: float = 1.0) -> None:
        """No more than ``count`` messages arrive in ``wait`` seconds."""
        time.sleep(wait)
        assert len(self.messages) == count


@pytest.fixture
def inbox(config):
    """A mail server for the test; ask for it before ``app``."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        MAIL_TLS="none",
        MAIL_FROM="photos@example.org",
        PUBLIC_URL=PUBLIC_URL,
    )
    yield handler
    controller.stop()


@pytest.fixture
def alice(inbox, app):
    make_user(app, "alice")
    return app.test_client()


def ask(client, identifier="alice", **kwargs):
    return client.post("/forgot", data={"identifier": identifier}, **kwargs)


def link_in(message: EmailMessage) -> str:
    body = message.get_content()
    found = re.search(re.escape(PUBLIC_URL) + r"(/reset/[A-Za-z0-9_-]{43})\s", body)
    assert found, body
    return found.group(1)


def set_password(client, path, new=NEW, confirm=None):
    return client.post(path, data={"new_password": new, "confirm_password": confirm or new})


def can_log_in(app, password: str) -> bool:
    response = app.test_client().post("/login", data={"username": "alice", "password": password})
    return response.status_code == 302


def test_without_smtp_the_page_says_to_ask_an_administrator(app, client):
    assert 'href="/forgot">Forgot your password?</a>' in client.get("/login").get_data(as_text=True)
    for response in (client.get("/forgot"), ask(client)):
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Ask an administrator of this site to give you a temporary password." in html
        assert 'name="identifier"' not in html


def test_the_emailed_link_sets_a_new_password_and_ends_every_session(inbox, app, alice):
    laptop = app.test_client()
    login(laptop, "alice")
    response = ask(alice, headers={"Host": "evil.example"})
    assert response.status_code == 200 and SENT in response.get_data(as_text=True)
    (message,) = inbox.wait(1)
    assert message["To"] == "alice@example.org" and message["From"] == "photos@example.org"
    assert message["Subject"] == "Reset your password"
    assert "evil.example" not in message.get_content()
    path = link_in(message)
    with app.app_context():
        assert db.session.query(PasswordReset).one().token_hash != path.rsplit("/", 1)[1]
    page = alice.get(path)
    assert page.status_code == 200 and 'id="reset-form"' in page.get_data(as_text=True)
    refused = set_password(alice, path, "short")
    assert refused.status_code == 400
    assert "Use at least 10 characters." in refused.get_data(as_text=True)
    done = set_password(alice, path)
    assert done.status_code == 303 and done.location.endswith("/login")
    assert laptop.get("/account").status_code == 302
    assert can_log_in(app, NEW) and not can_log_in(app, PASSWORD)
    assert ("alice", "reset password", "alice") in audit_rows(app)
    again = alice.get(path)
    assert again.status_code == 410
    assert password_reset.USED in again.get_data(as_text=True)
    assert set_password(alice, path, "Another-fine-phrase-88").status_code == 410
    assert can_log_in(app, NEW)


def test_an_email_address_finds_the_account_too(inbox, app, alice):
    ask(alice, "ALICE@example.org")
    assert inbox.wait(1)[0]["To"] == "alice@example.org"


def test_the_answer_is_the_same_for_no_account(inbox, app, alice):
    known = ask(alice, "alice").get_data(as_text=True)
    unknown = ask(alice, "nobody@example.org")
    assert unknown.status_code == 200
    assert unknown.get_data(as_text=True) == known
    inbox.wait(1)
    inbox.quiet(1)


def test_a_newer_link_supersedes_the_older(inbox, app, alice):
    ask(alice)
    ask(alice)
    first, second = (link_in(m) for m in inbox.wait(2))
    response = alice.get(first)
    assert response.status_code == 410
    assert password_reset.SUPERSEDED in response.get_data(as_text=True)
    assert set_password(alice, second).status_code == 303


def test_an_expired_link_says_so(inbox, app, alice):
    ask(alice)
    path = link_in(inbox.wait(1)[0])
    with app.app_context():
        db.session.execute(update(PasswordReset).values(expires_at=utcnow() - dt.timedelta(1)))
        db.session.commit()
    response = set_password(alice, path)
    assert response.status_code == 410
    assert password_reset.EXPIRED in response.get_data(as_text=True)
    assert can_log_in(app, PASSWORD)


def test_links_expire_after_password_reset_hours(inbox, app, alice):
    ask(alice)
    inbox.wait(1)
    with app.app_context():
        reset = db.session.query(PasswordReset).one()
        assert reset.expires_at - reset.created_at == dt.timedelta(hours=1)


def test_a_link_that_was_never_made_says_so(inbox, app, alice):
    response = alice.get("/reset/" + "x" * 43)
    assert response.status_code == 410
    assert password_reset.NOT_VALID in response.get_data(as_text=True)


def test_an_empty_request_says_what_to_enter(inbox, app, alice):
    response = ask(alice, "   ")
    assert response.status_code == 400
    assert "Enter your username or email address." in response.get_data(as_text=True)


def test_each_account_gets_a_few_links_an_hour(inbox, app, alice):
    for _ in range(password_reset.PER_ACCOUNT_PER_HOUR + 2):
        assert SENT in ask(alice).get_data(as_text=True)
    inbox.wait(password_reset.PER_ACCOUNT_PER_HOUR)
    inbox.quiet(password_reset.PER_ACCOUNT_PER_HOUR)


limited = settings("limited", RATELIMIT_ENABLED=True)


def test_each_address_may_ask_ten_times_an_hour(limited, inbox, app, alice):
    for n in range(10):
        assert ask(alice, f"someone{n}").status_code == 200
    response = ask(alice)
    assert response.status_code == 429
    inbox.quiet(0, wait=0.5)


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"MAIL_SERVER": "smtp.example.org"}, "MAIL_FROM and PUBLIC_URL must be set too"),
        (
            {"MAIL_SERVER": "s", "MAIL_FROM": "a@example.org", "PUBLIC_URL": "example.org"},
            "PUBLIC_URL must be the site's address",
        ),
        ({"MAIL_TLS": "maybe"}, "MAIL_TLS must be none, starttls or ssl"),
    ],
)
def test_mail_settings_are_checked(tmp_path, settings_, message):
    from web.config import from_environment

    with pytest.raises(ConfigError, match=message):
        load({**from_environment(settings_), "DATA_DIR": str(tmp_path)})
