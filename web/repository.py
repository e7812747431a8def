"""The rules of images: naming, visibility, who may do what, upload, delete, move, listing.

This layer does the database and object-store work together, in an order that a crash
at any step cannot corrupt (see ``models`` for the image states, and ``fsck`` for the
repair of what a crash leaves). It never touches the request or renders a page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from . import imaging
from .extensions import db, storage
from .models import (
    DELETING,
    MOVING,
    PENDING,
    PRIVATE,
    PUBLIC,
    PUBLIC_SCOPE,
    READY,
    VISIBILITIES,
    VISIBLE_STATES,
    Image,
    User,
    scope_for,
    utcnow,
)
from .storage import ObjectMissing, StorageError, sha256_file

log = logging.getLogger(__name__)

THUMB_PREFIX = "thumbnails/"
MAX_FILENAME_BYTES = 255


# --- errors the user can fix or must be told about -------------------------------------


class RuleError(Exception):
    """A rule of the repository refused the request; ``str(exc)`` is the user's message."""

    status = 400


class NameTaken(RuleError):
    status = 409


class NotFound(RuleError):
    status = 404


class Forbidden(RuleError):
    status = 403


class Unavailable(RuleError):
    """The database or the object store failed; nothing was changed; try again."""

    status = 503


TRY_AGAIN = "The image store is not answering right now. Nothing was changed; please try again."


@contextmanager
def claiming_name(taken: str, busy: str = TRY_AGAIN) -> Iterator[None]:
    """Around a commit that claims a name: the unique constraint refuses a taken name
    (NameTaken with ``taken``, nothing changed); a database failure is Unavailable."""
    try:
        with backend_failures(busy):
            yield
    except IntegrityError:
        db.session.rollback()
        raise NameTaken(taken) from None


@contextmanager
def backend_failures(message: str = TRY_AGAIN) -> Iterator[None]:
    try:
        yield
    except StorageError as exc:
        log.warning("object store failure: %s", exc)
        raise Unavailable(message) from exc
    except OperationalError as exc:
        log.warning("database failure: %s", exc)
        db.session.rollback()
        raise Unavailable(message) from exc


# --- names ---------------------------------------------------------------------------


def sanitize_filename(raw: str, extension: str) -> str:
    """A filename safe to store as an object key and to show (escaped) in a page.

    Keeps Unicode letters readable; drops directories, control characters and slashes;
    limits the name to 255 bytes, keeping its extension; falls back to ``upload`` plus
    the extension of the detected type when nothing is left.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext[:16]
    if not stem.strip():
        stem = "upload"
        ext = ext or extension.lstrip(".")
    suffix = f".{ext}" if ext else ""
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    stem_bytes = stem.encode()[:budget]
    stem = stem_bytes.decode("utf-8", "ignore").rstrip()
    return f"{stem}{suffix}"


def thumb_key_for(filename: str) -> str:
    """``thumbnails/<filename>.webp`` beside the original; a name too long for that (a
    path part may have 255 bytes) is shortened and made unique with a hash."""
    leaf = filename + ".webp"
    if len(leaf.encode()) > MAX_FILENAME_BYTES:
        digest = hashlib.sha256(filename.encode()).hexdigest()[:16]
        stem = filename.encode()[:200].decode("utf-8", "ignore")
        leaf = f"{stem}~{digest}.webp"
    return THUMB_PREFIX + leaf


def check_visibility(visibility: str) -> str:
    if visibility not in VISIBILITIES:
        raise RuleError("Visibility must be public or private.")
    return visibility


def target_bucket(visibility: str, owner: User) -> str:
    return current_app.config["PUBLIC_BUCKET"] if visibility == PUBLIC else owner.bucket


def name_taken_message(visibility: str, filename: str) -> str:
    if visibility == PUBLIC:
        return f"A public image named “{filename}” already exists. Rename the file and try again."
    return f"You already have a private image named “{filename}”. Rename the file and try again."


# --- upload --------------------------------------------------------------------------


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
    """Validate, store and register one uploaded file.

    Order: the file is checked and its thumbnail made on local disk; then the name is
    claimed by a PENDING row (the unique constraint refuses a taken name, changing
    nothing); then the objects are written; then the row becomes READY. A failure after
    the claim removes what was written and the row, and says "try again".
    """
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


def remove_objects(bucket: str, keys: list[str | None]) -> None:
    store = storage.store
    for key in keys:
        if key:
            store.remove(bucket, key)


# --- who may do what -----------------------------------------------------------------


def can_view(viewer: Any, image: Image) -> bool:
    """Public: signed-in users (everyone with ANONYMOUS_GALLERY). Private: owner and admins."""
    if image.state not in VISIBLE_STATES:
        return False
    authenticated = bool(getattr(viewer, "is_authenticated", False))
    if image.visibility == PUBLIC:
        return authenticated or current_app.config["ANONYMOUS_GALLERY"]
    return authenticated and (viewer.id == image.owner_id or bool(viewer.is_admin))


def can_delete(viewer: Any, image: Image) -> bool:
    return bool(getattr(viewer, "is_authenticated", False)) and (
        viewer.id == image.owner_id or bool(viewer.is_admin)
    )


def get_image(image_id: int, viewer: Any) -> Image:
    """The image if ``viewer`` may see it; NotFound otherwise (existence is not revealed)."""
    image = db.session.get(Image, image_id)
    if image is None or not can_view(viewer, image):
        raise NotFound("No such image.")
    return image


def find_image(viewer: User, filename: str, visibility: str) -> Image:
    """The image a /delete form names: a public name, or one of the viewer's private names."""
    check_visibility(visibility)
    scope = PUBLIC_SCOPE if visibility == PUBLIC else viewer.id
    image = db.session.scalar(
        select(Image).where(
            Image.scope == scope, Image.filename == filename, Image.state.in_(VISIBLE_STATES)
        )
    )
    if image is None or not can_view(viewer, image):
        raise NotFound("No such image.")
    return image


# --- delete --------------------------------------------------------------------------


def delete_image(viewer: User, image: Image, *, audit: bool = True) -> None:
    """Delete an image: hide it (DELETING), remove its objects, then its row.

    An admin deleting someone else's image is written to the audit log in the
    transaction that hides the image (``audit=False`` for a reset, audited once).
    """
    if not can_view(viewer, image):
        raise NotFound("No such image.")
    if not can_delete(viewer, image):
        raise Forbidden("Only the person who uploaded this image can delete it.")
    session = db.session
    with backend_failures():
        marked = session.execute(
            update(Image)
            .where(Image.id == image.id, Image.state == READY)
            .values(state=DELETING, updated_at=utcnow())
        ).rowcount
        if marked != 1:
            session.rollback()
            raise NotFound("This image is already being deleted or changed.")
        count_usage(image.owner_id, -1, -image.size)
        if audit and viewer.id != image.owner_id:
            from .accounts import DELETE_IMAGE
            from .accounts import audit as audit_entry  # accounts builds on this module

            audit_entry(viewer, DELETE_IMAGE, describe(image))
        session.commit()
    finish_delete(image)


def describe(image: Image) -> str:
    """How the audit log names an image."""
    return f"{image.visibility} image “{image.filename}” (id {image.id}) of {image.owner.username}"


def finish_delete(image: Image) -> None:
    """Remove a DELETING image's objects and then its row (also used by fsck)."""
    with finished_by_fsck(
        f"delete of image {image.id}",
        "The image is hidden but its files could not all be removed yet; "
        "it will be cleaned up automatically.",
    ):
        remove_objects(image.bucket, [image.object_key, image.thumb_key])
        db.session.execute(delete(Image).where(Image.id == image.id, Image.state == DELETING))
        db.session.commit()


@contextmanager
def finished_by_fsck(what: str, message: str) -> Iterator[None]:
    """A step after which a failure leaves a state that fsck finishes: roll back, log,
    and tell the user (503) that the rest happens by itself."""
    try:
        yield
    except (StorageError, SQLAlchemyError) as exc:
        db.session.rollback()
        log.warning("%s stopped half-way (fsck will finish): %s", what, exc)
        raise Unavailable(message) from exc


# --- listing -------------------------------------------------------------------------

SORTS = {
    # name -> (column, descending, the index that serves it)
    "date": (Image.id, True, "ix_images_scope_id"),
    "name": (Image.filename, False, "uq_images_scope_filename"),
    "size": (Image.size, True, "ix_images_scope_size"),
}


@dataclass
class Page:
    images: list[Image]
    next_cursor: str | None
    sort: str
    query: str


def list_images(
    scope: int, sort: str = "date", query: str = "", cursor: str | None = None, limit: int = 48
) -> Page:
    """One page of a gallery (keyset pagination), straight from the database."""
    sort = sort if sort in SORTS else "date"
    column, descending, index = SORTS[sort]
    stmt: Select = select(Image).where(Image.scope == scope, Image.state.in_(VISIBLE_STATES))
    # MySQL/MariaDB otherwise use only the scope part of the index for a page deep in a
    # large gallery and walk every row before the cursor (measured: 80 ms at 100k rows).
    for dialect in ("mysql", "mariadb"):
        stmt = stmt.with_hint(Image, f"FORCE INDEX ({index})", dialect)
    query = (query or "").strip()[:100]
    if query:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query.lower()) + "%"
        stmt = stmt.where(func.lower(Image.filename).like(pattern, escape="\\"))
    after = _decode_cursor(cursor)
    if after is not None:
        value, last_id = after
        if column is Image.id:
            stmt = stmt.where(Image.id < last_id)
        elif descending:
            stmt = stmt.where(or_(column < value, and_(column == value, Image.id < last_id)))
        else:
            stmt = stmt.where(or_(column > value, and_(column == value, Image.id > last_id)))
    if column is Image.id:
        order = [Image.id.desc()]
    else:
        order = [column.desc(), Image.id.desc()] if descending else [column.asc(), Image.id.asc()]
    rows = list(db.session.scalars(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode_cursor(getattr(last, column.key), last.id)
    return Page(rows, next_cursor, sort, query)


def _encode_cursor(value: Any, last_id: int) -> str:
    raw = json.dumps([value, last_id], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[Any, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, last_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise RuleError("This page link is not valid.") from None
    if not isinstance(last_id, int) or not isinstance(value, str | int):
        raise RuleError("This page link is not valid.")
    return value, last_id


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
    """Every user's visible images and bytes, counted from the images (fsck checks the
    kept counters against this)."""
    stmt = (
        select(Image.owner_id, func.count(Image.id), func.coalesce(func.sum(Image.size), 0))
        .where(Image.state.in_(VISIBLE_STATES))
        .group_by(Image.owner_id)
    )
    return {owner: (int(n), int(size)) for owner, n, size in db.session.execute(stmt)}


def private_scope(user: User) -> int:
    return scope_for(PRIVATE, user.id)


class ThumbnailCache:
    """Recently served thumbnails kept in the worker's memory (least recently used out).

    Thumbnails are small and never change under their key: the key holds the image's
    SHA-256. The cache only saves the trip to the object store; who may see an image
    is still checked on every request before the cache is asked.
    """

    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.size = 0
        self.items: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> bytes | None:
        with self.lock:
            data = self.items.get(key)
            if data is not None:
                self.items.move_to_end(key)
            return data

    def put(self, key: tuple[str, str, str], data: bytes) -> None:
        if len(data) > self.limit // 8:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = data
            self.size += len(data)
            while self.size > self.limit:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped)


def _thumbnail_cache() -> ThumbnailCache | None:
    limit = current_app.config["THUMB_CACHE_MB"] * 1024 * 1024
    if not limit:
        return None
    return current_app.extensions.setdefault("thumbnail_cache", ThumbnailCache(limit))


def read_object(image: Image, thumbnail: bool = False) -> Iterator[bytes]:
    key = image.thumb_key if thumbnail else image.object_key
    if not key:
        raise NotFound("No such image.")
    cache = _thumbnail_cache() if thumbnail else None
    if cache is not None:
        cache_key = (image.bucket, key, image.sha256)
        data = cache.get(cache_key)
        if data is None:
            data = b"".join(_open_object(image, key))
            cache.put(cache_key, data)
        return iter((data,))
    return _open_object(image, key)


def _open_object(image: Image, key: str) -> Iterator[bytes]:
    try:
        with backend_failures("The image store is not answering right now; please try again."):
            return storage.store.open(image.bucket, key)
    except Unavailable as exc:
        if isinstance(exc.__cause__, ObjectMissing):
            log.error("image %s has no object at %s/%s (run fsck)", image.id, image.bucket, key)
            raise NotFound("No such image.") from None
        raise


def ensure_public_bucket() -> None:
    storage.store.ensure_bucket(current_app.config["PUBLIC_BUCKET"])


# --- rename and visibility change --------------------------------------------------


def move_image(
    viewer: User, image: Image, filename: str | None = None, visibility: str | None = None
) -> Image:
    """Rename an image and/or switch it between public and private.

    In one transaction the image takes its new name (the unique constraint refuses a
    taken one, changing nothing) and a DELETING row keeps the old name and objects;
    then the objects are copied, the image points at the copies, and the old ones go.
    A failure before the image points at the copies puts everything back as it was.
    """
    if not can_view(viewer, image):
        raise NotFound("No such image.")
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
            raise NotFound("This image is already being deleted or changed.")
        session.add(_tombstone(image, old))
        session.commit()
    session.refresh(image)
    try:
        finish_move(image)
    except (StorageError, SQLAlchemyError, imaging.InvalidImage, OSError) as exc:
        session.rollback()
        log.warning("move of image %s failed; putting it back: %s", image.id, exc)
        _undo_move(image, old)
        raise Unavailable(TRY_AGAIN) from exc
    return image


def _tombstone(image: Image, old: dict[str, Any]) -> Image:
    """A DELETING row that holds an image's old name and objects during a move."""
    return Image(
        owner_id=image.owner_id,
        filename=old["filename"],
        visibility=old["visibility"],
        scope=old["scope"],
        state=DELETING,
        bucket=image.bucket,
        object_key=image.object_key,
        thumb_key=image.thumb_key,
        content_type=image.content_type,
        format=image.format,
        size=image.size,
        sha256=image.sha256,
    )


def _new_place(image: Image) -> tuple[str, str, str | None]:
    bucket = target_bucket(image.visibility, image.owner)
    thumb = thumb_key_for(image.filename) if image.thumb_key else None
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
    if thumb and image.thumb_key:
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
        session.commit()
        if (bucket, key) != (image.bucket, image.object_key):
            remove_objects(bucket, [key, thumb])
    except (StorageError, SQLAlchemyError) as exc:
        session.rollback()
        log.warning(
            "could not put image %s back after a failed move (fsck will): %s", image.id, exc
        )


@dataclass
class BulkResult:
    deleted: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name or id, reason)


def images_for(viewer: User, image_ids: list[int]) -> list[Image]:
    """The images among ``image_ids`` that ``viewer`` may see, in the order given."""
    found = {i.id: i for i in db.session.scalars(select(Image).where(Image.id.in_(image_ids)))}
    return [found[i] for i in image_ids if i in found and can_view(viewer, found[i])]


def delete_many(viewer: User, image_ids: list[int]) -> BulkResult:
    """Delete several images; one failure never stops the others."""
    result = BulkResult()
    visible = {image.id: image for image in images_for(viewer, image_ids)}
    for image_id in dict.fromkeys(image_ids):
        image = visible.get(image_id)
        if image is None:
            result.failed.append((f"image {image_id}", "it no longer exists"))
            continue
        try:
            delete_image(viewer, image)
        except RuleError as exc:
            result.failed.append((image.filename, str(exc)))
        else:
            result.deleted.append(image.filename)
    return result
