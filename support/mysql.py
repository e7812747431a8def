"""A MariaDB/MySQL server for the test suite and the benchmark, and databases on it.

``mysql_server()`` uses TEST_MYSQL_URL, else the server at 127.0.0.1:3306, else starts a
private mariadbd; ``create_database`` / ``drop_database`` make and remove a uniquely named
database. A server that cannot start raises RuntimeError with the tail of its log (never a
skip).

Environment variables:
    TEST_MYSQL_URL      base URL of an existing server ('mysql+pymysql://user:pw@host:port')
    TEST_MYSQL_PRIVATE  '1' to always start a private mariadbd (ignores TEST_MYSQL_URL and :3306)
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import pymysql

from support import processes
from support.processes import HOST, Wait, log_tail

DEFAULT_MYSQL_PORT = 3306

MYSQL_START_TIMEOUT = 30.0
MYSQL_STOP_TIMEOUT = 20.0
MYSQL_URL_TIMEOUT = 15.0  # for a TEST_MYSQL_URL server to answer

# Where mariadbd / mariadb-install-db may live besides PATH (/usr/sbin is often not on PATH).
_MARIADB_DIRS: tuple[str, ...] = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")

_DB_NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def _connect_args(url: str) -> dict[str, object]:
    """Turn a mysql URL into pymysql.connect keyword arguments (without a database)."""
    parts = urlsplit(url)
    return {
        "host": parts.hostname or HOST,
        "port": parts.port or DEFAULT_MYSQL_PORT,
        "user": unquote(parts.username) if parts.username else "root",
        "password": unquote(parts.password) if parts.password else "",
    }


def _mysql_connect(url: str, timeout: float = 5.0) -> pymysql.connections.Connection:
    """Open a pymysql connection to the server of url (no database selected)."""
    return pymysql.connect(
        **_connect_args(url),  # type: ignore[arg-type]
        connect_timeout=max(1, int(timeout)),
        read_timeout=30,
        write_timeout=30,
        charset="utf8mb4",
        autocommit=True,
    )


def _mysql_answers(url: str, timeout: float = 2.0) -> bool:
    """Return True if a server at url accepts a login and answers SELECT 1."""
    try:
        conn = _mysql_connect(url, timeout)
    except (pymysql.MySQLError, OSError):
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone() == (1,)
    except (pymysql.MySQLError, OSError):
        return False
    finally:
        with contextlib.suppress(pymysql.MySQLError, OSError):
            conn.close()


def _base_url(host: str, port: int, user: str = "root") -> str:
    """Build the base SQLAlchemy URL of a server."""
    return f"mysql+pymysql://{user}@{host}:{port}"


def _env_true(name: str) -> bool:
    """Return True if the environment variable is set to a true-ish value."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@contextlib.contextmanager
def mysql_server(private: bool | None = None) -> Iterator[str]:
    """Yield a base URL 'mysql+pymysql://root@127.0.0.1:PORT' of a MariaDB/MySQL server.

    If env TEST_MYSQL_URL is set, use it as is (no database part). Else if a server answers at
    127.0.0.1:3306 as root with empty password, use that. Else start a private mariadbd on a
    free port in a temp dir and stop it (and remove the dir) on exit. private=True (or env
    TEST_MYSQL_PRIVATE=1) always starts the private server.
    """
    if private is None:
        private = _env_true("TEST_MYSQL_PRIVATE")
    if not private:
        env_url = os.environ.get("TEST_MYSQL_URL", "").strip()
        if env_url:
            env_url = env_url.rstrip("/")
            parts = urlsplit(env_url)
            if parts.path.strip("/") or not parts.hostname:
                raise RuntimeError(
                    f"TEST_MYSQL_URL must be 'mysql+pymysql://user[:pw]@host[:port]' without a "
                    f"database part, got {env_url!r}"
                )
            answered = processes.wait_until(
                lambda: _mysql_answers(env_url), MYSQL_URL_TIMEOUT, interval=0.5
            )
            if answered is not Wait.READY:
                raise RuntimeError(
                    f"TEST_MYSQL_URL={env_url!r} does not answer ({MYSQL_URL_TIMEOUT:.0f} s)"
                )
            yield env_url
            return
        local = _base_url(HOST, DEFAULT_MYSQL_PORT)
        if _mysql_answers(local):
            yield local
            return
    with _private_mariadb() as url:
        yield url


@contextlib.contextmanager
def _private_mariadb() -> Iterator[str]:
    """Start a throw-away mariadbd on a free loopback port; yield its base URL."""
    with private_mariadb() as (url, _service):
        yield url


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether the server of url accepts a login and answers SELECT 1."""
    return _mysql_answers(url, timeout)


@contextlib.contextmanager
def private_mariadb() -> Iterator[tuple[str, processes.Service]]:
    """A throw-away mariadbd on a free loopback port: its base URL and its process (which
    the fault tests kill, freeze and start again)."""
    mariadbd = processes.find_executable("mariadbd", _MARIADB_DIRS)
    install_db = processes.find_executable("mariadb-install-db", _MARIADB_DIRS)
    if mariadbd is None or install_db is None:
        missing = "mariadbd" if mariadbd is None else "mariadb-install-db"
        raise RuntimeError(
            f"{missing} not found (PATH, {', '.join(_MARIADB_DIRS)}): no MySQL/MariaDB server at "
            f"{HOST}:{DEFAULT_MYSQL_PORT} either; apt-get install mariadb-server "
            "(or set TEST_MYSQL_URL)"
        )
    tmp = Path(tempfile.mkdtemp(prefix="imgrepo-mariadb-"))
    service: processes.Service | None = None
    try:
        port = processes.free_port()
        datadir = tmp / "data"
        error_log = tmp / "error.log"
        out_log = tmp / "mariadbd.out"
        install_log = tmp / "install.log"
        # Our own option file: the system's /etc/mysql/my.cnf (user=mysql, log-error under
        # /var/log/mysql, the system socket and pid file) must not leak into this server.
        cnf = tmp / "my.cnf"
        cnf.write_text(
            "[mysqld]\n"
            f"datadir={datadir}\n"
            f"port={port}\n"
            f"socket={tmp / 's.sock'}\n"
            f"pid-file={tmp / 'mariadbd.pid'}\n"
            f"log-error={error_log}\n"
            f"bind-address={HOST}\n"
            "user=root\n"
            "skip-name-resolve\n"
            "skip-log-bin\n"
            "character-set-server=utf8mb4\n"
            "collation-server=utf8mb4_unicode_ci\n"
            "innodb_log_file_size=48M\n"
        )
        with install_log.open("wb") as log:
            try:
                result = subprocess.run(
                    [
                        install_db,
                        f"--defaults-file={cnf}",
                        f"--datadir={datadir}",
                        "--auth-root-authentication-method=normal",
                        "--user=root",
                        "--skip-test-db",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=120,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(
                    f"mariadb-install-db did not finish in 120 s\n{log_tail(install_log)}"
                ) from exc
        if result.returncode != 0:
            raise RuntimeError(
                f"mariadb-install-db failed (exit {result.returncode})\n{log_tail(install_log)}"
            )
        service = processes.Service([mariadbd, f"--defaults-file={cnf}"], out_log)
        proc = service.start()
        url = _base_url(HOST, port)
        outcome = processes.wait_until(
            lambda: _mysql_answers(url, timeout=1.0), MYSQL_START_TIMEOUT, proc
        )
        if outcome is Wait.EXITED:
            raise RuntimeError(
                f"mariadbd exited with code {proc.returncode} before answering on port "
                f"{port}\n{log_tail(error_log, out_log)}"
            )
        if outcome is Wait.TIMED_OUT:
            raise RuntimeError(
                f"mariadbd did not answer on {HOST}:{port} within {MYSQL_START_TIMEOUT:.0f} s"
                f"\n{log_tail(error_log, out_log)}"
            )
        yield url, service
    finally:
        if service is not None:
            service.stop(MYSQL_STOP_TIMEOUT)
        shutil.rmtree(tmp, ignore_errors=True)


def _database_name(url: str) -> str:
    """Return the (validated) database name in a mysql URL."""
    name = unquote(urlsplit(url).path.strip("/"))
    if not _DB_NAME_RE.match(name):
        raise ValueError(f"no valid database name in {url!r}")
    return name


def create_database(base_url: str) -> str:
    """Create database 'imgrepo_test_<uuid hex>' (utf8mb4) and return its full URL."""
    parts = urlsplit(base_url.rstrip("/"))
    if parts.path.strip("/"):
        raise ValueError(f"base_url must not name a database: {base_url!r}")
    name = f"imgrepo_test_{uuid.uuid4().hex}"
    conn = _mysql_connect(base_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        conn.close()
    query = dict(parse_qsl(parts.query))
    query.setdefault("charset", "utf8mb4")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", urlencode(query), ""))


def drop_database(url: str) -> None:
    """Drop the database named in url (IF EXISTS)."""
    name = _database_name(url)
    conn = _mysql_connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()
