"""The audit log: who did which admin action to what, written in the transaction of the
action's first change so that the log and the data agree. Every feature writes it; the
admin pages read it."""

from __future__ import annotations

from sqlalchemy import select, update

from .extensions import db
from .models import AuditEntry, User
from .paging import NewestFirst, newest_first

COMMAND_LINE = "(command line)"  # the actor named in the audit log for the CLI

PROMOTE, DEMOTE, DELETE_USER, DELETE_IMAGE, DELETE_COMMENT, RESET, CREATE_ADMIN = (
    "promote",
    "demote",
    "delete user",
    "delete image",
    "delete comment",
    "reset",
    "create admin",
)
CREATE_TOKEN, REVOKE_TOKEN = "create token", "revoke token"


def record(actor: User | None, action: str, target: str) -> AuditEntry:
    """Add an audit entry to the current transaction (the caller commits it with its change)."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_username=actor.username if actor is not None else COMMAND_LINE,
        action=action,
        target=target[:500],
    )
    db.session.add(entry)
    return entry


def entries(before: int | None = None, limit: int | None = None) -> NewestFirst:
    """The audit log, newest first, from the entry before ``before``."""
    return newest_first(select(AuditEntry), AuditEntry.id, before, limit)


def forget_actor(user_id: int) -> None:
    """Before a user row goes: their audit entries keep the copy of their name only."""
    db.session.execute(
        update(AuditEntry).where(AuditEntry.actor_id == user_id).values(actor_id=None)
    )
