"""Who is looking: one answer to "is this viewer signed in" and "is this viewer an
admin", for services, views and the pages (anonymous viewers have neither); and loading
the viewer in the same database round trip as what the request is about."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from flask import g
from sqlalchemy import Select

from .extensions import db


def signed_in(viewer: Any) -> bool:
    """True for a signed-in user; False for Flask-Login's anonymous user or None."""
    return bool(getattr(viewer, "is_authenticated", False))


def is_admin(viewer: Any) -> bool:
    """True for a signed-in, active admin."""
    return signed_in(viewer) and bool(viewer.is_active) and bool(viewer.is_admin)


# --- loading the viewer together with what the request is about ------------------------


@dataclass
class Along:
    """A query to run in the same database round trip as the one that loads the signed-in
    viewer (see ``load_with_viewer``); ``answered`` once the viewer's loader ran it."""

    key: Hashable
    statement: Select
    answered: bool = False
    result: Any = None
    # The viewer is loaded with only what every request checks (see
    # ``sessions.load``), the rest on first use: for requests that show no page.
    light: bool = False
    # The values of the statement's bound parameters: a statement made once, at import,
    # with ``bindparam``s (the session's loader then reuses what it builds from it).
    params: dict[str, Any] = field(default_factory=dict)


def load_along_with_viewer(
    key: Hashable, statement: Select, light: bool = False, params: dict[str, Any] | None = None
) -> None:
    """Ask that ``statement`` come in the same round trip as the signed-in viewer, whoever
    loads the viewer first in this request (a hook may, before the view); the view then
    gets its result from ``load_with_viewer`` with the same ``key``. ``light``: the
    request shows no page, so the viewer's other columns are read only if used.
    ``params``: the values of a statement made once with bound parameters."""
    g.viewer_along = Along(key, statement, light=light, params=params or {})


def load_with_viewer(viewer: Any, key: Hashable, statement: Callable[[], Select]) -> Any:
    """The first entity that the query made by ``statement`` selects (None without a row;
    the query a hook registered under ``key`` is used instead), loaded in the
    same round trip as ``viewer`` (Flask-Login's ``current_user``) when the viewer was not
    loaded yet: the session's loader joins it to its own query (``pending_along``). A
    viewer loaded before, or a request without a session, costs the statement alone.
    Nothing outlives the request: the session is checked on every request."""
    along = g.get("viewer_along")
    if along is None or along.key != key:
        along = Along(key, statement())
        g.viewer_along = along
    try:
        signed_in(viewer)  # loads the viewer, now or already
    finally:
        g.pop("viewer_along", None)
    if along.answered:
        return along.result
    return db.session.scalars(along.statement, along.params).first()


def pending_along() -> Along | None:
    """The query to load along with the viewer, not yet run (for the session's loader)."""
    along = g.get("viewer_along")
    return None if along is None or along.answered else along
