"""Gunicorn settings for the production server (docker, make run, the benchmark).

Workers and threads follow the number of cores; the timeout leaves room for large
uploads on slow links. Override with GUNICORN_WORKERS / GUNICORN_THREADS.
"""

import os

cores = os.cpu_count() or 1
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("GUNICORN_WORKERS", cores))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
timeout = 300
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# The database pool of each worker matches its threads (see DB_POOL_SIZE).
raw_env = [f"DB_POOL_SIZE={os.environ.get('DB_POOL_SIZE', threads)}"]
