"""A hanging object store cannot take every thread of a worker: reads of image bytes
hold one of STORE_READS_PER_WORKER places until their bytes are sent; past that, a read
waits a few seconds and is told to try again, while pages keep being served."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import image_bytes, last_image_id, login, settings, signed_in, upload
from web.gates import HeldWhileRead
from web.images import serving

one_read = settings("one_read", STORE_READS_PER_WORKER=1)


@pytest.fixture
def hanging_store(app, monkeypatch):
    """The store's reads hang until ``release`` is set; ``entered`` says one began."""
    store = app.extensions["object_store"]
    real_open = store.open
    entered, release = threading.Event(), threading.Event()

    def open_slowly(bucket, key):
        entered.set()
        release.wait(timeout=30)
        return real_open(bucket, key)

    monkeypatch.setattr(store, "open", open_slowly)
    monkeypatch.setattr(serving, "STORE_READ_WAIT_SECONDS", 0.3)
    yield entered, release
    release.set()


def test_reads_past_the_limit_are_told_to_try_again_while_pages_are_served(
    one_read, app, hanging_store
):
    entered, release = hanging_store
    client = signed_in(app, "alice")
    data = image_bytes("PNG")
    upload(client, "a.png", data)
    image_id = last_image_id(app)
    first: dict = {}
    reader = threading.Thread(
        target=lambda: first.update(response=signed_in_get(app, f"/image/{image_id}/file"))
    )
    reader.start()
    assert entered.wait(timeout=10)
    busy = client.get(f"/image/{image_id}/file")
    assert busy.status_code == 503
    assert serving.STORE_BUSY in busy.get_data(as_text=True)
    assert client.get("/myfiles").status_code == 200  # the page itself needs no read
    release.set()
    reader.join(timeout=30)
    assert first["response"] == (200, data)
    again = client.get(f"/image/{image_id}/file")  # the place was given back
    assert again.status_code == 200 and again.data == data


def signed_in_get(app, path: str) -> tuple[int, bytes]:
    client = app.test_client()
    login(client, "alice")
    response = client.get(path)
    return response.status_code, response.data


def test_a_response_closed_before_it_was_read_gives_its_place_back(one_read, app):
    client = signed_in(app, "bob")
    upload(client, "b.png")
    image_id = last_image_id(app)
    for _ in range(3):  # with one place, a leak would make the second request wait and fail
        response = client.get(f"/image/{image_id}/file", buffered=False)
        response.close()
    assert client.get(f"/image/{image_id}/file").status_code == 200


def test_held_while_read_releases_once_whether_read_or_closed():
    released = []
    read = HeldWhileRead(iter([b"a", b"b"]), lambda: released.append("read"))
    assert b"".join(read) == b"ab"
    read.close()
    closed = HeldWhileRead(iter([b"a"]), lambda: released.append("closed"))
    closed.close()
    closed.close()
    assert released == ["read", "closed"]
