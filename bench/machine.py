"""What machine the run is on, and where its CPU time goes (read from /proc)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Proc:
    name: str
    ppid: int
    cpu: float


def snapshot() -> dict[int, Proc]:
    """Every process on the machine: command name, parent and CPU seconds so far."""
    found: dict[int, Proc] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.find("(") + 1 : text.rfind(")")]
        fields = text.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        found[int(entry.name)] = Proc(name, int(fields[1]), cpu)
    return found


def descendants(procs: dict[int, Proc], root: int) -> set[int]:
    """``root`` and every process below it."""
    kids: dict[int, list[int]] = {}
    for pid, proc in procs.items():
        kids.setdefault(proc.ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(kids.get(pid, []))
    return found


DB_SERVERS = ("mariadbd", "mysqld")


def split_cpu(
    before: dict[int, Proc], after: dict[int, Proc], app_root: int | None, shared: tuple[str, ...]
) -> dict[str, Any]:
    """CPU seconds between two snapshots: app (the gunicorn tree), client (this process),
    services (other processes this run started, and the shared database server when the
    backend uses it), foreign (everything else: other people's work on the machine)."""
    me = os.getpid()
    ours = descendants(after, me) | descendants(before, me)
    app = (descendants(after, app_root) | descendants(before, app_root)) if app_root else set()
    totals = {"app": 0.0, "client": 0.0, "services": 0.0, "foreign": 0.0}
    foreign: dict[str, float] = {}
    services: dict[str, float] = {}
    for pid, proc in after.items():
        old = before.get(pid)
        # Matched by pid alone: kernel workers rename themselves with each work item.
        # A pid reused by a new process shows as CPU going down: count it whole.
        used = proc.cpu - old.cpu if old and proc.cpu >= old.cpu else proc.cpu
        if used <= 0:
            continue
        if pid in app:
            totals["app"] += used
        elif pid == me:
            totals["client"] += used
        elif pid in ours or proc.name in shared:
            totals["services"] += used
            services[proc.name] = services.get(proc.name, 0.0) + used
        else:
            totals["foreign"] += used
            foreign[proc.name] = foreign.get(proc.name, 0.0) + used

    def top(named: dict[str, float]) -> dict[str, float]:
        best = sorted(((v, k) for k, v in named.items() if v >= 0.05), reverse=True)[:4]
        return {k: round(v, 2) for v, k in best}

    return {**totals, "services_top": top(services), "foreign_top": top(foreign)}


class QuietBudget:
    """Waits before a measured block until other people's load has gone, within a budget.

    The machine is shared: tests of other work may run beside the benchmark. Each wait is
    bounded, and so is the sum of all waits of a run.
    """

    def __init__(self) -> None:
        self.total_s = 0.0
        self.per_wait_s = 0.0
        self.spent_s = 0.0
        self.threshold_cores = 0.15
        self.settled_s = 0.0  # the whole run's waits for our own servers to be idle

    def configure(self, total_s: float, per_wait_s: float) -> None:
        self.total_s, self.per_wait_s, self.spent_s = total_s, per_wait_s, 0.0

    def wait(self) -> dict[str, float]:
        """Sample load in 0.5 s windows: first until the servers this run started are idle
        (at most SETTLE_S), then until foreign load is low or the budget is spent."""
        import time

        if self.total_s <= 0:  # a smoke run does not wait
            return {"waited_s": 0.0, "foreign_cores_at_start": -1.0, "settled_s": 0.0}
        started = time.perf_counter()
        settling = 0.0
        load = 0.0
        while True:
            window = time.perf_counter()
            busy_before, before = machine_cpu()[0], snapshot()
            time.sleep(0.5)
            busy_after, after = machine_cpu()[0], snapshot()
            # Everything but our own processes (a busy database server is someone else's
            # while we wait), including processes that came and went within the window.
            split = split_cpu(before, after, None, ())
            ours = split["client"] + split["services"]
            if ours / 0.5 >= self.threshold_cores and settling < SETTLE_S:
                # Our servers still finish the work of the block before (the previews
                # of the photos just uploaded are made in the background): a block
                # measured now would measure that work too.
                settling += time.perf_counter() - window
                continue
            load = max(0.0, busy_after - busy_before - ours) / 0.5
            waited = time.perf_counter() - started - settling
            budget_left = min(self.per_wait_s, self.total_s - self.spent_s) - waited
            if load < self.threshold_cores or budget_left <= 0:
                self.spent_s += waited
                self.settled_s += settling
                return {
                    "waited_s": round(waited, 1),
                    "foreign_cores_at_start": round(load, 2),
                    "settled_s": round(settling, 1),
                }


# The longest wait before a block for the servers this run started to finish the work
# of the block before (previews of 216 uploads take a 2-core machine about 10 s).
SETTLE_S = 60.0


QUIET = QuietBudget()


def machine_cpu() -> tuple[float, float]:
    """(busy, irq) CPU seconds of the whole machine since boot, from /proc/stat.

    irq is the time in hardware and software interrupts (loopback TCP, block I/O
    completion), which no process's own counters include.
    """
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS, (values[5] + values[6]) / CLOCK_TICKS


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
    """Where the CPU went during a block: app server, this client, services, others.

    Waits first (within the run's budget) for other people's load to go.
    """

    app_root: int | None
    shared: tuple[str, ...] = ()

    def __enter__(self) -> CpuMeter:
        import time

        self.quiet = QUIET.wait()
        self.start_wall = time.perf_counter()
        self.start_busy, self.start_irq = machine_cpu()
        self.start_procs = snapshot()
        self.result: dict[str, Any] = {}
        return self

    def __exit__(self, *exc: object) -> None:
        import time

        wall = time.perf_counter() - self.start_wall
        busy, irq = machine_cpu()
        busy, irq = busy - self.start_busy, irq - self.start_irq
        split = split_cpu(self.start_procs, snapshot(), self.app_root, self.shared)
        capacity = wall * (os.cpu_count() or 1)
        # Busy time that no living process accounts for: processes that came and went
        # during the block. None of ours does, so it is someone else's.
        known = sum(split[k] for k in ("app", "client", "services", "foreign"))
        gone = max(0.0, busy - irq - known)
        foreign = split["foreign"] + gone
        self.result = {
            "wall_s": wall,
            "machine_busy_pct": 100 * busy / capacity if wall else 0.0,
            "app_cpu_s": split["app"],
            "client_cpu_s": split["client"],
            "services_cpu_s": split["services"],
            "irq_cpu_s": irq,
            "foreign_cpu_s": foreign,
            "foreign_gone_cpu_s": gone,
            "foreign_pct": 100 * foreign / capacity if wall else 0.0,
            "services_top": split["services_top"],
            "foreign_top": split["foreign_top"],
            "quiet_wait": self.quiet,
        }
