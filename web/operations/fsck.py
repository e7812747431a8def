"""Find and repair what an interrupted operation left behind, so rows and objects agree.

- PENDING rows older than the grace period: an upload that never finished; its objects
  (the thumbnail and preview by the id, as a PENDING row does not name them) and row
  are removed (undone).
- DELETING rows: a delete that stopped half-way; it is finished.
- MOVING rows: a rename or visibility change that stopped half-way; it is finished
  (the objects are copied to the new place, the old ones removed).
- READY rows whose original is missing are removed (the image is gone); a missing
  thumbnail is made again from the original. A missing preview is no finding: it is
  made in the background after an upload or when its page is next shown, and
  ``flask --app web renditions --missing`` makes every missing one; a preview whose
  image is gone, or has moved to another bucket, is an orphan.
- Objects that no row names, older than the grace period, are removed; so are user
  buckets whose user does not exist, and missing user buckets are created.
- TRASHED images older than TRASH_DAYS are deleted for good (the trash is emptied).
- An image whose name has no trigrams in the index of names (a row written by a version
  from before the index, during a rolling upgrade) is indexed, or searches miss it.

With ``dry_run`` nothing is changed: the report says what would be done.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from .. import imaging
from ..accounts.removal import finish_user_removal
from ..extensions import db, storage
from ..images import trash
from ..images.moves import finish_move
from ..images.names import GRAM, index_names
from ..images.naming import preview_key_for, preview_keys_for, preview_of
from ..images.removal import finish_delete
from ..images.upload import claimed_keys
from ..images.usage import count_usage, counted_usage
from ..models import (
    DELETING,
    MOVING,
    PENDING,
    READY,
    VISIBLE_STATES,
    Image,
    NameTrigram,
    User,
    utcnow,
)
from ..rules import Unavailable
from ..storage import ObjectMissing, StorageError

log = logging.getLogger(__name__)


@dataclass
class Report:
    dry_run: bool
    found: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def note(self, finding: str) -> bool:
        """Record a finding; True when the repair should go ahead (not a dry run)."""
        self.found.append(finding)
        return not self.dry_run

    @property
    def clean(self) -> bool:
        return not self.found


def run(dry_run: bool = False, grace: dt.timedelta | None = None) -> Report:
    """Check the whole repository and repair it (unless ``dry_run``)."""
    if grace is None:
        grace = dt.timedelta(minutes=current_app.config["PENDING_GRACE_MINUTES"])
    cutoff = utcnow() - grace
    report = Report(dry_run)
    _finish_user_removals(report)
    _unfinished_images(report, cutoff)
    _expired_trash(report)
    _buckets(report)
    _rows_against_objects(report, cutoff)
    _usage_counters(report)
    _unindexed_names(report)
    return report


def repair_unfinished(grace: dt.timedelta | None = None) -> Report:
    """Only the repairs that are safe to run unattended, at any time, on any instance:
    finish removals of users, undo uploads PENDING past the grace period, finish
    unfinished moves and deletes, empty the trash of what is older than TRASH_DAYS
    (what maintenance runs)."""
    if grace is None:
        grace = dt.timedelta(minutes=current_app.config["PENDING_GRACE_MINUTES"])
    report = Report(dry_run=False)
    _finish_user_removals(report)
    _unfinished_images(report, utcnow() - grace)
    _expired_trash(report)
    return report


def _attempt(report: Report, action: str, func, *args) -> None:
    try:
        func(*args)
    except (StorageError, SQLAlchemyError, OSError, imaging.InvalidImage, Unavailable) as exc:
        db.session.rollback()
        report.failed.append(f"{action}: {exc}")
        log.warning("fsck could not %s: %s", action, exc)
    else:
        report.done.append(action)


def _finish_user_removals(report: Report) -> None:
    for user in db.session.scalars(select(User).where(User.state == DELETING)):
        if report.note(f"user {user.username} was being removed"):
            _attempt(report, f"finish removing user {user.username}", finish_user_removal, user)


def _unfinished_images(report: Report, cutoff: dt.datetime) -> None:
    stale = select(Image).where(Image.updated_at < cutoff)
    for image in db.session.scalars(stale.where(Image.state == PENDING)).all():
        if report.note(f"unfinished upload {image.bucket}/{image.object_key} (image {image.id})"):
            _attempt(report, f"undo upload of image {image.id}", _undo_pending, image)
    # Moves first: a move's old objects are held by a DELETING row that must not go
    # before the copy is made.
    for image in db.session.scalars(stale.where(Image.state == MOVING)).all():
        if report.note(f"unfinished move of image {image.id} to {image.filename}"):
            _attempt(report, f"finish move of image {image.id}", finish_move, image)
    for image in db.session.scalars(stale.where(Image.state == DELETING)).all():
        if report.note(f"unfinished delete of {image.bucket}/{image.object_key}"):
            _attempt(report, f"finish delete of image {image.id}", finish_delete, image)


def _expired_trash(report: Report) -> None:
    for image in trash.expired():
        if report.note(f"image {image.id} ({image.filename}) is past its time in the trash"):
            _attempt(report, f"delete image {image.id} from the trash", trash.purge, image)


def _unindexed_names(report: Report) -> None:
    indexed = select(NameTrigram.image_id).where(NameTrigram.image_id == Image.id).exists()
    unindexed = db.session.execute(
        select(Image.id, Image.filename).where(Image.state != DELETING, ~indexed)
    ).all()
    for image_id, filename in unindexed:
        if len(filename) < GRAM:  # too short to have any
            continue
        if report.note(f"image {image_id} ({filename}) is missing from the index of names"):
            _attempt(report, f"index the name of image {image_id}", _index_name, image_id)


def _index_name(image_id: int) -> None:
    index_names(db.session, [image_id])
    db.session.commit()


def _undo_pending(image: Image) -> None:
    for key in claimed_keys(image.id, image.object_key, image.thumb_key):
        storage.store.remove(image.bucket, key)
    db.session.execute(delete(Image).where(Image.id == image.id, Image.state == PENDING))
    db.session.commit()


def _buckets(report: Report) -> None:
    config = current_app.config
    store = storage.store
    users = {u.bucket: u for u in db.session.scalars(select(User))}
    existing = set(store.list_buckets())
    if config["PUBLIC_BUCKET"] not in existing and report.note("the public bucket is missing"):
        _attempt(report, "create the public bucket", store.ensure_bucket, config["PUBLIC_BUCKET"])
    for bucket, user in users.items():
        if bucket not in existing and report.note(f"bucket of user {user.username} is missing"):
            _attempt(report, f"create bucket {bucket}", store.ensure_bucket, bucket)
    prefix = config["USER_BUCKET_PREFIX"]
    for bucket in sorted(existing):
        if bucket.startswith(prefix) and bucket not in users:
            if report.note(f"bucket {bucket} belongs to no user"):
                _attempt(report, f"remove bucket {bucket}", store.remove_bucket, bucket)


def _rows_against_objects(report: Report, cutoff: dt.datetime) -> None:
    config = current_app.config
    store = storage.store
    rows = db.session.execute(
        select(
            Image.id,
            Image.bucket,
            Image.object_key,
            Image.thumb_key,
            Image.state,
            Image.preview_format,
        )
    ).all()
    named: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        named[row.bucket].update(k for k in (row.object_key, row.thumb_key) if k)
        if row.thumb_key:  # an image: its preview, in the format its row says, may be there
            named[row.bucket].add(preview_key_for(row.id, row.preview_format))
    buckets = [config["PUBLIC_BUCKET"]] + sorted(
        db.session.scalars(select(User.bucket).where(User.state != DELETING))
    )
    present: dict[str, set[str]] = {}
    for bucket in buckets:
        try:
            objects = list(store.list(bucket))
        except StorageError as exc:
            report.failed.append(f"list bucket {bucket}: {exc}")
            continue
        present[bucket] = {o.key for o in objects}
        for obj in objects:
            if obj.key in named.get(bucket, ()) or obj.last_modified >= cutoff:
                continue
            if report.note(f"orphan object {bucket}/{obj.key}"):
                _attempt(
                    report, f"remove {bucket}/{obj.key}", _remove_orphan, bucket, obj.key, cutoff
                )
    for row in rows:
        if row.state != READY or row.bucket not in present:
            continue
        keys = present[row.bucket]
        if row.object_key not in keys:
            if report.note(f"image {row.id} has lost its file {row.bucket}/{row.object_key}"):
                _attempt(report, f"remove the row of image {row.id}", _drop_lost, row.id)
        elif row.thumb_key and row.thumb_key not in keys:
            if report.note(f"image {row.id} has lost its thumbnail"):
                _attempt(report, f"make the thumbnail of image {row.id}", _remake_thumb, row.id)


def _remove_orphan(bucket: str, key: str, cutoff: dt.datetime) -> None:
    """Remove an object no row names, checking again just before: an upload may have
    claimed its name since the rows were read (or, for a preview, its image's preview was
    made in that format)."""
    preview = preview_of(key)
    named = db.session.scalar(
        select(Image.id)
        .where(Image.bucket == bucket)
        .where(
            or_(Image.object_key == key, Image.thumb_key == key)
            if preview is None
            else and_(Image.id == preview[0], Image.preview_format == preview[1])
        )
        .limit(1)
    )
    if named is None and storage.store.stat(bucket, key).last_modified < cutoff:
        storage.store.remove(bucket, key)


def _drop_lost(image_id: int) -> None:
    image = db.session.get(Image, image_id)
    if image is not None:
        if image.thumb_key:
            storage.store.remove(image.bucket, image.thumb_key)
            for key in preview_keys_for(image.id):
                storage.store.remove(image.bucket, key)
        if image.state in VISIBLE_STATES:
            count_usage(image.owner_id, -1, -image.size)
        db.session.delete(image)
        db.session.commit()


def _usage_counters(report: Report) -> None:
    """Each user's kept image count and bytes must match their visible images."""
    counted = counted_usage()
    for user in db.session.scalars(select(User).where(User.state != DELETING)).all():
        actual = counted.get(user.id, (0, 0))
        if (user.image_count, user.bytes_used) != actual and report.note(
            f"usage of {user.username} says {user.image_count} image(s), "
            f"{user.bytes_used} bytes; they have {actual[0]}, {actual[1]} bytes"
        ):
            _attempt(report, f"recount the usage of {user.username}", _set_usage, user.id, actual)


def _set_usage(user_id: int, actual: tuple[int, int]) -> None:
    db.session.execute(
        update(User).where(User.id == user_id).values(image_count=actual[0], bytes_used=actual[1])
    )
    db.session.commit()


def _remake_thumb(image_id: int) -> None:
    image = db.session.get(Image, image_id)
    if image is None or image.thumb_key is None:
        return
    with tempfile.TemporaryDirectory(prefix="imgrepo-fsck-") as workdir:
        original = os.path.join(workdir, "original")
        with open(original, "wb") as out:
            try:
                for chunk in storage.store.open(image.bucket, image.object_key):
                    out.write(chunk)
            except ObjectMissing:
                return
        thumb = os.path.join(workdir, "thumb.webp")
        width, height = imaging.make_thumbnail(original, thumb)
        storage.store.put_file(image.bucket, image.thumb_key, thumb, "image/webp")
    db.session.execute(
        update(Image).where(Image.id == image.id).values(thumb_width=width, thumb_height=height)
    )
    db.session.commit()
