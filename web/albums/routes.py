"""Album and share link views. Albums (``albums``): the list at /albums, an album's page,
its edits, and adding images from an image's "Albums" page. Share links (``links``):
making a link from an image page, the "Shared links" page with its revoke buttons, and
what a visitor with a link sees (/s/<token>: its password form, the page, the bytes).

Every answer under /s/ asks search engines not to index it and browsers not to send its
address on (the token is in it). A wrong password counts against the link at that
client address (5 in 15 minutes) and against the link from all addresses (50 an hour).
"""

from __future__ import annotations

from collections.abc import Callable

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
from flask_babel import gettext, ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from ..accounts.throttle import client_network
from ..errors import render_error
from ..extensions import limiter
from ..i18n import N_
from ..images import access, serving
from ..integers import parse_id
from ..models import Image, ShareLink
from ..rules import NotFound, RuleError
from ..security import login_required
from ..viewers import is_admin
from . import albums, links

bp = Blueprint("sharing", __name__, template_folder="templates")
albums_bp = Blueprint("albums", __name__, template_folder="templates")

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
    return render_error(410, gettext("Link no longer works"), str(exc))


# --- the owner's side ---------------------------------------------------------------


@bp.route("/image/<int:image_id>/share", methods=["POST"])
@login_required
def create_image_link(image_id: int) -> tuple[str, int]:
    """Make a link to one of the viewer's images and show it, once."""
    image = access.get_image(image_id, current_user)
    return _create_link(lambda options: links.create(current_user, image, options))


def _create_link(make: Callable[[links.Options], links.NewLink]) -> tuple[str, int]:
    """Check the share form, make the link with ``make``, show it once."""
    form = request.form
    try:
        options = links.check_options(
            form.get("expires", ""),
            form.get("password", ""),
            form.get("allow_download") == "yes",
            form.get("max_views", ""),
        )
        made = make(options)
    except RuleError as exc:
        return _render_links(error=str(exc)), exc.status
    url = url_for("sharing.shared", token=made.token, _external=True)
    return _render_links(new_link=made.link, new_url=url), 200


@bp.route("/albums/<int:album_id>/share", methods=["POST"])
@login_required
def create_album_link(album_id: int) -> tuple[str, int]:
    """Make a link to one of the viewer's albums and show it, once."""
    album = albums.get_album(album_id, current_user)
    return _create_link(lambda options: links.create_for_album(current_user, album, options))


@bp.route("/shared-links", methods=["GET"])
@login_required
def shared_links() -> str:
    return _render_links()


@bp.route("/shared-links/<int:link_id>/revoke", methods=["POST"])
@login_required
def revoke(link_id: int) -> tuple[str, int]:
    link = links.revoke(current_user, link_id)
    return _render_links(revoked=link.target_name), 200


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
    if not _remembers(OPENED, link.id):  # one view per browser
        links.count_view(link)
        _remember(OPENED, link.id)
    if link.album is not None:
        before = parse_id(request.args.get("before"))
        shown = albums.page(link.album, before, current_app.config["PAGE_SIZE"])
        return render_template("sharing/shared_album.html", link=link, token=token, page=shown)
    return _shared_image(link, token, link.image, None)


def _shared_image(link: ShareLink, token: str, image: Image | None, image_id: int | None) -> str:
    """The page of a shared image: alone, or one of a shared album's (``image_id``)."""
    if image is None:
        raise NotFound(access.NO_SUCH_IMAGE)
    return render_template(
        "sharing/shared.html",
        link=link,
        image=image,
        token=token,
        in_album=image_id is not None,
        preview_size=serving.preview_size(image) if image.is_image else None,
        thumb_url=url_for("sharing.shared_thumb", token=token, image_id=image_id),
        preview_url=url_for("sharing.shared_preview", token=token, image_id=image_id),
        file_url=url_for("sharing.shared_file", token=token, image_id=image_id),
    )


@bp.route("/s/<token>/i/<int:image_id>", methods=["GET"])
def shared_album_image(token: str, image_id: int) -> str:
    link = _opened(token)
    return _shared_image(link, token, links.album_image(link, image_id), image_id)


@bp.route("/s/<token>/file", methods=["GET"])
@bp.route("/s/<token>/i/<int:image_id>/file", methods=["GET"])
def shared_file(token: str, image_id: int | None = None) -> Response:
    link = _opened(token)
    image = _image_of(link, image_id)
    if not link.allow_download:
        return render_error(403, gettext("Download not allowed"), gettext(links.NO_DOWNLOAD))  # type: ignore[return-value]
    download = request.args.get("download") is not None
    return serving.image_response(image, False, request.if_none_match, download, shared=True)


@bp.route("/s/<token>/thumb", methods=["GET"])
@bp.route("/s/<token>/i/<int:image_id>/thumb", methods=["GET"])
def shared_thumb(token: str, image_id: int | None = None) -> Response:
    image = _image_of(_opened(token), image_id)
    return serving.image_response(image, True, request.if_none_match, False, shared=True)


@bp.route("/s/<token>/preview", methods=["GET"])
@bp.route("/s/<token>/i/<int:image_id>/preview", methods=["GET"])
def shared_preview(token: str, image_id: int | None = None) -> Response:
    """The rendition the shared page shows: re-encoded, so it carries no GPS position."""
    image = _image_of(_opened(token), image_id)
    return serving.preview_response(image, request.if_none_match, shared=True)


def _opened(token: str) -> ShareLink:
    """The live link of a request for bytes, if this browser opened its page (404 else)."""
    link = links.find(token)
    if not _remembers(OPENED, link.id):
        raise NotFound(links.NO_SUCH_LINK)
    return link


def _image_of(link: ShareLink, image_id: int | None) -> Image:
    """The image a link's bytes are asked for: its own, or one its album holds."""
    if image_id is not None:
        return links.album_image(link, image_id)
    if link.image is None:
        raise NotFound(access.NO_SUCH_IMAGE)
    return link.image


# --- albums -------------------------------------------------------------------------


def _render_albums(error: str | None = None, form: dict | None = None) -> str:
    return render_template(
        "albums/list.html",
        summaries=albums.albums_of(current_user),
        error=error,
        form=form or {},
    )


@albums_bp.route("/albums", methods=["GET", "POST"])
@login_required
def album_list() -> str | tuple[str, int] | Response:
    if request.method == "GET":
        return _render_albums()
    form = request.form
    try:
        album = albums.create(current_user, form.get("title", ""), form.get("description", ""))
    except RuleError as exc:
        return _render_albums(str(exc), form.to_dict()), exc.status
    flash(gettext("Made the album “%(title)s”.", title=album.title), "success")
    return redirect(url_for("albums.album_page", album_id=album.id), code=303)


@albums_bp.route("/albums/<int:album_id>", methods=["GET"])
@login_required
def album_page(album_id: int) -> str:
    album = albums.get_album(album_id, current_user)
    before = parse_id(request.args.get("before"))
    shown = albums.page(album, before, current_app.config["PAGE_SIZE"])
    return render_template(
        "albums/album.html",
        album=album,
        page=shown,
        cover=albums.cover(album),
        orders=albums.ORDERS,
        before=before,
    )


@albums_bp.route("/albums/<int:album_id>/edit", methods=["POST"])
@login_required
def edit_album(album_id: int) -> Response:
    album = albums.get_album(album_id, current_user)
    form = request.form
    raw = form.get("cover_image_id", "")
    cover = parse_id(raw) if raw else None
    if raw and cover is None:
        raise RuleError(albums.NOT_A_COVER)
    albums.update(album, form.get("title", ""), form.get("description", ""), cover)
    flash(gettext("Saved the album."), "success")
    return _to_album(album.id)


def _to_album(album_id: int, **args: object) -> Response:
    """The album's page, after a form of it (``args``: the page and where on it)."""
    return redirect(url_for("albums.album_page", album_id=album_id, **args), code=303)


@albums_bp.route("/albums/<int:album_id>/order", methods=["POST"])
@login_required
def order_album(album_id: int) -> Response:
    """Order the album by date (newest or oldest first) or by hand."""
    album = albums.get_album(album_id, current_user)
    albums.set_order(album, request.form.get("order", ""))
    order = gettext(albums.ORDERS[album.sort_order]).lower()
    flash(gettext("The album is now ordered %(order)s.", order=order), "success")
    return _to_album(album.id)


@albums_bp.route("/albums/<int:album_id>/move", methods=["POST"])
@login_required
def move_image(album_id: int) -> Response:
    """Move one image earlier, later or to the front; back to the same page, at it."""
    album = albums.get_album(album_id, current_user)
    image_id = parse_id(request.form.get("image_id"))
    if image_id is None:
        raise NotFound(albums.NOT_IN_ALBUM)
    albums.move(album, image_id, request.form.get("to", ""))
    before = parse_id(request.form.get("before"))
    return _to_album(album.id, before=before, _anchor=f"album-images-{image_id}")


@albums_bp.route("/albums/<int:album_id>/arrange", methods=["POST"])
@login_required
def arrange_page(album_id: int) -> Response:
    """Put the images of one page of the album in the order sent (the album page's
    script, after a picture was dragged to another place); back to that page."""
    album = albums.get_album(album_id, current_user)
    ids = _selected_ids(albums.NOT_THE_PAGE)
    before = parse_id(request.form.get("before"))
    albums.arrange_page(album, before, current_app.config["PAGE_SIZE"], ids)
    return _to_album(album.id, before=before)


@albums_bp.route("/albums/<int:album_id>/delete", methods=["POST"])
@login_required
def delete_album(album_id: int) -> Response:
    album = albums.get_album(album_id, current_user)
    albums.delete_album(album)
    flash(
        gettext(
            "Deleted the album “%(title)s”. Its images are still in My Files.", title=album.title
        ),
        "success",
    )
    return redirect(url_for("albums.album_list"), code=303)


def _selected_ids(refusal: str = N_("Select the images first.")) -> list[int]:
    """The image ids a form sends (at most 1000); one that is not an id refuses them all
    (RuleError ``refusal``)."""
    ids = [parse_id(value) for value in request.form.getlist("image_id")[: albums.MAX_BATCH]]
    if not ids or any(number is None for number in ids):
        raise RuleError(refusal)
    return [number for number in ids if number is not None]


def _back(album_id: int) -> Response:
    """Back to the image's Albums page when the form came from there, else the album."""
    image_id = parse_id(request.form.get("return_to_image"))
    if image_id is not None:
        return redirect(url_for("albums.image_albums", image_id=image_id), code=303)
    return redirect(url_for("albums.album_page", album_id=album_id), code=303)


@albums_bp.route("/albums/add", methods=["POST"])
@login_required
def add_images() -> Response:
    """Add images to the album the form names (from an image's page or a selection)."""
    album_id = parse_id(request.form.get("album_id"))
    if album_id is None:
        raise RuleError(N_("Choose an album."))
    album = albums.get_album(album_id, current_user)
    added = albums.add_images(album, _selected_ids())
    flash(
        ngettext(
            "Added %(num)s image to “%(title)s”.",
            "Added %(num)s images to “%(title)s”.",
            added,
            title=album.title,
        ),
        "success",
    )
    return _back(album.id)


@albums_bp.route("/albums/<int:album_id>/remove", methods=["POST"])
@login_required
def remove_images(album_id: int) -> Response:
    album = albums.get_album(album_id, current_user)
    removed = albums.remove_images(album, _selected_ids())
    flash(
        ngettext(
            "Took %(num)s image out of “%(title)s”.",
            "Took %(num)s images out of “%(title)s”.",
            removed,
            title=album.title,
        ),
        "success",
    )
    return _back(album.id)


@albums_bp.route("/image/<int:image_id>/albums", methods=["GET"])
@login_required
def image_albums(image_id: int) -> str:
    """The albums of one of the viewer's images: which hold it, and adding it to others."""
    image = access.get_image(image_id, current_user)
    if not access.is_owner(current_user, image):
        raise NotFound(access.NO_SUCH_IMAGE)
    holding, others = albums.albums_holding(current_user, image)
    return render_template("albums/image_albums.html", image=image, holding=holding, others=others)
