"""Sizes in the units people read, the same on every page and in every message."""

from __future__ import annotations


def filesize(size: int | None) -> str:
    """Bytes in the units people read: 1.5 MB, 320 KB, 12 bytes."""
    value = float(size or 0)
    if value < 1024:
        return f"{int(value)} bytes"
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"
