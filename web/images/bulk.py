"""A bulk delete from the gallery: the selected images go to their trash (or, with
TRASH_DAYS = 0, are deleted). More than JOB_THRESHOLD of them go in a background job
(web/jobs.py), in chunks; run again after a crash, the job carries on after the last
chunk it wrote down."""

from __future__ import annotations

from flask_babel import ngettext

from .. import jobs
from ..i18n import N_
from ..models import Job, User
from . import trash
from .removal import BulkResult, delete_many

BULK_DELETE_JOB = "bulk-delete"
CHUNK = 20  # images between two progress writes of the job


def delete_selected(viewer: User, image_ids: list[int]) -> BulkResult | Job:
    """Delete the selection now, or start the job that does (and return it)."""
    image_ids = list(dict.fromkeys(image_ids))
    if jobs.is_big(len(image_ids)):
        return jobs.submit(BULK_DELETE_JOB, viewer, image_ids=image_ids)
    return delete_many(viewer, image_ids, trash.discard)


def outcome(result: BulkResult) -> str:
    """How many images went, and where."""
    count = len(result.deleted)
    if trash.trash_days():
        return ngettext(
            "Moved %(num)d image to the trash.", "Moved %(num)d images to the trash.", count
        )
    return ngettext("Deleted %(num)d image.", "Deleted %(num)d images.", count)


@jobs.task(BULK_DELETE_JOB, N_("Delete of selected images"))
def _bulk_delete_job(progress: jobs.Progress, viewer: User, image_ids: list[int]) -> str:
    left = image_ids[progress.done :]
    progress.expect(len(left))
    result = BulkResult()
    for start in range(0, len(left), CHUNK):
        chunk = delete_many(viewer, left[start : start + CHUNK], trash.discard)
        result.deleted += chunk.deleted
        result.failed += chunk.failed
        progress.advance(len(left[start : start + CHUNK]))
        progress.write()
    message = outcome(result)
    if result.failed:
        names = ", ".join(name for name, _ in result.failed[:20])
        more = " …" if len(result.failed) > 20 else ""
        message += " " + ngettext(
            "%(num)d image could not be deleted: %(names)s",
            "%(num)d images could not be deleted: %(names)s",
            len(result.failed),
            names=names + more,
        )
    return message
