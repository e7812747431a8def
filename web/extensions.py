"""Extensions created without an application and bound to one in ``init_app``."""

from __future__ import annotations

import logging
import select
from typing import Any

import redis
from flask import Flask, current_app, g
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from limits.errors import StorageError as LimitsStorageError
from sqlalchemy import Engine, ExceptionContext, PoolResetState, create_engine, event
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .storage import ObjectStore, create_store

_log = logging.getLogger("web.db")


class Database:
    """One engine per application and one session per request (or CLI command)."""

    def init_app(self, app: Flask) -> None:
        url: str = app.config["DATABASE_URL"]
        config = app.config
        options: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            # How long a write waits for another process's lock before "database is locked".
            options["connect_args"] = {"check_same_thread": False, "timeout": config["DB_TIMEOUT"]}
        else:
            # No ping per checkout: a connection the server closed is noticed without a
            # round trip (``_closed_by_server``), one that fails in use is replaced (with
            # every older one), and none is kept longer than the server's idle timeout.
            # The pool rolls back on return only a connection still in a transaction
            # (``_end_open_transaction``): the request's session has normally ended it.
            options.update(
                pool_recycle=3600,
                pool_reset_on_return=None,
                pool_size=config["DB_POOL_SIZE"],
                max_overflow=config["DB_POOL_SIZE"],
                pool_timeout=config["DB_POOL_TIMEOUT"],
            )
            if url.startswith("mysql"):
                # A server that stops answering fails the call within these deadlines
                # instead of holding the request (and its worker thread) for good.
                options["connect_args"] = {
                    "connect_timeout": config["DB_CONNECT_TIMEOUT"],
                    "read_timeout": config["DB_TIMEOUT"],
                    "write_timeout": config["DB_TIMEOUT"],
                }
        engine = create_engine(url, **options)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            event.listen(engine, "connect", _mark_fresh)
            event.listen(engine, "checkout", _closed_by_server)
            event.listen(engine, "reset", _end_open_transaction)
            event.listen(engine, "handle_error", _note_failure)
        app.extensions["db_engine"] = engine
        app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
        app.teardown_appcontext(self._close)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["db_engine"]

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = current_app.extensions["db_sessionmaker"]()
        return g.db_session

    @staticmethod
    def _close(exc: BaseException | None) -> None:
        """End the request's session. The ROLLBACK that ends a read may fail when the
        server stopped answering after the answer was made: the answer stands (its
        transaction ends with the connection, which the pool drops), never a 500."""
        session = g.pop("db_session", None)
        if session is None:
            return
        try:
            session.close()
        except SQLAlchemyError as failure:
            _log.warning("ending the request's database session: %s", _first_line(failure))
            try:
                session.invalidate()  # gives the connection back without a round trip
            except SQLAlchemyError as again:
                _log.debug("dropping the failed session: %s", again)


def _first_line(failure: Exception) -> str:
    return str(failure).splitlines()[0][:300] if str(failure) else type(failure).__name__


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# The server's "in a transaction" flag in the status of every answer (MySQL protocol).
SERVER_STATUS_IN_TRANS = 1
FAILED = "failed since its last reset"  # key in a pooled connection's info
FRESH = "not checked out yet"  # key in a pooled connection's info


def _mark_fresh(_dbapi_connection: Any, record: Any) -> None:
    record.info[FRESH] = True


def _closed_by_server(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection whose server hung up (restarted, killed, idle timeout):
    its socket is readable (the end of the stream) while no query is waiting for an
    answer. The pool then opens a new one. A check in the kernel, no round trip.

    A connection just opened is not checked: the pool gives up after a second refusal in
    one checkout ("This connection is closed", which no error page knows as a database
    failure), and a server that closes a new connection at once (one going down) fails
    its first query instead, as a database failure."""
    if record is not None and record.info.pop(FRESH, False):
        return
    sock = getattr(dbapi_connection, "_sock", None)  # PyMySQL's socket
    if sock is None:
        return
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        readable = [sock]
    if readable:
        raise DisconnectionError("the database server closed this connection")


def _note_failure(context: ExceptionContext) -> None:
    """A statement that failed may have left a transaction open whatever the connection's
    last status said: its reset rolls back for sure."""
    if context.connection is not None and not context.connection.closed:
        context.connection.info[FAILED] = True


def _end_open_transaction(dbapi_connection: Any, record: Any, _state: PoolResetState) -> None:
    """Roll back a connection going back to the pool if it may still be in a transaction,
    and only then: the request's session has normally ended its transaction already, and
    a second ROLLBACK would be one more round trip for every request."""
    failed = record.info.pop(FAILED, False) if record is not None else True
    if failed or _in_transaction(dbapi_connection):
        dbapi_connection.rollback()


def _in_transaction(dbapi_connection: Any) -> bool:
    """Whether the connection may be in a transaction, as the server last said (PyMySQL
    keeps the status flags of every answer); True for a driver that does not say."""
    status = getattr(dbapi_connection, "server_status", None)
    if isinstance(status, int):
        return bool(status & SERVER_STATUS_IN_TRANS)
    return True


class Storage:
    """The object store chosen by the settings, one per application."""

    def init_app(self, app: Flask) -> None:
        app.extensions["object_store"] = create_store(app.config)

    @property
    def store(self) -> ObjectStore:
        return current_app.extensions["object_store"]


class RateLimiter(Limiter):
    """Flask-Limiter whose counts survive a Redis outage.

    With REDIS_URL set, the settings turn on Flask-Limiter's in-memory fallback: when
    Redis fails, limits count in this process's memory (a warning is logged) until Redis
    answers again. ``storage``, which services use for counts of their own, follows the
    same rule instead of failing the request.
    """

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        self._storage_dead = False  # a new application starts by trying its storage

    @property
    def storage(self) -> Any:
        main = super().storage
        if not self._in_memory_fallback_enabled:
            return main
        return _CountsWithFallback(self, main)


REDIS_FAILURES = (redis.RedisError, LimitsStorageError, OSError)
_limits_log = logging.getLogger("web.limits")


class _CountsWithFallback:
    """The limiter's storage, or its in-memory fallback while the storage is down."""

    def __init__(self, owner: RateLimiter, main: Any) -> None:
        self._owner = owner
        self._main = main

    def __getattr__(self, name: str) -> Any:
        owner = self._owner

        def call(*args: Any, **kwargs: Any) -> Any:
            fallback = owner._fallback_storage  # made by Flask-Limiter
            if owner._storage_dead and fallback is not None:
                return getattr(fallback, name)(*args, **kwargs)
            try:
                return getattr(self._main, name)(*args, **kwargs)
            except REDIS_FAILURES as exc:
                if fallback is None:
                    raise
                _limits_log.warning("Redis unreachable, counting limits in memory: %s", exc)
                owner._storage_dead = True  # Flask-Limiter re-checks it later
                return getattr(fallback, name)(*args, **kwargs)

        return call


db = Database()
storage = Storage()
login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()
limiter = RateLimiter(key_func=get_remote_address, default_limits=[])
