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
from sqlalchemy import and_, delete, outerjoin, select

from ..extensions import db
from ..models import ACTIVE, User, UserSession, utcnow
from ..viewers import pending_along


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
    """The active user of a live session, or None (ended, expired, forged or removed).

    The session's row is read on every request, so that a logout, a password change or
    a removed account ends the session at once on every instance. When the request asked
    for a query along with its viewer (``viewers.load_with_viewer``: the image a thumbnail
    request names), the session and user are outer-joined to that query, so that both
    come in one round trip."""
    if not token:
        return None
    try:
        uid = int(user_id)
    except ValueError:
        return None
    live = and_(
        UserSession.token_hash == _hash(token),
        UserSession.user_id == uid,
        UserSession.created_at >= _oldest_allowed(),
    )
    along = pending_along()
    if along is not None:
        statement = along.statement
        entity = statement.column_descriptions[0]["entity"]
        signed_in = outerjoin(entity, UserSession, live).outerjoin(
            User, and_(User.id == UserSession.user_id, User.state == ACTIVE)
        )
        row = db.session.execute(
            statement.add_columns(User).select_from(signed_in).limit(1)
        ).first()
        along.answered = True
        if row is not None:
            along.result = row[0]
            return row[-1]
    return db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(live, User.state == ACTIVE)
    )
