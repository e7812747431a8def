"""Renaming an image and switching it between public and private.

In one transaction the image takes its new name (the unique constraint refuses a taken
one, changing nothing) and a DELETING row keeps the old name and objects; then the
objects are copied, the image points at the copies, and the old ones go. A failure
before the image points at the copies puts everything back as it was; fsck finishes a
move a crash interrupted.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from contextlib import suppress
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from .. import imaging
from ..extensions import db, storage
from ..models import DELETING, MOVING, PUBLIC, READY, Image, User, scope_for, utcnow
from ..rules import TRY_AGAIN, Forbidden, NotFound, Unavailable, claiming_name
from ..storage import StorageError, sha256_file
from .access import NO_SUCH_IMAGE, can_delete, can_view
from .decoding import decode_slot
from .names import index_names
from .naming import (
    check_visibility,
    name_taken_message,
    sanitize_filename,
    target_bucket,
    thumb_key_for,
)
from .removal import BUSY_IMAGE, finish_delete, remove_objects
from .usage import count_usage

log = logging.getLogger(__name__)


def move_image(
    viewer: User, image: Image, filename: str | None = None, visibility: str | None = None
) -> Image:
    """Rename an image and/or switch it between public and private (see the module)."""
    if not can_view(viewer, image):
        raise NotFound(NO_SUCH_IMAGE)
    if not can_delete(viewer, image):
        raise Forbidden("Only the person who uploaded this image can change it.")
    new_visibility = check_visibility(visibility or image.visibility)
    new_name = image.filename
    if filename is not None:
        extension = imaging.EXTENSIONS.get(image.format, "")
        new_name = sanitize_filename(filename, extension)
    if new_name == image.filename and new_visibility == image.visibility:
        return image
    old = {c: getattr(image, c) for c in ("filename", "visibility", "scope")}
    session = db.session
    with claiming_name(name_taken_message(new_visibility, new_name)):
        marked = session.execute(
            update(Image)
            .where(Image.id == image.id, Image.state == READY)
            .values(
                filename=new_name,
                visibility=new_visibility,
                scope=scope_for(new_visibility, image.owner_id),
                state=MOVING,
                updated_at=utcnow(),
            )
        ).rowcount
        if marked != 1:
            session.rollback()
            raise NotFound(BUSY_IMAGE)
        shared = keeps_thumbnail(image, target_bucket(new_visibility, image.owner))
        session.add(_tombstone(image, old, keep_thumbnail=shared))
        if new_name != old["filename"]:
            index_names(session, [image.id])
        session.commit()
    session.refresh(image)
    try:
        finish_move(image)
    except (StorageError, SQLAlchemyError, imaging.InvalidImage, OSError, Unavailable) as exc:
        session.rollback()
        log.warning("move of image %s failed; putting it back: %s", image.id, exc)
        _undo_move(image, old)
        raise Unavailable(TRY_AGAIN) from exc
    return image


def keeps_thumbnail(image: Image, bucket: str) -> bool:
    """Whether the image's thumbnail is already where the move puts it (a rename in the
    same bucket: the key comes from the id, not the name), so nothing copies or removes it."""
    return bucket == image.bucket and image.thumb_key == thumb_key_for(image.id)


def _tombstone(image: Image, old: dict[str, Any], keep_thumbnail: bool) -> Image:
    """A DELETING row that holds an image's old name and objects during a move (not the
    thumbnail when the image keeps it where it is)."""
    return Image(
        owner_id=image.owner_id,
        filename=old["filename"],
        visibility=old["visibility"],
        scope=old["scope"],
        state=DELETING,
        bucket=image.bucket,
        object_key=image.object_key,
        thumb_key=None if keep_thumbnail else image.thumb_key,
        content_type=image.content_type,
        format=image.format,
        size=image.size,
        sha256=image.sha256,
    )


def _new_place(image: Image) -> tuple[str, str, str | None]:
    bucket = target_bucket(image.visibility, image.owner)
    thumb = thumb_key_for(image.id) if image.thumb_key else None
    return bucket, image.filename, thumb


def finish_move(image: Image) -> None:
    """Copy a MOVING image's objects to its new place, point the row there, drop the old.

    Also used by fsck to finish a move that a crash interrupted.
    """
    store = storage.store
    bucket, key, thumb = _new_place(image)
    values: dict[str, Any] = {"bucket": bucket, "object_key": key, "thumb_key": thumb}
    strip = image.visibility == PUBLIC and image.has_gps and not current_app.config["KEEP_GPS"]
    if strip:
        values.update(_copy_without_gps(image, bucket, key))
        count_usage(image.owner_id, 0, values["size"] - image.size)
    else:
        store.copy(image.bucket, image.object_key, bucket, key)
    if thumb and image.thumb_key and not keeps_thumbnail(image, bucket):
        store.copy(image.bucket, image.thumb_key, bucket, thumb)
    old_bucket, old_key = image.bucket, image.object_key
    session = db.session
    session.execute(
        update(Image)
        .where(Image.id == image.id, Image.state == MOVING)
        .values(state=READY, updated_at=utcnow(), **values)
    )
    session.commit()
    session.refresh(image)
    old = session.scalar(
        select(Image).where(
            Image.bucket == old_bucket, Image.object_key == old_key, Image.state == DELETING
        )
    )
    if old is not None:
        with suppress(Unavailable):  # the image is moved; fsck removes the old copy later
            finish_delete(old)


def _copy_without_gps(image: Image, bucket: str, key: str) -> dict[str, Any]:
    """Write the original to its new public place without its GPS position."""
    workdir = tempfile.mkdtemp(prefix="imgrepo-")
    try:
        original = os.path.join(workdir, "original")
        with open(original, "wb") as out:
            for chunk in storage.store.open(image.bucket, image.object_key):
                out.write(chunk)
        stripped = os.path.join(workdir, "stripped")
        with decode_slot():  # lossless edits decode nothing; TIFF, AVIF, HEIC do
            source = stripped if imaging.strip_gps(original, stripped) else original
        storage.store.put_file(bucket, key, source, image.content_type)
        return {
            "size": os.path.getsize(source),
            "sha256": sha256_file(source),
            "gps": None,
            "has_gps": False,
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _undo_move(image: Image, old: dict[str, Any]) -> None:
    """Give a failed move's image back its old name; remove copies already made."""
    session = db.session
    try:
        bucket, key, thumb = _new_place(image)
        session.execute(
            delete(Image).where(
                Image.bucket == image.bucket,
                Image.object_key == image.object_key,
                Image.state == DELETING,
            )
        )
        session.execute(
            update(Image)
            .where(Image.id == image.id, Image.state == MOVING)
            .values(state=READY, updated_at=utcnow(), **old)
        )
        index_names(session, [image.id])
        session.commit()
        if (bucket, key) != (image.bucket, image.object_key):
            remove_objects(bucket, [key, None if keeps_thumbnail(image, bucket) else thumb])
    except (StorageError, SQLAlchemyError) as exc:
        session.rollback()
        log.warning(
            "could not put image %s back after a failed move (fsck will): %s", image.id, exc
        )
