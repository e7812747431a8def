"""Creating accounts and finding them: sign-up claims the username by the unique
constraint on its lowercased form and creates the user's bucket right after (the row
goes again if the bucket cannot be made); login checks the password of an active user."""

from __future__ import annotations

import logging

from sqlalchemy import select

from ..extensions import db, storage
from ..models import ACTIVE, User
from ..rules import NotFound, RuleError, Unavailable, claiming_name
from ..storage import StorageError
from .credentials import bucket_for, username_problem

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
    """The active user with this username (ignoring case) and password, else None."""
    user = find_user(username)
    if user is None or user.state != ACTIVE or not user.check_password(password):
        return None
    return user


def find_user(username: str) -> User | None:
    """The account with this username, ignoring case, in any state."""
    return db.session.scalar(select(User).where(User.username_key == username.strip().lower()))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user
