"""One log line per request: request id, method, path, status, duration and user id.

``LOG_FORMAT=text`` (the default) writes ``key=value`` pairs a person reads;
``LOG_FORMAT=json`` writes one JSON object per line for log collectors. Lines go to the
``web.requests`` logger, at INFO, and from there to standard error.

What is never written: the query string (a client may put anything there), request
headers (Authorization, Cookie), form fields (passwords) and bodies. The path is the only
part of the address that is logged, with any part a route names ``token`` or ``secret``
(the secret of a share link, ``/s/<token>``) written as ``[redacted]``, and escaped so
that a path holding a newline or a quote is still one line that cannot pose as another.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time

from flask import Flask, Response, g, request
from sqlalchemy import inspect as sa_inspect

log = logging.getLogger("web.requests")

SECRET_ARGS = ("token", "secret")  # route variables that are credentials
REDACTED = "[redacted]"
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.~:@%+,[]")


class _StandardError(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is written (the process's, or a
    test's capture), not to the stream that was current at start."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("%(message)s"))

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def init_app(app: Flask) -> None:
    """Time every request from its first hook and log it as its response leaves."""
    if not any(isinstance(h, _StandardError) for h in log.handlers):
        log.addHandler(_StandardError())
        log.setLevel(logging.INFO)
    fmt = app.config["LOG_FORMAT"]

    def _start() -> None:
        g.request_started = time.perf_counter()

    # First of all hooks, so that a request refused by an earlier hook (a rate limit's
    # 429) is still timed.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)

    @app.after_request
    def _log(response: Response) -> Response:
        log.info(line(fields(response.status_code), fmt))
        return response


def fields(status: int) -> dict:
    """What the line of the current request says."""
    started = g.get("request_started")
    duration = (time.perf_counter() - started) * 1000 if started is not None else None
    return {
        "request_id": g.get("request_id"),
        "method": request.method,
        "path": logged_path(),
        "status": status,
        "duration_ms": round(duration, 1) if duration is not None else None,
        "user_id": user_id(),
    }


def logged_path() -> str:
    """The request's path with the secrets in it (a share link's token) taken out."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if any(word in name for word in SECRET_ARGS) and str(value):
            path = path.replace(str(value), REDACTED)
    return path


def user_id() -> int | None:
    """The id of whoever made the request (a session's user or an API token's), read
    from what the request already loaded: logging never asks the database."""
    if g.get("caller_user_id") is not None:
        return g.caller_user_id
    user = g.get("_login_user")
    state = sa_inspect(user, raiseerr=False) if user is not None else None
    if state is None or state.identity is None:
        return None
    return state.identity[0]


def line(values: dict, fmt: str) -> str:
    """``values`` as one line in ``fmt`` (``text`` or ``json``)."""
    if fmt == "json":
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        return json.dumps({"time": stamp, "level": "info", **values}, ensure_ascii=True)
    return " ".join(f"{key}={_text(value)}" for key, value in values.items())


def _text(value: object) -> str:
    if value is None:
        return "-"
    text = str(value)
    if text and all(ch in _PLAIN for ch in text):
        return text
    return json.dumps(text, ensure_ascii=True)
