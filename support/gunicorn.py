"""gunicorn serving the app as `make run` does, for the browser tests and the benchmark.

``Gunicorn`` runs ``gunicorn --config web/gunicorn_conf.py "web:create_app()"`` from the
repository root on a free loopback port (a new port if another process took the chosen one
first), waits (bounded) until it is ready (``/health`` answers 200), and stops its whole
process group. Each caller passes its own environment, timeouts and readiness conditions.
``run_flask`` runs ``flask --app web ...`` (e.g. the migrations) the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from support import processes
from support.processes import HOST, Wait

ROOT = Path(__file__).resolve().parents[1]
APP = "web:create_app()"
CONFIG = "web/gunicorn_conf.py"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
START_ATTEMPTS = 3  # a new port each time if the chosen one was taken before gunicorn bound it
HEALTH_TIMEOUT = 2.0
FLASK_TIMEOUT = 120.0


def venv_bin(name: str) -> str:
    """A program of the virtual environment running this code (normally .venv/bin)."""
    for folder in (Path(sys.executable).parent, ROOT / ".venv" / "bin"):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise RuntimeError(f"{name} not found in {Path(sys.executable).parent} nor in .venv/bin")


def run_flask(args: list[str], env: Mapping[str, str], timeout: float = FLASK_TIMEOUT) -> str:
    """Run ``flask --app web ARGS`` with env from the repository root; return its output."""
    done = subprocess.run(
        [venv_bin("flask"), "--app", "web", *args],
        cwd=ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"flask --app web {' '.join(args)} failed ({done.returncode}):\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def healthy(url: str, timeout: float = HEALTH_TIMEOUT) -> bool:
    """Whether ``GET url/health`` answers 200."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Gunicorn:
    """gunicorn serving ``web:create_app()`` with web/gunicorn_conf.py on a free port.

    env is the whole environment of the server (HOST and PORT are set here); the log goes
    to ``log_dir/<label>-<port>.log``. Use as a context manager, or start() and stop().
    """

    def __init__(
        self,
        env: Mapping[str, str],
        log_dir: Path,
        *,
        label: str = "gunicorn",
        start_timeout: float = START_TIMEOUT,
        stop_timeout: float = STOP_TIMEOUT,
        attempts: int = START_ATTEMPTS,
    ) -> None:
        self.base_env = dict(env)
        self.env = dict(env)  # with HOST and PORT once started
        self.log_dir = log_dir
        self.label = label
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.attempts = attempts
        self.port = 0
        self.url = ""
        self.log_path: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ready(self) -> bool:
        """Whether the server may be used: ``/health`` answers 200 (subclasses may ask more)."""
        return healthy(self.url)

    def start(self) -> None:
        """Start gunicorn and wait until ready(); RuntimeError with the log tail if not."""
        for attempt in range(1, self.attempts + 1):
            self.port = processes.free_port()
            self.url = f"http://{HOST}:{self.port}"
            self.env = {**self.base_env, "HOST": HOST, "PORT": str(self.port)}
            self.log_path = self.log_dir / f"{self.label}-{self.port}.log"
            self.process = process = processes.start(
                [venv_bin("gunicorn"), "--config", CONFIG, APP],
                self.log_path,
                env=self.env,
                cwd=ROOT,
            )
            try:
                outcome = processes.wait_until(self.ready, self.start_timeout, process, 0.2)
            except BaseException:
                self.stop()
                raise
            if outcome is Wait.READY:
                return
            tail = self.log_tail()
            self.stop()
            if outcome is Wait.TIMED_OUT:
                raise RuntimeError(
                    f"gunicorn did not answer 200 on {self.url}/health within "
                    f"{self.start_timeout:.0f} s\n{tail}"
                )
            if "Address already in use" in tail and attempt < self.attempts:
                continue
            raise RuntimeError(
                f"gunicorn exited with code {process.returncode} before answering on "
                f"{self.url}\n{tail}"
            )

    def stop(self) -> None:
        """SIGTERM the server's process group, wait (bounded), then SIGKILL what is left."""
        process, self.process = self.process, None
        if process is not None:
            processes.stop_group(process, self.stop_timeout)

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log."""
        if self.log_path is None:
            return ""
        return processes.log_tail(self.log_path, lines=lines)
