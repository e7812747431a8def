"""Views of the account page that change the account itself: the password, the name and
the email. Errors show the account page again with the form's message; the rules live in
``passwords``."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, session, url_for
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
