"""Token views of the account page: make a personal access token (shown once, with a
ShareX uploader file for it) and revoke one. The page itself is ``account_page``."""

from __future__ import annotations

import base64
import json

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from ..rules import RuleError
from ..security import login_required
from . import account_page, tokens

bp = Blueprint("tokens", __name__, template_folder="templates")


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create() -> tuple[str, int]:
    """Make a token and show the account page with it, once; nothing else keeps it."""
    form = request.form
    user = current_user._get_current_object()
    try:
        made = tokens.create(
            user, form.get("name", ""), form.get("scope", ""), form.get("expires", "")
        )
    except RuleError as exc:
        return account_page.render(user, token_error=str(exc), token_form=form), exc.status
    return account_page.render(user, new_token=made, sharex=_sharex_link(made)), 200


def _sharex_link(made: tokens.NewToken) -> str | None:
    """The .sxcu file of a read-write token, as a data: link (the secret stays in the page)."""
    if not made.token.can_write:
        return None
    upload_url = url_for("api_v1.upload_images", _external=True)
    config = tokens.sharex_uploader(upload_url, made.secret, made.token.name)
    payload = base64.b64encode(json.dumps(config, indent=2).encode()).decode()
    return f"data:application/json;base64,{payload}"


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int) -> Response:
    token = tokens.revoke(current_user._get_current_object(), token_id)
    flash(gettext("Revoked the token “%(name)s”. It no longer works.", name=token.name), "success")
    return redirect(url_for("account.index") + "#tokens", code=303)
