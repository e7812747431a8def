"""Deleting images: one, several, and finishing a delete a crash interrupted.

A delete hides the image first (DELETING, in the transaction that also moves the
owner's counters and writes the audit entry of an admin's delete), then removes its
objects, then its row. fsck finishes what a failure part-way leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, update

from ..audit import DELETE_IMAGE, record
from ..extensions import db, storage
from ..i18n import N_
from ..models import DELETING, READY, Image, User, utcnow
from ..rules import Forbidden, NotFound, RuleError, backend_failures, finished_by_fsck
from .access import NO_SUCH_IMAGE, can_delete, can_view, images_for
from .naming import stored_keys
from .usage import count_usage

BUSY_IMAGE = N_("This image is already being deleted or changed.")


def remove_objects(bucket: str, keys: list[str | None]) -> None:
    """Remove the named objects of a bucket ("already gone" counts as removed)."""
    store = storage.store
    for key in keys:
        if key:
            store.remove(bucket, key)


def delete_image(viewer: User, image: Image, *, audit: bool = True) -> None:
    """Delete an image: hide it (DELETING), remove its objects, then its row.

    An admin deleting someone else's image is written to the audit log in the
    transaction that hides the image (``audit=False`` for a reset, audited once).
    """
    if not can_view(viewer, image):
        raise NotFound(NO_SUCH_IMAGE)
    if not can_delete(viewer, image):
        raise Forbidden("Only the person who uploaded this image can delete it.")
    session = db.session
    with backend_failures():
        if not hide(image, READY, -1, -image.size):
            raise NotFound(BUSY_IMAGE)
        if audit and viewer.id != image.owner_id:
            record(viewer, DELETE_IMAGE, describe(image))
        session.commit()
    finish_delete(image)


def hide(image: Image, state: str, images: int, size: int) -> bool:
    """In the caller's transaction: mark DELETING an image that is in ``state`` and move
    its owner's counters by ``images`` and ``size``; False (rolled back) when it was not
    in that state any more."""
    marked = db.session.execute(
        update(Image)
        .where(Image.id == image.id, Image.state == state)
        .values(state=DELETING, updated_at=utcnow())
    ).rowcount
    if marked != 1:
        db.session.rollback()
        return False
    count_usage(image.owner_id, images, size)
    return True


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
        remove_objects(image.bucket, stored_keys(image))
        db.session.execute(delete(Image).where(Image.id == image.id, Image.state == DELETING))
        db.session.commit()


@dataclass
class BulkResult:
    deleted: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name or id, reason)


def delete_many(
    viewer: User, image_ids: list[int], remove: Callable[[User, Image], object] | None = None
) -> BulkResult:
    """Delete several images with ``remove`` (by default for good: ``delete_image``; the
    gallery passes the trash's); one failure never stops the others."""
    remove = remove or delete_image
    result = BulkResult()
    visible = {image.id: image for image in images_for(viewer, image_ids)}
    for image_id in dict.fromkeys(image_ids):
        image = visible.get(image_id)
        if image is None:
            result.failed.append((f"image {image_id}", "it no longer exists"))
            continue
        try:
            remove(viewer, image)
        except RuleError as exc:
            result.failed.append((image.filename, str(exc)))
        else:
            result.deleted.append(image.filename)
    return result
