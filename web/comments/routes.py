"""Comment views: post a comment on a public image, delete one; they call ``threads``
and go back to the image page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ..errors import render_error, retry_after_seconds
from ..extensions import limiter
from ..integers import parse_id
from ..security import login_required
from . import threads

bp = Blueprint("comments", __name__, template_folder="templates")


def _comment_key() -> str:
    return f"comment:{current_user.id}"


@bp.route("/image/<int:image_id>/comments", methods=["POST"])
@login_required
@limiter.limit(threads.RATE_LIMIT, key_func=_comment_key)
def post_comment(image_id: int) -> Response:
    comment = threads.post(current_user, image_id, request.form.get("body"))
    flash(gettext("Your comment is posted."), "success")
    return redirect(
        url_for(
            "gallery.image_page",
            image_id=image_id,
            comments_page=threads.page_of(comment),
            _anchor=f"comment-{comment.id}",
        ),
        code=303,
    )


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
@login_required
def delete_comment(comment_id: int) -> Response:
    comment = threads.delete_comment(current_user, comment_id)
    flash(gettext("The comment is deleted."), "success")
    if not threads.image_shown_to(current_user, comment):
        return redirect(url_for("gallery.index"), code=303)
    return redirect(
        url_for(
            "gallery.image_page",
            image_id=comment.image_id,
            comments_page=parse_id(request.form.get("comments_page")),
            _anchor="comments",
        ),
        code=303,
    )


@bp.errorhandler(429)
def too_many_comments(exc: HTTPException):
    """The comment limit's own message (the application's 429 page speaks of failed
    attempts, which is right for password checks, not for comments)."""
    wait = retry_after_seconds()
    body, status = render_error(
        429,
        gettext("Too many comments"),
        gettext(
            "You can post at most %(num)s comments a minute. Please wait %(wait)s and try again.",
            num=threads.RATE_PER_MINUTE,
            wait=ngettext("%(num)s second", "%(num)s seconds", wait),
        ),
    )
    return body, status, {"Retry-After": str(wait)}
