"""Creating accounts and finding them: sign-up claims the username by the unique
constraint on its lowercased form and creates the user's bucket right after (the row
goes again if the bucket cannot be made); login checks the password of an active user."""

from __future__ import annotations

import functools
import logging
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, storage
from ..models import ACTIVE, User
from ..rules import NotFound, RuleError, Unavailable, claiming_name
from ..storage import StorageError
from .credentials import bucket_for, clean_username, username_problem

log = logging.getLogger(__name__)


def register(name: str, username: str, email: str, password: str) -> User:
    """Create an account and its bucket; the name is claimed by the unique constraint."""
    problem = username_problem(username)
    if problem:
        raise RuleError(problem)
    user = User(
        name=name.strip(),
        username=username,
        username_key=username.lower(),
        email=email.strip(),
        bucket=bucket_for(username),
        state=ACTIVE,
    )
    user.set_password(password)
    session = db.session
    with claiming_name(
        "This username is already taken.", "The database is not answering; please try again."
    ):
        session.add(user)
        session.commit()
    try:
        storage.store.ensure_bucket(user.bucket)
    except StorageError as exc:
        log.warning("bucket creation failed for %s: %s", user.username, exc)
        session.delete(user)
        session.commit()
        raise Unavailable(
            "Your account could not be created because the image store is not answering. "
            "Please try again."
        ) from exc
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username (ignoring case) and password, else None.

    An unknown or closed account costs the same password-hash check as a wrong password,
    so the time of the answer does not tell which usernames exist.
    """
    user = find_user(username)
    if user is None or user.state != ACTIVE:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if user.check_password(password) else None


@functools.cache
def _dummy_hash() -> str:
    """A hash made like every account's (same method and cost) of a password no one has."""
    return generate_password_hash(secrets.token_urlsafe(24))


def find_user(username: str) -> User | None:
    """The account with this username, ignoring case, in any state."""
    key = clean_username(username).lower()
    return db.session.scalar(select(User).where(User.username_key == key))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user
