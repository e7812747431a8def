"""Login and sign-up throttling: guessing stays slow, and failures from other addresses
never lock an account's owner out; unknown usernames cost as much as known ones."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update
from werkzeug import security

from tests.helpers import PASSWORD, make_user, settings, users_by_name
from web import models
from web.accounts import registration, throttle
from web.extensions import db

WRONG = "wrong-Pass-1234"
limited = settings("limited", RATELIMIT_ENABLED=True)


def attempt(client, username: str, password: str, address: str):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def says_when_to_retry(response, most_minutes: int) -> None:
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= most_minutes * 60
    minutes = re.search(r"try again in (\d+) minutes?\.", response.get_data(as_text=True))
    assert minutes and 1 <= int(minutes[1]) <= most_minutes


# --- who counts -----------------------------------------------------------------------


def test_failures_from_other_addresses_never_refuse_the_owner(limited, app, client):
    """Five failures from each of three addresses: each is stopped, the owner is not."""
    make_user(app, "bob")
    assert attempt(client, "bob", PASSWORD, "10.0.0.1").status_code == 302
    client.get("/logout")
    for address in ("10.6.6.1", "10.6.6.2", "10.6.6.3"):
        for _ in range(5):
            assert attempt(client, "bob", WRONG, address).status_code == 200
        says_when_to_retry(attempt(client, "bob", PASSWORD, address), 15)
    assert attempt(client, "bob", PASSWORD, "10.0.0.1").status_code == 302
    client.get("/logout")
    # Even from an address bob never used: only its own failures count there.
    assert attempt(client, "BOB", PASSWORD, "10.0.0.9").status_code == 302


def test_the_ceiling_on_one_username_stops_guessing_from_many_addresses(limited, app, client):
    """100 failures an hour for one username from everywhere; the owner's own address
    (a successful login in the last 30 days) is exempt."""
    make_user(app, "bob")
    assert attempt(client, "bob", PASSWORD, "10.0.0.1").status_code == 302
    client.get("/logout")
    for n in range(100):
        address = f"10.7.{n // 200}.{n % 200 + 1}"
        assert attempt(client, "bob", WRONG, address).status_code == 200
    says_when_to_retry(attempt(client, "bob", PASSWORD, "10.8.0.1"), 60)
    assert attempt(client, "bob", PASSWORD, "10.0.0.1").status_code == 302
    client.get("/logout")
    make_user(app, "carol")  # another account is not concerned
    assert attempt(client, "carol", PASSWORD, "10.8.0.1").status_code == 302


def test_an_address_known_for_one_account_does_not_exempt_another(limited, app, client):
    make_user(app, "bob")
    make_user(app, "carol")
    assert attempt(client, "carol", PASSWORD, "10.0.0.1").status_code == 302
    client.get("/logout")
    with app.test_request_context():
        assert throttle.is_known_address("carol", "10.0.0.1")
        assert not throttle.is_known_address("bob", "10.0.0.1")
        assert not throttle.is_known_address("carol", "10.0.0.2")


def test_the_owners_own_failures_from_their_address_still_count(limited, app, client):
    make_user(app, "bob")
    assert attempt(client, "bob", PASSWORD, "10.0.0.1").status_code == 302
    client.get("/logout")
    for _ in range(5):
        attempt(client, "bob", WRONG, "10.0.0.1")
    says_when_to_retry(attempt(client, "bob", PASSWORD, "10.0.0.1"), 15)


def test_one_ipv6_network_counts_as_one_address(limited, app, client):
    make_user(app, "bob")
    for n in range(5):
        assert attempt(client, "bob", WRONG, f"2001:db8:1:2::{n + 1:x}").status_code == 200
    assert attempt(client, "bob", PASSWORD, "2001:db8:1:2:ffff::1").status_code == 429
    assert attempt(client, "bob", PASSWORD, "2001:db8:1:3::1").status_code == 302


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("not an address", "not an address"),
        (None, "unknown"),
    ],
)
def test_client_networks(address, network):
    assert throttle.client_network(address) == network


# --- sign-up ----------------------------------------------------------------------------


def sign_up(client, username: str, address: str, confirm: str = PASSWORD):
    return client.post(
        "/signin",
        data={
            "name": "Someone",
            "username": username,
            "email": "someone@example.org",
            "password": PASSWORD,
            "confirm_password": confirm,
        },
        environ_base={"REMOTE_ADDR": address},
    )


def test_sign_up_is_limited_to_20_attempts_an_hour_per_address(limited, app, client):
    for n in range(20):
        assert sign_up(client, f"user{n}x", "10.0.0.5", confirm="no match").status_code == 200
    refused = sign_up(client, "dora", "10.0.0.5")
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 3600
    assert re.search(
        r"Too many sign-up attempts from your network\. Please try again in \d+ minutes?\.",
        refused.get_data(as_text=True),
    )
    assert users_by_name(app) == {}
    assert sign_up(client, "dora", "10.0.0.6").status_code == 302
    assert list(users_by_name(app)) == ["dora"]


def test_sign_up_pages_are_not_limited(limited, app, client):
    for _ in range(25):
        assert client.get("/signin", environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 200


# --- the cost of a failure ---------------------------------------------------------------


@pytest.fixture
def hash_checks(monkeypatch):
    """Counts the password-hash checks, wherever login makes them."""
    calls: list[str] = []

    def counting(module):
        def check(pwhash: str, password: str) -> bool:
            calls.append(module.__name__)
            return security.check_password_hash(pwhash, password)

        return check

    for module in (models, registration):
        monkeypatch.setattr(module, "check_password_hash", counting(module))
    return calls


@pytest.mark.parametrize("username", ["bob", "nobody", "closed"])
def test_every_failed_login_checks_one_password_hash(app, client, hash_checks, username):
    make_user(app, "bob")
    closed = make_user(app, "closed")
    with app.app_context():  # an account being removed cannot log in
        db.session.execute(
            update(models.User).where(models.User.id == closed.id).values(state=models.DELETING)
        )
        db.session.commit()
    hash_checks.clear()
    response = client.post("/login", data={"username": username, "password": WRONG})
    assert "Invalid username or password." in response.get_data(as_text=True)
    assert len(hash_checks) == 1


@pytest.mark.real_password_hashing
def test_the_unknown_user_check_uses_a_hash_made_like_the_real_ones(app):
    with app.app_context():
        user = registration.find_user(make_user(app, "bob").username)
        method = user.password_hash.split("$", 1)[0]
    assert registration._dummy_hash().split("$", 1)[0] == method
