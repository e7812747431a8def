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
from .rules import RuleError

PAGE_SIZE = 50
INVALID_CURSOR = "This page link is not valid."


def encode_cursor(value: Any, last_id: int) -> str:
    """The cursor after a row: its sort value and its id, as URL-safe text."""
    raw = json.dumps([value, last_id], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[Any, int] | None:
    """The (sort value, id) a cursor holds; None for the first page; RuleError when forged."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, last_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise RuleError(INVALID_CURSOR) from None
    if not isinstance(last_id, int) or not isinstance(value, str | int):
        raise RuleError(INVALID_CURSOR)
    return value, last_id


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
