"""Account views: sign up (/signin, as the original named it), log in, log out, and the
account page where people delete their own account. They parse the form, call the
account services and render; the endpoint names stay ``auth.*`` and ``account.*``."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..extensions import limiter
from ..images.usage import usage
from ..models import User
from ..rules import NameTaken, RuleError
from ..security import login_required
from . import registration, removal, roles, sessions
from .forms import LoginForm, SignupForm

auth_bp = Blueprint("auth", __name__, template_folder="templates")
account_bp = Blueprint("account", __name__, template_folder="templates")

LOGIN_FAILED = "Invalid username or password."


def _login_failed(_response: Response) -> bool:
    return bool(g.get("login_failed"))


def _username_key() -> str:
    return "login-user:" + (request.form.get("username") or "").strip().lower()[:30]


def _start_session(user: User) -> None:
    """A fresh session at login: nothing from before it survives (session fixation),
    and a new server-side record that logout deletes."""
    session.clear()
    session["sid"] = sessions.start(user)
    login_user(user)
    session.permanent = False


@auth_bp.route("/signin", methods=["GET", "POST"])
def signin() -> str | Response:
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = registration.register(
                form.name.data, form.username.data, form.email.data, form.password.data
            )
        except NameTaken as exc:
            form.username.errors.append(str(exc))
        else:
            _start_session(user)
            flash(f"Welcome, {user.name}! Your account is ready.", "success")
            return redirect(url_for("gallery.myfiles"))
    return render_template("auth/signin.html", form=form)


@auth_bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", methods=["POST"], deduct_when=_login_failed, scope="ip")
@limiter.limit(
    "5 per 15 minutes",
    methods=["POST"],
    key_func=_username_key,
    deduct_when=_login_failed,
    scope="user",
)
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        user = registration.authenticate(form.username.data, form.password.data)
        if user is None:
            g.login_failed = True
            form.form_errors.append(LOGIN_FAILED)
        else:
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("gallery.myfiles"))
    return render_template("auth/login.html", form=form)


def _safe_next(target: str | None) -> str | None:
    """Only a local path may follow a login (no other host, no scheme, no '//')."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@auth_bp.route("/logout", methods=["GET"])
def logout() -> Response:
    if current_user.is_authenticated:
        logout_user()
    sessions.end(session.get("sid"))
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


def _render_account(error: str | None = None, status: int = 200) -> tuple[str, int]:
    count, used = usage(current_user)
    last_admin = current_user.is_admin and roles.admin_count() <= 1
    page = render_template(
        "account/index.html", count=count, used=used, last_admin=last_admin, error=error
    )
    return page, status


@account_bp.route("/account", methods=["GET"])
@login_required
def index() -> tuple[str, int]:
    return _render_account()


def _wrong_password(response: Response) -> bool:
    return response.status_code == 400


def _account_key() -> str:
    return f"account-delete:{current_user.id}"


@account_bp.route("/account/delete", methods=["POST"])
@login_required
@limiter.limit("5 per 15 minutes", key_func=_account_key, deduct_when=_wrong_password)
def delete() -> tuple[str, int] | Response:
    user = current_user._get_current_object()
    try:
        finished = removal.delete_own_account(user, request.form.get("password", ""))
    except RuleError as exc:
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
