"""Two-factor views of the account: turn TOTP on (scan, confirm with a code, see the
recovery codes once) and off (password and code). The login's second step is in
``routes``; the rules are in ``two_factor``."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import limiter
from ..rules import RuleError
from ..security import login_required
from . import two_factor

bp = Blueprint("two_factor", __name__, template_folder="templates")


def _failed(_response: Response) -> bool:
    return bool(g.get("two_factor_failed"))


def _user_key() -> str:
    return f"two-factor:{current_user.id}"


def _page(status: int = 200, **extra: object) -> tuple[str, int]:
    user = current_user._get_current_object()
    extra.setdefault("error", None)
    if user.totp_enabled:
        extra.setdefault("codes_left", two_factor.recovery_codes_left(user))
        setup = None
    else:
        setup = two_factor.begin(user)
    page = render_template(
        "account/two_factor.html",
        enabled=user.totp_enabled,
        setup=setup,
        required=two_factor.required_first(user),
        **extra,
    )
    return page, status


@bp.route("/account/two-factor", methods=["GET"])
@login_required
def page() -> tuple[str, int]:
    return _page()


@bp.route("/account/two-factor/enable", methods=["POST"])
@login_required
@limiter.limit("10 per 15 minutes", key_func=_user_key, deduct_when=_failed)
def enable() -> tuple[str, int]:
    """Confirm with a current code; the answer shows the recovery codes, once."""
    try:
        codes = two_factor.enable(current_user, request.form.get("code", ""))
    except two_factor.WrongCode as exc:
        g.two_factor_failed = True
        return _page(exc.status, error=str(exc))
    except RuleError as exc:
        return _page(exc.status, error=str(exc))
    return _page(recovery_codes=codes)


@bp.route("/account/two-factor/disable", methods=["POST"])
@login_required
@limiter.limit("5 per 15 minutes", key_func=_user_key, deduct_when=_failed)
def disable() -> tuple[str, int] | Response:
    form = request.form
    try:
        two_factor.disable(current_user, form.get("password", ""), form.get("code", ""))
    except two_factor.WrongCode as exc:
        g.two_factor_failed = True
        return _page(exc.status, error=str(exc))
    except RuleError as exc:
        return _page(exc.status, error=str(exc))
    flash(gettext("Two-factor login is off."), "success")
    return redirect(url_for("account.index"), code=303)
