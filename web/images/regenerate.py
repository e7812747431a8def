"""Regenerating renditions as a background job: the previews (and missing thumbnails)
that ``flask --app web renditions`` makes, started by an admin from the Jobs page. Run
again after a crash, it makes what is still missing (with ``everything``, it carries on
after the images it already did)."""

from __future__ import annotations

from flask_babel import gettext

from .. import jobs
from ..i18n import N_
from ..models import Job, User
from . import renditions

RENDITIONS_JOB = "renditions"


def start(actor: User, everything: bool = False) -> Job:
    return jobs.submit(RENDITIONS_JOB, actor, everything=everything)


@jobs.task(RENDITIONS_JOB, N_("Previews and thumbnails made again"))
def _renditions_job(progress: jobs.Progress, actor: User, everything: bool) -> str:
    items = renditions.images_needing(everything)
    if everything:
        items = items[progress.done :]
    progress.expect(len(items))
    problems = []
    for problem in renditions.run_all(items, everything):
        if problem:
            problems.append(problem)
        progress.advance()
    message = gettext(
        "Made the renditions of %(made)s of %(total)s image(s).",
        made=len(items) - len(problems),
        total=len(items),
    )
    if problems:
        more = " …" if len(problems) > 20 else ""
        message += " " + gettext("Failed: %(names)s", names=", ".join(problems[:20]) + more)
    return message
