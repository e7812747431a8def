"""The application served by a real gunicorn process, as `make run` serves it.

``live_server`` migrates a fresh data directory with ``flask --app web upgrade-db``, starts
gunicorn on a free loopback port, waits (bounded) until ``/health`` answers 200, and stops
the server at the end: SIGTERM, a bounded wait, then SIGKILL for the whole process group.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.services import free_port
from web.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
MAX_UPLOAD_MB = 2
START_ATTEMPTS = 3  # a new port each time if the chosen one was taken before gunicorn bound it


def venv_bin(name: str) -> str:
    """A program of the virtual environment running the tests (normally .venv/bin)."""
    for folder in (Path(sys.executable).parent, ROOT / ".venv" / "bin"):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise RuntimeError(f"{name} not found in {Path(sys.executable).parent} nor in .venv/bin")


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    def flask(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """Run ``flask --app web ARGS`` on this server's settings; return its output."""
        return run_flask(list(args), {**self.env, **(env or {})})

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(log unreadable: {exc})"
        return "\n".join(text.splitlines()[-lines:])


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


def run_flask(args: list[str], env: Mapping[str, str]) -> str:
    done = subprocess.run(
        [venv_bin("flask"), "--app", "web", *args],
        cwd=ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"flask --app web {' '.join(args)} failed ({done.returncode}):\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM gunicorn's master, wait, then SIGKILL its process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # workers left behind, if any
    if process.poll() is None:
        process.wait(timeout=10)


@contextlib.contextmanager
def live_server(workdir: Path, extra_env: Mapping[str, str] | None = None) -> Iterator[LiveServer]:
    data_dir = workdir / "data"
    env = server_env(data_dir, extra_env)
    run_flask(["upgrade-db"], env)
    for attempt in range(1, START_ATTEMPTS + 1):
        port = free_port()
        env["PORT"] = str(port)
        log_path = workdir / f"gunicorn-{attempt}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [venv_bin("gunicorn"), "--config", "web/gunicorn_conf.py", "web:create_app()"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = LiveServer(f"http://{HOST}:{port}", data_dir, log_path, process, dict(env))
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not _healthy(server.url):
                if process.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gunicorn did not answer 200 on {server.url}/health within "
                        f"{START_TIMEOUT:.0f} s\n{server.log_tail()}"
                    )
                time.sleep(0.2)
            else:
                yield server
                return
            if "Address already in use" in server.log_tail() and attempt < START_ATTEMPTS:
                continue
            raise RuntimeError(
                f"gunicorn exited with code {process.returncode} before answering on "
                f"{server.url}\n{server.log_tail()}"
            )
        finally:
            _stop(process)
    raise AssertionError("unreachable")
