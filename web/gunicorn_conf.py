"""Gunicorn settings for the production server (docker, make run, the benchmark).

Workers and threads follow the number of cores; the timeout leaves room for large
uploads on slow links. Override with GUNICORN_WORKERS / GUNICORN_THREADS.

At every start, before any worker runs, the admin named by ADMIN_USERNAME is made
(``on_starting``).
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TIMEOUT = 120  # seconds: a database that is still starting may be slow to answer

cores = os.cpu_count() or 1
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("GUNICORN_WORKERS", cores))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
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


def on_starting(server) -> None:
    """Make the admin named by ADMIN_USERNAME (password ADMIN_PASSWORD, email ADMIN_EMAIL)
    with ``flask --app web create-admin --from-env``, once per start, in the master before
    the workers start; nothing happens when ADMIN_USERNAME is unset.

    It is safe to repeat and to run from several servers starting at once (an existing
    admin is left alone, a name claimed meanwhile is promoted). It runs in a process of
    its own, so the master keeps no database connection for the workers to inherit. When
    it fails (a password the sign-up rules refuse, a database without the schema) the
    server does not start, and says why in one line.
    """
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
