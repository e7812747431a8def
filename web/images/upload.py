"""Upload: check a file, make its thumbnail, claim its name, store its objects.

Order: the file is checked and its thumbnail made on local disk; then the name is
claimed by a PENDING row (the unique constraint refuses a taken name, changing
nothing); then the objects are written; then the row becomes READY. A failure after
the claim removes what was written and the row, and says "try again"; what a crash
leaves is finished by fsck.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from .. import imaging
from ..extensions import db, storage
from ..models import PENDING, PUBLIC, READY, VISIBLE_STATES, Image, User, scope_for, utcnow
from ..rules import TRY_AGAIN, RuleError, Unavailable, claiming_name
from ..storage import StorageError, sha256_file
from .naming import (
    check_visibility,
    name_taken_message,
    sanitize_filename,
    target_bucket,
    thumb_key_for,
)
from .removal import remove_objects
from .usage import count_usage

log = logging.getLogger(__name__)


@dataclass
class UploadResult:
    image: Image
    duplicate_of: str | None = None  # the name under which the user already has this content


@dataclass
class _Prepared:
    workdir: str
    original: str
    info: imaging.ImageInfo
    sha256: str
    size: int
    thumb: str | None = None
    thumb_size: tuple[int, int] | None = None
    has_gps: bool = False


def upload(owner: User, stream: BinaryIO, client_filename: str, visibility: str) -> UploadResult:
    """Validate, store and register one uploaded file (see the module docstring)."""
    check_visibility(visibility)
    workdir = tempfile.mkdtemp(prefix="imgrepo-")
    try:
        prepared = _prepare(stream, workdir, visibility)
        filename = sanitize_filename(client_filename, prepared.info.extension)
        duplicate = db.session.scalar(
            select(Image.filename)
            .where(Image.owner_id == owner.id, Image.sha256 == prepared.sha256)
            .where(Image.state.in_(VISIBLE_STATES))
            .limit(1)
        )
        image = _claim(owner, filename, visibility, prepared)
        _store_objects(image, prepared)
        return UploadResult(image, duplicate)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _prepare(stream: BinaryIO, workdir: str, visibility: str) -> _Prepared:
    original = os.path.join(workdir, "original")
    with open(original, "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    size = os.path.getsize(original)
    if size == 0:
        raise RuleError("The file is empty.")
    config = current_app.config
    thumb = os.path.join(workdir, "thumb.webp")
    try:
        info = imaging.probe(original, config["MAX_IMAGE_PIXELS"], thumb)
    except imaging.InvalidImage as exc:
        if not config["ALLOW_ANY_FILE"]:
            raise RuleError(str(exc)) from None
        info = imaging.OTHER_FILE  # stored as a download, never shown inline
    prepared = _Prepared(workdir, original, info, "", size)
    if info is imaging.OTHER_FILE:
        prepared.sha256 = sha256_file(original)
        return prepared
    if info.gps and visibility == PUBLIC and not config["KEEP_GPS"]:
        stripped = os.path.join(workdir, "stripped")
        if imaging.strip_gps(original, stripped):
            prepared.original = stripped
            prepared.size = os.path.getsize(stripped)
    prepared.has_gps = bool(info.gps)
    prepared.thumb_size = info.thumb_size
    prepared.thumb = thumb
    prepared.sha256 = sha256_file(prepared.original)
    return prepared


def _claim(owner: User, filename: str, visibility: str, prepared: _Prepared) -> Image:
    info = prepared.info
    width, height = info.display_size
    image = Image(
        owner_id=owner.id,
        filename=filename,
        visibility=visibility,
        scope=scope_for(visibility, owner.id),
        state=PENDING,
        bucket=target_bucket(visibility, owner),
        object_key=filename,
        thumb_key=thumb_key_for(filename) if prepared.thumb else None,
        content_type=info.content_type,
        format=info.format,
        size=prepared.size,
        width=width,
        height=height,
        thumb_width=prepared.thumb_size[0] if prepared.thumb_size else None,
        thumb_height=prepared.thumb_size[1] if prepared.thumb_size else None,
        sha256=prepared.sha256,
        camera=info.camera,
        taken_at=info.taken_at,
        has_gps=prepared.has_gps,
        gps=info.gps,
    )
    with claiming_name(name_taken_message(visibility, filename)):
        db.session.add(image)
        db.session.commit()
    return image


def _store_objects(image: Image, prepared: _Prepared) -> None:
    store = storage.store
    try:
        store.put_file(image.bucket, image.object_key, prepared.original, image.content_type)
        if image.thumb_key and prepared.thumb:
            store.put_file(image.bucket, image.thumb_key, prepared.thumb, "image/webp")
        marked = db.session.execute(
            update(Image)
            .where(Image.id == image.id, Image.state == PENDING)
            .values(state=READY, updated_at=utcnow())
        ).rowcount
        if marked != 1:
            raise StorageError("the pending upload was cleaned up before it finished")
        count_usage(image.owner_id, 1, image.size)
        db.session.commit()
        image.state = READY
    except (StorageError, SQLAlchemyError) as exc:
        log.warning("upload of %s failed after the claim: %s", image.filename, exc)
        db.session.rollback()
        _undo_claim(image)
        raise Unavailable(TRY_AGAIN) from exc


def _undo_claim(image: Image) -> None:
    """Remove what a failed upload wrote and release its name.

    The row goes even when the store cannot remove the objects, so that the user can
    try again at once; fsck removes such unnamed objects later.
    """
    try:
        remove_objects(image.bucket, [image.object_key, image.thumb_key])
    except StorageError as exc:
        log.warning("objects of failed upload %s left for fsck: %s", image.id, exc)
    try:
        db.session.execute(delete(Image).where(Image.id == image.id, Image.state == PENDING))
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("could not undo upload of image %s (fsck will): %s", image.id, exc)
