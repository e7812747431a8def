"""An upload's writes: one statement claims the name, one transaction marks the image
ready, and the original and the thumbnail go to the store at the same time, with the
crash-safety rules of the README still holding when either write fails."""

from __future__ import annotations

import threading

from sqlalchemy import select

from tests.helpers import (
    count_queries,
    flashes,
    image_rows,
    last_image_id,
    objects,
    stored_objects,
    upload,
)
from web.extensions import db
from web.models import PENDING, READY, Image, User
from web.storage import OutcomeUnknown, StorageError


def test_an_upload_claims_with_one_statement_and_is_marked_ready_with_one_transaction(
    app, auth, client, backend
):
    user = auth.signup()
    with count_queries(app) as statements:
        assert upload(client, "a.png").status_code == 303
    writes = [" ".join(s.split()[:3]) for s in statements if not s.lstrip().startswith("SELECT")]
    if backend == "mysql-s3":  # one statement marks it ready and counts it, a round trip
        assert writes == ["INSERT INTO images", "INSERT INTO name_trigrams", "UPDATE images, users"]
    else:
        assert writes == [
            "INSERT INTO images",  # the claim: a PENDING row
            "INSERT INTO name_trigrams",  # and its name's trigrams, in the same transaction
            "UPDATE images SET",  # ready, naming its thumbnail
            "UPDATE users SET",  # the owner's counters, in the same transaction
        ]
    image_id = last_image_id(app)
    pub = app.config["PUBLIC_BUCKET"]
    assert objects(app) == stored_objects(app, pub, "a.png")
    assert f"{pub}/.thumbnails/{image_id}.webp" in objects(app)
    assert client.get(f"/image/{image_id}/thumb").status_code == 200
    assert upload(client, "b.png").status_code == 303
    assert {state for _name, _vis, state, _bucket, _key in image_rows(app)} == {READY}
    with app.app_context():
        owner = db.session.get(User, user.id)
        sizes = db.session.scalars(select(Image.size).where(Image.owner_id == user.id)).all()
        assert (owner.image_count, owner.bytes_used) == (2, sum(sizes))


def _patch_puts(monkeypatch, app, put):
    store = app.extensions["object_store"]
    real = store.put_file
    monkeypatch.setattr(store, "put_file", lambda *args: put(real, *args))


def test_the_original_and_the_thumbnail_are_written_at_the_same_time(
    app, auth, client, monkeypatch
):
    auth.signup()
    both = threading.Barrier(2, timeout=10)  # each write waits until the other has begun

    def put(real, bucket, key, path, content_type):
        both.wait()
        real(bucket, key, path, content_type)

    _patch_puts(monkeypatch, app, put)
    assert upload(client, "a.png").status_code == 303
    assert not both.broken


def test_a_failed_original_waits_for_the_thumbnail_and_leaves_nothing(
    app, auth, client, monkeypatch
):
    auth.signup()
    thumbnail_written = threading.Event()

    def put(real, bucket, key, path, content_type):
        if not key.startswith(".thumbnails/"):
            raise StorageError("simulated outage")
        thumbnail_written.wait(0.2)  # the thumbnail lands after the original has failed
        real(bucket, key, path, content_type)
        thumbnail_written.set()

    _patch_puts(monkeypatch, app, put)
    response = upload(client, "a.png")
    assert response.status_code == 503
    assert any("please try again" in m for m in flashes(response))
    assert thumbnail_written.is_set()
    assert image_rows(app) == [] and objects(app) == set()


def test_a_thumbnail_whose_write_went_unanswered_keeps_the_name_claimed(
    app, auth, client, monkeypatch
):
    auth.signup()

    def put(real, bucket, key, path, content_type):
        if key.startswith(".thumbnails/"):
            raise OutcomeUnknown("no answer")
        raise StorageError("simulated outage")  # the plain failure does not win

    _patch_puts(monkeypatch, app, put)
    response = upload(client, "a.png")
    assert response.status_code == 503
    assert "did not confirm that a.png was stored" in response.get_data(as_text=True)
    assert [row[2] for row in image_rows(app)] == [PENDING]
