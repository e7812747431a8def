"""Gallery views (/, /gallery, /myfiles, /delete, image pages and image bytes): parse the
request, call the image services, render. The galleries' endpoint names stay
``gallery.*``, as the pages have always used them."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    get_template_attribute,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, gettext, ngettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import FileStorage

from .. import jobs
from ..albums import albums
from ..comments import threads
from ..extensions import reads_only
from ..i18n import date_time, language
from ..integers import parse_id
from ..models import PUBLIC, PUBLIC_SCOPE, VISIBILITIES, Image, Job
from ..rules import NotFound, RuleError
from ..security import login_required
from ..sizes import filesize
from ..viewers import signed_in
from . import access, bulk, listing, moves, naming, quotas, serving, trash, upload
from .forms import UploadForm

bp = Blueprint("gallery", __name__, template_folder="templates")


@dataclass
class Card:
    """What one image's card shows besides the image's own fields, worked out here once
    per card: its links, and its size, date, visibility and comments as the page's
    language writes them. A card is what a gallery page repeats (twice 48 times on
    /myfiles), and each ``url_for``, ``_()`` or Babel call made in the template costs
    tens of microseconds there."""

    page_url: str  # the image's page, in the gallery's sort and search
    thumb_url: str
    preview_url: str
    file_url: str
    preview_size: tuple[int, int] | None  # None for a file that is no image
    owner: str  # the owner's username
    size: str  # "1.5 MB"
    date: str  # "2026-11-25 16:39 UTC"
    datetime: str  # ISO 8601
    visibility: str  # "public", translated
    comments: str | None  # "3 comments", under a public image only
    delete_label: str  # "Delete <filename>"


@dataclass
class Grid:
    """What a gallery grid shows: a page of images and, for each, what the viewer may do."""

    page: listing.Page
    comment_counts: dict[int, int]
    deletable: set[int]  # the viewer may delete these
    selectable: set[int]  # and may select these for bulk delete: their own images only
    next_url: str | None  # the "Next page" link: this address with the next cursor
    image_args: dict[str, str]  # what the image links carry: the gallery's sort and search
    # In date order, the month each image starts (a header above it), by the image's id.
    months: dict[int, str] = field(default_factory=dict)
    cards: dict[int, Card] = field(default_factory=dict)  # by the image's id
    # What every card of the grid that has them shows alike: the delete form's address and
    # token, the labels of its buttons.
    delete_url: str = ""
    csrf_token: str = ""
    labels: dict[str, str] = field(default_factory=dict)


def _grid(page: listing.Page, cursor_arg: str) -> Grid:
    images = page.images
    viewer = current_user._get_current_object()  # once, not through the proxy per image
    grid = Grid(
        page,
        page.comment_counts,
        access.deletable_ids(viewer, images),
        {image.id for image in images if access.is_owner(viewer, image)},
        _next_url(cursor_arg, page.next_cursor),
        _order_args(page.sort, page.query),
        _months(images) if page.sort == "date" else {},
    )
    grid.cards = _cards(images, grid)
    if grid.deletable:
        grid.delete_url, grid.csrf_token = url_for("gallery.delete"), generate_csrf()
        grid.labels = {"select": gettext("Select"), "delete": gettext("Delete")}
    return grid


def _cards(images: list[Image], grid: Grid) -> dict[int, Card]:
    code = language()
    page_url = _id_urls("gallery.image_page", **grid.image_args)
    thumb_url = _id_urls("gallery.image_thumb")
    preview_url = _id_urls("gallery.image_preview")
    file_url = _id_urls("gallery.image_file")
    # As ``{{ _(image.visibility) }}``: "public", "private" as the language writes them.
    names = {v: gettext(v) for v in {image.visibility for image in images}}
    comments: dict[int, str] = {}  # by count: most images have none
    delete_label = gettext("Delete %(name)s")  # as gettext("Delete %(name)s", name=...)
    owners = grid.page.owners  # read with the page (a lone new card loads its owner)
    cards = {}
    for image in images:
        card_comments = None
        if image.is_public:
            n = grid.comment_counts.get(image.id, 0)
            if n not in comments:
                comments[n] = ngettext("%(num)s comment", "%(num)s comments", n)
            card_comments = comments[n]
        cards[image.id] = Card(
            page_url(image.id),
            thumb_url(image.id),
            preview_url(image.id),
            file_url(image.id),
            serving.preview_size(image) if image.is_image else None,
            owners.get(image.id) or image.owner.username,  # a lone new card: loaded
            filesize(image.size, code),
            date_time(image.created_at, code),
            image.created_at.isoformat(),
            names[image.visibility],
            card_comments,
            delete_label % {"name": image.filename},
        )
    return cards


def _id_urls(endpoint: str, **args: str) -> Callable[[int], str]:
    """``url_for(endpoint, image_id=n, **args)`` for any ``n``, from two calls of
    ``url_for``: its address is the same text before and after the id whatever the id (the
    int converter writes the id in digits, the rest does not depend on it), so the
    addresses for 1 and 2 differ only there."""
    one = url_for(endpoint, image_id=1, **args)
    two = url_for(endpoint, image_id=2, **args)
    before = os.path.commonprefix([one, two])
    after = one[len(before) + 1 :]
    return lambda image_id: f"{before}{image_id}{after}"


def _months(images: list[Image]) -> dict[int, str]:
    """The images (newest first) that begin a month, with its name: "November 2026"."""
    months: dict[int, str] = {}
    last = None
    for image in images:
        month = (image.created_at.year, image.created_at.month)
        if month != last:
            months[image.id] = format_date(image.created_at, "MMMM y")
            last = month
    return months


def _order_args(sort: str, query: str) -> dict[str, str]:
    """The query string that takes a gallery's sort and search to an image page (whose
    previous and next follow them) and back: none for the default order, so that the
    links stay plain /image/<id>."""
    args = {"sort": sort} if sort in listing.SORTS and sort != "date" else {}
    if query:
        args["q"] = query
    return args


def _next_url(cursor_arg: str, cursor: str | None) -> str | None:
    """This page's address and query string with ``cursor_arg`` set to ``cursor``. The
    query string is encoded here rather than passed to ``url_for`` as keywords, so that an
    argument named like one of url_for's own (``endpoint``, ``_external``…) stays data."""
    if cursor is None:
        return None
    args = request.args.copy()
    args[cursor_arg] = cursor
    here = url_for(request.endpoint or "gallery.index", **(request.view_args or {}))
    return f"{here}?{urlencode(list(args.items(multi=True)))}"


@bp.app_template_global("preview_size")
def _preview_size(image: Image) -> tuple[int, int]:
    """The preview's width and height, for the srcset of the galleries' viewer."""
    return serving.preview_size(image)


@bp.app_context_processor
def _visibility_choices() -> dict:
    """The one list of visibilities (and their labels) that every form offers."""
    return {
        "visibilities": VISIBILITIES,
        "visibility_labels": {v: gettext(label) for v, label in naming.VISIBILITY_LABELS.items()},
        "visibility_names": {v: gettext(name) for v, name in naming.VISIBILITY_NAMES.items()},
    }


@bp.route("/", methods=["GET"])
def index() -> str:
    return render_template("gallery/index.html")


@bp.route("/gallery", methods=["GET"])
@reads_only
def public_gallery() -> str | Response:
    """Everyone's public images; open to visitors only with ANONYMOUS_GALLERY."""
    if not signed_in(current_user) and not current_app.config["ANONYMOUS_GALLERY"]:
        return current_app.login_manager.unauthorized()
    return render_template("gallery/public.html", public=_pages((PUBLIC_SCOPE, "public_after"))[0])


def _pages(*wanted: tuple[int, str]) -> list[Grid]:
    """Gallery pages (each a scope and the name of its cursor in the query string) as the
    query string asks: search, sort and each page's cursor; one database round trip."""
    pages = listing.list_pages(
        [(scope, request.args.get(cursor_arg)) for scope, cursor_arg in wanted],
        request.args.get("sort", "date"),
        request.args.get("q", ""),
        current_app.config["PAGE_SIZE"],
        cards=True,
    )
    return [_grid(page, cursor_arg) for page, (_, cursor_arg) in zip(pages, wanted, strict=True)]


def _gallery_pages() -> dict:
    """The two lists of /myfiles: everyone's public images and the user's private ones."""
    public, private = _pages(
        (PUBLIC_SCOPE, "public_after"), (listing.private_scope(current_user), "private_after")
    )
    # A page shown at once reads the counts from the user this request just loaded; after
    # a refused upload, fresh from the database.
    user = current_user._get_current_object()
    standing = quotas.standing_of(user) if request.method == "GET" else quotas.standing(user)
    return {
        "public": public,
        "private": private,
        "albums": albums.titles(current_user),
        "count": standing.count,
        "used": standing.used,
        "standing": standing,
    }


def _render_myfiles(status: int = 200, form: UploadForm | None = None) -> tuple[str, int]:
    page = render_template(
        "gallery/myfiles.html",
        form=form or UploadForm(),
        **_gallery_pages(),
    )
    return page, status


@bp.route("/myfiles", methods=["GET", "POST"])
@reads_only  # its GET: an upload (POST) writes as ever
@login_required
def myfiles() -> tuple[str, int] | Response:
    if request.method == "GET":
        return _render_myfiles()
    form = UploadForm()
    files = [f for f in request.files.getlist("file") if isinstance(f, FileStorage) and f.filename]
    visibility = request.form.get("visibility", "")
    if not files:
        form.file.errors = ["Choose at least one file to upload."]
        return _render_myfiles(400, form)
    if not naming.is_visibility(visibility):
        form.visibility.errors = [gettext(naming.VISIBILITY_CHOICE)]
        return _render_myfiles(400, form)
    statuses = []
    for sent in files:
        statuses.append(_upload_one(sent, visibility))
    if all(s >= 400 for s in statuses):
        return _render_myfiles(max(statuses))
    return redirect(url_for("gallery.myfiles"), code=303)


def _upload_one(sent: FileStorage, visibility: str) -> int:
    """Upload one file, flash its result, and return the HTTP status it deserves alone."""
    try:
        result = upload.upload(current_user, sent.stream, sent.filename or "", visibility)
    except RuleError as exc:
        flash(f"{sent.filename}: {exc}", "danger")
        return exc.status
    image = result.image
    if visibility == PUBLIC:
        flash(gettext("Uploaded “%(name)s” as a public image.", name=image.filename), "success")
    else:
        flash(gettext("Uploaded “%(name)s” as a private image.", name=image.filename), "success")
    if result.duplicate_of:
        flash(
            gettext("Note: you already have this image as “%(name)s”.", name=result.duplicate_of),
            "info",
        )
    return 201


@bp.route("/myfiles/card/<int:image_id>", methods=["GET"])
@login_required
def new_card(image_id: int) -> Response:
    """A just-uploaded image's gallery card and the user's new counters, as JSON, so that
    the upload page shows them without a reload."""
    image = access.get_image(image_id, current_user)
    grid = _grid(listing.Page([image], None, "date", ""), "public_after")
    grid.next_url, grid.months = None, {}
    standing = quotas.standing(current_user)
    usage = get_template_attribute("gallery/_usage.html", "usage")
    return jsonify(
        id=image.id,
        visibility=image.visibility,
        card=render_template("gallery/new_card.html", image=image, grid=grid),
        count=standing.count,
        used=standing.used,
        usage=str(usage(standing)),
    )


@bp.route("/delete", methods=["POST"])
@login_required
def delete() -> Response:
    filename = request.form.get("filename", "")
    visibility = request.form.get("visibility", "")
    if not filename:
        raise RuleError(gettext("Say which image to delete."))
    image = access.find_image(current_user, filename, visibility)
    if not trash.discard(current_user, image):
        flash(gettext("Deleted “%(name)s”.", name=image.filename), "success")
    elif access.is_owner(current_user, image):
        moved = gettext("Moved “%(name)s” to the trash.", name=image.filename)
        flash(f"{moved} {_trash_note()}", "success")
    else:
        flash(trash.moved_to_the_trash_of(image), "success")
    return redirect(url_for("gallery.myfiles"), code=303)


def _trash_note(count: int = 1) -> str:
    days = trash.trash_days()
    if count == 1:
        return ngettext(
            "You can restore it from the Trash for %(num)s day.",
            "You can restore it from the Trash for %(num)s days.",
            days,
        )
    return ngettext(
        "You can restore them from the Trash for %(num)s day.",
        "You can restore them from the Trash for %(num)s days.",
        days,
    )


def _image_ids() -> list[int]:
    """The ids of a bulk delete (at most 1000); one that is not an id refuses them all."""
    ids = []
    for value in request.form.getlist("image_id")[:1000]:
        number = parse_id(value)
        if number is None:
            raise RuleError(gettext("The selection is not valid."))
        ids.append(number)
    return ids


@bp.route("/delete-selected", methods=["POST"])
@login_required
def delete_selected() -> str | Response:
    """Bulk delete: without ``confirm=yes`` (no JavaScript) a confirmation page comes first."""
    image_ids = _image_ids()
    if not image_ids:
        flash(gettext("Select the images to delete first."), "warning")
        return redirect(url_for("gallery.myfiles"), code=303)
    if request.form.get("confirm") != "yes":
        images = access.images_for(current_user, image_ids)
        return render_template(
            "gallery/confirm_delete.html", images=images, trash_days=trash.trash_days()
        )
    result = bulk.delete_selected(current_user, image_ids)
    if isinstance(result, Job):  # more than JOB_THRESHOLD: a background job does it
        flash(
            ngettext(
                "Deleting %(num)s image in the background.",
                "Deleting %(num)s images in the background.",
                len(image_ids),
            ),
            "info",
        )
        return redirect(url_for("gallery.job_page", job_id=result.id), code=303)
    if result.deleted:
        note = f" {_trash_note(len(result.deleted))}" if trash.trash_days() else ""
        flash(bulk.outcome(result) + note, "success")
    for name, reason in result.failed:
        flash(gettext("Could not delete %(name)s: %(reason)s", name=name, reason=reason), "danger")
    return redirect(url_for("gallery.myfiles"), code=303)


@bp.route("/jobs/<int:job_id>", methods=["GET"])
@login_required
def job_page(job_id: int) -> str:
    """A background job's progress and result, for whoever started it and for admins."""
    job = jobs.visible_job(current_user, job_id)
    if job is None:
        raise NotFound("No such job.")
    return render_template("gallery/job.html", job=job)


@bp.route("/image/<int:image_id>/edit", methods=["POST"])
@login_required
def edit_image(image_id: int) -> Response:
    """Rename an image and/or switch it between public and private."""
    image = access.get_image(image_id, current_user)
    filename = request.form.get("filename", "").strip()
    visibility = request.form.get("visibility", image.visibility)
    if not filename:
        raise RuleError(gettext("The new name cannot be empty."))
    old_name, old_visibility = image.filename, image.visibility
    image = moves.move_image(current_user, image, filename, visibility)
    if (image.filename, image.visibility) == (old_name, old_visibility):
        flash(gettext("Nothing to change."), "info")
    else:
        flash(
            gettext(
                "Saved: “%(name)s” is now %(visibility)s.",
                name=image.filename,
                visibility=gettext(naming.VISIBILITY_NAMES[image.visibility]),
            ),
            "success",
        )
    return redirect(url_for("gallery.image_page", image_id=image.id), code=303)


@bp.route("/image/<int:image_id>", methods=["GET"])
def image_page(image_id: int) -> str:
    image = access.get_image(image_id, current_user)
    sort = request.args.get("sort", "date")
    query = request.args.get("q", "").strip()[:100]
    return render_template(
        "gallery/image.html",
        image=image,
        can_delete=access.can_delete(current_user, image),
        is_owner=access.is_owner(current_user, image),
        preview_size=serving.preview_size(image) if image.is_image else None,
        neighbours=listing.neighbours(image, sort, query),
        order_args=_order_args(sort, query),
        thread=threads.thread(image, current_user, parse_id(request.args.get("comments_page"))),
    )


@bp.route("/image/<int:image_id>/file", methods=["GET"])
@reads_only
def image_file(image_id: int) -> Response:
    return _send(access.get_image(image_id, current_user), thumbnail=False)


@bp.route("/image/<int:image_id>/preview", methods=["GET"])
@reads_only
def image_preview(image_id: int) -> Response:
    """The rendition the image page shows (see serving.preview_response)."""
    image = access.get_image(image_id, current_user)
    return serving.preview_response(image, request.if_none_match)


@bp.route("/image/<int:image_id>/thumb", methods=["GET"])
@reads_only
def image_thumb(image_id: int) -> Response:
    return _send(access.get_image(image_id, current_user), thumbnail=True)


# The views that name one image: it comes in the same database round trip as the
# signed-in viewer (whichever asks for the viewer first; a hook may, before the view).
_ONE_IMAGE = frozenset(
    {"gallery.image_page", "gallery.image_file", "gallery.image_preview", "gallery.image_thumb"}
)


# Of those, the views that answer with the image's bytes and show no page (no rate
# limit applies to them either).
BYTES_ENDPOINTS = frozenset({"gallery.image_file", "gallery.image_preview", "gallery.image_thumb"})


@bp.url_value_preprocessor
def _image_with_viewer(endpoint: str | None, values: dict | None) -> None:
    if endpoint in _ONE_IMAGE and values and "image_id" in values:
        access.load_with_the_viewer(values["image_id"], bytes_only=endpoint in BYTES_ENDPOINTS)


def _send(image: Image, thumbnail: bool) -> Response:
    download = request.args.get("download") is not None
    return serving.image_response(image, thumbnail, request.if_none_match, download)


@bp.route("/trash", methods=["GET"])
@login_required
def trash_page() -> str:
    return _render_trash()[0]


def _render_trash(status: int = 200, **extra) -> tuple[str, int]:
    items = trash.trashed(current_user)
    expiry = {image.id: trash.expires_at(image) for image in items}
    page = render_template(
        "gallery/trash.html",
        items=items,
        expiry=expiry,
        limit=trash.LIST_LIMIT,
        trash_days=trash.trash_days(),
        **extra,
    )
    return page, status


@bp.route("/trash/<int:image_id>/thumb", methods=["GET"])
@login_required
def trash_thumb(image_id: int) -> Response:
    """A trashed image's thumbnail, for its owner only."""
    image = trash.get_trashed(current_user, image_id)
    return serving.image_response(image, True, request.if_none_match, False)


@bp.route("/trash/<int:image_id>/restore", methods=["POST"])
@login_required
def restore(image_id: int) -> tuple[str, int] | Response:
    """Restore under the old name, or under the name the form gives (after a clash)."""
    filename = request.form.get("filename")
    if filename is not None and not filename.strip():
        raise RuleError(gettext("The new name cannot be empty."))
    try:
        image = trash.restore(current_user, image_id, filename)
    except trash.RestoreNameTaken as exc:
        return _render_trash(exc.status, clash=(image_id, str(exc), exc.suggestion))
    flash(gettext("Restored “%(name)s”.", name=image.filename), "success")
    return redirect(url_for("gallery.image_page", image_id=image.id), code=303)


@bp.route("/trash/<int:image_id>/delete", methods=["POST"])
@login_required
def delete_forever(image_id: int) -> str | Response:
    """Delete one image of the trash for good; without ``confirm=yes`` (no JavaScript)
    a confirmation page comes first."""
    image = trash.get_trashed(current_user, image_id)
    if request.form.get("confirm") != "yes":
        return render_template("gallery/confirm_purge.html", images=[image], one=image)
    trash.delete_forever(current_user, image_id)
    flash(gettext("Deleted “%(name)s” for good.", name=image.filename), "success")
    return redirect(url_for("gallery.trash_page"), code=303)


@bp.route("/trash/empty", methods=["POST"])
@login_required
def empty_trash() -> str | Response:
    """Delete everything in the trash for good, after a confirmation page."""
    if request.form.get("confirm") != "yes":
        return render_template("gallery/confirm_purge.html", images=trash.trashed(current_user))
    count = trash.empty(current_user)
    flash(
        ngettext("Deleted %(num)s image for good.", "Deleted %(num)s images for good.", count),
        "success",
    )
    return redirect(url_for("gallery.trash_page"), code=303)


@bp.route("/favicon.ico", methods=["GET"])
def favicon() -> Response:
    """Browsers ask for /favicon.ico on their own (image views, error pages)."""
    return current_app.send_static_file("favicon.svg")
