"""The trash of the public JSON API (/api/v1/trash): what `DELETE /api/v1/images/{id}`
put there, restored or deleted for good, over the same service as the Trash page."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from ..errors import problem
from ..images import trash
from ..models import Image
from . import auth
from .openapi import operation
from .schemas import ImageItem, Problem, RestoreQuery, TrashItem, TrashList
from .v1 import READ_ONLY, bp, item

TRASH_TAGS = ["trash"]
NOT_IN_TRASH = (trash.NOT_IN_TRASH, Problem)


def _trashed(image: Image) -> dict[str, Any]:
    return TrashItem(
        id=image.id,
        filename=image.filename,
        visibility=image.visibility,
        size=image.size,
        format=image.format,
        content_type=image.content_type,
        deleted_at=image.updated_at.replace(microsecond=0),
        expires_at=trash.expires_at(image).replace(microsecond=0),
    ).model_dump(mode="json")


@bp.route("/v1/trash", methods=["GET"])
@operation(responses={200: ("Your trash.", TrashList)}, tags=TRASH_TAGS)
def list_trash(caller: auth.Caller) -> Response:
    """Your trash: deleted images you can still restore, most recently deleted first."""
    return jsonify(items=[_trashed(image) for image in trash.trashed(caller.user)])


@bp.route("/v1/trash/<int:image_id>/restore", methods=["POST"])
@operation(
    query=RestoreQuery,
    write=True,
    responses={
        200: ("Restored: the image as it is now.", ImageItem),
        403: READ_ONLY,
        404: NOT_IN_TRASH,
        409: ("Its name was taken meanwhile; `suggested_filename` is free.", Problem),
    },
    tags=TRASH_TAGS,
)
def restore_from_trash(caller: auth.Caller, image_id: int, query: RestoreQuery) -> Response:
    """Take an image out of your trash, under its old name or `filename`."""
    try:
        image = trash.restore(caller.user, image_id, query.filename)
    except trash.RestoreNameTaken as exc:
        return problem(409, str(exc), suggested_filename=exc.suggestion)
    return jsonify(item(image))


@bp.route("/v1/trash/<int:image_id>", methods=["DELETE"])
@operation(
    write=True,
    responses={204: ("Deleted for good.", None), 403: READ_ONLY, 404: NOT_IN_TRASH},
    tags=TRASH_TAGS,
)
def delete_from_trash(caller: auth.Caller, image_id: int) -> tuple[str, int]:
    """Delete an image of your trash for good."""
    trash.delete_forever(caller.user, image_id)
    return "", 204
