"""What several instances share in the fault and scale-out tests: a private MariaDB (with a
fresh database), a private SeaweedFS and a private Redis, each a process the tests may
kill, freeze and start again, and the environment that points the instances at them."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from support import mysql, processes, s3
from support.redis import answers as redis_answers
from support.redis import private_redis


@dataclass
class Shared:
    env: dict[str, str]  # the instances' whole environment
    # "database", "object_store", "redis" -> (its process, whether it answers now)
    services: dict[str, tuple[processes.Service, Callable[[], bool]]]
    s3: s3.S3Server


@contextlib.contextmanager
def shared_services(data_dir: Path, **settings: str) -> Iterator[Shared]:
    """Start the three; yield them with the environment (the caller's minus TEST_* and
    GUNICORN_*, plus where they answer, a SECRET_KEY, DATA_DIR and ``settings``)."""
    with contextlib.ExitStack() as stack:
        base_url, mariadb = stack.enter_context(mysql.private_mariadb())
        database_url = mysql.create_database(base_url)
        server, weed = stack.enter_context(s3.private_s3())
        redis_url, redis_server = stack.enter_context(private_redis())
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "GUNICORN_"))},
            "DATABASE_URL": database_url,
            "S3_ENDPOINT": server.endpoint,
            "S3_ACCESS_KEY": server.access_key,
            "S3_SECRET_KEY": server.secret_key,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_hex(32),
            "DATA_DIR": str(data_dir),
            **settings,
        }
        services = {
            "database": (mariadb, lambda: mysql.answers(base_url)),
            "object_store": (weed, lambda: s3.ready(server)),
            "redis": (redis_server, lambda: redis_answers(redis_url)),
        }
        yield Shared(env, services, server)
