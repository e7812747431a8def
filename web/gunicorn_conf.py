"""Gunicorn settings for the production server (docker, make run, the benchmark).

Workers and threads follow the number of cores; the timeout leaves room for large
uploads on slow links. Override with GUNICORN_WORKERS (or WEB_CONCURRENCY) /
GUNICORN_THREADS.

At every start, before any worker runs, the admin named by ADMIN_USERNAME is made
(``on_starting``), and the workers' Prometheus counts get an empty directory
(PROMETHEUS_MULTIPROC_DIR), so that /metrics adds up every worker of this start.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TIMEOUT = 120  # seconds: a database that is still starting may be slow to answer

cores = os.cpu_count() or 1
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
# WEB_CONCURRENCY is the usual name on container platforms; in a container the core
# count is the host's, so compose files set it.
workers = int(os.environ.get("GUNICORN_WORKERS") or os.environ.get("WEB_CONCURRENCY") or cores)
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
# Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections over them evenly. On one shared socket, the worker that wakes first could
# take every keep-alive connection of a burst while the other sat idle (about half the
# runs of 16 connections on 2 workers: 343 thumbnails/s against 690).
reuse_port = True
timeout = 300
graceful_timeout = 30
keepalive = 5
accesslog = None  # the app logs each request itself, without query strings
errorlog = "-"
# The database pool of each worker matches its threads (see DB_POOL_SIZE); object-store
# reads leave one thread free for pages (see STORE_READS_PER_WORKER).
raw_env = [
    f"DB_POOL_SIZE={os.environ.get('DB_POOL_SIZE', threads)}",
    f"STORE_READS_PER_WORKER={os.environ.get('STORE_READS_PER_WORKER', max(1, threads - 1))}",
]


def metrics_directory() -> Path:
    """An empty directory for the workers' Prometheus counts: PROMETHEUS_MULTIPROC_DIR
    when the operator set one (its old count files are removed), else a new directory of
    this start under the system's temp directory (removed when the server stops)."""
    chosen = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        for old in path.glob("*.db"):
            old.unlink(missing_ok=True)  # another server starting at once may be first
    else:
        remove_stale_metrics_directories()
        path = Path(tempfile.mkdtemp(prefix=f"{METRICS_PREFIX}{os.getpid()}-"))
        made_here.append(path)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


made_here: list[Path] = []  # the metrics directory this start made (the master's own)
METRICS_PREFIX = "imgrepo-metrics-"  # then the master's pid


def remove_stale_metrics_directories() -> None:
    """Remove the metrics directories of servers that ended without ``on_exit`` (killed)."""
    for old in Path(tempfile.gettempdir()).glob(f"{METRICS_PREFIX}*-*"):
        pid = old.name.removeprefix(METRICS_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def on_exit(server) -> None:
    """Remove the metrics directory this start made for itself."""
    for path in made_here:
        shutil.rmtree(path, ignore_errors=True)


def child_exit(server, worker) -> None:
    """A worker that ended leaves its counters (they still add up); its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_starting(server) -> None:
    """Give the workers an empty metrics directory (``metrics_directory``). Make the admin
    named by ADMIN_USERNAME (password ADMIN_PASSWORD, email ADMIN_EMAIL)
    with ``flask --app web create-admin --from-env``, once per start, in the master before
    the workers start; nothing happens when ADMIN_USERNAME is unset.

    It is safe to repeat and to run from several servers starting at once (an existing
    admin is left alone, a name claimed meanwhile is promoted). It runs in a process of
    its own, so the master keeps no database connection for the workers to inherit. When
    it fails (a password the sign-up rules refuse, a database without the schema) the
    server does not start, and says why in one line.
    """
    server.log.info("Prometheus counts of the workers: %s", metrics_directory())
    if workers > 1 and not os.environ.get("REDIS_URL"):
        server.log.info(
            "REDIS_URL is not set: login and API limits are counted in each of the "
            "%d worker processes separately",
            workers,
        )
    if not os.environ.get("ADMIN_USERNAME", "").strip():
        return
    command = [sys.executable, "-m", "flask", "--app", "web", "create-admin", "--from-env"]
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=ADMIN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"ADMIN_USERNAME: the admin was not made within {ADMIN_TIMEOUT} s "
            "(is the database answering?)"
        ) from None
    if done.returncode != 0:
        lines = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()
        if len(lines) > 1:  # an unexpected failure: keep the whole story in the log
            server.log.error("create-admin --from-env said:\n%s", done.stderr + done.stdout)
        reason = lines[-1].removeprefix("Error: ")
        raise RuntimeError(f"ADMIN_USERNAME: the admin could not be made: {reason}")
    server.log.info("ADMIN_USERNAME: %s", done.stdout.strip())
