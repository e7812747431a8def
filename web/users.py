"""Accounts: the username and password rules, sign-up, login, and removing a user.

A username is claimed by the unique constraint on its lowercased form; its bucket is
created right after, and the row goes again if the bucket cannot be made. Removing a
user marks them DELETING first (they cannot log in from that moment), then deletes
their images, their bucket and their row; fsck finishes an interrupted removal.
"""

from __future__ import annotations

import logging
import re

from flask import current_app
from sqlalchemy import delete, select, update

from .extensions import db, storage
from .models import ACTIVE, DELETING, Image, User, utcnow
from .repository import (
    RuleError,
    Unavailable,
    backend_failures,
    claiming_name,
    finished_by_fsck,
    remove_objects,
)
from .storage import StorageError

log = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,29}$")
# Names that would clash with system names, routes or buckets. One list, one place.
RESERVED_USERNAMES = frozenset(
    [
        "admin",
        "administrator",
        "root",
        "api",
        "static",
        "login",
        "logout",
        "signin",
        "signup",
        "register",
        "myfiles",
        "delete",
        "health",
        "account",
        "gallery",
        "favicon",
        "image",
        "images",
        "thumbnails",
        "thumbs",
        "upload",
        "uploads",
        "public",
        "private",
        "user",
        "users",
        "system",
        "support",
        "help",
        "about",
        "settings",
        "account",
        "null",
        "none",
        "undefined",
        "www",
        "mail",
        "minio",
    ]
)


def bucket_for(username: str) -> str:
    return current_app.config["USER_BUCKET_PREFIX"] + username.lower()


def username_problem(username: str) -> str | None:
    """Why ``username`` cannot be used, or None when it can."""
    if not USERNAME_RE.match(username):
        return "Usernames are 3–30 letters or digits and start with a letter."
    key = username.lower()
    if key in RESERVED_USERNAMES or key == current_app.config["PUBLIC_BUCKET"].lower():
        return "This username is reserved; please choose another."
    if len(bucket_for(username)) > 63:
        return "This username is too long for a storage bucket; please choose a shorter one."
    return None


def password_problem(password: str, username: str, email: str) -> str | None:
    """Why ``password`` is too weak, or None when it is strong enough."""
    if len(password) < 10:
        return "Use at least 10 characters."
    lowered = password.lower()
    for label, value in (("username", username), ("email address", email)):
        value = (value or "").strip().lower()
        if value and (value in lowered or lowered in value):
            return f"The password must not contain your {label}."
        local = value.split("@", 1)[0]
        if label == "email address" and len(local) >= 3 and local in lowered:
            return f"The password must not contain your {label}."
    from zxcvbn import zxcvbn  # imported here: it loads its word lists on first use

    result = zxcvbn(password[:100], user_inputs=[username or "", email or ""])
    if result["score"] < 3:
        feedback = result.get("feedback") or {}
        hint = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
        return "This password is too easy to guess." + (f" {hint}" if hint else "")
    return None


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
    user = db.session.scalar(select(User).where(User.username_key == username.strip().lower()))
    if user is None or user.state != ACTIVE or not user.check_password(password):
        return None
    return user


def remove_user(user: User) -> None:
    """Remove a user with their images, objects and bucket.

    The user is marked DELETING first, so they cannot log in from that moment; a
    failure part-way leaves a DELETING user that fsck finishes.
    """
    with backend_failures():
        db.session.execute(update(User).where(User.id == user.id).values(state=DELETING))
        db.session.commit()
    with finished_by_fsck(
        f"removal of user {user.id}",
        "The account is closed, but not all of its files could be removed yet; "
        "they will be cleaned up automatically.",
    ):
        finish_user_removal(user)


def finish_user_removal(user: User) -> None:
    """Delete every image of a DELETING user, then their bucket, then the user row."""
    session = db.session
    session.execute(
        update(Image).where(Image.owner_id == user.id).values(state=DELETING, updated_at=utcnow())
    )
    session.commit()
    for image in session.scalars(select(Image).where(Image.owner_id == user.id)).all():
        remove_objects(image.bucket, [image.object_key, image.thumb_key])
        session.execute(delete(Image).where(Image.id == image.id))
        session.commit()
    _before_user_row_removed(user)
    storage.store.remove_bucket(user.bucket)
    session.execute(delete(User).where(User.id == user.id, User.state == DELETING))
    session.commit()


def _before_user_row_removed(user: User) -> None:
    """Rows that refer to a user go before the user row, in its transaction: their
    comments on any image; audit entries keep only the copy of their name."""
    from . import accounts, comments  # they build on this module

    comments.remove_by(user.id)
    accounts.forget_actor(user.id)
