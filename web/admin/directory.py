"""What the admin pages list: users by name with their usage, a user's images, and what
removing a user would take with it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..images import quotas
from ..models import PRIVATE, PUBLIC, VISIBLE_STATES, Comment, Image, User
from ..paging import PAGE_SIZE, NewestFirst, newest_first


@dataclass
class UserRow:
    user: User
    image_count: int
    bytes_used: int
    quota: int | None = None  # bytes; None: unlimited


@dataclass
class UserPage:
    rows: list[UserRow]
    next_after: str | None  # the username key to pass as ``after`` for the next page
    query: str


def list_users(query: str = "", after: str | None = None, limit: int | None = None) -> UserPage:
    """Users by username (keyset pagination), with their image count, bytes used and
    quota (the counters kept on the user row: one query whatever the page size)."""
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
    rows = [UserRow(u, u.image_count, u.bytes_used, quotas.limit_for(u)) for u in users]
    return UserPage(rows, users[-1].username_key if more else None, query)


def images_of(user: User, before: int | None = None, limit: int | None = None) -> NewestFirst:
    """A user's images, public and private, newest first (for the admin panel)."""
    stmt = select(Image).where(Image.owner_id == user.id, Image.state.in_(VISIBLE_STATES))
    return newest_first(stmt, Image.id, before, limit)


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
