"""Error pages: the right status, a plain message, never a stack trace.

Every 500 is logged with the request id that the page shows, so an operator can find it.
A database or object store that fails or times out is a 503 "try again" (never a 500),
and an error page renders without the database: a viewer who cannot be loaded is shown
signed out. Requests to /api and those asking for JSON get a JSON body.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext, ngettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from .extensions import first_line, limiter, login_manager
from .i18n import N_
from .rules import RuleError
from .storage import StorageError
from .viewers import signed_in

log = logging.getLogger("web.errors")

# What a database that is down, frozen or out of connections raises.
DATABASE_FAILURES = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER_SECONDS = 10
# The attributes of the signed-in user that the page around an error shows.
_SHOWN = frozenset({"username", "is_admin", "state"})


def wants_json() -> bool:
    if request.blueprint == "api":
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def problem(status: int, detail: str, **extra: Any) -> Response:
    """An RFC 9457 problem (``application/problem+json``): every error under /api/. The
    title is the HTTP status's phrase; ``detail`` is the sentence the user reads."""
    body = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "request_id": g.get("request_id"),
        **extra,
    }
    if not request.path.startswith("/api/v1/"):
        body.setdefault("error", detail)  # what the upload page's script reads
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def render_error(status: int, title: str, message: str):
    if request.path.startswith("/api/"):
        return problem(status, message), status
    if wants_json():
        return jsonify(error=message, status=status, request_id=g.get("request_id")), status
    _viewer_for_error_page()
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
    def too_large(exc: RequestEntityTooLarge):
        limit = app.config["MAX_UPLOAD_MB"]
        return render_error(
            413,
            gettext("Upload too large"),
            gettext(
                "The upload is larger than the limit of %(limit)s MB. Nothing was stored.",
                limit=limit,
            ),
        )

    @app.errorhandler(429)
    def too_many(exc: HTTPException):
        return too_many_attempts()

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(
            400,
            gettext("Form expired"),
            gettext(
                "The form was missing its security token or it had expired. "
                "Go back, reload the page and try again. Nothing was changed."
            ),
        )

    @app.errorhandler(RuleError)
    def rule_error(exc: RuleError):
        if isinstance(exc.__cause__, DATABASE_FAILURES):
            g.database_down = True
        if exc.status == 503:  # counted by the metrics
            store = isinstance(exc.__cause__, StorageError)
            g.unavailable = "object store" if store else "database"
        body, status = render_error(exc.status, gettext("Request refused"), gettext(str(exc)))
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}
        return body, status, headers

    def database_failure(exc: Exception):
        g.database_down = True
        _discard_session()
        return unavailable("database", exc)

    for failure in DATABASE_FAILURES:
        app.register_error_handler(failure, database_failure)

    @app.errorhandler(StorageError)
    def store_failure(exc: StorageError):
        return unavailable("object store", exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # A 500 goes to server_error (Flask picks the handler of the closest class).
        if exc.code is None or exc.code >= 500:
            return render_error(exc.code or 500, _title(exc), exc.description or exc.name)
        body, status = render_error(exc.code, _title(exc), _message(exc))
        valid = getattr(exc, "valid_methods", None)
        headers = {"Allow": ", ".join(valid)} if exc.code == 405 and valid else {}
        return body, status, headers

    @app.errorhandler(InternalServerError)
    def server_error(exc: InternalServerError):
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
            gettext("Something went wrong"),
            gettext(
                "The server could not complete the request. "
                "If this keeps happening, quote the request id %(id)s.",
                id=g.get("request_id"),
            ),
        )


def unavailable(part: str, exc: Exception):
    """The 503 of a dependency that failed or timed out: nothing was changed, try again."""
    g.unavailable = part  # counted by the metrics
    log.warning(
        "request %s %s %s: %s unavailable: %s",
        g.get("request_id"),
        request.method,
        request.path,
        part,
        first_line(exc),
    )
    body, status = render_error(
        503,
        gettext("Try again in a moment"),
        gettext(
            "The service is not answering right now, so nothing was changed. Please try "
            "again in a moment. If this keeps happening, quote the request id %(id)s.",
            id=g.get("request_id"),
        ),
    )
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _discard_session() -> None:
    """Give the request's failed database connection back without reading anything: the
    loaded objects (the signed-in user) stay readable, detached from the session."""
    session = g.get("db_session")
    if session is not None:
        try:
            session.close()
        except SQLAlchemyError as exc:  # the pool invalidates the connection itself
            log.debug("closing a failed session: %s", exc)


def _viewer_for_error_page() -> None:
    """Make ``current_user`` readable by the page around an error without the database:
    when the database is the failure, a viewer not already in memory is shown signed out."""
    if g.get("database_down"):
        user = g.get("_login_user")
        state = sa_inspect(user, raiseerr=False) if user is not None else None
        if user is None or (state is not None and state.unloaded & _SHOWN):
            login_manager._update_request_context_with_user()  # the anonymous user
        return
    try:
        user = current_user._get_current_object()
        if signed_in(user):
            (user.username, user.is_admin)  # noqa: B018 - loads them now, inside the guard
    except SQLAlchemyError as exc:
        log.warning("error page without the signed-in user: %s", exc)
        g.database_down = True
        _discard_session()
        login_manager._update_request_context_with_user()


def rate_limited(title: str, message: str):
    """The 429 page of a rate limit; ``{when}`` in ``message`` becomes "N minutes"."""
    wait = retry_after_seconds()
    minutes = max(1, -(-wait // 60))
    when = ngettext("%(num)s minute", "%(num)s minutes", minutes)
    body, status = render_error(429, title, message.format(when=when))
    return body, status, {"Retry-After": str(wait)}


def too_many_attempts():
    """The 429 page of the failed-attempt limits: says when to try again."""
    return rate_limited(
        gettext("Too many attempts"),
        gettext("Too many failed attempts. For your safety, try again in {when}."),
    )


def retry_after_seconds() -> int:
    """Seconds until the rate limit that refused this request lets it through again."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


# The titles of the error pages, by status (Werkzeug's names, translated).
_TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    409: N_("Conflict"),
    410: N_("Gone"),
    413: N_("Request Entity Too Large"),
    415: N_("Unsupported Media Type"),
    422: N_("Unprocessable Entity"),
    429: N_("Too Many Requests"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}
# Said when a view refused without saying why (Werkzeug's own text is English only).
_MESSAGES = {
    400: N_("The request could not be understood. Nothing was changed."),
    403: N_("You may not see or do this."),
    404: N_("There is nothing at this address."),
    405: N_("This address does not accept that kind of request."),
    410: N_("This is no longer here."),
}


def _title(exc: HTTPException) -> str:
    title = _TITLES.get(exc.code or 0)
    return gettext(title) if title else exc.name


def _message(exc: HTTPException) -> str:
    said = exc.description
    default = type(exc).description
    message = _MESSAGES.get(exc.code or 0)
    if message and (exc.code in (404, 405) or not said or said == default):
        return gettext(message)
    return said or exc.name
