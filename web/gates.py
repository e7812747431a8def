"""Per-process gates: at most N threads of a worker inside a kind of work at once
(decoding images, reading from the object store), so that one kind cannot take every
thread or all the memory. A thread that waits too long for a place is told to try
again (503)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import current_app

from .rules import Unavailable


def gate(name: str, limit: int) -> threading.BoundedSemaphore:
    """This process's semaphore called ``name`` (one per application)."""
    found = current_app.extensions.get(f"gate:{name}")
    if found is None:
        found = current_app.extensions.setdefault(f"gate:{name}", threading.BoundedSemaphore(limit))
    return found


def enter(semaphore: threading.BoundedSemaphore, wait_seconds: float, busy: str) -> None:
    """Take a place, or Unavailable(``busy``) after ``wait_seconds``."""
    if not semaphore.acquire(timeout=wait_seconds):
        raise Unavailable(busy)


@contextmanager
def slot(semaphore: threading.BoundedSemaphore, wait_seconds: float, busy: str) -> Iterator[None]:
    """Hold a place for the block."""
    enter(semaphore, wait_seconds, busy)
    try:
        yield
    finally:
        semaphore.release()


class HeldWhileRead:
    """An iterable of chunks that keeps its place until it is read to the end or
    closed (the WSGI server closes every response), then gives the place back once."""

    def __init__(self, chunks: Iterator[bytes], release: Callable[[], None]) -> None:
        self._chunks = chunks
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> HeldWhileRead:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            close = getattr(self._chunks, "close", None)
            try:
                if close is not None:
                    close()
            finally:
                release()

    def __del__(self) -> None:
        self.close()
