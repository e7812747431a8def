"""The health check: each dependency answers within a deadline, or is named as failed.

The checks run side by side in a small pool of threads, so that ``/health`` answers
within ``DEADLINE`` seconds whatever hangs: a part that has not answered by then is
``timed out``. A check still running from an earlier request is not started again (its
outcome is shared), so a hung dependency cannot pile up threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db, storage
from ..storage import StorageError

OK = "ok"
TIMED_OUT = "timed out"
DEADLINE = 1.5  # seconds; the whole answer stays under 2 s
REQUIRED = ("database", "object_store")  # without these nothing works: 503

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_running: dict[tuple[int, str], Future[str]] = {}


def checks() -> dict[str, str]:
    """Each dependency's state: ``ok``, ``failed: <why>`` or ``timed out``."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    parts: dict[str, Callable[[], None]] = {
        "database": _database,
        "object_store": _object_store,
    }
    if app.config.get("REDIS_URL"):
        parts["redis"] = _redis
    futures = {name: _start(app, name, check) for name, check in parts.items()}
    deadline = time.monotonic() + DEADLINE
    result = {}
    for name, future in futures.items():
        try:
            result[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            result[name] = TIMED_OUT
    return result


def healthy(result: dict[str, str]) -> bool:
    """Whether the parts nothing works without all answered."""
    return all(result.get(name) == OK for name in REQUIRED)


def degraded(result: dict[str, str]) -> bool:
    """Healthy, but an optional part (Redis) failed: the instance works with less."""
    return healthy(result) and any(value != OK for value in result.values())


def _start(app: Flask, name: str, check: Callable[[], None]) -> Future[str]:
    global _pool
    key = (id(app), name)
    with _lock:
        running = _running.get(key)
        if running is not None and not running.done():
            return running
        if _pool is None:  # made on first use, in the worker process that uses it
            _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health")
        future = _pool.submit(_run, app, check)
        _running[key] = future
        return future


def _run(app: Flask, check: Callable[[], None]) -> str:
    with app.app_context():
        try:
            check()
        except (SQLAlchemyError, StorageError, redis.RedisError, OSError) as exc:
            return f"failed: {_why(exc)}"[:200]
    return OK


def _why(exc: BaseException) -> str:
    if isinstance(exc, SQLAlchemyError):
        return type(exc).__name__
    return str(exc) or type(exc).__name__


def _database() -> None:
    db.session.execute(select(1))


def _object_store() -> None:
    storage.store.ping()


def _redis() -> None:
    app = current_app
    client = app.extensions.get("health_redis")
    if client is None:
        client = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=DEADLINE, socket_connect_timeout=DEADLINE
        )
        app.extensions["health_redis"] = client
    client.ping()
