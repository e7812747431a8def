"""Removing an account with its images, comments and bucket.

The account is closed first (DELETING: it can no longer log in from that moment), then
its images, its bucket and its row go; fsck finishes an interrupted removal. Closing
is refused when it would leave no active admin.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, select, update

from ..audit import DELETE_USER, forget_actor, record
from ..comments.threads import remove_by
from ..extensions import db, storage
from ..i18n import N_
from ..images.naming import stored_keys
from ..images.removal import remove_objects
from ..models import DELETING, Image, User, utcnow
from ..rules import BUSY, NotFound, RuleError, Unavailable, backend_failures, finished_by_fsck
from .roles import keep_an_admin


def close(user: User, last_admin_message: str, actor: User | None = None) -> None:
    """Close an account (DELETING: it can no longer log in) unless that leaves no admin;
    an admin ``actor`` closing someone's account is written to the audit log."""
    with backend_failures(BUSY):
        marked = db.session.execute(
            update(User).where(User.id == user.id).values(state=DELETING)
        ).rowcount
        if marked != 1:
            db.session.rollback()
            raise NotFound(N_("No such user."))
        if user.is_admin:
            keep_an_admin(last_admin_message)
        if actor is not None:
            record(actor, DELETE_USER, user.username)
        db.session.commit()


def finish(user: User, on_image: Callable[[], None] | None = None) -> bool:
    """Finish removing a closed account; False when ``fsck`` has to finish it.
    ``on_image`` is called after each of its images is gone (a job's progress)."""
    try:
        remove_user(user, on_image)
    except Unavailable:
        return False
    return True


def delete_own_account(user: User, password: str) -> bool:
    """A user removes themselves after confirming their password.

    Returns False when the account is closed but the rest is left for ``fsck``.
    """
    if not password or not user.check_password(password):
        raise RuleError(N_("The password is not correct. Nothing was changed."))
    close(
        user,
        "You are the last admin, so you cannot delete your account. "
        "Promote another user to admin first.",
    )
    return finish(user)


def remove_user(user: User, on_image: Callable[[], None] | None = None) -> None:
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
        finish_user_removal(user, on_image)


def finish_user_removal(user: User, on_image: Callable[[], None] | None = None) -> None:
    """Delete every image of a DELETING user, then their bucket, then the user row."""
    session = db.session
    session.execute(
        update(Image).where(Image.owner_id == user.id).values(state=DELETING, updated_at=utcnow())
    )
    session.commit()
    for image in session.scalars(select(Image).where(Image.owner_id == user.id)).all():
        remove_objects(image.bucket, stored_keys(image))
        session.execute(delete(Image).where(Image.id == image.id))
        session.commit()
        if on_image:
            on_image()
    _before_user_row_removed(user)
    storage.store.remove_bucket(user.bucket)
    session.execute(delete(User).where(User.id == user.id, User.state == DELETING))
    session.commit()


def _before_user_row_removed(user: User) -> None:
    """Rows that refer to a user go before the user row, in its transaction: their
    comments on any image; audit entries keep only the copy of their name."""
    remove_by(user.id)
    forget_actor(user.id)
