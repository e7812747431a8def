"""Server-side record of signed-in sessions, so that logging out really ends a session.

Flask keeps the session in a signed cookie; on its own, a copied cookie would stay
valid after logout. Each login therefore gets a random token kept in the cookie and
recorded (hashed) in ``user_sessions``; a request is signed in only while its row
exists. Sessions older than SESSION_DAYS end on their own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..models import ACTIVE, User, UserSession, utcnow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _oldest_allowed() -> dt.datetime:
    return utcnow() - dt.timedelta(days=current_app.config["SESSION_DAYS"])


def start(user: User) -> str:
    """Record a new session for ``user`` and return its token (for the cookie)."""
    token = secrets.token_urlsafe(32)
    session = db.session
    session.execute(delete(UserSession).where(UserSession.created_at < _oldest_allowed()))
    session.add(UserSession(token_hash=_hash(token), user_id=user.id))
    session.commit()
    return token


def end(token: str | None) -> None:
    """End the session with this token (logout); an unknown token is already ended."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _hash(token)))
        db.session.commit()


def end_others(user_id: int, keep: str | None) -> None:
    """End every session of the user but the one with the token ``keep`` (None: all of
    them). The caller commits."""
    query = delete(UserSession).where(UserSession.user_id == user_id)
    if keep:
        query = query.where(UserSession.token_hash != _hash(keep))
    db.session.execute(query)


def load(user_id: str, token: str | None) -> User | None:
    """The active user of a live session, or None (ended, expired, forged or removed)."""
    if not token:
        return None
    try:
        uid = int(user_id)
    except ValueError:
        return None
    return db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == uid,
            User.state == ACTIVE,
            UserSession.token_hash == _hash(token),
            UserSession.created_at >= _oldest_allowed(),
        )
    )
