"""How busy this process is with requests, for work that can wait for a quiet moment.

A preview is made in the background after its upload (images.renditions). On a busy
machine that work would compete for the CPU with the requests people are waiting for:
an upload in a burst of uploads took about twice as long while the previews of the ones
before it were being made. So a preview starts once this process has had no request in
progress for RENDITION_IDLE_MS; a process that is never quiet that long starts it
anyway after LONGEST_WAIT_S. Each process counts its own requests (a gunicorn worker is
one process): what another worker does is not known here. Requests for image bytes do
not count (``init_app``).
"""

from __future__ import annotations

import os
import threading
import time

from flask import Flask, g, request

# A job never waits longer than this for a quiet moment, however busy the process.
LONGEST_WAIT_S = 10.0


class Activity:
    """The requests in progress in this process and when the last one ended."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.running = 0
        self.last_end = time.monotonic()

    def begin(self) -> None:
        with self.changed:
            self.running += 1

    def end(self) -> None:
        with self.changed:
            self.running -= 1
            self.last_end = time.monotonic()
            self.changed.notify_all()

    def wait_quiet(self, idle_s: float, longest_s: float | None = None) -> float:
        """Wait until no request has been in progress for ``idle_s`` seconds, or
        ``longest_s`` (LONGEST_WAIT_S) have passed; the seconds waited."""
        started = time.monotonic()
        deadline = started + (LONGEST_WAIT_S if longest_s is None else longest_s)
        with self.changed:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                if self.running == 0:
                    idle_for = now - self.last_end
                    if idle_for >= idle_s:
                        break
                    self.changed.wait(min(idle_s - idle_for, deadline - now))
                else:
                    self.changed.wait(deadline - now)
        return time.monotonic() - started


_activity = Activity()


def _forked() -> None:
    global _activity
    _activity = Activity()  # a new process has no requests in progress yet


os.register_at_fork(after_in_child=_forked)


def current() -> Activity:
    """This process's activity."""
    return _activity


def init_app(app: Flask, uncounted: frozenset[str]) -> None:
    """Count each request of ``app`` while it is handled, but those of the endpoints
    ``uncounted``: image bytes, which are cheap, and which a browser waiting for a
    preview asks for again and again (that preview should not wait for them to stop)."""

    @app.before_request
    def _begin() -> None:
        if request.endpoint not in uncounted:
            g.activity = _activity
            g.activity.begin()

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        counted = g.pop("activity", None)
        if counted is not None:
            counted.end()
