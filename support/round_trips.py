"""Count the database round trips an application makes (the round-trip tests and the
benchmark's gallery row).

On MySQL every command PyMySQL sends is one (queries, COMMIT, ROLLBACK, pings): its text,
or ``(command N)`` for one without text. On SQLite, inside the process, the statements,
and the commits, rollbacks and pool resets that sqlite3 carries out: it opens a
transaction only before a write, and its ``commit()``/``rollback()`` outside one return
without a call, so those are counted only inside a transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event


@contextlib.contextmanager
def round_trips(engines: list[Any]) -> Iterator[list[str]]:
    """The round trips made on ``engines`` (every engine of the application: its
    galleries read through a second one) while the block runs."""
    log: list[str] = []
    if engines[0].dialect.name in ("mysql", "mariadb"):
        import pymysql.connections

        original = pymysql.connections.Connection._execute_command

        def counted(self: Any, command: int, sql: Any) -> Any:
            text = sql.decode(errors="replace") if isinstance(sql, bytes) else str(sql)
            log.append(text or f"(command {command})")
            return original(self, command, sql)

        pymysql.connections.Connection._execute_command = counted  # type: ignore[method-assign]
        try:
            yield log
        finally:
            pymysql.connections.Connection._execute_command = original  # type: ignore[method-assign]
        return

    def hook(name: str) -> Any:
        def one(*args: Any, **_kw: Any) -> None:
            if name == "before_cursor_execute":
                log.append(str(args[2]))
                return
            dbapi = args[0] if name == "reset" else args[0].connection.dbapi_connection
            if dbapi.in_transaction:
                log.append(name.upper())

        return one

    hooks = [
        (target, name, hook(name))
        for engine in engines
        for target, name in (
            (engine, "before_cursor_execute"),
            (engine, "commit"),
            (engine, "rollback"),
            (engine.pool, "reset"),
        )
    ]
    for target, name, fn in hooks:
        event.listen(target, name, fn)
    try:
        yield log
    finally:
        for target, name, fn in hooks:
            event.remove(target, name, fn)
