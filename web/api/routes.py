"""JSON views: one file per request, so that the page can show each file's progress."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from ..images import naming
from ..images.upload import upload
from ..rules import RuleError
from ..viewers import signed_in

bp = Blueprint("api", __name__, url_prefix="/api")

JsonResponse = tuple[Any, int]


def api_login_required(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """Like login_required, but answers 401 with JSON instead of a login redirect."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> JsonResponse:
        if not signed_in(current_user):
            return jsonify(error="Your session has ended. Please log in again."), 401
        return view(*args, **kwargs)

    wrapped.requires_login = True  # type: ignore[attr-defined]
    return wrapped


@bp.route("/images", methods=["POST"])
@api_login_required
def upload_image() -> JsonResponse:
    """Upload one file (field ``file``) with ``visibility``; the answer says what happened."""
    sent = request.files.get("file")
    if not isinstance(sent, FileStorage) or not sent.filename:
        return jsonify(error="Choose a file to upload."), 400
    visibility = request.form.get("visibility", "")
    if not naming.is_visibility(visibility):
        return jsonify(error=gettext(naming.VISIBILITY_CHOICE)), 400
    try:
        result = upload(current_user, sent.stream, sent.filename, visibility)
    except RuleError as exc:
        return jsonify(error=str(exc), filename=sent.filename), exc.status
    image = result.image
    body = {
        "status": "uploaded",
        "id": image.id,
        "filename": image.filename,
        "visibility": image.visibility,
        "page": url_for("gallery.image_page", image_id=image.id),
        "thumbnail": url_for("gallery.image_thumb", image_id=image.id),
        "duplicate_of": result.duplicate_of,
    }
    return jsonify(body), 201
