"""What the benchmark starts: a backend (embedded or mysql-s3) and gunicorn serving the app.

Every process is started in its own session (process group) and stopped with SIGTERM,
then SIGKILL after a bounded wait, so that nothing outlives the run (``support.processes``;
the servers themselves come from ``support.mysql``, ``support.s3`` and ``support.gunicorn``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from support import gunicorn, mysql
from support.s3 import S3Server
from support.s3 import minio_client as s3_minio_client
from web import config as web_config

from . import machine

ROOT = machine.ROOT
BIN = Path(sys.executable).parent
EMBEDDED, MYSQL_S3 = "embedded", "mysql-s3"
BACKENDS = (EMBEDDED, MYSQL_S3)
SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 30.0
MIGRATE_TIMEOUT = 120.0


@dataclass
class Backend:
    """One backend's settings and the places the benchmark uses beside it."""

    name: str
    workdir: Path
    data_dir: Path
    database_url: str
    s3: S3Server | None
    public_bucket: str
    user_prefix: str
    raw_dir: Path  # baseline writes of the embedded backend go here (same filesystem)
    settings: dict[str, str] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a server or CLI command on this backend."""
        env = {k: v for k, v in os.environ.items() if k not in web_config.SETTINGS}
        env.update(self.settings)
        env.update(extra)
        return env

    def app_overrides(self) -> dict[str, object]:
        """The same settings for ``create_app`` inside this process (service-layer timing)."""
        return web_config.from_environment(self.settings)


@contextlib.contextmanager
def backend(
    name: str, mysql_base: str | None = None, s3: S3Server | None = None
) -> Iterator[Backend]:
    """A fresh backend: a temp DATA_DIR, and for mysql-s3 a fresh database and buckets."""
    workdir = Path(tempfile.mkdtemp(prefix=f"imgrepo-bench-{name}-"))
    token = secrets.token_hex(3)
    database_url = ""
    try:
        data_dir = workdir / "data"
        raw_dir = workdir / "raw"
        data_dir.mkdir()
        raw_dir.mkdir()
        settings = {
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": secrets.token_hex(32),
            "MAX_UPLOAD_MB": "20",
            "RATELIMIT_ENABLED": "false",
            "PUBLIC_BUCKET": f"benchpub-{token}",
            "USER_BUCKET_PREFIX": f"bu{token}-",
        }
        if name == MYSQL_S3:
            if mysql_base is None or s3 is None:
                raise ValueError("the mysql-s3 backend needs a MySQL server and an S3 server")
            database_url = mysql.create_database(mysql_base)
            settings.update(
                DATABASE_URL=database_url,
                S3_ENDPOINT=s3.endpoint,
                S3_ACCESS_KEY=s3.access_key,
                S3_SECRET_KEY=s3.secret_key,
            )
        else:
            settings["DATABASE_URL"] = f"sqlite:///{data_dir / 'imgrepo.sqlite3'}"
        be = Backend(
            name=name,
            workdir=workdir,
            data_dir=data_dir,
            database_url=settings["DATABASE_URL"],
            s3=s3 if name == MYSQL_S3 else None,
            public_bucket=settings["PUBLIC_BUCKET"],
            user_prefix=settings["USER_BUCKET_PREFIX"],
            raw_dir=raw_dir,
            settings=settings,
        )
        migrate(be)
        yield be
    finally:
        if database_url:
            with contextlib.suppress(Exception):
                mysql.drop_database(database_url)
        if name == MYSQL_S3 and s3 is not None:
            _remove_buckets(s3, (f"benchpub-{token}", f"bu{token}-", f"benchraw-{token}"))
        shutil.rmtree(workdir, ignore_errors=True)


def migrate(be: Backend) -> None:
    """``flask --app web upgrade-db`` with the backend's environment."""
    gunicorn.run_flask(["upgrade-db"], be.env(), timeout=MIGRATE_TIMEOUT)


def raw_bucket(be: Backend) -> str:
    """The bucket of the raw-PUT baseline (removed with the backend's buckets)."""
    return "benchraw-" + be.public_bucket.split("-", 1)[1]


def minio_client(s3: S3Server, pool: int = 32):
    return s3_minio_client(s3, read=60.0, pool=pool)


def _remove_buckets(s3: S3Server, prefixes: tuple[str, ...]) -> None:
    """Remove the run's buckets and their objects (matters on a shared TEST_S3_ENDPOINT)."""
    try:
        client = minio_client(s3)
        for bucket in client.list_buckets():
            if not bucket.name.startswith(prefixes):
                continue
            for obj in client.list_objects(bucket.name, recursive=True):
                if obj.object_name:
                    client.remove_object(bucket.name, obj.object_name)
            client.remove_bucket(bucket.name)
    except Exception as exc:  # noqa: BLE001 - best effort: the server may be gone already
        print(f"  (could not remove the benchmark's buckets: {exc})", file=sys.stderr)


class Server(gunicorn.Gunicorn):
    """gunicorn serving ``web:create_app()`` with web/gunicorn_conf.py on a free port.

    Ready once every worker runs and ``/health`` answers 200; then every worker is warmed.
    """

    def __init__(self, be: Backend, workers: int = 2, label: str = "app", **env: str) -> None:
        super().__init__(
            be.env(GUNICORN_WORKERS=str(workers), **env),
            be.workdir,
            label=f"gunicorn-{label}",
            start_timeout=SERVER_START_TIMEOUT,
            stop_timeout=SERVER_STOP_TIMEOUT,
        )
        self.workers = workers

    def __enter__(self) -> Server:
        self.start()
        return self

    def ready(self) -> bool:
        return len(self.worker_pids()) == self.workers and super().ready()

    def start(self) -> None:
        super().start()
        # Every worker imports the app lazily on its first requests: warm them all.
        try:
            with requests.Session() as session:
                for _ in range(10 * self.workers):
                    session.get(self.url + "/", timeout=10)
                    session.get(self.url + "/health", timeout=10)
        except BaseException:
            self.stop()  # __exit__ does not run when __enter__ fails
            raise

    @property
    def master_pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def worker_pids(self) -> list[int]:
        return machine.children(self.master_pid) if self.process else []

    def all_pids(self) -> list[int]:
        return [self.master_pid, *self.worker_pids()]


@contextlib.contextmanager
def profiler(pids: list[int], out: Path | None, seconds_hint: float = 0) -> Iterator[None]:
    """Record a py-spy profile (collapsed stacks) of ``pids`` while the block runs.

    Does nothing when ``out`` is None. Needs py-spy (requirements-dev.txt) and ptrace.
    """
    if out is None:
        yield
        return
    spy = BIN / "py-spy"
    if not spy.exists():
        found = shutil.which("py-spy")
        if not found:
            print("  (py-spy not installed: no profile)", file=sys.stderr)
            yield
            return
        spy = Path(found)
    out.parent.mkdir(parents=True, exist_ok=True)
    procs = []
    for pid in pids:
        target = out.with_name(f"{out.stem}-pid{pid}.txt")
        procs.append(
            subprocess.Popen(
                [
                    str(spy),
                    "record",
                    "--pid",
                    str(pid),
                    "--format",
                    "raw",
                    "--rate",
                    "250",
                    "--output",
                    str(target),
                    "--nonblocking",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    time.sleep(0.5)  # py-spy attaches
    try:
        yield
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
