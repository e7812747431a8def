"""Scratch space for work in progress (an upload being checked, a thumbnail being made).

Each process works in a directory of its own, ``<system temp>/imgrepo-<uid>/<pid>``. A
process killed mid-upload cannot clean up after itself, so every process, when it starts
and when maintenance runs, removes the directories of processes that no longer exist.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def root() -> Path:
    return Path(tempfile.gettempdir()) / f"imgrepo-{os.getuid()}"


def work_dir() -> Path:
    """This process's directory (made on first use)."""
    path = root() / str(os.getpid())
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def mkdtemp(prefix: str = "work-") -> str:
    """A fresh directory for one piece of work, inside this process's directory."""
    return tempfile.mkdtemp(prefix=prefix, dir=work_dir())


def remove_dead() -> list[str]:
    """Remove the directories of processes that no longer run; return what was removed."""
    removed = []
    base = root()
    if not base.is_dir():
        return removed
    for entry in base.iterdir():
        if not entry.name.isdigit() or _alive(int(entry.name)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(str(entry))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
