"""Named locks shared by every instance of the app: MySQL/MariaDB ``GET_LOCK`` on a
name tied to the database, or, on the embedded SQLite, a file lock beside the
database file. Used so that one instance migrates while the others wait, and one
instance runs maintenance at a time."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text

POLL_SECONDS = 0.2


@contextlib.contextmanager
def named_lock(engine: Engine, name: str, wait_seconds: float = 0) -> Iterator[bool]:
    """Hold the lock ``name`` while inside (True), or False when another holder kept it
    for longer than ``wait_seconds``."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database or ""
        if database in ("", ":memory:"):
            yield True  # a private in-memory database has nobody to share it with
            return
        with _file_lock(Path(f"{database}.{name}.lock"), wait_seconds) as got:
            yield got
        return
    key = f"imgrepo-{name}-{engine.url.database}"[:64]
    with engine.connect() as connection:
        got = (
            connection.execute(
                text("SELECT GET_LOCK(:n, :wait)"), {"n": key, "wait": int(wait_seconds)}
            ).scalar()
            == 1
        )
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": key})


@contextlib.contextmanager
def _file_lock(path: Path, wait_seconds: float) -> Iterator[bool]:
    deadline = time.monotonic() + wait_seconds
    with open(path, "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(POLL_SECONDS)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
