"""Requests come before background previews: a preview is made once its process has had
no request in progress for RENDITION_IDLE_MS, and at the latest LONGEST_WAIT_S after it
was queued (web/activity.py)."""

from __future__ import annotations

import io
import threading
import time

from PIL import Image as PILImage

from tests.helpers import image_bytes, last_image_id, objects, settings, upload
from web import activity
from web.images import renditions

quiet_previews = settings("quiet_previews", RENDITION_WORKERS=1, RENDITION_IDLE_MS=300)


def test_a_quiet_process_does_not_wait_beyond_its_idle_time():
    state = activity.Activity()
    state.last_end -= 1.0  # the last request ended a second ago
    assert state.wait_quiet(0.3, longest_s=5) < 0.1


def test_the_wait_lasts_while_a_request_runs_and_the_idle_time_after_it():
    state = activity.Activity()
    state.begin()
    ended = threading.Event()

    def finish():
        time.sleep(0.3)
        state.end()
        ended.set()

    threading.Thread(target=finish).start()
    waited = state.wait_quiet(0.2, longest_s=5)
    assert ended.is_set()
    assert 0.45 <= waited < 2.0  # 0.3 s of request, then 0.2 s without one


def test_a_process_that_is_never_quiet_waits_at_most_the_longest_wait():
    state = activity.Activity()
    state.begin()  # never ends
    waited = state.wait_quiet(0.1, longest_s=0.4)
    assert 0.35 <= waited < 2.0


def _previews(app) -> list[str]:
    return [key for key in objects(app) if ".previews/" in key]


def test_a_preview_waits_while_requests_keep_coming(quiet_previews, app, auth, client):
    auth.signup("alice")
    upload(client, "big.png", image_bytes("PNG", (1800, 1200)))
    image_id = last_image_id(app)
    until = time.monotonic() + 1.0
    while time.monotonic() < until:  # a page every 50 ms: never 300 ms without a request
        assert client.get("/myfiles").status_code == 200
        time.sleep(0.05)
    assert _previews(app) == []  # still waiting for a quiet moment
    assert renditions.wait(app)  # now it comes
    assert _previews(app) == [f"{app.config['PUBLIC_BUCKET']}/.previews/{image_id}.webp"]


def test_asking_for_the_preview_again_and_again_does_not_hold_it_back(
    quiet_previews, app, auth, client, monkeypatch
):
    """Image bytes do not count: a browser polling for the preview gets it soon."""
    monkeypatch.setattr(activity, "LONGEST_WAIT_S", 60)
    auth.signup("alice")
    upload(client, "big.png", image_bytes("PNG", (1800, 1200)))
    image_id = last_image_id(app)
    until = time.monotonic() + 10
    width = 0
    while width != 1600 and time.monotonic() < until:
        answer = client.get(f"/image/{image_id}/preview")
        assert answer.status_code == 200
        with PILImage.open(io.BytesIO(answer.data)) as im:
            width = im.size[0]
        time.sleep(0.05)
    assert width == 1600


def test_a_preview_is_made_after_the_longest_wait_however_busy(
    quiet_previews, app, auth, client, monkeypatch
):
    monkeypatch.setattr(activity, "LONGEST_WAIT_S", 0.5)
    auth.signup("alice")
    upload(client, "big.png", image_bytes("PNG", (1800, 1200)))
    started = time.monotonic()
    busy = activity.current()
    busy.begin()  # a request that does not end
    try:
        assert renditions.wait(app, timeout=10)
        assert time.monotonic() - started >= 0.45
        assert len(_previews(app)) == 1
    finally:
        busy.end()
