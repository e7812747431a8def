"""Integers that come from outside (URL segments, query strings, form fields): one rule
for all of them, so that no number a database cannot hold reaches a query.

Ids and page numbers are decimal digits and fit a signed 64-bit column (SQLite's and
MySQL's widest integer). A URL segment beyond that matches no route (404); a query or
form value beyond it, or not a number at all, parses as None and the view decides what
that means (ignore it, or refuse the request with 400).
"""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**63 - 1  # the largest signed 64-bit integer
MIN_INT = -(2**63)
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(value: str | None) -> int | None:
    """The non-negative integer ``value`` spells in ASCII digits, if it fits a signed
    64-bit column; None for anything else (empty, signs, spaces, other digits, too big)."""
    if value is None or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def fits_column(number: object) -> bool:
    """Whether ``number`` is an int (not a bool) that a signed 64-bit column can hold."""
    return isinstance(number, int) and not isinstance(number, bool) and MIN_INT <= number <= MAX_ID


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: digits up to ``MAX_ID``; a larger number matches no
    route, so it gets the 404 page instead of reaching the database. Only ASCII digits
    (``\\d`` would also take other scripts' digits)."""

    regex = r"[0-9]+"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = 0,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
