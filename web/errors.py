"""Error pages: the right status, a plain message, never a stack trace.

Every 500 is logged with the request id that the page shows, so an operator can find it.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from .extensions import limiter
from .rules import RuleError

log = logging.getLogger("web.errors")


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(status: int, title: str, message: str):  # noqa: ANN201 - Flask response
    if wants_json():
        return jsonify(error=message, status=status, request_id=g.get("request_id")), status
    return (
        render_template(
            "error.html",
            status=status,
            title=title,
            message=message,
            request_id=g.get("request_id"),
        ),
        status,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge):  # noqa: ANN202
        limit = app.config["MAX_UPLOAD_MB"]
        return render_error(
            413,
            "Upload too large",
            f"The upload is larger than the limit of {limit} MB. Nothing was stored.",
        )

    @app.errorhandler(429)
    def too_many(exc: HTTPException):  # noqa: ANN202
        return too_many_attempts()

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):  # noqa: ANN202
        return render_error(
            400,
            "Form expired",
            "The form was missing its security token or it had expired. "
            "Go back, reload the page and try again. Nothing was changed.",
        )

    @app.errorhandler(RuleError)
    def rule_error(exc: RuleError):  # noqa: ANN202
        return render_error(exc.status, "Request refused", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # noqa: ANN202
        # A 500 goes to server_error (Flask picks the handler of the closest class).
        if exc.code is None or exc.code >= 500:
            return render_error(exc.code or 500, exc.name, exc.description or exc.name)
        body, status = render_error(exc.code, exc.name, _message(exc))
        valid = getattr(exc, "valid_methods", None)
        headers = {"Allow": ", ".join(valid)} if exc.code == 405 and valid else {}
        return body, status, headers

    @app.errorhandler(InternalServerError)
    def server_error(exc: InternalServerError):  # noqa: ANN202
        original = getattr(exc, "original_exception", None) or exc
        log.error(
            "request %s %s %s failed",
            g.get("request_id"),
            request.method,
            request.path,
            exc_info=(type(original), original, original.__traceback__),
        )
        return render_error(
            500,
            "Something went wrong",
            "The server could not complete the request. "
            f"If this keeps happening, quote the request id {g.get('request_id')}.",
        )


def too_many_attempts():  # noqa: ANN201 - Flask response
    """The 429 page of the failed-attempt limits: says when to try again."""
    wait = retry_after_seconds()
    minutes = max(1, -(-wait // 60))
    body, status = render_error(
        429,
        "Too many attempts",
        "Too many failed attempts. For your safety, try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}.",
    )
    return body, status, {"Retry-After": str(wait)}


def retry_after_seconds() -> int:
    """Seconds until the rate limit that refused this request lets it through again."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


def _message(exc: HTTPException) -> str:
    return {
        404: "There is nothing at this address.",
        405: "This address does not accept that kind of request.",
    }.get(exc.code or 0, exc.description or exc.name)
