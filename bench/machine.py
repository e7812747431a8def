"""What machine the run is on, and where its CPU time goes (read from /proc)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def describe() -> dict[str, object]:
    """Cores, CPU model, memory, load, Python and the git state of the work tree."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_gib": round(mem_kb / 1024 / 1024, 1),
        "loadavg_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "git": _git_state(),
    }


def _git_state() -> dict[str, object]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    status = git("status", "--porcelain", "--", "web")
    return {"commit": git("rev-parse", "--short", "HEAD"), "web_dirty": bool(status)}


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by one process; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def children(pid: int) -> list[int]:
    """Direct children of a process (gunicorn's workers are the master's children)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found.extend(int(p) for p in text)
    except OSError:
        return found
    return sorted(set(found))


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB; (0, 0) when it is gone."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def reset_peak(pid: int) -> bool:
    """Reset a process's VmHWM to its current RSS (Linux clear_refs 5); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class CpuMeter:
    """CPU used during a block by the app server, this (client) process and the rest."""

    server_pids: list[int]
    start_wall: float = 0.0
    start_busy: float = 0.0
    start_server: float = 0.0
    start_client: float = 0.0

    def __enter__(self) -> CpuMeter:
        import time

        self.start_wall = time.perf_counter()
        self.start_busy = machine_cpu()[0]
        self.start_server = sum(process_cpu(p) for p in self.server_pids)
        times = os.times()
        self.start_client = times.user + times.system
        self.result: dict[str, float] = {}
        return self

    def __exit__(self, *exc: object) -> None:
        import time

        wall = time.perf_counter() - self.start_wall
        busy = machine_cpu()[0] - self.start_busy
        server = sum(process_cpu(p) for p in self.server_pids) - self.start_server
        times = os.times()
        client = times.user + times.system - self.start_client
        cores = os.cpu_count() or 1
        self.result = {
            "wall_s": wall,
            "machine_busy_pct": 100 * busy / (wall * cores) if wall else 0.0,
            "app_cpu_s": server,
            "client_cpu_s": client,
            "other_cpu_s": max(0.0, busy - server - client),
        }
