"""Renditions larger than the thumbnail: the preview (PREVIEW_SIZE px on the long side,
WebP at ``.previews/<image id>.webp`` beside the original, or AVIF at ``.avif`` as
PREVIEW_FORMAT says: ``smallest`` makes both and keeps the smaller), which the image page
shows. The row's ``preview_format`` names the one kept; a preview made again in another
format replaces the one before, which is removed once the row names the new one.

They are made off the request path, by a small pool of background threads in each
process (RENDITION_WORKERS threads, 0 for none; at most RENDITION_QUEUE jobs waiting,
more are dropped), each job once the process has served no request for
RENDITION_IDLE_MS (at most 10 s later: web/activity.py): after an upload from the
upload's own local copy (a hard link into scratch space, so nothing is read back from
the store), otherwise from the original fetched from the store. Each job holds one of
the process's decode slots while it decodes, so the memory bound of decoding.py holds.

Until a preview exists its address answers with the thumbnail and queues a job (the
job then reads the original from the store): a request never decodes an original. The
former way, decoding the original inside the request that first asked, is not kept even
as a fallback: for a 20 MB original it held a request thread and a decode slot for
seconds. What a stopped process never made, and images uploaded before previews
existed, ``flask --app web renditions --missing`` makes (``--all`` remakes every one).

A job that finishes after its image was deleted or moved to another bucket removes what
it wrote; what a crash leaves in between, fsck removes as an orphan.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import select, update

from .. import activity, imaging, scratch
from ..extensions import db, storage
from ..models import VISIBLE_STATES, Image
from ..rules import Unavailable
from ..storage import ObjectMissing, StorageError
from .decoding import decode_slot
from .naming import (
    PREVIEW_PREFIX,
    PREVIEW_SIZE,
    PREVIEW_TYPES,
    THUMB_PREFIX,
    preview_key,
    preview_key_for,
)

log = logging.getLogger(__name__)

RENDITION_FAILURES = (imaging.InvalidImage, StorageError, OSError, ValueError, Unavailable)


@dataclass(frozen=True)
class Job:
    app: Flask
    image_id: int
    bucket: str
    source: str | None  # a local copy of the original (its directory is the job's)


class Pool:
    """The process's background threads for renditions and the jobs they have to do.
    A job per image at a time; a full queue drops new jobs (they are made later); an
    image whose original cannot be decoded is not tried again by this process."""

    FAILED_LIMIT = 10_000  # remembered failures, forgotten all at once when reached

    def __init__(self, workers: int, limit: int) -> None:
        self.pid = os.getpid()
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="renditions")
        self.limit = limit
        self.queued: set[tuple[str, int]] = set()
        self.failed: set[tuple[str, int]] = set()
        self.changed = threading.Condition()

    def submit(self, job: Job) -> bool:
        key = (job.bucket, job.image_id)
        with self.changed:
            if key in self.queued or key in self.failed or len(self.queued) >= self.limit:
                return False
            self.queued.add(key)
        self.executor.submit(self._run, job)
        return True

    def _run(self, job: Job) -> None:
        made: bool | None = None  # None: it failed on the way (the store): try again
        try:
            idle_s = job.app.config["RENDITION_IDLE_MS"] / 1000
            if idle_s > 0:  # requests first: see web/activity.py
                activity.current().wait_quiet(idle_s)
            with job.app.app_context():
                made = make_preview(job.image_id, job.bucket, job.source)
        except Exception:  # a thread has no caller to tell: logged, made again later
            log.exception("preview of image %s failed", job.image_id)
        finally:
            if job.source:
                shutil.rmtree(os.path.dirname(job.source), ignore_errors=True)
            key = (job.bucket, job.image_id)
            with self.changed:
                self.queued.discard(key)
                if made is False:
                    if len(self.failed) >= self.FAILED_LIMIT:
                        self.failed.clear()
                    self.failed.add(key)
                self.changed.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait until no job is queued or running; False on timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: not self.queued, timeout)


_pool_lock = threading.Lock()


def pool() -> Pool | None:
    """The application's pool in this process (made on first use, so that each forked
    worker has its own); None with RENDITION_WORKERS=0."""
    app = _app()
    with _pool_lock:
        found = app.extensions.get("renditions")
        if found is None or found.pid != os.getpid():
            workers = app.config["RENDITION_WORKERS"]
            found = Pool(workers, app.config["RENDITION_QUEUE"]) if workers else None
            app.extensions["renditions"] = found
        return found


def _submit(job: Job) -> bool:
    found = pool()
    return found is not None and found.submit(job)


def after_upload(image: Image, original: str) -> None:
    """Queue the preview of a new image, made from its local copy ``original`` (linked
    into a directory of the job's own: the upload's is removed when it returns)."""
    if pool() is None:
        return
    workdir = scratch.mkdtemp("rendition-")
    source: str | None = os.path.join(workdir, "original")
    try:
        os.link(original, source)  # type: ignore[arg-type]
    except OSError:  # another file system: the job reads the store instead
        shutil.rmtree(workdir, ignore_errors=True)
        source = None
    if not _submit(Job(_app(), image.id, image.bucket, source)) and source:
        shutil.rmtree(workdir, ignore_errors=True)


def queue(image: Image) -> None:
    """Queue the making of an image's preview from its stored original."""
    _submit(Job(_app(), image.id, image.bucket, None))


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def wait(app: Flask, timeout: float = 30.0) -> bool:
    """Wait until ``app``'s jobs in this process are done; False on timeout."""
    found = app.extensions.get("renditions")
    return found is None or found.pid != os.getpid() or found.wait(timeout)


def stop(app: Flask, timeout: float = 30.0) -> None:
    """Finish ``app``'s jobs and end its threads (an application that is let go)."""
    wait(app, timeout)
    found = app.extensions.pop("renditions", None)
    if found is not None and found.pid == os.getpid():
        found.executor.shutdown(wait=False, cancel_futures=True)


def has_preview(image: Image) -> bool:
    """Whether the image's preview is in the store."""
    return storage.store.exists(image.bucket, preview_key(image))


def _encode_preview(source: str, workdir: str) -> tuple[str, str]:
    """Encode the preview of the original at ``source`` in the format PREVIEW_FORMAT
    asks for (both, with ``smallest``, keeping the smaller; WebP on a tie): its format
    and the path of its file."""
    wanted = current_app.config["PREVIEW_FORMAT"]
    formats = list(PREVIEW_TYPES) if wanted == "smallest" else [wanted]
    paths = {fmt: os.path.join(workdir, f"preview.{fmt}") for fmt in formats}
    with decode_slot():
        imaging.make_renditions(
            source, {fmt.upper(): path for fmt, path in paths.items()}, PREVIEW_SIZE
        )
    fmt = min(formats, key=lambda f: os.path.getsize(paths[f]))
    return fmt, paths[fmt]


def make_preview(image_id: int, bucket: str, source: str | None = None) -> bool:
    """Make and store the preview of image ``image_id`` in ``bucket`` (from ``source``,
    else from the stored original); False when the image is gone, has moved, or its
    original cannot be decoded."""
    image = _current(image_id, bucket)
    if image is None:
        return False
    before = image.preview_format
    workdir = scratch.mkdtemp("preview-")
    try:
        if source is None:
            source = os.path.join(workdir, "original")
            if not _fetch(image, source):
                return False
        try:
            fmt, made = _encode_preview(source, workdir)
        except (imaging.InvalidImage, OSError, ValueError) as exc:
            log.warning("no preview for image %s: %s", image_id, exc)
            return False
        key = preview_key_for(image_id, fmt)
        storage.store.put_file(bucket, key, made, PREVIEW_TYPES[fmt])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    db.session.rollback()  # see the rows as they are now, not as when the job began
    if fmt != before:
        db.session.execute(
            update(Image)
            .where(Image.id == image_id, Image.bucket == bucket)
            .values(preview_format=fmt)
        )
        db.session.commit()
    if _current(image_id, bucket) is None:  # deleted or moved while it was made
        storage.store.remove(bucket, key)
        return False
    if fmt != before:  # the row names the new one: the other format's is no one's
        storage.store.remove(bucket, preview_key_for(image_id, before))
    return True


def _current(image_id: int, bucket: str) -> Image | None:
    return db.session.scalar(
        select(Image).where(
            Image.id == image_id,
            Image.bucket == bucket,
            Image.state.in_(VISIBLE_STATES),
            Image.thumb_key.is_not(None),
        )
    )


def _fetch(image: Image, path: str) -> bool:
    try:
        with open(path, "wb") as out:
            for chunk in storage.store.open(image.bucket, image.object_key):
                out.write(chunk)
    except ObjectMissing:
        return False
    return True


# --- for images uploaded before: the command ``flask --app web renditions`` ----------


def images_needing(everything: bool = False) -> list[tuple[int, str]]:
    """The (id, bucket) of every shown image whose preview or thumbnail is missing (of
    every shown image with ``everything``), in the order of their ids."""
    rows = db.session.execute(
        select(Image.id, Image.bucket, Image.thumb_key, Image.preview_format)
        .where(Image.state.in_(VISIBLE_STATES), Image.thumb_key.is_not(None))
        .order_by(Image.id)
    ).all()
    if everything:
        return [(row.id, row.bucket) for row in rows]
    present = {bucket: _keys(bucket) for bucket in {row.bucket for row in rows}}
    return [
        (row.id, row.bucket)
        for row in rows
        if preview_key_for(row.id, row.preview_format) not in present[row.bucket]
        or row.thumb_key not in present[row.bucket]
    ]


def _keys(bucket: str) -> set[str]:
    keys: set[str] = set()
    for prefix in (PREVIEW_PREFIX, THUMB_PREFIX, "thumbnails/"):
        keys.update(obj.key for obj in storage.store.list(bucket, prefix))
    return keys


def make_renditions(image_id: int, bucket: str, everything: bool = False) -> bool:
    """Make an image's missing thumbnail and preview (both with ``everything``), in the
    calling thread; False when nothing could be made."""
    image = _current(image_id, bucket)
    if image is None:
        return False
    workdir = scratch.mkdtemp("renditions-")
    try:
        source = os.path.join(workdir, "original")
        if not _fetch(image, source):
            return False
        if everything or not storage.store.exists(bucket, image.thumb_key):
            thumb = os.path.join(workdir, "thumb.webp")
            with decode_slot():
                size = imaging.make_thumbnail(source, thumb)
            storage.store.put_file(bucket, image.thumb_key, thumb, "image/webp")
            image.thumb_width, image.thumb_height = size
            db.session.commit()
        if everything or not has_preview(image):
            return make_preview(image_id, bucket, source)
        return True
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_all(items: Iterable[tuple[int, str]], everything: bool) -> Iterator[str | None]:
    """Make the renditions of ``items``; yields, for each, None or what went wrong."""
    for image_id, bucket in items:
        try:
            made = make_renditions(image_id, bucket, everything)
        except RENDITION_FAILURES as exc:
            db.session.rollback()
            yield f"image {image_id}: {exc}"
        else:
            yield None if made else f"image {image_id}: its original could not be read"
