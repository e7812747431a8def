"""What only admins do to other people's things: remove a user, reset the repository,
and make an admin from the command line. Each action writes its audit entry in the
transaction of its first change.

A reset, or the removal of a user, that touches more than JOB_THRESHOLD images (and
accounts) runs as a background job (web/jobs.py): the request writes the audit entry
(and closes the user's account), the job does the rest. Both tasks are idempotent: run again
after a crash, they remove what is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import func, select

from .. import jobs
from ..accounts import removal
from ..accounts.credentials import password_problem, username_problem
from ..accounts.registration import find_user, register
from ..accounts.roles import promote
from ..audit import CREATE_ADMIN, RESET, record
from ..extensions import db
from ..i18n import N_
from ..images import trash
from ..images.removal import delete_image
from ..models import ACTIVE, READY, TRASHED, Image, Job, User
from ..rules import BUSY, NameTaken, RuleError, backend_failures

RESET_WORD = "RESET"
RESET_JOB, DELETE_USER_JOB = "reset", "delete-user"
LEFT_FOR_FSCK = N_(
    "The account {} is closed, but not all of its files could be removed yet; "
    "fsck finishes the removal."
)


def delete_user(actor: User, user: User) -> bool | Job:
    """An admin removes another user with their images, comments and bucket.

    Returns False when the account is closed but the rest is left for ``fsck``, and the
    job when the user has more images than JOB_THRESHOLD (the account is closed already).
    """
    if user.id == actor.id:
        raise RuleError(gettext("Delete your own account from the Account page."))
    last_admin = gettext(
        "%(name)s is the last admin and cannot be deleted. Promote someone first.",
        name=user.username,
    )
    removal.close(user, last_admin, actor)
    images = db.session.scalar(select(func.count(Image.id)).where(Image.owner_id == user.id))
    if jobs.is_big(images or 0):
        return jobs.submit(DELETE_USER_JOB, actor, user_id=user.id)
    return removal.finish(user)


@jobs.task(DELETE_USER_JOB, N_("Removal of a user"))
def _delete_user_job(progress: jobs.Progress, actor: User, user_id: int) -> str:
    user = db.session.get(User, user_id)
    if user is None:
        return gettext("The user was removed.")
    name = user.username
    left = db.session.scalar(select(func.count(Image.id)).where(Image.owner_id == user.id))
    progress.expect(left or 0)
    if not removal.finish(user, progress.advance):
        raise RuleError(gettext(LEFT_FOR_FSCK).format(name))
    return gettext("Deleted user %(name)s with their images and comments.", name=name)


@dataclass
class ResetResult:
    users_removed: int = 0
    images_deleted: int = 0
    left_for_fsck: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """What the admin is told: the outcome, then what is not finished yet."""
        lines = [
            gettext(
                "Reset done: removed %(users)s user(s) and %(images)s image(s). "
                "The admin accounts are kept.",
                users=self.users_removed,
                images=self.images_deleted,
            )
        ]
        if self.left_for_fsck:
            left = ", ".join(self.left_for_fsck[:20])
            left += " …" if len(self.left_for_fsck) > 20 else ""
            lines.append(
                gettext("Not finished yet (fsck completes it, or reset again): %(left)s", left=left)
            )
        return lines


def reset(actor: User, confirmation: str) -> ResetResult | Job:
    """Delete everything except the admin accounts: every non-admin user (with their
    images, comments and bucket) and every image, the admins' included.

    One failure never stops the rest; what could not be finished is named in the result
    and left to ``fsck`` (closed accounts and hidden images finish there). When there
    are more users and images than JOB_THRESHOLD, a job does it and is returned.
    """
    if (confirmation or "").strip() != RESET_WORD:
        raise RuleError(
            gettext(
                "Type %(word)s in capital letters to confirm. Nothing was changed.",
                word=RESET_WORD,
            )
        )
    users = db.session.scalar(select(func.count(User.id)).where(User.is_admin.is_(False))) or 0
    images = db.session.scalar(select(func.count(Image.id)).where(Image.state == READY)) or 0
    with backend_failures(BUSY):
        record(actor, RESET, f"{users} non-admin user(s), {images} image(s)")
        db.session.commit()
    if jobs.is_big(users + _image_count()):
        return jobs.submit(RESET_JOB, actor)
    return _reset(actor)


@jobs.task(RESET_JOB, N_("Reset of the repository"))
def _reset_job(progress: jobs.Progress, actor: User) -> str:
    return " ".join(_reset(actor, progress).summary())


def _reset(actor: User, progress: jobs.Progress | None = None) -> ResetResult:
    """Remove every non-admin user and every image there is now (again after a crash)."""
    users = list(db.session.scalars(select(User).where(User.is_admin.is_(False))))
    advance = progress.advance if progress else None
    if progress:
        progress.expect(len(users) + _image_count())
    result = ResetResult()
    for user in users:
        if removal.finish(user, advance):
            result.users_removed += 1
        else:
            result.left_for_fsck.append(gettext("user %(name)s", name=user.username))
        if advance:
            advance()
    _delete_all_images(actor, result, advance)
    return result


def _image_count() -> int:
    """The images a reset deletes: those shown and those in a trash."""
    in_states = Image.state.in_((READY, TRASHED))
    return db.session.scalar(select(func.count(Image.id)).where(in_states)) or 0


def _delete_all_images(
    actor: User, result: ResetResult, advance: Callable[[], None] | None
) -> None:
    """Every image, and every trash (the admins' included) emptied."""
    for image in _images_in(READY):
        try:
            delete_image(actor, image, audit=False)  # the reset is audited once
        except RuleError:
            result.left_for_fsck.append(gettext("image %(name)s", name=image.filename))
        else:
            result.images_deleted += 1
        if advance:
            advance()
    for image in _images_in(TRASHED):
        try:
            if trash.purge(image):
                result.images_deleted += 1
        except RuleError:
            result.left_for_fsck.append(gettext("image %(name)s in the trash", name=image.filename))
        if advance:
            advance()


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
