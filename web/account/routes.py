"""Account and comment views: parse the form, call ``accounts``/``comments``, redirect."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import accounts, comments, repository
from ..errors import render_error, retry_after_seconds, too_many_attempts
from ..extensions import limiter
from ..security import login_required
from . import bp


def _render_account(error: str | None = None, status: int = 200) -> tuple[str, int]:
    count, used = repository.usage(current_user)
    last_admin = current_user.is_admin and accounts.admin_count() <= 1
    page = render_template(
        "account/index.html", count=count, used=used, last_admin=last_admin, error=error
    )
    return page, status


@bp.route("/account", methods=["GET"])
@login_required
def index() -> tuple[str, int]:
    return _render_account()


def _wrong_password(response: Response) -> bool:
    return response.status_code == 400


def _account_key() -> str:
    return f"account-delete:{current_user.id}"


@bp.route("/account/delete", methods=["POST"])
@login_required
@limiter.limit("5 per 15 minutes", key_func=_account_key, deduct_when=_wrong_password)
def delete() -> tuple[str, int] | Response:
    user = current_user._get_current_object()
    try:
        finished = accounts.delete_own_account(user, request.form.get("password", ""))
    except repository.RuleError as exc:
        return _render_account(str(exc), exc.status)
    logout_user()
    session.clear()
    if finished:
        flash("Your account, your images and your comments are deleted. Goodbye!", "success")
    else:
        flash(
            "Your account is closed. Some of your files could not be removed yet; "
            "they will be removed automatically.",
            "warning",
        )
    return redirect(url_for("auth.login"), code=303)


def _comment_key() -> str:
    return f"comment:{current_user.id}"


@bp.route("/image/<int:image_id>/comments", methods=["POST"])
@login_required
@limiter.limit(comments.RATE_LIMIT, key_func=_comment_key)
def post_comment(image_id: int) -> Response:
    comment = comments.post(current_user, image_id, request.form.get("body"))
    flash("Your comment is posted.", "success")
    return redirect(
        url_for(
            "gallery.image_page",
            image_id=image_id,
            comments_page=comments.page_of(comment),
            _anchor=f"comment-{comment.id}",
        ),
        code=303,
    )


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
@login_required
def delete_comment(comment_id: int) -> Response:
    comment = comments.delete_comment(current_user, comment_id)
    flash("The comment is deleted.", "success")
    return redirect(
        url_for(
            "gallery.image_page",
            image_id=comment.image_id,
            comments_page=request.form.get("comments_page") or None,
            _anchor="comments",
        ),
        code=303,
    )


@bp.errorhandler(429)
def too_many_comments(exc: HTTPException):  # noqa: ANN201 - Flask response
    """The comment limit's own message (the application's 429 page speaks of failed
    attempts, which is right for the password check of account deletion)."""
    if request.endpoint != "account.post_comment":
        return too_many_attempts()
    wait = retry_after_seconds()
    body, status = render_error(
        429,
        "Too many comments",
        f"You can post at most {comments.RATE_PER_MINUTE} comments a minute. "
        f"Please wait {wait} second{'s' if wait != 1 else ''} and try again.",
    )
    return body, status, {"Retry-After": str(wait)}


@bp.app_template_global("comment_counts")
def comment_counts(images: list[repository.Image]) -> dict[int, int]:
    """For the gallery grids: the comment counts of a page of images, in one query."""
    return comments.counts(images)
