"""What only admins do to other people's things: remove a user, reset the repository,
and make an admin from the command line. Each action writes its audit entry in the
transaction of its first change."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..accounts import removal
from ..accounts.credentials import password_problem, username_problem
from ..accounts.registration import find_user, register
from ..accounts.roles import promote
from ..audit import CREATE_ADMIN, RESET, record
from ..extensions import db
from ..images import trash
from ..images.removal import delete_image
from ..models import ACTIVE, READY, TRASHED, Image, User
from ..rules import BUSY, NameTaken, RuleError, backend_failures

RESET_WORD = "RESET"


def delete_user(actor: User, user: User) -> bool:
    """An admin removes another user with their images, comments and bucket.

    Returns False when the account is closed but the rest is left for ``fsck``.
    """
    if user.id == actor.id:
        raise RuleError("Delete your own account from the Account page.")
    removal.close(
        user,
        f"{user.username} is the last admin and cannot be deleted. Promote someone first.",
        actor,
    )
    return removal.finish(user)


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
    with backend_failures(BUSY):
        record(actor, RESET, f"{len(users)} non-admin user(s), {images} image(s)")
        db.session.commit()
    result = ResetResult()
    for user in users:
        if removal.finish(user):
            result.users_removed += 1
        else:
            result.left_for_fsck.append(f"user {user.username}")
    _delete_all_images(actor, result)
    return result


def _delete_all_images(actor: User, result: ResetResult) -> None:
    """Every image, and every trash (the admins' included) emptied."""
    for image in _images_in(READY):
        try:
            delete_image(actor, image, audit=False)  # the reset is audited once
        except RuleError:
            result.left_for_fsck.append(f"image {image.filename}")
        else:
            result.images_deleted += 1
    for image in _images_in(TRASHED):
        try:
            if trash.purge(image):
                result.images_deleted += 1
        except RuleError:
            result.left_for_fsck.append(f"image {image.filename} in the trash")


def _images_in(state: str) -> Iterable[Image]:
    """Every image in ``state``, read in batches of ids so that a big repository is not
    loaded at once."""
    last = 0
    while True:
        batch = list(
            db.session.scalars(
                select(Image)
                .where(Image.state == state, Image.id > last)
                .order_by(Image.id)
                .limit(200)
            )
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].id


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
        problem = username_problem(username)
        if problem:
            raise RuleError(problem)
        password = get_password()
        problem = password_problem(password, username, email)
        if problem:
            raise RuleError(f"Password refused: {problem}")
        try:
            user = register(name or username, username, email, password)
        except NameTaken:  # created meanwhile, e.g. by another container starting
            user = find_user(username)
            if user is None:
                raise
        else:
            user.is_admin = True
            record(None, CREATE_ADMIN, user.username)
            db.session.commit()
            return f"created admin {user.username}"
    if user.state != ACTIVE:
        raise RuleError(f"The account {user.username} is being removed; run fsck first.")
    if promote(None, user):
        return f"{user.username} exists and is now an admin (password unchanged)"
    return f"{user.username} is already an admin; nothing changed"
