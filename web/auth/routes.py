"""Views for sign-up, login and logout: parse the form, call the service layer, render."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from .. import repository, sessions, users
from ..extensions import limiter
from . import bp
from .forms import LoginForm, SignupForm

LOGIN_FAILED = "Invalid username or password."


def _login_failed(_response: Response) -> bool:
    return bool(g.get("login_failed"))


def _username_key() -> str:
    return "login-user:" + (request.form.get("username") or "").strip().lower()[:30]


def _start_session(user: users.User) -> None:
    """A fresh session at login: nothing from before it survives (session fixation),
    and a new server-side record that logout deletes."""
    session.clear()
    session["sid"] = sessions.start(user)
    login_user(user)
    session.permanent = False


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> str | Response:
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = users.register(
                form.name.data, form.username.data, form.email.data, form.password.data
            )
        except repository.NameTaken as exc:
            form.username.errors.append(str(exc))
        else:
            _start_session(user)
            flash(f"Welcome, {user.name}! Your account is ready.", "success")
            return redirect(url_for("gallery.myfiles"))
    return render_template("auth/signin.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
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
        user = users.authenticate(form.username.data, form.password.data)
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


@bp.route("/logout", methods=["GET"])
def logout() -> Response:
    if current_user.is_authenticated:
        logout_user()
    sessions.end(session.get("sid"))
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
