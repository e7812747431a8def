"""Views of the account page that change the account itself: the password, the name and
the email. Errors show the account page again with the form's message; the rules live in
``passwords``."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import limiter
from ..rules import RuleError
from ..security import login_required
from . import account_page, passwords

bp = Blueprint("passwords", __name__, template_folder="templates")

# Guessing the current password through these forms is as slow as through the delete form.
GUESS_LIMIT = "5 per 15 minutes"


def _wrong_password(_response: Response) -> bool:
    return bool(g.get("wrong_password"))


def _account_key() -> str:
    return f"account-password:{current_user.id}"


def _refused(exc: RuleError, **extra: object) -> tuple[str, int]:
    g.wrong_password = isinstance(exc, passwords.WrongPassword)
    return account_page.render(current_user._get_current_object(), **extra), exc.status


@bp.route("/account/password", methods=["POST"])
@login_required
@limiter.limit(GUESS_LIMIT, key_func=_account_key, deduct_when=_wrong_password)
def change() -> tuple[str, int] | Response:
    form = request.form
    try:
        passwords.change_password(
            current_user._get_current_object(),
            form.get("current_password", ""),
            form.get("new_password", ""),
            form.get("confirm_password", ""),
            keep_session=session.get("sid"),
        )
    except RuleError as exc:
        return _refused(exc, password_error=str(exc))
    flash("Your password is changed. Every other session of yours has ended.", "success")
    return redirect(url_for("account.index"), code=303)


@bp.route("/account/profile", methods=["POST"])
@login_required
@limiter.limit(GUESS_LIMIT, key_func=_account_key, deduct_when=_wrong_password)
def profile() -> tuple[str, int] | Response:
    form = request.form
    try:
        changed = passwords.change_profile(
            current_user._get_current_object(),
            form.get("name", ""),
            form.get("email", ""),
            form.get("password", ""),
        )
    except RuleError as exc:
        return _refused(exc, profile_error=str(exc), profile_form=form)
    flash("Your details are saved." if changed else "Nothing changed.", "success")
    return redirect(url_for("account.index"), code=303)


# What a user with a temporary password may still reach before choosing a new one
# (besides the style sheets and scripts the pages need).
_BEFORE_A_NEW_PASSWORD = {"passwords.choose", "auth.logout", "auth.logout_confirm"}


@bp.before_app_request
def _new_password_first() -> Response | None:
    """After a login with a temporary password, every page leads to choosing a new one."""
    endpoint = request.endpoint or ""
    if endpoint in _BEFORE_A_NEW_PASSWORD or endpoint.split(".")[-1] == "static":
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("passwords.choose"))
    return None


@bp.route("/account/new-password", methods=["GET", "POST"])
@login_required
def choose() -> tuple[str, int] | Response:
    user = current_user._get_current_object()
    if not user.must_change_password:
        return redirect(url_for("account.index"))
    if request.method == "GET":
        return render_template("account/new_password.html", error=None), 200
    try:
        passwords.choose_after_temporary(
            user, request.form.get("new_password", ""), request.form.get("confirm_password", "")
        )
    except RuleError as exc:
        return render_template("account/new_password.html", error=str(exc)), exc.status
    flash("Your new password is set.", "success")
    return redirect(url_for("gallery.myfiles"), code=303)
