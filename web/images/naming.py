"""Where an image lives: its sanitized filename, its object keys and bucket, and the
messages about names and visibilities.

An original's key is its filename; a thumbnail's key is ``.thumbnails/<image id>.webp``
and a preview's ``.previews/<image id>.webp`` (``.avif`` when the row's
``preview_format`` says so). No filename can reach those namespaces
(names lose their leading dots), and no user chooses an id, so no upload can take over
or block another image's renditions. Thumbnail keys written before keep the key their row
names (``thumbnails/<filename>.webp``): every reader goes by the key a row stores, never
by recomputing it. A preview's key is computed from the id and the format its row's
``preview_format`` names; fsck knows previews by that key.
"""

from __future__ import annotations

import re
import unicodedata

from flask import current_app
from flask_babel import gettext

from ..extensions import storage
from ..i18n import N_
from ..models import PRIVATE, PUBLIC, VISIBILITIES, Image, User
from ..rules import RuleError

THUMB_PREFIX = ".thumbnails/"
PREVIEW_PREFIX = ".previews/"
PREVIEW_SIZE = 1600  # px on the long side: sharp on a laptop, a few hundred KB
MAX_FILENAME_BYTES = 255
VISIBILITY_CHOICE = N_("Choose public or private.")


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


def thumb_key_for(image_id: int) -> str:
    """The key of an image's thumbnail, in every bucket the image may live in."""
    return f"{THUMB_PREFIX}{int(image_id)}.webp"


# The formats a preview may have (the PREVIEW_FORMAT setting chooses), with the
# content type it is served as; the key's extension is the format's name.
PREVIEW_TYPES = {"webp": "image/webp", "avif": "image/avif"}


def preview_key_for(image_id: int, fmt: str = "webp") -> str:
    """The key of an image's preview (the rendition its page shows) in format ``fmt``,
    beside its original."""
    if fmt not in PREVIEW_TYPES:
        raise ValueError(f"no preview format {fmt!r}")
    return f"{PREVIEW_PREFIX}{int(image_id)}.{fmt}"


def preview_key(image: Image) -> str:
    """The key of the image's preview, in the format its row says it was made in."""
    return preview_key_for(image.id, image.preview_format)


def preview_keys_for(image_id: int) -> list[str]:
    """The keys an image's preview may have, one per format: what removing an image
    removes, whichever format its preview was made in or is being made in."""
    return [preview_key_for(image_id, fmt) for fmt in PREVIEW_TYPES]


def stored_keys(image: Image) -> list[str | None]:
    """Every object the image may have in its bucket: its original, its thumbnail and its
    preview in either format (what deleting it for good removes; None: no thumbnail)."""
    return [image.object_key, image.thumb_key, *preview_keys_for(image.id)]


def preview_of(key: str) -> tuple[int, str] | None:
    """The image id and format a preview key names (None for any other key)."""
    name, dot, fmt = key.removeprefix(PREVIEW_PREFIX).rpartition(".")
    if key.startswith(PREVIEW_PREFIX) and dot and fmt in PREVIEW_TYPES and name.isdigit():
        return int(name), fmt
    return None


def is_visibility(value: str) -> bool:
    """Whether ``value`` is one of the visibilities (the one list forms and API use)."""
    return value in VISIBILITIES


def check_visibility(visibility: str) -> str:
    if not is_visibility(visibility):
        raise RuleError(gettext("Visibility must be public or private."))
    return visibility


def target_bucket(visibility: str, owner: User) -> str:
    return current_app.config["PUBLIC_BUCKET"] if visibility == PUBLIC else owner.bucket


def name_taken_message(visibility: str, filename: str) -> str:
    if visibility == PUBLIC:
        return gettext(
            "A public image named “%(name)s” already exists. Rename the file and try again.",
            name=filename,
        )
    return gettext(
        "You already have a private image named “%(name)s”. Rename the file and try again.",
        name=filename,
    )


def ensure_public_bucket() -> None:
    """Create the bucket of public images when it does not exist yet."""
    storage.store.ensure_bucket(current_app.config["PUBLIC_BUCKET"])


# How the forms offer each visibility, in the order of VISIBILITIES.
VISIBILITY_LABELS = {PUBLIC: N_("Public (every signed-in user)"), PRIVATE: N_("Private (only me)")}
# A visibility as the pages name it ("(public)"); capitalized where it starts a phrase.
VISIBILITY_NAMES = {PUBLIC: N_("public"), PRIVATE: N_("private")}
