"""Upload: check a file, make its thumbnail, claim its name, store its objects.

Order: the file is checked and its thumbnail made on local disk; then the name is
claimed by a PENDING row (the unique constraint refuses a taken name, changing
nothing; the storage quota is checked in the same transaction, see quotas.py); then
the objects are written, the original and the thumbnail at the same time; then the row
becomes READY. A failure after the claim removes what was written and the row, and says
"try again"; what a crash leaves is finished by maintenance (fsck).

The database sees one statement for the claim (the INSERT of the PENDING row) and one
transaction to mark it ready (the row, which names its thumbnail only then, and the
owner's counters), besides the read that finds a duplicate. The thumbnail's key comes
from the id, so a PENDING row leaves it unnamed: whoever undoes the upload removes it
by the id (``claimed_keys``).

Memory: the upload is copied to scratch disk in 1 MB pieces and never held whole; a
JPEG is decoded at the smallest scale that covers the thumbnail, and the full decode is
let go as soon as the thumbnail is made. What a worker holds at once is bounded by its
decode slots (decoding.py) plus, per upload thread, the object store client's buffers.
The preview is made afterwards, in the background (renditions.py), from the same local
copy.

The undo works when the database is the failure: it reads nothing from the session (the
values it needs are kept before the first write). A write the object store received but
never answered (OutcomeUnknown) keeps the PENDING row, so the name stays claimed: a late
write can then neither leave an object nobody names nor overwrite a newer upload of the
same name; maintenance removes both after PENDING_GRACE_MINUTES.
"""

from __future__ import annotations

import logging
import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from .. import imaging, scratch
from ..extensions import db, storage
from ..i18n import N_
from ..models import PENDING, PUBLIC, READY, VISIBLE_STATES, Image, User, scope_for, utcnow
from ..rules import TRY_AGAIN, RuleError, Unavailable, claiming_name
from ..storage import OutcomeUnknown, StorageError, sha256_file
from . import quotas, renditions
from .decoding import decode_slot
from .names import index_names
from .naming import (
    check_visibility,
    name_taken_message,
    preview_keys_for,
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
    workdir = scratch.mkdtemp("upload-")
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
        if image.thumb_key:
            renditions.after_upload(image, prepared.original)
        return UploadResult(image, duplicate)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _prepare(stream: BinaryIO, workdir: str, visibility: str) -> _Prepared:
    original = os.path.join(workdir, "original")
    with open(original, "wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    size = os.path.getsize(original)
    if size == 0:
        raise RuleError(N_("The file is empty."))
    config = current_app.config
    thumb = os.path.join(workdir, "thumb.webp")
    with decode_slot():
        try:
            info = imaging.probe(
                original, config["MAX_IMAGE_PIXELS"], thumb, config["MAX_TOTAL_PIXELS"]
            )
        except imaging.InvalidImage as exc:
            if not config["ALLOW_ANY_FILE"]:
                raise _refused(exc) from None
            info = imaging.OTHER_FILE  # stored as a download, never shown inline
        prepared = _Prepared(workdir, original, info, "", size)
        if info is imaging.OTHER_FILE:
            prepared.sha256 = sha256_file(original)
            return prepared
        if info.gps and visibility == PUBLIC and not config["KEEP_GPS"]:
            stripped = os.path.join(workdir, "stripped")
            try:
                if imaging.strip_gps(original, stripped):
                    prepared.original = stripped
                    prepared.size = os.path.getsize(stripped)
            except imaging.InvalidImage as exc:
                raise _refused(exc) from None
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
        thumb_key=None,  # named by the id, set when the row is marked ready
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
        if quotas.quota_applies(owner):
            quotas.reserve(owner.id, prepared.size)
        db.session.add(image)
        db.session.flush()
        index_names(db.session, [image.id], new=True)
        db.session.commit()
    return image


@dataclass(frozen=True)
class _Claim:
    """What the undo of an upload needs, kept in memory: after a database failure the
    session's objects cannot be read."""

    image_id: int
    filename: str
    bucket: str
    keys: tuple[str | None, ...]


def claimed_keys(image_id: int, object_key: str, thumb_key: str | None) -> tuple[str, ...]:
    """Every object an upload claimed as ``image_id`` may have written: its original,
    its thumbnail (named by the row only once ready) and its preview (made after)."""
    keys = (object_key, thumb_key or thumb_key_for(image_id), *preview_keys_for(image_id))
    return tuple(dict.fromkeys(keys))


# Threads that write thumbnails while the request's own thread writes the original. The
# store's clients are thread-safe; a thumbnail is small, so a few threads serve a worker.
_writers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="thumbnail-put")


def _store_objects(image: Image, prepared: _Prepared) -> None:
    store = storage.store
    thumb_key = thumb_key_for(image.id) if prepared.thumb else None
    claim = _Claim(
        image.id, image.filename, image.bucket, claimed_keys(image.id, image.object_key, None)
    )
    owner_id, size = image.owner_id, image.size
    try:
        _put_both(store, image, prepared, thumb_key)
        if not _mark_ready(claim.image_id, owner_id, size, thumb_key):
            raise StorageError("the pending upload was cleaned up before it finished")
        db.session.commit()
        set_committed_value(image, "state", READY)
        set_committed_value(image, "thumb_key", thumb_key)
    except OutcomeUnknown as exc:
        log.warning("upload of %s: the store did not answer; name kept: %s", claim.filename, exc)
        _rollback()
        raise Unavailable(outcome_unknown_message(claim.filename)) from exc
    except (StorageError, SQLAlchemyError) as exc:
        log.warning("upload of %s failed after the claim: %s", claim.filename, exc)
        _rollback()
        _undo_claim(claim)
        raise Unavailable(TRY_AGAIN) from exc


def _mark_ready(image_id: int, owner_id: int, size: int, thumb_key: str | None) -> bool:
    """Mark a pending upload ready and count it in its owner's usage, in the caller's
    transaction; False when the row is no longer pending. On MySQL one statement changes
    both rows (a round trip fewer per upload); elsewhere, two statements."""
    ready = {Image.state: READY, Image.thumb_key: thumb_key, Image.updated_at: utcnow()}
    pending = (Image.id == image_id, Image.state == PENDING)
    session = db.session
    if session.get_bind().dialect.name == "mysql":
        counted = {
            User.image_count: User.image_count + 1,
            User.bytes_used: User.bytes_used + size,
        }
        both = (
            update(Image)
            .where(*pending, User.id == owner_id, Image.owner_id == User.id)
            .values({**ready, **counted})
        )
        changed = session.execute(both, execution_options={"synchronize_session": False})
        return changed.rowcount > 0
    if session.execute(update(Image).where(*pending).values(ready)).rowcount != 1:
        return False
    count_usage(owner_id, 1, size)
    return True


def _put_both(store, image: Image, prepared: _Prepared, thumb_key: str | None) -> None:
    """Write the original here and the thumbnail on a writer thread at the same time.
    Both writes have finished (or failed) when this returns, so that an undo never races
    a write still under way; a write whose outcome is unknown wins over a plain failure
    (the name must then stay claimed)."""
    pending: Future | None = None
    if thumb_key and prepared.thumb:
        pending = _writers.submit(
            store.put_file, image.bucket, thumb_key, prepared.thumb, "image/webp"
        )
    failures: list[BaseException] = []
    try:
        store.put_file(image.bucket, image.object_key, prepared.original, image.content_type)
    except BaseException as exc:  # noqa: BLE001 - raised below, once the thumbnail is done
        failures.append(exc)
    if pending is not None:
        try:
            pending.result()
        except BaseException as exc:  # noqa: BLE001 - raised below
            failures.append(exc)
    if failures:
        raise next((f for f in failures if isinstance(f, OutcomeUnknown)), failures[0])


def _refused(exc: imaging.InvalidImage) -> RuleError:
    """Why the file is refused, in the request's language."""
    return RuleError(gettext(exc.message, **exc.params))


def outcome_unknown_message(filename: str) -> str:
    minutes = current_app.config["PENDING_GRACE_MINUTES"] + 1
    return gettext(
        "The image store did not confirm that %(name)s was stored. It is not shown; "
        "its name stays reserved while this is checked, at most %(minutes)s minutes. "
        "Please try again then.",
        name=filename,
        minutes=minutes,
    )


def _rollback() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError as exc:
        log.warning("rollback after a failed upload: %s", exc)


def _undo_claim(claim: _Claim) -> None:
    """Remove what a failed upload wrote and release its name.

    The row goes even when the store cannot remove the objects, so that the user can
    try again at once; maintenance removes such unnamed objects later. When the database
    is the failure the row stays PENDING, and maintenance undoes it after the grace period.
    """
    try:
        remove_objects(claim.bucket, list(claim.keys))
    except StorageError as exc:
        log.warning("objects of failed upload %s left for fsck: %s", claim.image_id, exc)
    try:
        db.session.execute(delete(Image).where(Image.id == claim.image_id, Image.state == PENDING))
        db.session.commit()
    except SQLAlchemyError as exc:
        _rollback()
        log.warning("could not undo upload of image %s (fsck will): %s", claim.image_id, exc)
