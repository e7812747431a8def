"""The public JSON API's blueprint (/api/v1): its rate limit per token, its
problem+json error handlers, and how an image is written as an item. The views are in
``v1_routes`` (images, the document, the reference page), ``v1_album_routes`` and
``v1_trash_routes``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ..errors import problem, retry_after_seconds
from ..extensions import limiter
from ..models import Image
from ..words import counted
from . import auth
from .openapi import Invalid
from .schemas import (
    ImageItem,
    Problem,
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
    detail = f"Too many requests. Try again in {counted(wait, 'second')}."
    return problem(429, detail), 429, {"Retry-After": str(wait)}


def item(image: Image) -> dict[str, Any]:
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
