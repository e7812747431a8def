"""Sizes in the units people read, the same on every page and in every message."""

from __future__ import annotations

from flask_babel import gettext

from .i18n import number


def filesize(size: int | None) -> str:
    """Bytes in the units people read, in the page's language: 1.5 MB (1,5 MB), 12 bytes."""
    value = float(size or 0)
    if value < 1024:
        return gettext("%(num)s bytes", num=int(value))
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{number(value, '0.0')} {unit}"
