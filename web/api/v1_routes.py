"""The public JSON API, /api/v1, and its reference page /api/docs.

Thin views: ``openapi.operation`` authenticates and validates, the image services do the
work with the caller as the viewer (the same visibility and permission rules as the
pages), and every error is ``application/problem+json``. Uploads of several files answer
201 when all were stored and 207 (Multi-Status) when some were refused, with a result per
file; when none was stored the answer is the refusal itself (the highest status).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ..albums import albums, links
from ..errors import problem, retry_after_seconds
from ..extensions import limiter
from ..images import access, listing, moves, quotas, removal, serving, upload
from ..models import PUBLIC_SCOPE, Album, Image, ShareLink
from ..rules import RuleError
from . import auth, openapi
from .openapi import BINARY, Invalid, operation
from .schemas import (
    AlbumCreate,
    AlbumImageIds,
    AlbumImagePage,
    AlbumImagesQuery,
    AlbumItem,
    AlbumList,
    AlbumPatch,
    ImageItem,
    ImageList,
    ImagePatch,
    ListQuery,
    Me,
    NewShare,
    Problem,
    ShareCreate,
    ShareItem,
    ShareList,
    UploadForm,
    UploadResult,
)

bp = Blueprint("api_v1", __name__, url_prefix="/api", template_folder="templates")
limiter.limit(
    lambda: current_app.config["API_RATE_LIMIT"], key_func=auth.rate_limit_key, scope="api"
)(bp)

IMAGE_TAGS = ["images"]
READ_ONLY = ("A read token, or an image that is not yours: nothing was changed.", Problem)


@bp.errorhandler(Invalid)
def _invalid(exc: Invalid) -> Response:
    return problem(400, str(exc), **{"invalid-params": exc.params})


@bp.errorhandler(auth.Unauthorized)
def _unauthorized(exc: auth.Unauthorized) -> tuple[Response, int, dict[str, str]]:
    return problem(401, str(exc)), 401, exc.headers


@bp.errorhandler(429)
def _too_many(_exc: HTTPException) -> tuple[Response, int, dict[str, str]]:
    wait = retry_after_seconds()
    detail = f"Too many requests. Try again in {wait} second{'s' if wait != 1 else ''}."
    return problem(429, detail), 429, {"Retry-After": str(wait)}


def _item(image: Image) -> dict[str, Any]:
    thumbnail = image.thumb_key is not None
    urls = {
        "page": url_for("gallery.image_page", image_id=image.id, _external=True),
        "original": url_for("api_v1.image_original", image_id=image.id, _external=True),
        "thumbnail": url_for("api_v1.image_thumbnail", image_id=image.id, _external=True)
        if thumbnail
        else None,
    }
    item = ImageItem(
        id=image.id,
        filename=image.filename,
        visibility=image.visibility,
        owner=image.owner.username,
        size=image.size,
        width=image.width,
        height=image.height,
        format=image.format,
        content_type=image.content_type,
        sha256=image.sha256,
        created_at=image.created_at.replace(microsecond=0),  # what MySQL keeps
        urls=urls,
    )
    return item.model_dump(mode="json")


@bp.route("/v1/me", methods=["GET"])
@operation(responses={200: ("You.", Me)}, tags=["account"])
def me(caller: auth.Caller) -> Response:
    """The caller: who they are, how many images they have, the bytes they take and the
    bytes their storage quota allows."""
    user = caller.user
    standing = quotas.standing(user)
    token = caller.token
    body = Me(
        id=user.id,
        username=user.username,
        name=user.name,
        is_admin=user.is_admin,
        image_count=standing.count,
        bytes_used=standing.used,
        quota=standing.limit,
        token=None
        if token is None
        else {
            "name": token.name,
            "prefix": token.prefix,
            "scope": token.scope,
            "expires_at": token.expires_at,
        },
    )
    return jsonify(body.model_dump(mode="json"))


@bp.route("/v1/images", methods=["GET"])
@operation(query=ListQuery, responses={200: ("A page of images.", ImageList)}, tags=IMAGE_TAGS)
def list_images(caller: auth.Caller, query: ListQuery) -> Response:
    """List the images you may see: everyone's public ones and your private ones.

    Keyset pages: pass `next_cursor` back as `cursor` (with the same sort) for the next page.
    """
    private = listing.private_scope(caller.user)
    scopes = {"all": (PUBLIC_SCOPE, private), "public": (PUBLIC_SCOPE,), "private": (private,)}
    page = listing.list_images(
        scopes[query.visibility], query.sort, query.q, query.cursor, query.limit
    )
    return jsonify(items=[_item(image) for image in page.images], next_cursor=page.next_cursor)


@bp.route("/v1/images", methods=["POST"])
@operation(
    form=UploadForm,
    files="file",
    write=True,
    responses={
        201: ("Every file was stored.", UploadResult),
        207: ("Some files were stored, some refused: see `errors`.", UploadResult),
        403: READ_ONLY,
        409: ("The name is taken (a single file).", Problem),
        413: (
            "The upload is larger than the limit, or a file would go over the storage "
            "quota; nothing was stored.",
            Problem,
        ),
    },
    tags=IMAGE_TAGS,
)
def upload_images(caller: auth.Caller, body: UploadForm) -> tuple[Response, int]:
    """Upload one or more images (multipart `file` parts) as public or private.

    One refused file does not stop the others: 201 when all were stored, 207 when some
    were, and the refusal itself (with `errors` for each file) when none was.
    """
    files = [f for f in request.files.getlist("file") if isinstance(f, FileStorage)]
    if not files:
        raise Invalid([{"name": "file", "reason": "Send at least one file part named 'file'."}])
    items, errors = [], []
    for index, sent in enumerate(files):
        try:
            result = upload.upload(caller.user, sent.stream, sent.filename or "", body.visibility)
        except RuleError as exc:
            errors.append(
                {
                    "index": index,
                    "filename": sent.filename or "",
                    "status": exc.status,
                    "detail": str(exc),
                }
            )
        else:
            items.append(_item(result.image))
    if not items:
        status = max(error["status"] for error in errors)
        detail = errors[0]["detail"] if len(errors) == 1 else "None of the files was stored."
        return problem(status, detail, errors=errors), status
    return jsonify(items=items, errors=errors), 207 if errors else 201


@bp.route("/v1/images/<int:image_id>", methods=["GET"])
@operation(responses={200: ("The image.", ImageItem)}, tags=IMAGE_TAGS)
def get_image(caller: auth.Caller, image_id: int) -> Response:
    """One image, if you may see it."""
    return jsonify(_item(access.get_image(image_id, caller.user)))


@bp.route("/v1/images/<int:image_id>", methods=["PATCH"])
@operation(
    json=ImagePatch,
    write=True,
    responses={
        200: ("The image as it is now.", ImageItem),
        403: READ_ONLY,
        409: ("The new name is taken; nothing was changed.", Problem),
    },
    tags=IMAGE_TAGS,
)
def update_image(caller: auth.Caller, image_id: int, body: ImagePatch) -> Response:
    """Rename an image and/or make it public or private (yours, or any as an admin)."""
    image = access.get_image(image_id, caller.user)
    image = moves.move_image(caller.user, image, body.filename, body.visibility)
    return jsonify(_item(image))


@bp.route("/v1/images/<int:image_id>", methods=["DELETE"])
@operation(
    write=True,
    responses={204: ("Deleted.", None), 403: READ_ONLY},
    tags=IMAGE_TAGS,
)
def delete_image(caller: auth.Caller, image_id: int) -> tuple[str, int]:
    """Delete an image (yours, or any as an admin)."""
    removal.delete_image(caller.user, access.get_image(image_id, caller.user))
    return "", 204


BYTES = {
    200: ("The bytes.", BINARY),
    304: ("Unchanged since the ETag sent in If-None-Match.", None),
}


@bp.route("/v1/images/<int:image_id>/original", methods=["GET"])
@operation(responses=BYTES, tags=IMAGE_TAGS)
def image_original(caller: auth.Caller, image_id: int) -> Response:
    """The image's bytes, with an ETag (send it as If-None-Match for a 304)."""
    image = access.get_image(image_id, caller.user)
    return serving.image_response(image, False, request.if_none_match, download=False)


@bp.route("/v1/images/<int:image_id>/thumbnail", methods=["GET"])
@operation(responses=BYTES, tags=IMAGE_TAGS)
def image_thumbnail(caller: auth.Caller, image_id: int) -> Response:
    """The image's WebP thumbnail, with an ETag (404 for files that are not images)."""
    image = access.get_image(image_id, caller.user)
    return serving.image_response(image, True, request.if_none_match, download=False)


# --- albums and share links -------------------------------------------------------------

ALBUM_TAGS, SHARE_TAGS = ["albums"], ["shares"]
NO_ALBUM = ("No such album of yours.", Problem)
READ_ONLY_ALBUM = ("A read token: nothing was changed.", Problem)


def _album(album: Album, count: int | None = None) -> dict[str, Any]:
    return AlbumItem(
        id=album.id,
        title=album.title,
        description=album.description,
        cover_image_id=album.cover_image_id,
        image_count=albums.image_count(album) if count is None else count,
        created_at=album.created_at.replace(microsecond=0),
    ).model_dump(mode="json")


@bp.route("/v1/albums", methods=["GET"])
@operation(responses={200: ("Your albums.", AlbumList)}, tags=ALBUM_TAGS)
def list_albums(caller: auth.Caller) -> Response:
    """Your albums, newest first (albums are private: only yours)."""
    summaries = albums.albums_of(caller.user)
    return jsonify(items=[_album(s.album, s.count) for s in summaries])


@bp.route("/v1/albums", methods=["POST"])
@operation(
    json=AlbumCreate,
    write=True,
    responses={201: ("The new album.", AlbumItem), 403: READ_ONLY_ALBUM},
    tags=ALBUM_TAGS,
)
def create_album(caller: auth.Caller, body: AlbumCreate) -> tuple[Response, int]:
    """Make an album."""
    return jsonify(_album(albums.create(caller.user, body.title, body.description), 0)), 201


@bp.route("/v1/albums/<int:album_id>", methods=["GET"])
@operation(responses={200: ("The album.", AlbumItem), 404: NO_ALBUM}, tags=ALBUM_TAGS)
def get_album(caller: auth.Caller, album_id: int) -> Response:
    """One of your albums."""
    return jsonify(_album(albums.get_album(album_id, caller.user)))


@bp.route("/v1/albums/<int:album_id>", methods=["PATCH"])
@operation(
    json=AlbumPatch,
    write=True,
    responses={200: ("The album as it is now.", AlbumItem), 403: READ_ONLY_ALBUM, 404: NO_ALBUM},
    tags=ALBUM_TAGS,
)
def update_album(caller: auth.Caller, album_id: int, body: AlbumPatch) -> Response:
    """Change an album's title, description or cover (fields left out stay as they are)."""
    album = albums.get_album(album_id, caller.user)
    sent = body.model_fields_set
    title = body.title if body.title is not None else album.title
    text = body.description if body.description is not None else album.description or ""
    cover = body.cover_image_id if "cover_image_id" in sent else album.cover_image_id
    return jsonify(_album(albums.update(album, title, text, cover)))


@bp.route("/v1/albums/<int:album_id>", methods=["DELETE"])
@operation(
    write=True,
    responses={204: ("Deleted; its images stay.", None), 403: READ_ONLY_ALBUM, 404: NO_ALBUM},
    tags=ALBUM_TAGS,
)
def delete_album(caller: auth.Caller, album_id: int) -> tuple[str, int]:
    """Delete an album; its images stay."""
    albums.delete_album(albums.get_album(album_id, caller.user))
    return "", 204


@bp.route("/v1/albums/<int:album_id>/images", methods=["GET"])
@operation(
    query=AlbumImagesQuery,
    responses={200: ("A page of the album's images.", AlbumImagePage), 404: NO_ALBUM},
    tags=ALBUM_TAGS,
)
def album_images(caller: auth.Caller, album_id: int, query: AlbumImagesQuery) -> Response:
    """The album's images, newest first; pass `next_before` as `before` for the next page."""
    album = albums.get_album(album_id, caller.user)
    shown = albums.page(album, query.before, query.limit)
    return jsonify(items=[_item(image) for image in shown.items], next_before=shown.next_before)


@bp.route("/v1/albums/<int:album_id>/images", methods=["POST"])
@operation(
    json=AlbumImageIds,
    write=True,
    responses={
        200: ("The album as it is now.", AlbumItem),
        403: READ_ONLY_ALBUM,
        404: ("No such album of yours, or an image that is not yours; nothing added.", Problem),
    },
    tags=ALBUM_TAGS,
)
def add_album_images(caller: auth.Caller, album_id: int, body: AlbumImageIds) -> Response:
    """Add your images to the album (those already in it stay once)."""
    album = albums.get_album(album_id, caller.user)
    albums.add_images(album, body.image_ids)
    return jsonify(_album(album))


@bp.route("/v1/albums/<int:album_id>/images/<int:image_id>", methods=["DELETE"])
@operation(
    write=True,
    responses={204: ("Taken out (the image stays).", None), 403: READ_ONLY_ALBUM, 404: NO_ALBUM},
    tags=ALBUM_TAGS,
)
def remove_album_image(caller: auth.Caller, album_id: int, image_id: int) -> tuple[str, int]:
    """Take an image out of the album; the image itself stays."""
    albums.remove_images(albums.get_album(album_id, caller.user), [image_id])
    return "", 204


def _share(link: ShareLink) -> dict[str, Any]:
    return ShareItem(
        id=link.id,
        image_id=link.image_id,
        album_id=link.album_id,
        target=link.target_name,
        owner=link.owner.username,
        created_at=link.created_at.replace(microsecond=0),
        expires_at=link.expires_at.replace(microsecond=0) if link.expires_at else None,
        views=link.views,
        max_views=link.max_views,
        has_password=link.password_hash is not None,
        allow_download=link.allow_download,
    ).model_dump(mode="json")


@bp.route("/v1/shares", methods=["GET"])
@operation(responses={200: ("Your share links.", ShareList)}, tags=SHARE_TAGS)
def list_shares(caller: auth.Caller) -> Response:
    """Your share links (everyone's for an admin), newest first."""
    return jsonify(items=[_share(link) for link in links.links_for(caller.user)])


@bp.route("/v1/shares", methods=["POST"])
@operation(
    json=ShareCreate,
    write=True,
    responses={
        201: ("The new link; its `url` is shown only now.", NewShare),
        403: READ_ONLY_ALBUM,
        404: ("No such image or album of yours.", Problem),
    },
    tags=SHARE_TAGS,
)
def create_share(caller: auth.Caller, body: ShareCreate) -> tuple[Response, int]:
    """Share one of your images (`image_id`) or albums (`album_id`) by link."""
    if (body.image_id is None) == (body.album_id is None):
        reason = "Send exactly one of image_id and album_id."
        raise Invalid([{"name": "image_id", "reason": reason}])
    expires = dt.timedelta(seconds=body.expires_in) if body.expires_in else None
    links.check_options("never", body.password or "", body.allow_download, "")
    options = links.Options(expires, body.password, body.allow_download, body.max_views)
    if body.image_id is not None:
        made = links.create(caller.user, access.get_image(body.image_id, caller.user), options)
    else:
        album = albums.get_album(body.album_id, caller.user)  # type: ignore[arg-type]
        made = links.create_for_album(caller.user, album, options)
    url = url_for("sharing.shared", token=made.token, _external=True)
    return jsonify(NewShare(**_share(made.link), url=url).model_dump(mode="json")), 201


@bp.route("/v1/shares/<int:share_id>", methods=["DELETE"])
@operation(
    write=True,
    responses={
        204: ("Revoked: the link answers 404 from now on.", None),
        403: READ_ONLY_ALBUM,
        404: ("No such link of yours.", Problem),
    },
    tags=SHARE_TAGS,
)
def revoke_share(caller: auth.Caller, share_id: int) -> tuple[str, int]:
    """Revoke a link (yours, or any as an admin)."""
    links.revoke(caller.user, share_id)
    return "", 204


@bp.route("/v1/openapi.json", methods=["GET"])
@operation(public=True, responses={200: ("The OpenAPI 3.1 document.", None)}, tags=["docs"])
def openapi_document() -> Response:
    """This document."""
    return jsonify(_document())


def _document() -> dict[str, Any]:
    app = current_app._get_current_object()
    cached = app.extensions.get("openapi_document")
    if cached is None:
        cached = app.extensions["openapi_document"] = openapi.document(app)
    return cached


@bp.route("/docs", methods=["GET"])
def docs() -> str:
    """The API reference, rendered from the document (no script, nothing from elsewhere)."""
    return render_template("api/docs.html", doc=_document())
