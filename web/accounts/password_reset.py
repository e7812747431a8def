"""Forgotten passwords: a single-use link by mail that sets a new password.

Asking gives the same answer whether or not an account matches (the caller shows one
sentence) and sends mail in the background, so neither the words nor the time tell who
has an account. Each account gets at most PER_ACCOUNT_PER_HOUR links an hour (more asks
send nothing, silently). A link holds 256 random bits of which only the SHA-256 is
kept; it works once, for PASSWORD_RESET_HOURS, and a newer link supersedes it. Using it
sets the password, ends every session of the user and is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable

from flask import current_app
from sqlalchemy import func, or_, select, update

from ..extensions import db
from ..models import ACTIVE, PasswordReset, User, utcnow
from ..rules import RuleError
from . import mail, sessions
from .passwords import check_new_password, store_chosen

RESET_ACTION = "reset password"
PER_ACCOUNT_PER_HOUR = 3
ASK_AGAIN = " Ask for a new link on the “Forgot your password?” page."
NOT_VALID = "This password reset link is not valid." + ASK_AGAIN
USED = "This password reset link was used already." + ASK_AGAIN
EXPIRED = "This password reset link has expired." + ASK_AGAIN
SUPERSEDED = "A newer password reset link was sent: use the link in the newest email."


class LinkRefused(RuleError):
    """A reset link that cannot be used (the sentence says why)."""

    status = 410


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_reset(identifier: str, link_for: Callable[[str], str]) -> None:
    """Mail a reset link to the active account(s) with this username or email, if any."""
    key = identifier.strip().lower()[:254]
    if not key:
        return
    users = db.session.scalars(
        select(User)
        .where(or_(User.username_key == key[:30], func.lower(User.email) == key))
        .where(User.state == ACTIVE)
        .limit(5)
    ).all()
    for user in users:
        _send_link(user, link_for)


def _send_link(user: User, link_for: Callable[[str], str]) -> None:
    now = utcnow()
    recent = db.session.scalar(
        select(func.count(PasswordReset.id)).where(
            PasswordReset.user_id == user.id,
            PasswordReset.created_at >= now - dt.timedelta(hours=1),
        )
    )
    if recent >= PER_ACCOUNT_PER_HOUR:
        return
    db.session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.user_id == user.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.superseded_at.is_(None),
        )
        .values(superseded_at=now)
    )
    token = secrets.token_urlsafe(32)
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    db.session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    db.session.commit()
    mail.send(
        user.email,
        "Reset your password",
        f"Hello {user.name},\n\n"
        f"Someone (we hope you) asked to reset the password of the account {user.username}.\n"
        f"To choose a new password, open this link within {hours} hour(s):\n\n"
        f"{link_for(token)}\n\n"
        "The link works once. If you did not ask, ignore this email: your password stays "
        "as it is.\n",
    )


def find(token: str) -> PasswordReset:
    """The usable reset of ``token``; LinkRefused says why it is not."""
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == _hash(token[:100]))
    )
    if reset is None or reset.user.state != ACTIVE:
        raise LinkRefused(NOT_VALID)
    if reset.used_at is not None:
        raise LinkRefused(USED)
    if reset.superseded_at is not None:
        raise LinkRefused(SUPERSEDED)
    if reset.expires_at <= utcnow():
        raise LinkRefused(EXPIRED)
    return reset


def reset_password(token: str, new: str, confirm: str) -> User:
    """Set the new password through the link (once): every session of the user ends."""
    reset = find(token)
    user = reset.user
    check_new_password(user, new, confirm)
    claimed = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise LinkRefused(USED)
    sessions.end_others(user.id, None)
    store_chosen(user, new, RESET_ACTION)
    db.session.commit()
    return user
