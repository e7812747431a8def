"""Account views: sign up (/signin, as the original named it), log in, log out, and the
account page where people delete their own account. They parse the form, call the
account services and render; the endpoint names stay ``auth.*`` and ``account.*``.
How often sign-up and login may be tried is decided in ``throttle``."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext, refresh
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ..errors import rate_limited, too_many_attempts
from ..extensions import limiter
from ..i18n import N_
from ..models import User
from ..rules import NameTaken, RuleError
from ..security import login_required
from . import (
    account_page,
    invitations,
    language,
    registration,
    removal,
    sessions,
    throttle,
    two_factor,
)
from .credentials import clean_username
from .forms import CodeForm, LoginForm, SignupForm

auth_bp = Blueprint("auth", __name__, template_folder="templates")
account_bp = Blueprint("account", __name__, template_folder="templates")

LOGIN_FAILED = N_("Invalid username or password.")
PENDING_LOGIN = "pending_login"
PENDING_LOGIN_SECONDS = 300


def _login_failed(_response: Response) -> bool:
    return bool(g.get("login_failed"))


def _client() -> str:
    return throttle.client_network(request.remote_addr)


def _username() -> str:
    """Whose login is tried: the form's username, or at the second step the account whose
    password was right (so that wrong codes count as that account's failed logins)."""
    if request.endpoint == "auth.login_code":
        pending = _pending_login()
        return pending["name"] if pending else ""
    return clean_username(request.form.get("username")).lower()[:30]


def _username_key() -> str:
    return "login-user:" + _username()


def _username_at_client_key() -> str:
    return f"login-user-at:{_username()}@{_client()}"


def _owner_address() -> bool:
    return throttle.is_known_address(_username(), _client())


def _start_session(user: User) -> None:
    """A fresh session at login: nothing from before it survives (session fixation),
    and a new server-side record that logout deletes."""
    session.clear()
    session["sid"] = sessions.start(user)
    login_user(user)
    session.permanent = False


@auth_bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(throttle.SIGNUP_PER_ADDRESS, methods=["POST"], key_func=_client, scope="signup")
def signin() -> str | Response | tuple[str, int]:
    """Sign-up as REGISTRATION allows (see ``invitations``); when it does not, the page
    says why (200 to a visit, 403 to a form sent anyway)."""
    token = request.args.get("invite")
    try:
        invitation = invitations.check(token)
    except invitations.SignupRefused as exc:
        return _signup_refused(exc)
    form = SignupForm()
    if invitation is not None and invitation.email and not form.email.data:
        form.email.data = invitation.email
    if form.validate_on_submit():
        try:
            user = invitations.sign_up(
                token, form.name.data, form.username.data, form.email.data, form.password.data
            )
        except NameTaken as exc:
            form.username.errors.append(str(exc))
        except invitations.OtherEmail as exc:
            form.email.errors.append(str(exc))
        except invitations.SignupRefused as exc:
            return _signup_refused(exc)
        else:
            _start_session(user)
            flash(gettext("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
            return redirect(url_for("gallery.myfiles"))
    return render_template("auth/signin.html", form=form, invite=token if invitation else None)


def _signup_refused(exc: RuleError) -> tuple[str, int]:
    status = 200 if request.method == "GET" else exc.status
    return render_template("auth/signin.html", form=None, refused=str(exc)), status


# The failed-login limits, shared by both steps of a login: a wrong code of the second
# step counts like a wrong password.
_per_address = limiter.shared_limit(
    throttle.LOGIN_PER_ADDRESS,
    scope="login-address",
    methods=["POST"],
    key_func=_client,
    deduct_when=_login_failed,
)
_per_username_at_address = limiter.shared_limit(
    throttle.LOGIN_PER_USERNAME_AT_ADDRESS,
    scope="login-user-address",
    methods=["POST"],
    key_func=_username_at_client_key,
    deduct_when=_login_failed,
)
_per_username = limiter.shared_limit(
    throttle.LOGIN_PER_USERNAME,
    scope="login-user",
    methods=["POST"],
    key_func=_username_key,
    deduct_when=_login_failed,
    exempt_when=_owner_address,
)


@auth_bp.route("/login", methods=["GET", "POST"])
@_per_address
@_per_username_at_address
@_per_username
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        user = registration.authenticate(form.username.data, form.password.data)
        if user is None:
            g.login_failed = True
            form.form_errors.append(gettext(LOGIN_FAILED))
        elif two_factor.is_enabled(user):
            # Not signed in yet: the second step asks for a code first.
            session.clear()
            session[PENDING_LOGIN] = {
                "uid": user.id,
                "name": user.username_key,
                "at": int(time.time()),
                "next": _safe_next(request.args.get("next")),
            }
            return redirect(url_for("auth.login_code"), code=303)
        else:
            return _finish_login(user, _safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


def _finish_login(user: User, target: str | None) -> Response:
    _start_session(user)
    throttle.remember_address(user.username_key, _client())
    return redirect(target or url_for("gallery.myfiles"))


def _pending_login() -> dict | None:
    """The login waiting for its code (a right password less than 5 minutes ago)."""
    pending = session.get(PENDING_LOGIN)
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), int):
        return None
    if time.time() - pending["at"] > PENDING_LOGIN_SECONDS:
        return None
    return pending


@auth_bp.route("/login/code", methods=["GET", "POST"])
@_per_address
@_per_username_at_address
@_per_username
def login_code() -> str | Response | tuple[str, int]:
    """The second step of a login with two-factor on: a code from the app, or a
    recovery code. The session is signed in only when it is right."""
    pending = _pending_login()
    user = two_factor.pending_user(pending["uid"]) if pending else None
    if user is None or not two_factor.is_enabled(user):
        session.pop(PENDING_LOGIN, None)
        flash(
            gettext(
                "Log in with your username and password first (a code is asked within 5 minutes)."
            ),
            "info",
        )
        return redirect(url_for("auth.login"), code=303)
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("auth/login_code.html", form=form), 400 if form.errors else 200
    if not two_factor.check_code(user, form.code.data):
        g.login_failed = True
        form.code.errors.append(gettext(two_factor.WRONG_CODE))
        return render_template("auth/login_code.html", form=form), 400
    left = two_factor.recovery_codes_left(user)
    response = _finish_login(user, pending.get("next"))
    if left < two_factor.RECOVERY_CODES and not _looks_like_totp(form.code.data):
        flash(
            gettext(
                "You used a recovery code; %(num)s left. Make new ones by turning two-factor "
                "login off and on again on your account page.",
                num=left,
            ),
            "warning",
        )
    return response


def _looks_like_totp(code: str) -> bool:
    return len("".join(code.split())) == 6


def _safe_next(target: str | None) -> str | None:
    """Only a local path may follow a login (no other host, no scheme, no '//', and no
    control or invisible character, which a Location header cannot carry)."""
    if not target or "\\" in target or not target.isprintable():
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@auth_bp.errorhandler(429)
def too_many(_exc: HTTPException):
    """Sign-up has its own message; login keeps the application's failed-attempts page."""
    if request.endpoint != "auth.signin":
        return too_many_attempts()
    return rate_limited(
        "Too many sign-ups",
        "Too many sign-up attempts from your network. Please try again in {when}.",
    )


@auth_bp.route("/logout", methods=["GET"])
def logout() -> str | Response:
    """GET /logout logs out, as the original's link did, unless another site sent the
    browser here: then a page asks first, and its button posts to /logout/confirm with a
    CSRF token (so no other site can log anyone out)."""
    if current_user.is_authenticated and _from_another_site():
        return render_template("auth/logout_confirm.html")
    _end_session()
    return redirect(url_for("auth.login"))


@auth_bp.route("/logout/confirm", methods=["POST"])
def logout_confirm() -> Response:
    _end_session()
    return redirect(url_for("auth.login"), code=303)


def _end_session() -> None:
    if current_user.is_authenticated:
        logout_user()
    sessions.end(session.get("sid"))
    session.clear()
    flash(gettext("You are logged out."), "info")


def _from_another_site() -> bool:
    """Whether another site (another host, even a sibling subdomain) sent this request:
    the browser says so in Sec-Fetch-Site, or the Origin or Referer names another host
    (an unreadable one, or the opaque Origin "null", counts as another)."""
    if request.headers.get("Sec-Fetch-Site", "").lower() in ("cross-site", "same-site"):
        return True
    for header in ("Origin", "Referer"):
        value = request.headers.get(header)
        if not value:
            continue
        try:
            host = urlsplit(value).netloc
        except ValueError:
            return True
        if host.lower() != request.host.lower():
            return True
    return False


def _render_account(error: str | None = None, status: int = 200, **extra: str) -> tuple[str, int]:
    return account_page.render(current_user, error=error, **extra), status


@account_bp.route("/account", methods=["GET"])
@login_required
def index() -> tuple[str, int]:
    return _render_account()


@account_bp.route("/account/language", methods=["POST"])
@login_required
def set_language() -> tuple[str, int] | Response:
    """Keep the language chosen on the Account page; this very answer is in it already."""
    try:
        language.set_language(current_user._get_current_object(), request.form.get("language", ""))
    except RuleError as exc:
        return _render_account(language_error=str(exc), status=exc.status)
    refresh()  # the locale of this request was chosen before the change
    flash(gettext("Your language is saved."), "success")
    return redirect(url_for("account.index"), code=303)


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
        flash(
            gettext("Your account, your images and your comments are deleted. Goodbye!"), "success"
        )
    else:
        flash(
            gettext(
                "Your account is closed. Some of your files could not be removed yet; "
                "they will be removed automatically."
            ),
            "warning",
        )
    return redirect(url_for("auth.login"), code=303)
