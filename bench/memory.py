"""Memory: 16 concurrent 20 MB uploads against the shipped server settings.

The server is the one every other row uses (``web/gunicorn_conf.py``: gthread workers,
4 threads each; ``MAX_UPLOAD_MB=20``, ``THUMB_CACHE_MB`` at its default). Each upload is
a real JPEG made unique by a comment and padded with zeros after its end to the size
asked for: a valid image the app accepts and stores. The bodies are streamed from
files, so this client holds none of them. Before the uploads each worker's peak is reset
(``echo 5 > /proc/<pid>/clear_refs``); after them its ``VmHWM`` (the kernel's peak
resident set, from ``/proc/<pid>/status``) is that worker's peak.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from . import client, machine, phases, stack
from .stats import summary_ms

BOUND_MB = 400  # the stated bound on each worker's peak RSS (shipped settings)


def _body(path: Path, user: client.User, photo: bytes, total: int, n: int) -> str:
    """A multipart body of one ``total``-byte JPEG at ``path``; returns its boundary."""
    boundary = "----bench" + secrets.token_hex(12)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f"{user.csrf_token}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="visibility"\r\n\r\n'
        "private\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="mem-{n}-{secrets.token_hex(3)}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    with path.open("wb") as out:
        out.write(head)
        out.write(photo)
        left = total - len(photo)
        chunk = b"\0" * (1 << 20)
        while left > 0:
            out.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
        out.write(f"\r\n--{boundary}--\r\n".encode())
    return boundary


def memory(
    server: stack.Server,
    be: stack.Backend,
    owner: client.User,
    photos: list[phases.Photo],
    uploads: int,
    size_mb: int,
) -> dict[str, Any]:
    photo = max(phases.jpegs(photos), key=lambda p: len(p.data))
    total = size_mb * 1_000_000
    bodies = []
    for n in range(uploads):
        path = be.workdir / f"memory-{n}.bin"
        bodies.append((path, _body(path, owner, phases.variant(photo, 50_000 + n), total, n)))
    workers = server.worker_pids()
    idle = {pid: machine.memory_kib(pid)[0] / 1024 for pid in workers}
    reset = all(machine.reset_peak(pid) for pid in workers)
    statuses: list[int] = [0] * uploads
    seconds: list[float] = [0.0] * uploads

    def body(i: int) -> None:
        path, boundary = bodies[i]
        with owner.clone().session as session, path.open("rb") as handle:
            started = time.perf_counter()
            answer = session.post(
                server.url + "/myfiles",
                data=handle,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                allow_redirects=False,
                timeout=client.TIMEOUT,
            )
            seconds[i] = time.perf_counter() - started
            statuses[i] = answer.status_code

    try:
        with phases.meter(server, be) as cpu:
            wall = phases.run_threads(uploads, body)
    finally:
        for path, _boundary in bodies:
            path.unlink(missing_ok=True)
    peaks = {pid: machine.memory_kib(pid)[1] / 1024 for pid in workers}
    if any(s != 303 for s in statuses):
        raise client.BenchError(f"20 MB uploads answered {sorted(set(statuses))}, not all 303")
    return {
        "uploads": uploads,
        "size_mb": size_mb,
        "workers": len(workers),
        "peak_reset": reset,
        "idle_rss_mb": idle,
        "peak_hwm_mb": peaks,
        "max_peak_mb": max(peaks.values()),
        "max_rise_mb": max(peaks[pid] - idle[pid] for pid in workers),
        "bound_mb": BOUND_MB,
        "wall_s": wall,
        "upload_s": summary_ms(seconds),
        "cpu": cpu.result,
    }
