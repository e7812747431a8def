"""Background jobs: long work runs outside the request that asked for it, with its
progress in the ``jobs`` table.

A feature registers its task under a name (``@task("reset", "Reset of the repository")``);
``submit`` writes the job row (queued) and hands its id to a runner: RQ on Redis when
REDIS_URL is set (the ``worker`` process runs it; without Redis at that moment, this
process does), else a thread of this process. The runner claims the row (running), calls
the task with a ``Progress`` that writes done/total and a heartbeat, and ends the job
done or failed with the task's message. A job whose heartbeat stopped (its process died)
is handed to a runner again by maintenance (``resume_stale``); tasks are idempotent, so
running one again does what is left.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from flask_babel import force_locale, gettext
from rq import Queue, SimpleWorker
from sqlalchemy import select, update

from .config import REDIS_TIMEOUT
from .extensions import db
from .i18n import language
from .models import DONE, FAILED, QUEUED, RUNNING, Job, User, utcnow
from .rules import RuleError

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(minutes=5)  # no heartbeat for this long: the runner is gone
BEAT_EVERY = 1.0  # seconds between two progress writes
RQ_TIMEOUT = 24 * 3600  # what RQ allows one job (its default, 3 minutes, is too short)
LISTED = 50  # jobs on the admin's list
# The language of whoever started a job, kept with its arguments: its result message is
# written in that language (and stays in it).
LANGUAGE = "_language"

Task = Callable[..., str]


@dataclass(frozen=True)
class Registered:
    label: str
    run: Task


TASKS: dict[str, Registered] = {}


def task(kind: str, label: str) -> Callable[[Task], Task]:
    """Register ``fn(progress, actor, **arguments) -> message`` as the task ``kind``;
    ``label`` is marked with ``N_`` and translated where it is shown."""

    def register(fn: Task) -> Task:
        TASKS[kind] = Registered(label, fn)
        return fn

    return register


def label(kind: str) -> str:
    registered = TASKS.get(kind)
    return gettext(registered.label) if registered else kind


def is_big(count: int) -> bool:
    """Whether work on ``count`` items should run as a job rather than in the request."""
    return count > current_app.config["JOB_THRESHOLD"]


# --- starting a job ------------------------------------------------------------------


def submit(kind: str, actor: User, **arguments: Any) -> Job:
    """Write a queued job and hand it to a runner; the caller answers at once."""
    if kind not in TASKS:
        raise KeyError(kind)
    job = Job(
        kind=kind,
        arguments=json.dumps({**arguments, LANGUAGE: language()}),
        started_by_id=actor.id,
        started_by=actor.username,
        state=QUEUED,
        done=0,
        attempts=0,
        heartbeat_at=utcnow(),
    )
    db.session.add(job)
    db.session.commit()
    dispatch(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
    return job


def dispatch(app: Flask, job_id: int) -> None:
    """Hand a queued job to the worker through Redis, or to a thread of this process."""
    if app.config.get("REDIS_URL"):
        try:
            queue(app).enqueue_call(run_queued, args=(job_id,), timeout=RQ_TIMEOUT, result_ttl=0)
            return
        except (redis.RedisError, OSError) as exc:
            log.warning("Redis unreachable (%s): job %s runs in this process", exc, job_id)
    thread = threading.Thread(target=_run_in_thread, args=(app, job_id), daemon=True)
    thread.name = f"job-{job_id}"
    app.extensions.setdefault("jobs", []).append(thread)
    thread.start()


def queue(app: Flask) -> Queue:
    connection = redis.Redis.from_url(
        app.config["REDIS_URL"],
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
    )
    return Queue(app.config["JOB_QUEUE"], connection=connection)


def work(app: Flask, burst: bool = False) -> None:
    """The worker process: run the queue's jobs in this process (``flask --app web
    worker``), under the app context the command holds. ``burst``: stop when it is empty."""
    worker_queue = queue(app)
    # A blocking wait for the next job must not hit the 1-second deadline of web calls.
    connection = redis.Redis.from_url(app.config["REDIS_URL"])
    worker = SimpleWorker([worker_queue], connection=connection)
    worker.work(burst=burst, logging_level="WARNING")


def wait(app: Flask, timeout: float = 60) -> None:
    """Wait for this process's job threads to end (tests, shutdown)."""
    for thread in list(app.extensions.get("jobs", [])):
        thread.join(timeout)
    app.extensions["jobs"] = [t for t in app.extensions.get("jobs", []) if t.is_alive()]


# --- running a job -------------------------------------------------------------------


def run_queued(job_id: int) -> None:
    """What the RQ worker calls, inside the app context of ``flask --app web worker``."""
    if not has_app_context():
        raise RuntimeError("run the worker with `flask --app web worker`")
    run(job_id)


def _run_in_thread(app: Flask, job_id: int) -> None:
    with app.app_context():  # its end closes the job's database session
        run(job_id)


def run(job_id: int) -> None:
    """Claim a queued job and run its task; a job another runner claimed is left alone."""
    now = utcnow()
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == QUEUED)
        .values(state=RUNNING, heartbeat_at=now, started_at=now, attempts=Job.attempts + 1)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return
    job = db.session.get(Job, job_id)
    assert job is not None
    registered = TASKS.get(job.kind)
    actor = db.session.get(User, job.started_by_id) if job.started_by_id else None
    progress = Progress(job_id, job.done, job.total, resumed=job.attempts > 1)
    arguments = json.loads(job.arguments)
    with force_locale(arguments.pop(LANGUAGE, None) or "en"):
        _run_task(job, registered, actor, progress, arguments)


def _run_task(
    job: Job,
    registered: Registered | None,
    actor: User | None,
    progress: Progress,
    arguments: dict[str, Any],
) -> None:
    """Run a claimed job's task and write down how it ended."""
    try:
        if registered is None:
            raise RuleError(
                gettext("This version does not know jobs of the kind %(kind)r.", kind=job.kind)
            )
        if actor is None:
            raise RuleError(
                gettext("%(name)s, who started this job, no longer exists.", name=job.started_by)
            )
        message = registered.run(progress, actor, **arguments)
    except RuleError as exc:
        db.session.rollback()
        _end(progress, FAILED, str(exc))
    except Exception as exc:  # a job's failure is written down for the admin, not lost
        db.session.rollback()
        log.exception("job %s (%s) failed", job.id, job.kind)
        error = type(exc).__name__
        _end(progress, FAILED, gettext("Stopped by an unexpected error (%(error)s).", error=error))
    else:
        _end(progress, DONE, message)


def _end(progress: Progress, state: str, message: str) -> None:
    progress.write(state=state, message=message, finished_at=utcnow())


class Progress:
    """How far a task got: ``expect(remaining)`` when it knows how much is left, then
    ``advance()`` per item; each write also moves the heartbeat. ``done`` counts what
    earlier attempts did too, and ``resumed`` says that this is not the first."""

    def __init__(self, job_id: int, done: int, total: int | None, resumed: bool = False):
        self.job_id, self.done, self.total, self.resumed = job_id, done, total, resumed
        self._written = 0.0

    def expect(self, remaining: int) -> None:
        self.total = self.done + remaining
        self.write()

    def advance(self, count: int = 1) -> None:
        self.done += count
        if time.monotonic() - self._written >= BEAT_EVERY:
            self.write()

    def write(self, **values: Any) -> None:
        """Write done, total and the heartbeat now (with ``values``) and commit."""
        db.session.execute(
            update(Job)
            .where(Job.id == self.job_id)
            .values(done=self.done, total=self.total, heartbeat_at=utcnow(), **values)
        )
        db.session.commit()
        self._written = time.monotonic()


# --- after a crash -------------------------------------------------------------------


def resume_stale(app: Flask) -> list[str]:
    """Hand every job whose runner stopped beating to a runner again (maintenance)."""
    cutoff = utcnow() - STALE_AFTER
    stale = db.session.scalars(
        select(Job).where(Job.state.in_((QUEUED, RUNNING)), Job.heartbeat_at < cutoff)
    ).all()
    resumed = []
    for job in stale:
        requeued = db.session.execute(
            update(Job)
            .where(Job.id == job.id, Job.state == job.state, Job.heartbeat_at < cutoff)
            .values(state=QUEUED, heartbeat_at=utcnow())
        ).rowcount
        db.session.commit()
        if requeued == 1:
            dispatch(app, job.id)
            resumed.append(f"resumed job {job.id} ({label(job.kind)})")
    return resumed


# --- what the pages show -------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A job as a page shows it (no query behind any of it)."""

    id: int
    label: str
    state: str
    done: int
    total: int | None
    message: str | None
    started_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @property
    def percent(self) -> int:
        if self.state == DONE:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)

    @property
    def active(self) -> bool:
        return self.state in (QUEUED, RUNNING)


def shown(job: Job) -> Shown:
    return Shown(
        job.id,
        label(job.kind),
        job.state,
        min(job.done, job.total) if job.total is not None else job.done,
        job.total,
        job.message,
        job.started_by,
        job.created_at,
        job.finished_at,
    )


def recent() -> list[Shown]:
    """The latest jobs, newest first."""
    jobs = db.session.scalars(select(Job).order_by(Job.id.desc()).limit(LISTED))
    return [shown(job) for job in jobs]


def visible_job(viewer: User, job_id: int) -> Shown | None:
    """A job its starter or an admin may follow; None for anyone else."""
    job = db.session.get(Job, job_id)
    if job is None or not (viewer.is_admin or job.started_by_id == viewer.id):
        return None
    return shown(job)
