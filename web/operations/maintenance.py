"""Maintenance: what fsck repairs by hand, done on its own, on one instance at a time.

Every MAINTENANCE_INTERVAL seconds, each serving process tries to take the maintenance
lock (MySQL/MariaDB: ``GET_LOCK`` on a name tied to the database; SQLite: a file lock
beside the database file, which only processes of one machine share). The one that gets
it finishes what interrupted operations left: uploads PENDING past
PENDING_GRACE_MINUTES are undone (their name is free again), unfinished deletes, moves
and account removals are finished. It also removes the scratch directories of dead
processes, and hands a background job whose runner stopped beating (web/jobs.py) to a
runner again. The others skip that round. The last run of this process and what it
repaired appear in ``/health``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import threading
from collections.abc import Iterator
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from .. import jobs, scratch
from ..extensions import db
from ..locks import named_lock
from ..storage import StorageError
from . import fsck, metrics

log = logging.getLogger(__name__)

SKIPPED = "another instance holds the maintenance lock"


def init_app(app: Flask) -> None:
    """Remove dead processes' scratch space now; start the maintenance thread with the
    first request this process serves (so that CLI commands never start one)."""
    scratch.remove_dead()
    app.extensions["maintenance"] = {}
    interval = app.config["MAINTENANCE_INTERVAL"]
    if not interval or app.testing:
        return
    started = threading.Lock()

    stopping = app.extensions["maintenance_stop"] = threading.Event()

    @app.before_request
    def _start_maintenance() -> None:
        if started.acquire(blocking=False):
            thread = threading.Thread(
                target=_loop, args=(app, interval, stopping), name="maintenance", daemon=True
            )
            thread.start()


def stop(app: Flask) -> None:
    """End the maintenance thread of ``app`` after its current round (tests, shutdown)."""
    stopping = app.extensions.get("maintenance_stop")
    if stopping is not None:
        stopping.set()


def _loop(app: Flask, interval: int, stopping: threading.Event) -> None:
    # Instances started together spread out.
    if stopping.wait(random.uniform(0.2, 1.0) * interval):
        return
    while not stopping.is_set():
        try:
            run_once(app)
        except Exception:  # the loop must outlive any one failed round
            log.exception("maintenance round failed")
        stopping.wait(interval)


def run_once(app: Flask) -> dict[str, Any]:
    """One round of maintenance if this process gets the lock; its record."""
    record: dict[str, Any] = {"last_run": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    with app.app_context():
        try:
            with lease() as held:
                if not held:
                    record["result"] = SKIPPED
                else:
                    report = fsck.repair_unfinished()
                    removed = scratch.remove_dead()
                    resumed = jobs.resume_stale(app)
                    record.update(
                        result="ok" if not report.failed else "failed",
                        repaired=report.done + [f"removed {p}" for p in removed] + resumed,
                        failed=report.failed,
                    )
                    if record["repaired"] or report.failed:
                        log.warning(
                            "maintenance repaired %s; failed %s", record["repaired"], report.failed
                        )
        except (SQLAlchemyError, StorageError, OSError) as exc:
            db.session.rollback()
            record["result"] = f"failed: {type(exc).__name__}"
    app.extensions["maintenance"] = record
    metrics.maintenance_round(record)
    return record


def status(app: Flask) -> dict[str, Any]:
    """What /health shows of maintenance (empty until a round ran in this process)."""
    return dict(app.extensions.get("maintenance") or {})


@contextlib.contextmanager
def lease() -> Iterator[bool]:
    """Hold the maintenance lock while inside (True), or learn that another holds it."""
    with named_lock(db.engine, "maintenance") as got:
        yield got
