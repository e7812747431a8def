"""Child processes of the test suite and the benchmark: start, wait until ready, stop.

Every process is started in its own session (so its own process group) with its output in a
log file; every wait is bounded; stopping sends SIGTERM to the whole group, waits (bounded),
then SIGKILLs whatever is left of the group, so that nothing outlives its user.
"""

from __future__ import annotations

import contextlib
import enum
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

HOST = "127.0.0.1"
KILL_TIMEOUT = 10.0  # after SIGKILL
LOG_TAIL_BYTES = 16384


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def find_executable(name: str, extra_dirs: Sequence[str] = ()) -> str | None:
    """Find name on PATH or in extra_dirs."""
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def start(
    cmd: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
) -> subprocess.Popen[bytes]:
    """Start cmd in a new session (its own process group), stdout and stderr to log_path."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
            cwd=cwd,
            start_new_session=True,
        )


class Wait(enum.Enum):
    """How a bounded wait ended."""

    READY = "ready"
    EXITED = "exited"  # the process ended before it was ready
    TIMED_OUT = "timed out"


def wait_until(
    ready: Callable[[], bool],
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
    interval: float = 0.1,
) -> Wait:
    """Poll ready() every interval seconds until it returns True, proc (if any) exits, or
    timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            return Wait.READY
        if proc is not None and proc.poll() is not None:
            return Wait.EXITED
        if time.monotonic() > deadline:
            return Wait.TIMED_OUT
        time.sleep(interval)


def stop_group(proc: subprocess.Popen[bytes], term_timeout: float) -> None:
    """SIGTERM the process group led by proc, wait up to term_timeout, then SIGKILL the group
    (also what is left of it when the leader is gone, e.g. workers of a gunicorn master)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=term_timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        proc.wait(timeout=KILL_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"process {proc.pid} ({proc.args!r}) survived SIGKILL") from exc


def log_tail(*paths: Path, lines: int = 40) -> str:
    """Return the last lines of the given log files, for error messages."""
    parts = []
    for path in paths:
        try:
            with path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - LOG_TAIL_BYTES))
                text = fh.read().decode("utf-8", errors="replace")
        except OSError as exc:
            parts.append(f"--- {path}: unreadable ({exc})")
            continue
        tail = "\n".join(text.splitlines()[-lines:])
        parts.append(f"--- last lines of {path}:\n{tail}")
    return "\n".join(parts)


class Service:
    """A server process that a fault test may kill, freeze (SIGSTOP), thaw (SIGCONT) and
    start again with the same command line (same ports, same data)."""

    def __init__(
        self,
        cmd: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
    ) -> None:
        self.cmd = list(cmd)
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        self.proc = start(self.cmd, self.log_path, env=self.env, cwd=self.cwd)
        return self.proc

    def _signal(self, signum: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signum)

    def freeze(self) -> None:
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL the whole group and wait until it is gone."""
        if self.proc is not None:
            self._signal(signal.SIGKILL)
            self.proc.wait(timeout=KILL_TIMEOUT)

    def stop(self, term_timeout: float) -> None:
        if self.proc is not None:
            self._signal(signal.SIGCONT)  # a frozen process cannot act on SIGTERM
            stop_group(self.proc, term_timeout)
            self.proc = None
