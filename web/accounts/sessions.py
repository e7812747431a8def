"""Server-side record of signed-in sessions, so that logging out really ends a session.

Flask keeps the session in a signed cookie; on its own, a copied cookie would stay
valid after logout. Each login therefore gets a random token kept in the cookie and
recorded (hashed) in ``user_sessions``; a request is signed in only while its row
exists. Sessions older than SESSION_DAYS end on their own.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

from flask import current_app
from sqlalchemy import Join, Select, and_, bindparam, delete, outerjoin, select
from sqlalchemy.orm import load_only

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
    session_values = {LIVE_HASH: _hash(token), LIVE_USER: uid, LIVE_SINCE: _oldest_allowed()}
    along = pending_along()
    if along is not None:
        if along.params:  # a statement made once: so is its join with the session
            joined = _joined_once(along.statement, along.light)
        else:
            joined = _joined(along.statement, along.light)
        row = db.session.execute(joined, {**along.params, **session_values}).first()
        along.answered = True
        if row is not None:
            along.result = row[0]
            return row[-1]
    return db.session.scalar(_LIVE_USER, session_values)


# The live session of the cookie, as bound parameters: the statements that check it are
# made once, and each request only gives its values.
LIVE_HASH, LIVE_USER, LIVE_SINCE = "live_token_hash", "live_user_id", "live_since"
_LIVE = and_(
    UserSession.token_hash == bindparam(LIVE_HASH),
    UserSession.user_id == bindparam(LIVE_USER),
    UserSession.created_at >= bindparam(LIVE_SINCE),
)
_LIVE_USER = (
    select(User)
    .join(UserSession, UserSession.user_id == User.id)
    .where(_LIVE, User.state == ACTIVE)
)
# What every request reads of its viewer: who it is, whether the account is active, its
# role, the language of an error page, and whether a new password comes first. A viewer
# loaded for a request that shows no page (``Along.light``) has only these; any other
# column is read from the database if used.
EVERY_REQUEST = load_only(
    User.id, User.state, User.is_admin, User.language, User.must_change_password
)


def _joined(statement: Select, light: bool) -> Select:
    """``statement`` with the viewer of the live session, outer-joined: one row, the
    viewer None when the session is not live (``light``: only ``EVERY_REQUEST``)."""
    joined = statement.add_columns(User).select_from(_signed_in(statement)).limit(1)
    return joined.options(EVERY_REQUEST) if light else joined


# Statements made once (with bound parameters) are few: each one's join is kept.
_joined_once = functools.lru_cache(maxsize=16)(_joined)


def _signed_in(statement: Select) -> Join:
    """The query's entity outer-joined to the live session and its active user."""
    return _signed_in_entity(statement.column_descriptions[0]["entity"])


@functools.cache
def _signed_in_entity(entity: type) -> Join:
    return outerjoin(entity, UserSession, _LIVE).outerjoin(
        User, and_(User.id == UserSession.user_id, User.state == ACTIVE)
    )
