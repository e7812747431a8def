"""Sizes in the units people read, the same on every page and in every message."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext

from .i18n import decimal_symbol, language

TENTH = Decimal("0.1")


def filesize(size: int | None, language_code: str | None = None) -> str:
    """Bytes in the units people read, in the page's language (or ``language_code``):
    1.5 MB (1,5 MB), 12 bytes.

    The number is written as Babel's ``format_decimal(value, "0.0")`` writes it (the
    value's shortest decimal form rounded to a tenth, half to even; no grouping), without
    Babel's tens of microseconds a call: a gallery page shows a size on each card."""
    value = float(size or 0)
    if value < 1024:
        return gettext("%(num)s bytes", num=int(value))
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    tenths = Decimal(str(value)).quantize(TENTH)
    return f"{tenths:f}".replace(".", decimal_symbol(language_code or language())) + f" {unit}"
