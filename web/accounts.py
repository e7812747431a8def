"""Admins and accounts: the admin role, the user list, removing users, reset, the audit log.

The rules kept here:

- There is always at least one active admin. A change that takes an admin away (demote,
  delete, self-delete) makes its change first and then counts the admins left with
  ``SELECT ... FOR UPDATE`` in the same transaction, rolling back when none is left. On
  MySQL the locking read serialises two such changes (one may be refused or asked to try
  again, never both let through); on SQLite the first write holds the database's write
  lock until the commit, so the count cannot be stale.
- Every admin action writes its audit entry here, in the transaction that makes the
  action's first change (for an image: the one that hides it), so the log and the data
  agree about who started what even when the rest is finished later by ``fsck``.
- Removing a user goes through ``users.remove_user``: the account is closed first
  (it can no longer log in) and an interrupted removal is finished by ``fsck``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select, update

from . import repository, users
from .extensions import db
from .models import (
    ACTIVE,
    DELETING,
    PRIVATE,
    PUBLIC,
    READY,
    VISIBLE_STATES,
    AuditEntry,
    Comment,
    Image,
    User,
)
from .repository import NameTaken, NotFound, RuleError, Unavailable

PAGE_SIZE = 50
RESET_WORD = "RESET"
COMMAND_LINE = "(command line)"  # the actor named in the audit log for the CLI

PROMOTE, DEMOTE, DELETE_USER, DELETE_IMAGE, DELETE_COMMENT, RESET, CREATE_ADMIN = (
    "promote",
    "demote",
    "delete user",
    "delete image",
    "delete comment",
    "reset",
    "create admin",
)


class LastAdmin(RuleError):
    """The change would leave no active admin."""

    status = 409


BUSY = "The database is busy right now. Nothing was changed; please try again."


# --- audit log -------------------------------------------------------------------------


def audit(actor: User | None, action: str, target: str) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits it with its change)."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_username=actor.username if actor is not None else COMMAND_LINE,
        action=action,
        target=target[:500],
    )
    db.session.add(entry)
    return entry


@dataclass
class NewestFirst:
    """One page of rows, newest first (keyset pagination on the id)."""

    items: list[Any]
    next_before: int | None  # the id to pass as ``before`` for the next (older) page


def _newest_first(
    stmt: Select, id_column: Any, before: int | None, limit: int | None
) -> NewestFirst:
    limit = limit or PAGE_SIZE
    if before is not None:
        stmt = stmt.where(id_column < before)
    rows = list(db.session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return NewestFirst(rows, rows[-1].id if more else None)


def audit_log(before: int | None = None, limit: int | None = None) -> NewestFirst:
    """The audit log, newest first, from the entry before ``before``."""
    return _newest_first(select(AuditEntry), AuditEntry.id, before, limit)


def forget_actor(user_id: int) -> None:
    """Before a user row goes: their audit entries keep the copy of their name only."""
    db.session.execute(
        update(AuditEntry).where(AuditEntry.actor_id == user_id).values(actor_id=None)
    )


# --- the user list ---------------------------------------------------------------------


@dataclass
class UserRow:
    user: User
    image_count: int
    bytes_used: int


@dataclass
class UserPage:
    rows: list[UserRow]
    next_after: str | None  # the username key to pass as ``after`` for the next page
    query: str


def list_users(query: str = "", after: str | None = None, limit: int | None = None) -> UserPage:
    """Users by username (keyset pagination), with their image count and bytes used.

    Two queries whatever the page size: the page of users, then one grouped query over
    their images (the ``ix_images_owner_id`` index), never one query per user.
    """
    limit = limit or PAGE_SIZE
    query = (query or "").strip()[:30]
    stmt = select(User)
    if query:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query.lower()) + "%"
        stmt = stmt.where(User.username_key.like(pattern, escape="\\"))
    if after:
        stmt = stmt.where(User.username_key > after)
    users = list(db.session.scalars(stmt.order_by(User.username_key).limit(limit + 1)))
    more = len(users) > limit
    users = users[:limit]
    rows = [UserRow(u, u.image_count, u.bytes_used) for u in users]
    return UserPage(rows, users[-1].username_key if more else None, query)


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username_key == username.strip().lower()))


def images_of(user: User, before: int | None = None, limit: int | None = None) -> NewestFirst:
    """A user's images, public and private, newest first (for the admin panel)."""
    stmt = select(Image).where(Image.owner_id == user.id, Image.state.in_(VISIBLE_STATES))
    return _newest_first(stmt, Image.id, before, limit)


@dataclass
class Footprint:
    public_images: int
    private_images: int
    comments: int


def footprint(user: User) -> Footprint:
    """What removing ``user`` takes with it (for the confirmation page)."""
    by_visibility = dict(
        db.session.execute(
            select(Image.visibility, func.count(Image.id))
            .where(Image.owner_id == user.id, Image.state.in_(VISIBLE_STATES))
            .group_by(Image.visibility)
        ).all()
    )
    comments = db.session.scalar(select(func.count(Comment.id)).where(Comment.author_id == user.id))
    return Footprint(
        int(by_visibility.get(PUBLIC, 0)), int(by_visibility.get(PRIVATE, 0)), int(comments or 0)
    )


def admin_count() -> int:
    return int(
        db.session.scalar(
            select(func.count(User.id)).where(User.is_admin.is_(True), User.state == ACTIVE)
        )
        or 0
    )


# --- the admin role ------------------------------------------------------------------


def _keep_an_admin(message: str) -> None:
    """Inside a transaction that has just made its change: refuse (roll back) when no
    active admin is left. The locking read makes concurrent changes wait for each other."""
    left = db.session.scalars(
        select(User.id).where(User.is_admin.is_(True), User.state == ACTIVE).with_for_update()
    ).all()
    if not left:
        db.session.rollback()
        raise LastAdmin(message)


def promote(actor: User | None, user: User) -> bool:
    """Make ``user`` an admin; False when they already were one."""
    if user.state != ACTIVE:
        raise RuleError(f"The account {user.username} is being removed.")
    with repository.backend_failures(BUSY):
        changed = db.session.execute(
            update(User)
            .where(User.id == user.id, User.state == ACTIVE, User.is_admin.is_(False))
            .values(is_admin=True)
        ).rowcount
        if changed:
            audit(actor, PROMOTE, user.username)
        db.session.commit()
    db.session.refresh(user)
    return bool(changed)


def demote(actor: User, user: User) -> bool:
    """Take the admin role from ``user``; refused when they are the last admin."""
    with repository.backend_failures(BUSY):
        changed = db.session.execute(
            update(User).where(User.id == user.id, User.is_admin.is_(True)).values(is_admin=False)
        ).rowcount
        if changed:
            _keep_an_admin(
                f"{user.username} is the last admin, so they cannot be demoted. "
                "Promote another user to admin first: there must always be one."
            )
            audit(actor, DEMOTE, user.username)
        db.session.commit()
    db.session.refresh(user)
    return bool(changed)


# --- removing users ------------------------------------------------------------------


def _close(user: User, last_admin_message: str, actor: User | None = None) -> None:
    """Close an account (DELETING: it can no longer log in) unless that leaves no admin."""
    with repository.backend_failures(BUSY):
        marked = db.session.execute(
            update(User).where(User.id == user.id).values(state=DELETING)
        ).rowcount
        if marked != 1:
            db.session.rollback()
            raise NotFound("No such user.")
        if user.is_admin:
            _keep_an_admin(last_admin_message)
        if actor is not None:
            audit(actor, DELETE_USER, user.username)
        db.session.commit()


def _remove(user: User) -> bool:
    """Finish removing a closed account; False when ``fsck`` has to finish it."""
    try:
        users.remove_user(user)
    except Unavailable:
        return False
    return True


def delete_user(actor: User, user: User) -> bool:
    """An admin removes another user with their images, comments and bucket.

    Returns False when the account is closed but the rest is left for ``fsck``.
    """
    if user.id == actor.id:
        raise RuleError("Delete your own account from the Account page.")
    _close(
        user,
        f"{user.username} is the last admin and cannot be deleted. Promote someone first.",
        actor,
    )
    return _remove(user)


def delete_own_account(user: User, password: str) -> bool:
    """A user removes themselves after confirming their password.

    Returns False when the account is closed but the rest is left for ``fsck``.
    """
    if not password or not user.check_password(password):
        raise RuleError("The password is not correct. Nothing was changed.")
    _close(
        user,
        "You are the last admin, so you cannot delete your account. "
        "Promote another user to admin first.",
    )
    return _remove(user)


# --- reset ---------------------------------------------------------------------------


@dataclass
class ResetResult:
    users_removed: int = 0
    images_deleted: int = 0
    left_for_fsck: list[str] = field(default_factory=list)


def reset(actor: User, confirmation: str) -> ResetResult:
    """Delete everything except the admin accounts: every non-admin user (with their
    images, comments and bucket) and every image, the admins' included.

    One failure never stops the rest; what could not be finished is named in the result
    and left to ``fsck`` (closed accounts and hidden images finish there).
    """
    if (confirmation or "").strip() != RESET_WORD:
        raise RuleError(f"Type {RESET_WORD} in capital letters to confirm. Nothing was changed.")
    users = list(db.session.scalars(select(User).where(User.is_admin.is_(False))))
    images = db.session.scalar(select(func.count(Image.id)).where(Image.state == READY)) or 0
    with repository.backend_failures(BUSY):
        audit(actor, RESET, f"{len(users)} non-admin user(s), {images} image(s)")
        db.session.commit()
    result = ResetResult()
    for user in users:
        if _remove(user):
            result.users_removed += 1
        else:
            result.left_for_fsck.append(f"user {user.username}")
    _delete_all_images(actor, result)
    return result


def _delete_all_images(actor: User, result: ResetResult) -> None:
    for image in _ready_images():
        try:
            repository.delete_image(actor, image, audit=False)  # the reset is audited once
        except RuleError:
            result.left_for_fsck.append(f"image {image.filename}")
        else:
            result.images_deleted += 1


def _ready_images() -> Iterable[Image]:
    """Every READY image, read in batches of ids so that a big repository is not loaded
    at once."""
    last = 0
    while True:
        batch = list(
            db.session.scalars(
                select(Image)
                .where(Image.state == READY, Image.id > last)
                .order_by(Image.id)
                .limit(200)
            )
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].id


# --- creating admins (command line) --------------------------------------------------


def ensure_admin(
    username: str, get_password: Callable[[], str], name: str = "", email: str = ""
) -> str:
    """Make ``username`` an admin, creating the account when it does not exist.

    An existing account is promoted (its password is left as it is, and none is asked
    for); an existing admin is left alone. A new account follows the sign-up rules for
    names and passwords. Returns what was done, for the operator.
    """
    user = find_user(username)
    if user is None:
        problem = users.username_problem(username)
        if problem:
            raise RuleError(problem)
        password = get_password()
        problem = users.password_problem(password, username, email)
        if problem:
            raise RuleError(f"Password refused: {problem}")
        try:
            user = users.register(name or username, username, email, password)
        except NameTaken:  # created meanwhile, e.g. by another container starting
            user = find_user(username)
            if user is None:
                raise
        else:
            user.is_admin = True
            audit(None, CREATE_ADMIN, user.username)
            db.session.commit()
            return f"created admin {user.username}"
    if user.state != ACTIVE:
        raise RuleError(f"The account {user.username} is being removed; run fsck first.")
    if promote(None, user):
        return f"{user.username} exists and is now an admin (password unchanged)"
    return f"{user.username} is already an admin; nothing changed"
