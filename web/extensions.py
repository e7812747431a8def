"""Extensions created without an application and bound to one in ``init_app``."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from .storage import ObjectStore, create_store


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
            options.update(
                pool_pre_ping=True,
                pool_recycle=3600,
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
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Storage:
    """The object store chosen by the settings, one per application."""

    def init_app(self, app: Flask) -> None:
        app.extensions["object_store"] = create_store(app.config)

    @property
    def store(self) -> ObjectStore:
        return current_app.extensions["object_store"]


db = Database()
storage = Storage()
login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
