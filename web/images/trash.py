"""The trash: "Delete" puts an image in its owner's trash for TRASH_DAYS days, from
where it can be restored or deleted for good; maintenance empties what is older.

A TRASHED image is hidden from everyone at once (it is in no visible state) and its
name is free at once, as after a delete: its row leaves the name's scope for one of
its own (minus its id) and its original leaves the key its name gives for
``.trash/<image id>`` (no filename can reach a dot folder), so a new upload under the
same name never meets it. Its thumbnail keeps its key, which comes from the id.

Trashing copies the original to its trash key; then one transaction makes the row
TRASHED at that key and adds a DELETING row that holds the old name and key until the
old object is removed (as a move's old place is). Restoring is a move back: the row
claims a name again (the unique constraint refuses a taken one: the trash page then
suggests a free one) and ``finish_move`` copies the original to its name's key. A crash
between two steps leaves an orphan ``.trash/`` object, a DELETING or a MOVING row, all
of which fsck finishes. The time in the trash counts from ``updated_at``, which nothing
changes while an image is there.

Counters: a trashed image leaves the owner's image count (the galleries' number) but
its bytes stay in ``bytes_used`` until it is deleted for good, so quotas count the
trash (as Google Drive and Dropbox do): emptying the trash frees space, trashing alone
does not.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import suppress

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from .. import imaging
from ..audit import DELETE_IMAGE, record
from ..extensions import db, storage
from ..i18n import N_
from ..models import DELETING, MOVING, READY, TRASHED, Image, User, scope_for, utcnow
from ..rules import (
    Forbidden,
    NameTaken,
    NotFound,
    RuleError,
    Unavailable,
    backend_failures,
    claiming_name,
)
from ..storage import StorageError
from .access import NO_SUCH_IMAGE, can_delete, can_view
from .moves import finish_move, keeps_thumbnail
from .names import index_names
from .naming import name_taken_message, sanitize_filename
from .removal import BUSY_IMAGE, delete_image, describe, finish_delete, hide
from .usage import count_usage

TRASH_PREFIX = ".trash/"
NOT_IN_TRASH = N_("This image is not in your trash.")
LIST_LIMIT = 1000


def trash_key_for(image_id: int) -> str:
    """Where a trashed image's original waits, in the bucket it lives in."""
    return f"{TRASH_PREFIX}{int(image_id)}"


def moved_to_the_trash_of(image: Image) -> str:
    """What "Delete" says when it moved someone else's image to its owner's trash."""
    return gettext(
        "Moved “%(name)s” to the trash of %(owner)s.",
        name=image.filename,
        owner=image.owner.username,
    )


def trash_days() -> int:
    return int(current_app.config["TRASH_DAYS"])


def discard(viewer: User, image: Image) -> bool:
    """What "Delete" does: into the owner's trash, or (TRASH_DAYS = 0) gone at once.
    True when the image went to the trash."""
    if trash_days() == 0:
        delete_image(viewer, image)
        return False
    move_to_trash(viewer, image)
    return True


def move_to_trash(viewer: User, image: Image) -> None:
    """Put an image in its owner's trash (see the module): hidden and its name free."""
    if not can_view(viewer, image):
        raise NotFound(NO_SUCH_IMAGE)
    if not can_delete(viewer, image):
        raise Forbidden("Only the person who uploaded this image can delete it.")
    store, session = storage.store, db.session
    key = trash_key_for(image.id)
    old_name, old_scope, old_key = image.filename, image.scope, image.object_key
    with backend_failures():
        store.copy(image.bucket, old_key, image.bucket, key)
    try:
        with backend_failures():
            marked = session.execute(
                update(Image)
                .where(Image.id == image.id, Image.state == READY)
                .where(Image.bucket == image.bucket, Image.object_key == old_key)
                .values(state=TRASHED, scope=-image.id, object_key=key, updated_at=utcnow())
            ).rowcount
            if marked != 1:
                session.rollback()
                raise NotFound(BUSY_IMAGE)
            old = _holder(image, old_name, old_scope, old_key)
            session.add(old)
            count_usage(image.owner_id, -1, 0)
            if viewer.id != image.owner_id:
                record(viewer, DELETE_IMAGE, describe(image) + " (to the trash)")
            session.commit()
    except RuleError:
        with suppress(StorageError):  # else an orphan that fsck removes later
            store.remove(image.bucket, key)
        raise
    with suppress(Unavailable):  # the image is in the trash; fsck removes the old copy
        finish_delete(old)
    session.refresh(image)


def _holder(image: Image, filename: str, scope: int, key: str) -> Image:
    """A DELETING row that holds a name and an original key until the object is gone."""
    return Image(
        owner_id=image.owner_id,
        filename=filename,
        visibility=image.visibility,
        scope=scope,
        state=DELETING,
        bucket=image.bucket,
        object_key=key,
        thumb_key=None,
        content_type=image.content_type,
        format=image.format,
        size=image.size,
        sha256=image.sha256,
    )


def trashed(owner: User) -> list[Image]:
    """The owner's trash, most recently deleted first (at most LIST_LIMIT)."""
    return list(
        db.session.scalars(
            select(Image)
            .where(Image.owner_id == owner.id, Image.state == TRASHED)
            .order_by(Image.updated_at.desc(), Image.id.desc())
            .limit(LIST_LIMIT)
        )
    )


def get_trashed(viewer: User, image_id: int) -> Image:
    """One image of the viewer's own trash; NotFound for anything else."""
    image = db.session.get(Image, image_id)
    if image is None or image.state != TRASHED or image.owner_id != viewer.id:
        raise NotFound(NOT_IN_TRASH)
    return image


def expires_at(image: Image) -> dt.datetime:
    """When maintenance deletes a trashed image for good."""
    return image.updated_at + dt.timedelta(days=trash_days())


class RestoreNameTaken(NameTaken):
    """The image's name was taken while it was in the trash; ``suggestion`` is free."""

    def __init__(self, message: str, suggestion: str) -> None:
        super().__init__(message)
        self.suggestion = suggestion


def restore(viewer: User, image_id: int, filename: str | None = None) -> Image:
    """Take an image out of the trash under its old name, or under ``filename``."""
    image = get_trashed(viewer, image_id)
    name = old_name = image.filename
    trash_key = image.object_key
    if filename is not None:
        name = sanitize_filename(filename, imaging.EXTENSIONS.get(image.format, ""))
    session = db.session
    keep_thumb = keeps_thumbnail(image, image.bucket)
    try:
        with claiming_name(name_taken_message(image.visibility, name)):
            marked = session.execute(
                update(Image)
                .where(Image.id == image.id, Image.state == TRASHED)
                .values(
                    filename=name,
                    scope=scope_for(image.visibility, image.owner_id),
                    state=MOVING,
                    updated_at=utcnow(),
                )
            ).rowcount
            if marked != 1:
                session.rollback()
                raise NotFound(NOT_IN_TRASH)
            holder = _holder(image, old_name, -image.id, trash_key)
            holder.thumb_key = None if keep_thumb else image.thumb_key
            session.add(holder)
            if name != old_name:
                index_names(session, [image.id])
            count_usage(image.owner_id, 1, 0)
            session.commit()
    except NameTaken as exc:
        raise RestoreNameTaken(
            f"{exc} Restore it under another name.", free_name(image, name)
        ) from None
    session.refresh(image)
    try:
        finish_move(image)
    except (StorageError, SQLAlchemyError, OSError) as exc:
        session.rollback()
        raise Unavailable(
            "The image is being restored; it will be back in your gallery shortly."
        ) from exc
    return image


def free_name(image: Image, name: str) -> str:
    """A name like ``name (2).ext`` that no image in ``image``'s scope has (a suggestion:
    the restore still claims it through the unique constraint)."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, dot, ext = name, "", ""
    stem = re.sub(r" \(\d+\)$", "", stem)
    scope = scope_for(image.visibility, image.owner_id)
    taken = set(
        db.session.scalars(
            select(Image.filename).where(Image.scope == scope, Image.filename.like(f"{stem}%"))
        )
    )
    for n in range(2, 10_000):
        candidate = f"{stem} ({n}){dot}{ext}"
        if candidate not in taken:
            return candidate
    return f"{stem} ({image.id}){dot}{ext}"


def delete_forever(viewer: User, image_id: int) -> Image:
    """Delete one image of the viewer's trash for good."""
    image = get_trashed(viewer, image_id)
    if not purge(image):
        raise NotFound(NOT_IN_TRASH)
    return image


def purge(image: Image) -> bool:
    """Delete a trashed image for good: DELETING (its bytes leave the counters in that
    transaction), then its objects and its row. False when it was no longer trashed."""
    with backend_failures():
        if not hide(image, TRASHED, 0, -image.size):
            return False
        db.session.commit()
    finish_delete(image)
    return True


def expired(now: dt.datetime | None = None, owner: User | None = None) -> list[Image]:
    """Trashed images older than TRASH_DAYS (all of ``owner``'s trash when given)."""
    stmt = select(Image).where(Image.state == TRASHED)
    if owner is not None:
        stmt = stmt.where(Image.owner_id == owner.id)
    else:
        cutoff = (now or utcnow()) - dt.timedelta(days=trash_days())
        stmt = stmt.where(Image.updated_at <= cutoff)
    return list(db.session.scalars(stmt.order_by(Image.id).limit(LIST_LIMIT)))


def empty(owner: User) -> int:
    """Delete everything in the owner's trash for good; how many went."""
    return sum(1 for image in expired(owner=owner) if purge(image))
