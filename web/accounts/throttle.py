"""How often people may try to log in and sign up: guessing stays slow, and no stranger
can lock an account's owner out.

Failed logins are counted three ways (only failures count; a login that works costs
nothing):

- per username *and* client address: 5 in 15 minutes. This is the limit one guesser
  meets, and the only one an owner's own typing mistakes can reach;
- per client address, whatever the usernames: 20 in 15 minutes;
- per username from all addresses together: 100 an hour, a ceiling against guessing
  spread over many addresses. It never applies to an address from which the account
  logged in successfully in the last 30 days (the owner's own address), so failures
  from elsewhere never refuse the owner.

Sign-up forms are limited to 20 submissions an hour per client address (whatever their
outcome), so "already taken" cannot be used to list the usernames in bulk.

A client address is the IPv4 address, or the /64 network of an IPv6 address (what one
home or one server gets). The counts live in the rate limiter's storage: in Redis when
REDIS_URL is set (shared by every process), else in each process's memory.
"""

from __future__ import annotations

import ipaddress

from flask import current_app

from ..extensions import limiter

LOGIN_PER_USERNAME_AT_ADDRESS = "5 per 15 minutes"
LOGIN_PER_ADDRESS = "20 per 15 minutes"
LOGIN_PER_USERNAME = "100 per hour"
SIGNUP_PER_ADDRESS = "20 per hour"
KNOWN_ADDRESS_DAYS = 30


def client_network(address: str | None) -> str:
    """The address the limits count: IPv4 as it is, IPv6 as its /64 network."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _known_key(username_key: str, network: str) -> str:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return f"{prefix}/login-known/{username_key}/{network}"


def remember_address(username_key: str, network: str) -> None:
    """After a successful login: this address is the account owner's for 30 days."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    key = _known_key(username_key, network)
    limiter.storage.clear(key)  # a new login starts the 30 days again
    limiter.storage.incr(key, KNOWN_ADDRESS_DAYS * 24 * 3600)


def is_known_address(username_key: str, network: str) -> bool:
    """Whether the account logged in successfully from this address in the last 30 days."""
    return limiter.storage.get(_known_key(username_key, network)) > 0
