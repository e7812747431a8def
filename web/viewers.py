"""Who is looking: one answer to "is this viewer signed in" and "is this viewer an
admin", for services, views and the pages (anonymous viewers have neither)."""

from __future__ import annotations

from typing import Any


def signed_in(viewer: Any) -> bool:
    """True for a signed-in user; False for Flask-Login's anonymous user or None."""
    return bool(getattr(viewer, "is_authenticated", False))


def is_admin(viewer: Any) -> bool:
    """True for a signed-in, active admin."""
    return signed_in(viewer) and bool(viewer.is_active) and bool(viewer.is_admin)
