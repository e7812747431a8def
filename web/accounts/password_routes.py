"""Views that change what identifies an account: the password, name and email on the
account page (errors show the page again with the form's message), the new password
after a temporary one, and a forgotten password's reset by mail. The rules live in
``passwords`` and ``password_reset``."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import limiter
from ..rules import RuleError
from ..security import login_required
from . import account_page, mail, password_reset, passwords, throttle

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
    flash(gettext("Your password is changed. Every other session of yours has ended."), "success")
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
    flash(gettext("Your details are saved.") if changed else gettext("Nothing changed."), "success")
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
    flash(gettext("Your new password is set."), "success")
    return redirect(url_for("gallery.myfiles"), code=303)


# Asking for reset links: per client address, whatever the names (each account also
# gets at most a few links an hour, in ``password_reset``).
FORGOT_PER_ADDRESS = "10 per hour"


def _client() -> str:
    return throttle.client_network(request.remote_addr)


def _reset_link(token: str) -> str:
    """Links in mail start with PUBLIC_URL, never with the Host header of the request."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + url_for("passwords.reset", token=token)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(FORGOT_PER_ADDRESS, methods=["POST"], key_func=_client, scope="forgot")
def forgot() -> tuple[str, int]:
    """Ask for a reset link by username or email; the answer never says whether one exists."""
    if not mail.configured():
        return render_template("auth/forgot.html", mail=False, sent=False, error=None), 200
    if request.method == "GET":
        return render_template("auth/forgot.html", mail=True, sent=False, error=None), 200
    identifier = request.form.get("identifier", "").strip()
    if not identifier:
        error = gettext("Enter your username or email address.")
        return render_template("auth/forgot.html", mail=True, sent=False, error=error), 400
    password_reset.request_reset(identifier, _reset_link)
    return render_template("auth/forgot.html", mail=True, sent=True, error=None), 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> tuple[str, int] | Response:
    try:
        if request.method == "GET":
            password_reset.find(token)
        else:
            user = password_reset.reset_password(
                token,
                request.form.get("new_password", ""),
                request.form.get("confirm_password", ""),
            )
    except password_reset.LinkRefused as exc:
        return render_template("auth/reset.html", refused=str(exc), error=None), exc.status
    except RuleError as exc:
        return render_template("auth/reset.html", refused=None, error=str(exc)), exc.status
    if request.method == "GET":
        return render_template("auth/reset.html", refused=None, error=None), 200
    flash(gettext("Your new password is set, %(name)s. Log in with it.", name=user.name), "success")
    return redirect(url_for("auth.login"), code=303)
