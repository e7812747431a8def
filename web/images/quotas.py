"""Storage quotas: how many bytes of originals each user may keep, and the check that
refuses an upload over it before anything is stored.

A user's quota is what an admin set for them (a number of MB, or unlimited); without
that, DEFAULT_QUOTA_MB (unset: unlimited). Usage is the kept ``bytes_used`` counter:
the originals of the user's visible images, as stored (after GPS removal). Thumbnails
are not counted: they are small, made by the app, and the user cannot choose them.

The check at claim time is race-safe: the user's row is locked by an UPDATE (on MySQL a
row lock, on SQLite the database's write lock) in the transaction that inserts the
PENDING row, and the bytes of the user's other PENDING uploads count too. A second
upload waits for the first's claim to commit and then sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext
from sqlalchemy import func, select, update

from ..audit import record
from ..extensions import db
from ..models import PENDING, Image, User
from ..rules import BUSY, RuleError, backend_failures
from ..sizes import filesize

MB = 1024 * 1024
MAX_QUOTA_MB = 100_000_000  # about 95 TB: more is a typing error, not a quota
SET_QUOTA = "set quota"

# The choices of the admin's form: follow the default, unlimited, or a number of MB.
DEFAULT, UNLIMITED, CUSTOM = "default", "unlimited", "custom"


class QuotaExceeded(RuleError):
    """An upload would take the user over their quota (413, as too large a request)."""

    status = 413


@dataclass(frozen=True)
class Standing:
    """A user's usage against their quota, for the pages."""

    count: int
    used: int
    limit: int | None  # bytes; None: unlimited
    source: str  # DEFAULT (DEFAULT_QUOTA_MB), UNLIMITED or CUSTOM (set by an admin)

    @property
    def percent(self) -> int | None:
        """How full the quota is, 0-100 (None when unlimited)."""
        if self.limit is None:
            return None
        if self.limit == 0:
            return 100
        return min(100, round(100 * self.used / self.limit))


def _limit(quota_mb: int | None, unlimited: bool) -> tuple[int | None, str]:
    if unlimited:
        return None, UNLIMITED
    if quota_mb is not None:
        return quota_mb * MB, CUSTOM
    default = current_app.config.get("DEFAULT_QUOTA_MB")
    return (None if default is None else default * MB), DEFAULT


def limit_for(user: User) -> int | None:
    """The bytes ``user`` may keep; None when unlimited."""
    return _limit(user.quota_mb, user.quota_unlimited)[0]


def standing(user: User) -> Standing:
    """How many images ``user`` has, the bytes they take, and their quota (fresh values)."""
    count, used, quota_mb, unlimited = db.session.execute(
        select(User.image_count, User.bytes_used, User.quota_mb, User.quota_unlimited).where(
            User.id == user.id
        )
    ).one()
    limit, source = _limit(quota_mb, bool(unlimited))
    return Standing(int(count), int(used), limit, source)


def standing_of(user: User) -> Standing:
    """The same from ``user`` as it was loaded (with the session, at the start of this
    request): no query."""
    limit, source = _limit(user.quota_mb, bool(user.quota_unlimited))
    return Standing(int(user.image_count), int(user.bytes_used), limit, source)


def _refuse(used: int, limit: int, size: int) -> QuotaExceeded:
    return QuotaExceeded(
        gettext(
            "This file (%(size)s) would take you over your storage quota: you use %(used)s "
            "of %(limit)s. Nothing was stored; delete some images or ask an administrator "
            "for more space.",
            size=filesize(size),
            used=filesize(used),
            limit=filesize(limit),
        )
    )


def reserve(owner_id: int, size: int) -> None:
    """Begin the transaction that claims an upload's name (nothing may be pending in the
    session): lock the owner's row and refuse (rolling back) when their visible and
    pending bytes plus ``size`` exceed the quota. The caller's commit releases the lock."""
    session = db.session
    # End the read transaction the caller may have begun, so that the reads below see
    # what was committed before the lock (MySQL's repeatable read keeps a transaction's
    # first view); then lock the row with a write that changes nothing.
    session.commit()
    session.execute(update(User).where(User.id == owner_id).values(bytes_used=User.bytes_used))
    used, quota_mb, unlimited = session.execute(
        select(User.bytes_used, User.quota_mb, User.quota_unlimited).where(User.id == owner_id)
    ).one()
    limit, _source = _limit(quota_mb, bool(unlimited))
    if limit is None:
        return
    pending = session.scalar(
        select(func.coalesce(func.sum(Image.size), 0)).where(
            Image.owner_id == owner_id, Image.state == PENDING
        )
    )
    used = int(used) + int(pending or 0)
    if used + size > limit:
        session.rollback()
        raise _refuse(used, limit, size)


def quota_applies(user: User) -> bool:
    """Whether ``user`` has a limit at all (the claim skips the lock otherwise)."""
    return limit_for(user) is not None


def set_quota(admin: User, person: User, choice: str, megabytes: str = "") -> Standing:
    """An admin sets ``person``'s quota: the default, unlimited, or a number of MB (a
    quota below the current usage is allowed: it refuses new uploads, keeps the images)."""
    if choice == DEFAULT:
        values: dict[str, object] = {"quota_mb": None, "quota_unlimited": False}
        said = "the default"
    elif choice == UNLIMITED:
        values = {"quota_mb": None, "quota_unlimited": True}
        said = "unlimited"
    elif choice == CUSTOM:
        text = megabytes.strip()
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_QUOTA_MB:
            raise RuleError(
                gettext(
                    "Give the quota as a whole number of MB, from 0 to %(max)s.", max=MAX_QUOTA_MB
                )
            )
        values = {"quota_mb": int(text), "quota_unlimited": False}
        said = f"{int(text)} MB"
    else:
        raise RuleError(gettext("Choose the default quota, unlimited, or a number of MB."))
    with backend_failures(BUSY):
        db.session.execute(update(User).where(User.id == person.id).values(**values))
        record(admin, SET_QUOTA, f"storage quota of {person.username} set to {said}")
        db.session.commit()
    person.quota_mb = values["quota_mb"]  # type: ignore[assignment]
    person.quota_unlimited = bool(values["quota_unlimited"])
    return standing(person)
