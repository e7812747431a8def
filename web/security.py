"""Security headers on every response, and a request id for the logs and error pages."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import flask_login
from flask import Flask, Response, g, request

from .extensions import csrf

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# The headers of every response that does not set its own (lower-case name, name, value).
PAGE_HEADERS = tuple(
    (name.lower(), name, value)
    for name, value in (
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
    )
)


def init_app(app: Flask) -> None:
    def _request_id() -> None:
        supplied = request.headers.get("X-Request-Id", "")
        ok = 0 < len(supplied) <= 64 and supplied.replace("-", "").isalnum()
        g.request_id = supplied if ok else secrets.token_hex(8)

    # Before every other hook: a request an earlier hook refuses (a rate limit's 429)
    # still has an id on its page and in its log line.
    app.before_request_funcs.setdefault(None, []).insert(0, _request_id)

    @app.after_request
    def _headers(response: Response) -> Response:
        """Each of ``PAGE_HEADERS`` that the response does not set itself (image bytes
        carry their own policy), found in one pass over the response's headers."""
        headers = response.headers
        present = {name.lower() for name, _value in headers}
        for lowered, name, value in PAGE_HEADERS:
            if lowered not in present:
                headers.add(name, value)
        if app.config["SESSION_COOKIE_SECURE"] and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", "max-age=31536000")
        if "request_id" in g:
            headers["X-Request-Id"] = g.request_id
        return response

    csrf_after_login(app)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Flask-Login's ``login_required``, marked so that an anonymous POST is sent to the
    login page (as the original did) instead of failing the CSRF check first."""
    wrapped = flask_login.login_required(view)
    wrapped.requires_login = True  # type: ignore[attr-defined]
    return wrapped


def has_bearer_token() -> bool:
    """Whether the request carries ``Authorization: Bearer ...`` (an API token). Views that
    accept tokens then authenticate by the token alone, never by the session cookie."""
    auth = request.authorization
    return auth is not None and auth.type == "bearer" and bool(auth.token)


def csrf_after_login(app: Flask) -> None:
    """CSRF-check every state change, after the login check of views that need one."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @app.before_request
    def _csrf() -> None:
        if (
            request.method not in UNSAFE_METHODS
            or not app.config.get("WTF_CSRF_ENABLED", True)
            or request.routing_exception is not None  # 404/405 answer first
        ):
            return
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "accepts_tokens", False) and has_bearer_token():
            return  # a token is no ambient credential: no other site can make a browser send it
        if getattr(view, "requires_login", False) and not flask_login.current_user.is_authenticated:
            return  # the view answers with the login redirect; nothing is changed
        csrf.protect()
