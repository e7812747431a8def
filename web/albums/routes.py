"""Share link views: making a link from an image page, the "Shared links" page with its
revoke buttons, and what a visitor with a link sees (/s/<token>: its password form, the
page, the image's bytes). The rules are in ``links``.

Every answer under /s/ asks search engines not to index it and browsers not to send its
address on (the token is in it). A wrong password counts against the link at that
client address (5 in 15 minutes) and against the link from all addresses (50 an hour).
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..accounts.throttle import client_network
from ..errors import render_error
from ..extensions import limiter
from ..images import access, serving
from ..models import ShareLink
from ..rules import NotFound, RuleError
from ..security import login_required
from ..viewers import is_admin
from . import links

bp = Blueprint("sharing", __name__, template_folder="templates")

OPENED, UNLOCKED = "shares_opened", "shares_unlocked"  # session keys: lists of link ids
REMEMBERED = 50  # links a browser's session remembers, the most recent ones
GUESSES_PER_LINK_AT_ADDRESS = "5 per 15 minutes"
GUESSES_PER_LINK = "50 per hour"


@bp.after_request
def _private_headers(response: Response) -> Response:
    if request.path.startswith("/s/"):
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.app_context_processor
def _expiry_choices() -> dict:
    """The expiries the image page's share form offers."""
    return {"share_expiries": links.EXPIRY_LABELS, "share_default_expiry": links.DEFAULT_EXPIRY}


@bp.errorhandler(links.Gone)
def _gone(exc: links.Gone):
    return render_error(410, "Link no longer works", str(exc))


# --- the owner's side ---------------------------------------------------------------


@bp.route("/image/<int:image_id>/share", methods=["POST"])
@login_required
def create_image_link(image_id: int) -> tuple[str, int]:
    """Make a link to one of the viewer's images and show it, once."""
    image = access.get_image(image_id, current_user)
    form = request.form
    try:
        options = links.check_options(
            form.get("expires", ""),
            form.get("password", ""),
            form.get("allow_download") == "yes",
            form.get("max_views", ""),
        )
        made = links.create(current_user, image, options)
    except RuleError as exc:
        return _render_links(error=str(exc)), exc.status
    url = url_for("sharing.shared", token=made.token, _external=True)
    return _render_links(new_link=made.link, new_url=url), 200


@bp.route("/shared-links", methods=["GET"])
@login_required
def shared_links() -> str:
    return _render_links()


@bp.route("/shared-links/<int:link_id>/revoke", methods=["POST"])
@login_required
def revoke(link_id: int) -> tuple[str, int]:
    link = links.revoke(current_user, link_id)
    return _render_links(revoked=link.image.filename), 200


def _render_links(**shown: object) -> str:
    return render_template(
        "sharing/links.html",
        links=links.links_for(current_user),
        all_users=is_admin(current_user),
        **shown,
    )


# --- the visitor's side -------------------------------------------------------------


def _remember(key: str, link_id: int) -> None:
    ids = [i for i in session.get(key, []) if isinstance(i, int) and i != link_id]
    session[key] = [*ids, link_id][-REMEMBERED:]


def _remembers(key: str, link_id: int) -> bool:
    return link_id in session.get(key, [])


def _wrong_password(_response: Response) -> bool:
    return bool(g.get("share_password_wrong"))


def _link_key() -> str:
    return "share-password:" + links.hash_token(request.view_args["token"])[:32]  # type: ignore[index]


def _link_at_client_key() -> str:
    return f"{_link_key()}@{client_network(request.remote_addr)}"


@bp.route("/s/<token>", methods=["GET", "POST"])
@limiter.limit(
    GUESSES_PER_LINK_AT_ADDRESS,
    methods=["POST"],
    key_func=_link_at_client_key,
    deduct_when=_wrong_password,
    scope="share-password-address",
)
@limiter.limit(
    GUESSES_PER_LINK,
    methods=["POST"],
    key_func=_link_key,
    deduct_when=_wrong_password,
    scope="share-password",
)
def shared(token: str) -> str | tuple[str, int] | Response:
    """The shared image's page; first its password form when the link has one."""
    link = links.find(token)
    if request.method == "POST":
        if not links.check_password(link, request.form.get("password", "")):
            g.share_password_wrong = True
            return render_template("sharing/password.html", error=links.WRONG_PASSWORD), 403
        _remember(UNLOCKED, link.id)
        return redirect(url_for("sharing.shared", token=token), code=303)
    if link.password_hash is not None and not _remembers(UNLOCKED, link.id):
        return render_template("sharing/password.html", error=None)
    links.count_view(link)
    _remember(OPENED, link.id)
    return render_template("sharing/shared.html", link=link, image=link.image, token=token)


@bp.route("/s/<token>/file", methods=["GET"])
def shared_file(token: str) -> Response:
    link = _opened(token)
    if not link.allow_download:
        return render_error(403, "Download not allowed", links.NO_DOWNLOAD)  # type: ignore[return-value]
    download = request.args.get("download") is not None
    return serving.image_response(
        link.image, False, request.if_none_match, download, shared=True
    )


@bp.route("/s/<token>/thumb", methods=["GET"])
def shared_thumb(token: str) -> Response:
    link = _opened(token)
    return serving.image_response(link.image, True, request.if_none_match, False, shared=True)


def _opened(token: str) -> ShareLink:
    """The live link of a request for bytes, if this browser opened its page (404 else)."""
    link = links.find(token)
    if not _remembers(OPENED, link.id):
        raise NotFound(links.NO_SUCH_LINK)
    return link
