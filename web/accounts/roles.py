"""The admin role: promoting and demoting, and the rule that there is always at least
one active admin.

A change that takes an admin away (demote, delete, self-delete) makes its change first
and then counts the admins left with ``SELECT ... FOR UPDATE`` in the same transaction,
rolling back when none is left. On MySQL the locking read serialises two such changes
(one may be refused or asked to try again, never both let through); on SQLite the first
write holds the database's write lock until the commit, so the count cannot be stale.
"""

from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import func, select, update

from ..audit import DEMOTE, PROMOTE, record
from ..extensions import db
from ..models import ACTIVE, User
from ..rules import BUSY, RuleError, backend_failures


class LastAdmin(RuleError):
    """The change would leave no active admin."""

    status = 409


def admin_count() -> int:
    return int(
        db.session.scalar(
            select(func.count(User.id)).where(User.is_admin.is_(True), User.state == ACTIVE)
        )
        or 0
    )


def keep_an_admin(message: str) -> None:
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
        raise RuleError(gettext("The account %(name)s is being removed.", name=user.username))
    with backend_failures(BUSY):
        changed = db.session.execute(
            update(User)
            .where(User.id == user.id, User.state == ACTIVE, User.is_admin.is_(False))
            .values(is_admin=True)
        ).rowcount
        if changed:
            record(actor, PROMOTE, user.username)
        db.session.commit()
    db.session.refresh(user)
    return bool(changed)


def demote(actor: User, user: User) -> bool:
    """Take the admin role from ``user``; refused when they are the last admin."""
    with backend_failures(BUSY):
        changed = db.session.execute(
            update(User).where(User.id == user.id, User.is_admin.is_(True)).values(is_admin=False)
        ).rowcount
        if changed:
            keep_an_admin(
                f"{user.username} is the last admin, so they cannot be demoted. "
                "Promote another user to admin first: there must always be one."
            )
            record(actor, DEMOTE, user.username)
        db.session.commit()
    db.session.refresh(user)
    return bool(changed)
