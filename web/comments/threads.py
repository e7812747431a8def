"""Comments on public images: who may post and delete them, pages, and counts.

- Signed-in users comment on the public images they can see: 1–1000 characters after
  trimming, stored as typed (plain text; the pages escape it and keep line breaks).
- Private images take no comments: the owner (and an admin) gets "Private images take
  no comments." (400); anyone else cannot see the image at all (404). Comments written
  while an image was public are kept but not shown while it is private.
- The comment's author, the image's owner and admins can delete a comment; an admin
  deleting someone else's comment on someone else's image is written to the audit log.
  The author may delete their comment even after the image went private (their words
  stay theirs); to anyone else who cannot see the image it does not exist (404).
- A comment goes with its image (ON DELETE CASCADE) and with its author (``remove_by``,
  called by the account removal before a user row goes).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from sqlalchemy import delete, func, select

from ..audit import DELETE_COMMENT, record
from ..extensions import db
from ..i18n import N_
from ..images import access
from ..models import PUBLIC, Comment, Image, User
from ..rules import Forbidden, NotFound, RuleError, backend_failures
from ..viewers import signed_in

MAX_LENGTH = 1000
PER_PAGE = 20
RATE_PER_MINUTE = 10
RATE_LIMIT = f"{RATE_PER_MINUTE} per minute"
PRIVATE_MESSAGE = N_("Private images take no comments.")


def clean_body(raw: str | None) -> str:
    """The text to store: trimmed, with Windows/old Mac line ends made ``\\n``; refused
    when empty or longer than ``MAX_LENGTH`` characters."""
    body = (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise RuleError(N_("Write something first: a comment cannot be empty."))
    if len(body) > MAX_LENGTH:
        raise RuleError(
            gettext(
                "A comment can be at most %(max)s characters long; this one has %(num)s.",
                max=MAX_LENGTH,
                num=len(body),
            )
        )
    return body


def post(author: User, image_id: int, raw: str | None) -> Comment:
    """Add a comment to an image ``author`` can see; returns it (committed)."""
    image = access.get_image(image_id, author)
    if image.visibility != PUBLIC:
        raise RuleError(PRIVATE_MESSAGE)
    comment = Comment(image_id=image.id, author_id=author.id, body=clean_body(raw))
    session = db.session
    session.add(comment)
    with backend_failures("The comment could not be saved; please try again."):
        session.commit()
    return comment


def can_delete(viewer: Any, comment: Comment, image: Image) -> bool:
    """Whoever may delete the image (its owner, an admin), and the comment's author."""
    return access.can_delete(viewer, image) or _is_author(viewer, comment)


def _is_author(viewer: Any, comment: Comment) -> bool:
    return signed_in(viewer) and viewer.id == comment.author_id


def delete_comment(viewer: User, comment_id: int) -> Comment:
    """Delete a comment if ``viewer`` may; returns it (for the message and the redirect)."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    if _is_author(viewer, comment):  # even when the image is no longer shown to them
        image = db.session.get(Image, comment.image_id)
    else:
        image = access.get_image(comment.image_id, viewer)
    if image is None:
        raise NotFound(access.NO_SUCH_IMAGE)
    if not can_delete(viewer, comment, image):
        raise Forbidden(
            "Only the comment's author, the image's owner and admins can delete a comment."
        )
    if viewer.id not in (comment.author_id, image.owner_id):
        record(
            viewer,
            DELETE_COMMENT,
            f"comment {comment.id} by {comment.author.username} on image {image.id}",
        )
    with backend_failures("The comment could not be deleted; please try again."):
        db.session.execute(delete(Comment).where(Comment.id == comment.id))
        db.session.commit()
    return comment


def image_shown_to(viewer: Any, comment: Comment) -> bool:
    """Whether ``viewer`` still sees the image of ``comment`` (after its author deleted
    it from an image that went private, there is no image page to go back to)."""
    image = db.session.get(Image, comment.image_id)
    return image is not None and access.can_view(viewer, image)


def remove_by(user_id: int) -> None:
    """Before a user row goes: their comments, on any image (part of the caller's
    transaction)."""
    db.session.execute(delete(Comment).where(Comment.author_id == user_id))


@dataclass
class Thread:
    """The comments section of an image page."""

    image: Image
    viewer: Any
    comments: list[Comment]
    page: int
    pages: int
    total: int

    @property
    def open(self) -> bool:
        """Whether the image takes comments (it is public)."""
        return self.image.visibility == PUBLIC

    @property
    def can_post(self) -> bool:
        return self.open and signed_in(self.viewer)

    def can_delete(self, comment: Comment) -> bool:
        return can_delete(self.viewer, comment, self.image)


def thread(image: Image, viewer: Any, page: int | None = None) -> Thread:
    """One page of an image's comments, oldest first (``page`` counts from 1; a page past
    the end shows the last one; None, as for a page number that is not one, the first)."""
    if image.visibility != PUBLIC:
        return Thread(image, viewer, [], 1, 1, 0)
    total = int(
        db.session.scalar(select(func.count(Comment.id)).where(Comment.image_id == image.id)) or 0
    )
    pages = max(1, math.ceil(total / PER_PAGE))
    number = min(max(page or 1, 1), pages)
    comments = list(
        db.session.scalars(
            select(Comment)
            .where(Comment.image_id == image.id)
            .order_by(Comment.id)
            .offset((number - 1) * PER_PAGE)
            .limit(PER_PAGE)
        )
    )
    return Thread(image, viewer, comments, number, pages, total)


def page_of(comment: Comment) -> int:
    """The page of its image's comments on which ``comment`` is shown."""
    before = db.session.scalar(
        select(func.count(Comment.id)).where(
            Comment.image_id == comment.image_id, Comment.id < comment.id
        )
    )
    return int(before or 0) // PER_PAGE + 1


def counts(images: Iterable[Image]) -> dict[int, int]:
    """Comment counts of the public ``images``: one grouped query for a whole page."""
    ids = [image.id for image in images if image.visibility == PUBLIC]
    if not ids:
        return {}
    stmt = (
        select(Comment.image_id, func.count(Comment.id))
        .where(Comment.image_id.in_(ids))
        .group_by(Comment.image_id)
    )
    return {image_id: int(n) for image_id, n in db.session.execute(stmt)}
