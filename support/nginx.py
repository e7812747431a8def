"""Debian's nginx in front of the test's instances, with the scale-out deployment's config.

``Nginx`` renders docker/nginx-scale.conf for this machine (``scale_config``: the
instances and the object store of the caller instead of web1..3 and minio1..4, a free
loopback port instead of 80) inside a minimal main config whose pid, logs and temp files
stay in a temp dir, runs ``nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'`` in its own
process group, waits (bounded) until a request through it answers, and stops the group.
``.ci/system-deps.sh`` installs nginx where it is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from support import processes
from support.processes import HOST, Wait, log_tail

ROOT = Path(__file__).resolve().parents[1]
SCALE_CONF = ROOT / "docker" / "nginx-scale.conf"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
START_ATTEMPTS = 3  # a new port each time if the chosen one was taken first

MAIN_CONF = """\
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 65;
{site}
}}
"""


def _upstream(conf: str, name: str, addresses: Sequence[str]) -> tuple[str, str]:
    """conf with the servers of ``upstream name`` replaced by ``addresses`` (each with
    the parameters of the first server it had); and the first address it had."""
    block = re.search(rf"upstream {name} \{{(.*?)\}}", conf, re.S)
    if block is None:
        raise RuntimeError(f"{SCALE_CONF} has no upstream {name}")
    servers = list(re.finditer(r"^(\s*)server (\S+?)( [^;]*)?;\n", block.group(1), re.M))
    if not servers:
        raise RuntimeError(f"{SCALE_CONF}: upstream {name} has no server")
    indent, first, params = servers[0].group(1), servers[0].group(2), servers[0].group(3) or ""
    lines = "".join(f"{indent}server {address}{params};\n" for address in addresses)
    body = block.group(1)
    body = body[: servers[0].start()] + lines + body[servers[-1].end() :]
    return conf[: block.start(1)] + body + conf[block.end(1) :], first


def scale_config(port: int, instances: Sequence[str], s3_endpoint: str) -> str:
    """docker/nginx-scale.conf for this machine: ``instances`` ('host:port') behind
    127.0.0.1:``port``, and ``s3_endpoint`` as the object store and its signed Host."""
    conf = SCALE_CONF.read_text()
    conf, _ = _upstream(conf, "imgrepo", instances)
    conf, store = _upstream(conf, "imgrepo_s3", [s3_endpoint])
    conf = conf.replace(f"Host {store};", f"Host {s3_endpoint};")
    conf, listens = re.subn(r"^(\s*)listen 80;$", rf"\1listen {HOST}:{port};", conf, flags=re.M)
    if listens != 1:
        raise RuntimeError(f"{SCALE_CONF} must listen on port 80 exactly once")
    return conf


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether ``GET url/health`` through nginx answers at all (any status)."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout):  # noqa: S310
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


class Nginx:
    """nginx with scale_config() on a free loopback port; a context manager."""

    def __init__(self, instances: Sequence[str], s3_endpoint: str, workers: int = 1) -> None:
        self.instances = list(instances)
        self.s3_endpoint = s3_endpoint
        self.workers = workers
        self.dir = Path(tempfile.mkdtemp(prefix="imgrepo-nginx-"))
        self.dir.chmod(0o755)  # run by root, nginx's workers are nobody: they keep bodies here
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Nginx:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self) -> None:
        binary = processes.find_executable("nginx", ("/usr/sbin", "/usr/local/sbin"))
        if binary is None:
            raise RuntimeError("nginx not found: apt-get install nginx (.ci/system-deps.sh)")
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = processes.free_port()
            self.url = f"http://{HOST}:{self.port}"
            site = scale_config(self.port, self.instances, self.s3_endpoint)
            conf = self.dir / "nginx.conf"
            conf.write_text(MAIN_CONF.format(workers=self.workers, dir=self.dir, site=site))
            cmd = [binary, "-p", str(self.dir), "-e", str(self.dir / "error.log")]
            cmd += ["-c", str(conf), "-g", "daemon off;"]
            self.process = process = processes.start(cmd, self.dir / "nginx.out")
            outcome = processes.wait_until(lambda: answers(self.url), START_TIMEOUT, process)
            if outcome is Wait.READY:
                return
            tail = self.log_tail()
            self.stop()
            if "Address already in use" in tail and attempt < START_ATTEMPTS:
                continue
            raise RuntimeError(f"nginx did not answer on {self.url} ({outcome.value})\n{tail}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            processes.stop_group(process, STOP_TIMEOUT)

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.dir / "nginx.out", self.dir / "error.log", lines=lines)
