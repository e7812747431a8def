"""Throughput by ``wrk``, the same HTTP client for the app and for its raw baselines.

``wrk`` (the Debian package; .ci/system-deps.sh installs it) runs a Lua script that
rotates over a list of request paths, each connection starting at its own place in the
list, and counts every answer other than 200. The app's rows send a logged-in session's
cookie and User-Agent; the raw S3 rows send presigned URLs to the object store; the raw
rows of the embedded backend ask nginx, serving the same object files, so that both
sides of every ratio use one client at one concurrency.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support import processes

THREADS = 2  # the machine's two cores; the connections are spread over them
SCRIPT = r"""
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  bad = 0
  i = id * 7919
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "not_200": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, b,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    base: str,
    paths: list[str],
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """GET ``paths`` (rotating) at ``base`` with ``connections`` for ``seconds``."""
    if not paths:
        raise ValueError("wrk needs at least one path")
    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk is not installed (make system-deps installs it)")
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script, listing = Path(tmp) / "rotate.lua", Path(tmp) / "paths.txt"
        script.write_text(SCRIPT)
        listing.write_text("\n".join(paths) + "\n")
        cmd = [
            exe,
            f"-t{min(THREADS, connections)}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
        ]
        for name, value in (headers or {}).items():
            cmd += ["-H", f"{name}: {value}"]
        cmd.append(base)
        done = subprocess.run(
            cmd,
            env={**os.environ, "WRK_PATHS": str(listing)},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    found = [line for line in done.stdout.splitlines() if line.startswith("WRKJSON ")]
    if done.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-400:]}")
    figures = json.loads(found[-1].split(" ", 1)[1])
    wall = figures["duration_us"] / 1e6
    return {
        "client": "wrk",
        "connections": connections,
        "distinct_paths": len(set(paths)),
        "requests": figures["requests"],
        "wall_s": wall,
        "per_s": figures["requests"] / wall if wall else 0.0,
        "mb_per_s": figures["bytes"] / 1e6 / wall if wall else 0.0,
        "not_200": figures["not_200"],
        "socket_errors": figures["socket_errors"],
        "p50_ms": figures["p50_us"] / 1000,
        "p95_ms": figures["p95_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
    }


NGINX_CONF = """
{user}
worker_processes 2;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location / {{ try_files $uri =404; }}
  }}
}}
"""


@contextmanager
def static_files(root: Path, workdir: Path) -> Iterator[str]:
    """nginx serving the files under ``root`` on a free port: the raw baseline of the
    embedded backend, whose store is a folder. Yields its base URL."""
    exe = processes.find_executable("nginx", ["/usr/sbin"])
    if exe is None:
        raise RuntimeError("nginx is not installed (make system-deps installs it)")
    conf_dir = workdir / "nginx"
    conf_dir.mkdir(exist_ok=True)
    port = processes.free_port()
    conf = conf_dir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            user="user root;" if os.geteuid() == 0 else "",
            dir=conf_dir,
            port=port,
            root=root,
        )
    )
    proc = processes.start(
        [exe, "-c", str(conf), "-p", str(conf_dir)], conf_dir / "out.log", cwd=conf_dir
    )
    url = f"http://{processes.HOST}:{port}"
    try:
        waited = processes.wait_until(lambda: _answers(url), 10.0, proc=proc)
        if waited is not processes.Wait.READY:
            log = processes.log_tail(conf_dir / "out.log", conf_dir / "error.log")
            raise RuntimeError(f"nginx did not start ({waited.value}): {log}")
        yield url
    finally:
        processes.stop_group(proc, term_timeout=10.0)


def _answers(url: str) -> bool:
    import requests

    try:
        requests.get(url + "/", timeout=1)
    except requests.RequestException:
        return False
    return True
