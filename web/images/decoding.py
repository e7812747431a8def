"""How many images one worker process decodes at once.

Decoding is where an upload's memory goes: one frame of up to MAX_IMAGE_PIXELS, about
4 bytes a pixel while it is held (a 100-megapixel PNG: some 400 MB, more while its
thumbnail is made). A semaphore per process, sized by MAX_CONCURRENT_DECODES, makes the
memory of a worker bounded whatever arrives at once: other requests wait for a slot,
and one that waits longer than DECODE_WAIT_SECONDS is told to try again (503).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from ..gates import gate, slot
from ..i18n import N_

DECODE_WAIT_SECONDS = 30.0
BUSY = N_("The server is busy processing other images; please try again in a moment.")


def decode_gate() -> threading.BoundedSemaphore:
    """This process's semaphore of decodes (one per application)."""
    return gate("decode", current_app.config["MAX_CONCURRENT_DECODES"])


@contextmanager
def decode_slot() -> Iterator[None]:
    """Hold one of the process's decode slots for the block (Unavailable after waiting
    DECODE_WAIT_SECONDS for one)."""
    with slot(decode_gate(), DECODE_WAIT_SECONDS, BUSY):
        yield
