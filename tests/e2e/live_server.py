"""The application served by a real gunicorn process for the browser tests, as `make run` does.

``live_server`` migrates a fresh data directory with ``flask --app web upgrade-db`` and
serves it with ``support.gunicorn`` (one worker, a free loopback port, a bounded wait until
``/health`` answers 200, and at the end SIGTERM, a bounded wait, then SIGKILL for the whole
process group). What is specific to the tests lives here: their settings and ``LiveServer``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from support.gunicorn import Gunicorn, run_flask
from support.processes import HOST
from web.config import SETTINGS

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
MAX_UPLOAD_MB = 2


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    gunicorn: Gunicorn
    env: dict[str, str]

    def flask(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """Run ``flask --app web ARGS`` on this server's settings; return its output."""
        return run_flask(list(args), {**self.env, **(env or {})})

    def log_tail(self, lines: int = 40) -> str:
        return self.gunicorn.log_tail(lines)


def server_env(data_dir: Path, extra: Mapping[str, str] | None) -> dict[str, str]:
    """The environment of the server: the caller's, minus every app setting, plus ours."""
    env = {
        k: v for k, v in os.environ.items() if k not in SETTINGS and not k.startswith("GUNICORN_")
    }
    env.update(
        HOST=HOST,
        GUNICORN_WORKERS="1",
        DATA_DIR=str(data_dir),
        SECRET_KEY=secrets.token_hex(32),
        RATELIMIT_ENABLED="false",
        MAX_UPLOAD_MB=str(MAX_UPLOAD_MB),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


@contextlib.contextmanager
def live_server(workdir: Path, extra_env: Mapping[str, str] | None = None) -> Iterator[LiveServer]:
    data_dir = workdir / "data"
    env = server_env(data_dir, extra_env)
    run_flask(["upgrade-db"], env)
    with Gunicorn(env, workdir, start_timeout=START_TIMEOUT, stop_timeout=STOP_TIMEOUT) as server:
        yield LiveServer(server.url, data_dir, server, dict(server.env))
