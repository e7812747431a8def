"""A private redis-server for the fault tests (never the shared one at 127.0.0.1:6379).

``private_redis()`` starts ``redis-server`` on a free loopback port with no persistence in
a temp dir, waits (bounded) until it answers PING, and yields its URL and its process
(which the fault tests kill, freeze and start again). Debian's ``redis-server`` package
provides the binary (.ci/system-deps.sh installs it where missing).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import redis

from support import processes
from support.processes import HOST, Wait, log_tail

REDIS_START_TIMEOUT = 15.0
REDIS_STOP_TIMEOUT = 5.0


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether the Redis at url answers PING within timeout seconds."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


@contextlib.contextmanager
def private_redis() -> Iterator[tuple[str, processes.Service]]:
    """A throw-away redis-server on a free loopback port: its URL and its process."""
    binary = processes.find_executable("redis-server", ("/usr/bin", "/usr/local/bin"))
    if binary is None:
        raise RuntimeError("redis-server not found: apt-get install redis-server")
    tmp = Path(tempfile.mkdtemp(prefix="imgrepo-redis-"))
    service: processes.Service | None = None
    try:
        port = processes.free_port()
        url = f"redis://{HOST}:{port}/0"
        service = processes.Service(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp),
                "--daemonize",
                "no",
            ],
            tmp / "redis.log",
        )
        proc = service.start()
        outcome = processes.wait_until(lambda: answers(url), REDIS_START_TIMEOUT, proc)
        if outcome is not Wait.READY:
            raise RuntimeError(
                f"redis-server did not answer on {url} ({outcome.value})\n"
                f"{log_tail(tmp / 'redis.log')}"
            )
        yield url, service
    finally:
        if service is not None:
            service.stop(REDIS_STOP_TIMEOUT)
        shutil.rmtree(tmp, ignore_errors=True)
