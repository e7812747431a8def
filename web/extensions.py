"""Extensions created without an application and bound to one in ``init_app``."""

from __future__ import annotations

import logging
import re
import select
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from flask import Flask, current_app, g, has_request_context, request
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


View = TypeVar("View", bound=Callable[..., Any])


def reads_only(view: View) -> View:
    """Mark a view whose GET (and HEAD) requests only read the database: on MySQL their
    statements run in autocommit mode (see ``Database``), which saves the ROLLBACK round
    trip that would end their transaction. A write in such a request fails (always, so a
    test finds it) rather than commit outside a transaction."""
    view.reads_only = True  # type: ignore[attr-defined]
    return view


class Database:
    """One engine per application and one session per request (or CLI command).

    On MySQL a second engine serves the GET requests of the views marked ``reads_only``
    (the galleries): its connections stay in autocommit mode, set once when each is
    opened. With autocommit off, as everywhere else, a SELECT opens a transaction on the
    server (a consistent snapshot) that only a ROLLBACK or COMMIT ends: one more round
    trip for every request, 4 instead of 3 for a gallery page. In autocommit mode each
    SELECT is its own transaction, ended by the server with its answer, so the request
    ends without a command (``skip_autocommit_rollback``; the pool's reset rolls back only
    what the server says is open). What such a page gives up is one snapshot for its few
    SELECTs: the session, the page and the albums are each read as they are at that
    moment, as two requests in a row would read them. Writes never go this way: the
    engine refuses any statement but a plain read (``_refuse_writes``), and every other
    request, GET or not, uses the first engine and its transactions as before. SQLite
    (in-process, no round trips) keeps one engine.
    """

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
        engines = [engine]
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            _listen(engine)
        reads = engine
        if url.startswith("mysql"):
            reads = create_engine(
                url, **options, isolation_level="AUTOCOMMIT", skip_autocommit_rollback=True
            )
            _listen(reads)
            event.listen(reads, "before_cursor_execute", _refuse_writes)
            engines.append(reads)
        app.extensions["db_engine"] = engine
        app.extensions["db_engines"] = engines  # every engine, for listeners (metrics)
        app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
        app.extensions["db_read_sessionmaker"] = sessionmaker(reads, expire_on_commit=False)
        app.teardown_appcontext(self._close)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["db_engine"]

    @property
    def engines(self) -> list[Engine]:
        """The application's engines: ``engine``, and on MySQL the one of reads_only views."""
        return current_app.extensions["db_engines"]

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            maker = "db_read_sessionmaker" if _reading_only() else "db_sessionmaker"
            g.db_session = current_app.extensions[maker]()
        return g.db_session

    def dispose(self) -> None:
        """Close the pooled connections of every engine (tests, a forked worker)."""
        for engine in self.engines:
            engine.dispose()

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
            _log.warning("ending the request's database session: %s", first_line(failure))
            try:
                session.invalidate()  # gives the connection back without a round trip
            except SQLAlchemyError as again:
                _log.debug("dropping the failed session: %s", again)


def _reading_only() -> bool:
    """Whether this request is the GET (or HEAD) of a view marked ``reads_only``."""
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "reads_only", False))


def _listen(engine: Engine) -> None:
    """The pool's handling of a server's connections (MySQL)."""
    event.listen(engine, "connect", _mark_fresh)
    event.listen(engine, "checkout", _closed_by_server)
    event.listen(engine, "reset", _end_open_transaction)
    event.listen(engine, "handle_error", _note_failure)


class WriteOutsideTransaction(RuntimeError):
    """A reads_only request tried to change the database."""


# A statement that only reads: a SELECT (or SHOW) that locks no row.
_PLAIN_READ = re.compile(r"\s*(SELECT|SHOW)\b", re.IGNORECASE)
_LOCKING = re.compile(r"\b(FOR\s+UPDATE|FOR\s+SHARE|LOCK\s+IN\s+SHARE\s+MODE)\b", re.IGNORECASE)


def _refuse_writes(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    """Refuse, on the engine in autocommit mode, what would change the database (or lock
    rows): each such statement would commit on its own there, outside any transaction."""
    if not _PLAIN_READ.match(statement) or _LOCKING.search(statement):
        raise WriteOutsideTransaction(
            f"a request marked reads_only ran a statement that is no plain read: {statement[:80]!r}"
        )


def first_line(failure: Exception) -> str:
    """What a log line says of a failure: the first line of its message (at most 300
    characters), or its type when it has none."""
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
