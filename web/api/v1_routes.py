"""The public JSON API, /api/v1, and its reference page /api/docs.

Thin views: ``openapi.operation`` authenticates and validates, the image services do the
work with the caller as the viewer (the same visibility and permission rules as the
pages), and every error is ``application/problem+json``. Uploads of several files answer
201 when all were stored and 207 (Multi-Status) when some were refused, with a result per
file; when none was stored the answer is the refusal itself (the highest status).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, render_template, request
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from ..errors import problem
from ..images import access, listing, moves, quotas, removal, serving, trash, upload
from ..models import PUBLIC_SCOPE, Image
from ..rules import RuleError
from . import auth, openapi
from .openapi import BINARY, Finder, Invalid, operation
from .schemas import (
    DeleteQuery,
    ImageItem,
    ImageList,
    ImagePatch,
    ListQuery,
    Me,
    Problem,
    UploadForm,
    UploadResult,
)
from .v1 import IMAGE_TAGS, READ_ONLY, bp, item

# The image a path's image_id names, if the caller may see it (404 otherwise); changing
# it is for its owner or an admin (403).
IMAGE = Finder("image_id", "image", access.get_image, refused=READ_ONLY[0])


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
    return jsonify(items=[item(image) for image in page.images], next_cursor=page.next_cursor)


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
            items.append(item(result.image))
    if not items:
        status = max(error["status"] for error in errors)
        detail = errors[0]["detail"] if len(errors) == 1 else "None of the files was stored."
        return problem(status, detail, errors=errors), status
    return jsonify(items=items, errors=errors), 207 if errors else 201


@bp.route("/v1/images/<int:image_id>", methods=["GET"])
@operation(finds=IMAGE, responses={200: ("The image.", ImageItem)}, tags=IMAGE_TAGS)
def get_image(image: Image) -> Response:
    """One image, if you may see it."""
    return jsonify(item(image))


@bp.route("/v1/images/<int:image_id>", methods=["PATCH"])
@operation(
    json=ImagePatch,
    write=True,
    finds=IMAGE,
    responses={
        200: ("The image as it is now.", ImageItem),
        409: ("The new name is taken; nothing was changed.", Problem),
    },
    tags=IMAGE_TAGS,
)
def update_image(caller: auth.Caller, image: Image, body: ImagePatch) -> Response:
    """Rename an image and/or make it public or private (yours, or any as an admin)."""
    image = moves.move_image(caller.user, image, body.filename, body.visibility)
    return jsonify(item(image))


@bp.route("/v1/images/<int:image_id>", methods=["DELETE"])
@operation(
    query=DeleteQuery,
    write=True,
    finds=IMAGE,
    responses={
        204: ("Moved to the owner's trash, or deleted for good (`permanent=true`).", None),
    },
    tags=IMAGE_TAGS,
)
def delete_image(caller: auth.Caller, image: Image, query: DeleteQuery) -> tuple[str, int]:
    """Delete an image (yours, or any as an admin): to its owner's trash, as "Delete" does.

    It leaves every list at once and its name is free; the owner can restore it from
    /api/v1/trash for `TRASH_DAYS` days (0: deleted for good at once). `permanent=true`
    deletes it for good at once.
    """
    if query.permanent:
        removal.delete_image(caller.user, image)
    else:
        trash.discard(caller.user, image)
    return "", 204


BYTES = {
    200: ("The bytes.", BINARY),
    304: ("Unchanged since the ETag sent in If-None-Match.", None),
}


@bp.route("/v1/images/<int:image_id>/original", methods=["GET"])
@operation(finds=IMAGE, responses=BYTES, tags=IMAGE_TAGS)
def image_original(image: Image) -> Response:
    """The image's bytes, with an ETag (send it as If-None-Match for a 304)."""
    return serving.image_response(image, False, request.if_none_match, download=False)


@bp.route("/v1/images/<int:image_id>/thumbnail", methods=["GET"])
@operation(finds=IMAGE, responses=BYTES, tags=IMAGE_TAGS)
def image_thumbnail(image: Image) -> Response:
    """The image's WebP thumbnail, with an ETag (404 for files that are not images)."""
    return serving.image_response(image, True, request.if_none_match, download=False)


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
