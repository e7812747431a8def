"""Keyset pagination: the cursor that a "next page" link carries, and newest-first pages
of rows keyed by id. One encoding for every list (and for the benchmark)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from .extensions import db
from .integers import fits_column
from .rules import RuleError

PAGE_SIZE = 50
INVALID_CURSOR = "This page link is not valid."
MAX_CURSOR = 2048  # characters; the longest real cursor (a 255-byte name) is under 800
MAX_TEXT = 1024  # characters of a text sort value (names are at most 255 bytes)


def encode_cursor(value: Any, last_id: int) -> str:
    """The cursor after a row: its sort value and its id, as URL-safe text."""
    raw = json.dumps([value, last_id], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: type = object) -> tuple[Any, int] | None:
    """The (sort value, id) a cursor holds; None for the first page; RuleError when forged.

    A forged cursor is refused before it reaches a query: at most ``MAX_CURSOR`` characters,
    a JSON pair (deep nesting refused) of a sort value and an id; the value is text of at
    most ``MAX_TEXT`` characters that UTF-8 can encode, or an integer a 64-bit column holds,
    and of type ``kind`` when the caller says which; the id fits an id column.
    """
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR:
        raise RuleError(INVALID_CURSOR)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, last_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, RecursionError):
        raise RuleError(INVALID_CURSOR) from None
    if not (
        fits_column(last_id) and last_id >= 0 and _sort_value(value) and isinstance(value, kind)
    ):
        raise RuleError(INVALID_CURSOR)
    return value, last_id


def _sort_value(value: Any) -> bool:
    """Whether ``value`` can be a sort value that a query compares with a column."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:  # a lone surrogate that JSON allowed
            return False
        return len(value) <= MAX_TEXT
    return fits_column(value)


@dataclass
class NewestFirst:
    """One page of rows, newest first (keyset pagination on the id)."""

    items: list[Any]
    next_before: int | None  # the id to pass as ``before`` for the next (older) page


def newest_first(
    stmt: Select, id_column: Any, before: int | None, limit: int | None = None
) -> NewestFirst:
    """The rows of ``stmt`` with an id below ``before``, newest first, one page long."""
    limit = limit or PAGE_SIZE
    if before is not None:
        stmt = stmt.where(id_column < before)
    rows = list(db.session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return NewestFirst(rows, rows[-1].id if more else None)
