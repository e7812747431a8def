"""What the benchmark starts: a backend (embedded or mysql-s3) and gunicorn serving the app.

Every process is started in its own session (process group) and stopped with SIGTERM,
then SIGKILL after a bounded wait, so that nothing outlives the run.
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

from tests import services
from web import config as web_config

from . import machine

ROOT = machine.ROOT
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
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
    s3: services.S3Server | None
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
    name: str, mysql_base: str | None = None, s3: services.S3Server | None = None
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
            database_url = services.create_database(mysql_base)
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
                services.drop_database(database_url)
        if name == MYSQL_S3 and s3 is not None:
            _remove_buckets(s3, (f"benchpub-{token}", f"bu{token}-", f"benchraw-{token}"))
        shutil.rmtree(workdir, ignore_errors=True)


def migrate(be: Backend) -> None:
    """``flask --app web upgrade-db`` with the backend's environment."""
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "web", "upgrade-db"],
        cwd=ROOT,
        env=be.env(),
        capture_output=True,
        text=True,
        timeout=MIGRATE_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"flask upgrade-db failed on {be.name} (exit {result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )


def raw_bucket(be: Backend) -> str:
    """The bucket of the raw-PUT baseline (removed with the backend's buckets)."""
    return "benchraw-" + be.public_bucket.split("-", 1)[1]


def minio_client(s3: services.S3Server, pool: int = 32):  # noqa: ANN201 - minio.Minio
    return services.minio_client(s3, read=60.0, pool=pool)


def _remove_buckets(s3: services.S3Server, prefixes: tuple[str, ...]) -> None:
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


class Server:
    """gunicorn serving ``web:create_app()`` with web/gunicorn_conf.py on a free port."""

    def __init__(self, be: Backend, workers: int = 2, label: str = "app", **env: str) -> None:
        self.port = services.free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.workers = workers
        self.log_path = be.workdir / f"gunicorn-{label}-{self.port}.log"
        self.env = be.env(HOST=HOST, PORT=str(self.port), GUNICORN_WORKERS=str(workers), **env)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--config",
                    "web/gunicorn_conf.py",
                    "web:create_app()",
                ],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with code {self.proc.returncode}\n{self.log_tail()}"
                )
            if len(self.worker_pids()) == self.workers and self._healthy():
                break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not become healthy in time\n{self.log_tail()}")
            time.sleep(0.1)
        # Every worker imports the app lazily on its first requests: warm them all.
        with requests.Session() as session:
            for _ in range(10 * self.workers):
                session.get(self.url + "/", timeout=10)
                session.get(self.url + "/health", timeout=10)

    def _healthy(self) -> bool:
        try:
            return requests.get(self.url + "/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    @property
    def master_pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def worker_pids(self) -> list[int]:
        return machine.children(self.master_pid) if self.proc else []

    def all_pids(self) -> list[int]:
        return [self.master_pid, *self.worker_pids()]

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # Workers are in the master's process group; make sure none is left behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


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
