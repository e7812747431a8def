"""How many images each user has and how many bytes they take (their trash included):
counters kept in the transactions that show, hide or remove an image, and the count
fsck checks them against."""

from __future__ import annotations

from sqlalchemy import case, func, select, update

from ..extensions import db
from ..models import TRASHED, VISIBLE_STATES, Image, User


def usage(user: User) -> tuple[int, int]:
    """How many images ``user`` has and how many bytes they take (kept counters)."""
    count, total = db.session.execute(
        select(User.image_count, User.bytes_used).where(User.id == user.id)
    ).one()
    return int(count), int(total)


def count_usage(owner_id: int, images: int, size: int) -> None:
    """Change a user's counters, in the caller's transaction (shown or hidden image)."""
    db.session.execute(
        update(User)
        .where(User.id == owner_id)
        .values(image_count=User.image_count + images, bytes_used=User.bytes_used + size)
    )


def counted_usage() -> dict[int, tuple[int, int]]:
    """Every user's visible images, and the bytes of those and of their trash (quotas
    count the trash), counted from the images (fsck checks the kept counters)."""
    visible = func.sum(case((Image.state.in_(VISIBLE_STATES), 1), else_=0))
    stmt = (
        select(Image.owner_id, func.coalesce(visible, 0), func.coalesce(func.sum(Image.size), 0))
        .where(Image.state.in_((*VISIBLE_STATES, TRASHED)))
        .group_by(Image.owner_id)
    )
    return {owner: (int(n), int(size)) for owner, n, size in db.session.execute(stmt)}
