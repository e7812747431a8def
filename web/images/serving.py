"""Reading an image's bytes from the object store, with recent thumbnails kept in the
worker's memory, and the responses that carry them. Who may see an image is checked
before anything here is asked.

A file can be a valid image and, read another way, a web page (a polyglot). Uploads are
not searched for markup: compressed image data holds markup-like bytes by chance. The
responses make such bytes harmless instead: each says the type detected at upload and
forbids sniffing another, carries a policy under which a browser that renders it anyway
runs nothing, and is an attachment unless browsers display that format; the name it is
saved under ends with the extension of that format.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import closing
from urllib.parse import quote

from flask import Response, current_app
from werkzeug.datastructures import ETags

from .. import imaging, scratch
from ..extensions import storage
from ..gates import HeldWhileRead, enter, gate, slot
from ..i18n import N_
from ..models import Image
from ..rules import NotFound, Unavailable, backend_failures
from ..storage import ObjectMissing
from . import renditions
from .access import NO_SUCH_IMAGE
from .decoding import decode_slot
from .naming import PREVIEW_SIZE, PREVIEW_TYPES, preview_key

log = logging.getLogger(__name__)

STORE_READ_WAIT_SECONDS = 5.0
STORE_DOWN = N_("The image store is not answering right now; please try again.")
STORE_BUSY = N_("The image store is slow to answer right now; please try again in a moment.")

# The headers of every image response: no sniffing, and nothing runs even where the
# bytes are rendered as a document (this policy replaces the pages' own).
BYTES_POLICY = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
THUMBNAIL_FORMAT = "WEBP"  # every thumbnail, whatever its original
OTHER_TYPE = "application/octet-stream"
# Every spelling of a format's extension that a saved file may keep as it is.
SUFFIXES = {
    "JPEG": {".jpg", ".jpeg", ".jpe", ".jfif"},
    "TIFF": {".tif", ".tiff"},
    "HEIF": {".heic", ".heif"},
}


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
    extensions = current_app.extensions
    cache = extensions.get("thumbnail_cache")
    if cache is not None:
        return cache
    limit = current_app.config["THUMB_CACHE_MB"] * 1024 * 1024
    if not limit:
        return None
    return extensions.setdefault("thumbnail_cache", ThumbnailCache(limit))


def _read_gate() -> threading.BoundedSemaphore:
    """The process's places for object-store reads (STORE_READS_PER_WORKER): fewer than
    its threads, so that while the store hangs, pages are still served."""
    return gate("store-reads", current_app.config["STORE_READS_PER_WORKER"])


def thumbnail_bytes(image: Image) -> bytes:
    """An image's thumbnail, whole: from the worker's cache, else from the object store
    (kept in the cache when there is one). A thumbnail is small (THUMB_SIZE px of WebP),
    so it is sent in one piece with its length, never streamed in chunks."""
    key = image.thumb_key
    if not key:
        raise NotFound(NO_SUCH_IMAGE)
    cache = _thumbnail_cache()
    cache_key = (image.bucket, key, image.sha256)
    data = cache.get(cache_key) if cache is not None else None
    if data is None:
        with slot(_read_gate(), STORE_READ_WAIT_SECONDS, STORE_BUSY):
            data = b"".join(_open_object(image, key))
        if cache is not None:
            cache.put(cache_key, data)
    return data


def read_object(image: Image, key: str | None = None) -> Iterator[bytes]:
    """An image's original (or another of its objects, ``key``) from the object store,
    holding one of the worker's read places until the bytes are sent (503 when none
    frees up within STORE_READ_WAIT_SECONDS)."""
    key = key or image.object_key
    if not key:
        raise NotFound(NO_SUCH_IMAGE)
    places = _read_gate()
    enter(places, STORE_READ_WAIT_SECONDS, STORE_BUSY)
    try:
        chunks = _open_object(image, key)
    except BaseException:
        places.release()
        raise
    return HeldWhileRead(iter(chunks), places.release)


def _open_object(image: Image, key: str) -> Iterator[bytes]:
    try:
        with backend_failures("The image store is not answering right now; please try again."):
            return storage.store.open(image.bucket, key)
    except Unavailable as exc:
        if isinstance(exc.__cause__, ObjectMissing):
            log.error("image %s has no object at %s/%s (run fsck)", image.id, image.bucket, key)
            raise NotFound(NO_SUCH_IMAGE) from None
        raise


def image_response(
    image: Image, thumbnail: bool, if_none_match: ETags, download: bool, shared: bool = False
) -> Response:
    """An image's bytes (pages and API alike) with an ETag; a matching If-None-Match gets
    a 304 at once. Private bytes are never cached by a shared cache. ``shared`` bytes go
    through a share link: never kept by any cache, and an original without its GPS
    position whatever KEEP_GPS says."""
    if thumbnail and not image.thumb_key:
        raise NotFound(NO_SUCH_IMAGE)
    strip = shared and not thumbnail and image.has_gps
    etag = f"{image.sha256[:32]}-{'t' if thumbnail else 's' if strip else 'o'}"
    headers = _headers(image, shared)
    if if_none_match.contains(etag):
        return _not_modified(headers, etag)
    if strip:
        edited = read_without_gps(image)
        body: Iterator[bytes] = iter((edited,))
        headers["Content-Length"] = str(len(edited))
    elif accel := accel_redirect(image, thumbnail, etag):
        body = iter(())
        headers.update({"X-Accel-Redirect": accel, "Content-Length": "0"})
    elif thumbnail:
        data = thumbnail_bytes(image)
        body = iter((data,))
        headers["Content-Length"] = str(len(data))
    else:
        body = read_object(image)
        headers["Content-Length"] = str(image.size)
    fmt = THUMBNAIL_FORMAT if thumbnail else image.format
    inline = thumbnail or (image.is_image and image.shown_by_browsers and not download)
    kind = "inline" if inline else "attachment"
    name = quote(download_name(image.filename, fmt))
    headers["Content-Disposition"] = f"{kind}; filename*=UTF-8''{name}"
    mimetype = imaging.CONTENT_TYPES.get(fmt, OTHER_TYPE)
    response = Response(body, mimetype=mimetype, headers=headers, direct_passthrough=True)
    response.set_etag(etag)
    return response


# --- Behind nginx: the bytes go from S3 to the client without passing through Python ---

ACCEL_SIGNED_SECONDS = 60  # the signed read is used by nginx at once, never by a client


def accel_redirect(image: Image, thumbnail: bool, etag: str) -> str | None:
    """Where nginx fetches the bytes of a thumbnail or original whose bytes are the
    stored object's, when ACCEL_REDIRECT_PREFIX is set and the store is S3:
    ``<prefix>/<etag>/<bucket>/<key>?<signed query>``, a GET signed for a minute.

    The app has decided who may see the image and answers with its own headers and
    ``X-Accel-Redirect`` (no body); nginx's internal location (docker/nginx-scale.conf)
    strips the prefix and the ETag, fetches the rest from S3 with the Host the signature
    names, hides S3's headers and keeps the app's. The signed address only travels from
    the app to nginx, which never passes X-Accel-Redirect on; buckets stay private.
    None (the bytes go through Python) without the setting or on the embedded store."""
    prefix = current_app.config.get("ACCEL_REDIRECT_PREFIX")
    sign = getattr(storage.store, "signed_path", None)
    if not prefix or sign is None or current_app.config["STORAGE"] != "s3":
        return None
    key = image.thumb_key if thumbnail else image.object_key
    if not key:
        raise NotFound(NO_SUCH_IMAGE)
    with backend_failures(STORE_DOWN):
        signed = sign(image.bucket, key, ACCEL_SIGNED_SECONDS)
    return f"{prefix}/{etag}{signed}"


def _headers(image: Image, shared: bool = False) -> dict[str, str]:
    if shared:
        cache = "private, no-cache"
    elif image.is_public and current_app.config["ANONYMOUS_GALLERY"]:
        cache = "public, max-age=60"
    else:
        cache = "private, max-age=60" if image.is_public else "private, no-cache"
    return {"Cache-Control": cache, "Vary": "Cookie, Authorization", **BYTES_POLICY}


def _not_modified(headers: dict[str, str], etag: str) -> Response:
    response = Response(status=304, headers=headers)
    response.set_etag(etag)
    return response


def preview_response(image: Image, if_none_match: ETags, shared: bool = False) -> Response:
    """The image's preview, the rendition its page shows: a WebP or AVIF (as its row
    says) of at most PREVIEW_SIZE px, made in the background after the upload
    (renditions.py); its ETag names the format, so a preview made again in the other
    format is fetched again. Until it exists the thumbnail stands in, under the
    thumbnail's ETag and never kept without asking again, and the preview is queued (a
    request never decodes an original). Both are re-encoded without metadata, so one
    served through a share link (``shared``: never kept by any cache) carries no GPS
    position."""
    if not image.thumb_key:
        raise NotFound(NO_SUCH_IMAGE)
    fmt = image.preview_format
    etag = f"{image.sha256[:32]}-p" + ("" if fmt == "webp" else f"-{fmt}")
    headers = _headers(image, shared)
    if if_none_match.contains(etag):
        return _not_modified(headers, etag)
    with backend_failures(STORE_DOWN):
        ready = renditions.has_preview(image)
    key, mimetype = preview_key(image), PREVIEW_TYPES[fmt]
    if not ready:
        renditions.queue(image)
        key, etag = image.thumb_key, f"{image.sha256[:32]}-t"
        mimetype = imaging.CONTENT_TYPES[THUMBNAIL_FORMAT]
        headers["Cache-Control"] = "private, no-cache"
        if if_none_match.contains(etag):
            return _not_modified(headers, etag)
    response = Response(
        read_object(image, key=key),
        mimetype=mimetype,
        headers=headers,
        direct_passthrough=True,
    )
    response.set_etag(etag)
    return response


def preview_size(image: Image) -> tuple[int, int]:
    """The preview's width and height (for the page's srcset and layout), computed from
    the original's size and the thumbnail's orientation."""
    width, height = image.width or PREVIEW_SIZE, image.height or PREVIEW_SIZE
    if ((image.thumb_width or 1) >= (image.thumb_height or 1)) != (width >= height):
        width, height = height, width  # turned upright by its EXIF orientation
    scale = min(1.0, PREVIEW_SIZE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _copy_original(image: Image, workdir: str) -> str:
    """Copy the original from the store into ``workdir``; its path there."""
    original = os.path.join(workdir, "original")
    with open(original, "wb") as out, closing(read_object(image)) as chunks:
        for chunk in chunks:
            out.write(chunk)
    return original


def read_without_gps(image: Image) -> bytes:
    """The original's bytes without its GPS position, in EXIF and XMP: copied to
    scratch space, edited there, read back."""
    workdir = scratch.mkdtemp("shared-")
    try:
        original = _copy_original(image, workdir)
        stripped = os.path.join(workdir, "stripped")
        with decode_slot():  # lossless edits decode nothing; TIFF, AVIF, HEIC do
            source = stripped if imaging.strip_gps(original, stripped) else original
        with open(source, "rb") as handle:
            return handle.read()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def download_name(filename: str, fmt: str) -> str:
    """The name bytes of format ``fmt`` are saved under: the image's name, with the
    format's extension added unless it already ends with one (``evil.html`` is saved as
    ``evil.html.jpg``), so that the saved file opens as what it is."""
    extension = imaging.EXTENSIONS.get(fmt, "")
    suffix = os.path.splitext(filename)[1].lower()
    if not extension or suffix in SUFFIXES.get(fmt, {extension}):
        return filename
    return filename + extension
