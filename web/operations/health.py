"""The health check: does the database answer, does the object store answer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db, storage
from ..storage import StorageError

OK = "ok"


def checks() -> dict[str, str]:
    """Each dependency's state: ``ok`` or ``failed: <why>``."""
    result = {}
    try:
        db.session.execute(select(1))
        result["database"] = OK
    except SQLAlchemyError as exc:
        db.session.rollback()
        result["database"] = f"failed: {type(exc).__name__}"
    try:
        storage.store.ping()
        result["object_store"] = OK
    except StorageError as exc:
        result["object_store"] = f"failed: {exc}"[:200]
    return result


def healthy(result: dict[str, str]) -> bool:
    return all(value == OK for value in result.values())
