"""JSON views: one file per request, so that the page can show each file's progress."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import jsonify, request, url_for
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from .. import repository
from . import bp

JsonResponse = tuple[Any, int]


def api_login_required(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """Like login_required, but answers 401 with JSON instead of a login redirect."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> JsonResponse:
        if not current_user.is_authenticated:
            return jsonify(error="Your session has ended. Please log in again."), 401
        return view(*args, **kwargs)

    wrapped.requires_login = True  # type: ignore[attr-defined]
    return wrapped


@bp.route("/images", methods=["POST"])
@api_login_required
def upload_image() -> JsonResponse:
    """Upload one file (field ``file``) with ``visibility``; the answer says what happened."""
    upload = request.files.get("file")
    if not isinstance(upload, FileStorage) or not upload.filename:
        return jsonify(error="Choose a file to upload."), 400
    visibility = request.form.get("visibility", "")
    if visibility not in ("public", "private"):
        return jsonify(error="Choose public or private."), 400
    try:
        result = repository.upload(current_user, upload.stream, upload.filename, visibility)
    except repository.RuleError as exc:
        return jsonify(error=str(exc), filename=upload.filename), exc.status
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
