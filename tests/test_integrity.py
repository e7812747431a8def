"""Rows and objects never disagree: failures half-way, races, and fsck."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.orm import sessionmaker

from support import processes
from tests.helpers import (
    PASSWORD,
    age_everything,
    flashes,
    image_bytes,
    image_rows,
    make_user,
    objects,
    settings,
    signed_in,
    stored_objects,
    upload,
)
from web.extensions import db, storage
from web.models import DELETING, PENDING, Image, User
from web.operations import fsck
from web.storage import S3Store, StorageError


def break_puts(monkeypatch, app, when):
    store = app.extensions["object_store"]
    real = store.put_file

    def put_file(bucket, key, path, content_type):
        if when(key):
            raise StorageError("simulated outage")
        return real(bucket, key, path, content_type)

    monkeypatch.setattr(store, "put_file", put_file)


@pytest.mark.parametrize("failing", ["original", "thumbnail"])
def test_store_failure_during_upload_leaves_nothing(app, auth, client, monkeypatch, failing):
    auth.signup()
    break_puts(
        monkeypatch, app, lambda key: key.startswith(".thumbnails/") == (failing == "thumbnail")
    )
    response = upload(client, "a.png")
    assert response.status_code == 503
    assert any("please try again" in m for m in flashes(response))
    assert image_rows(app) == []
    assert objects(app) == set()
    monkeypatch.undo()
    assert upload(client, "a.png").status_code == 303  # the name was released


# "Delete" moves to the trash (tests/test_trash.py); these tests are about deleting for
# good, which TRASH_DAYS=0 makes the delete do at once.
no_trash = settings("no_trash", TRASH_DAYS=0)


def test_store_failure_during_delete_hides_the_image_and_fsck_finishes(
    no_trash, app, auth, client, monkeypatch
):
    auth.signup()
    upload(client, "a.png")
    store = app.extensions["object_store"]

    def remove(bucket, key):
        raise StorageError("simulated outage")

    monkeypatch.setattr(store, "remove", remove)
    response = client.post("/delete", data={"filename": "a.png", "visibility": "public"})
    assert response.status_code == 503
    assert "it will be cleaned up automatically" in response.get_data(as_text=True)
    assert "a.png" not in client.get("/myfiles").get_data(as_text=True)
    assert [r[2] for r in image_rows(app)] == [DELETING]
    monkeypatch.undo()
    age_everything(app)
    with app.app_context():
        report = fsck.run()
    assert report.failed == []
    assert image_rows(app) == [] and objects(app) == set()


def test_simultaneous_uploads_of_one_name_give_one_image(app):
    make_user(app, "alice")
    make_user(app, "bob")
    clients = [app.test_client(), app.test_client()]
    for c, name in zip(clients, ["alice", "bob"], strict=True):
        c.post("/login", data={"username": name, "password": PASSWORD})
    barrier = threading.Barrier(2)
    statuses = []

    def go(c):
        barrier.wait()
        statuses.append(upload(c, "same.png").status_code)

    threads = [threading.Thread(target=go, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [303, 409]
    assert len(image_rows(app)) == 1
    pub = app.config["PUBLIC_BUCKET"]
    assert objects(app) == stored_objects(app, pub, "same.png")


def test_fsck_undoes_an_unfinished_upload(app, auth, client):
    auth.signup()
    upload(client, "a.png")
    with app.app_context():  # as if the process died between the claim and READY
        db.session.execute(update(Image).values(state=PENDING))
        db.session.execute(update(User).values(image_count=0, bytes_used=0))
        db.session.commit()
    client.get("/myfiles")  # shows the upload's flash message
    assert "a.png" not in client.get("/myfiles").get_data(as_text=True)
    with app.app_context():
        assert fsck.run().found == []  # too recent: could still be in progress
    age_everything(app)
    with app.app_context():
        report = fsck.run()
    assert len(report.found) == 1 and "unfinished upload" in report.found[0]
    assert image_rows(app) == [] and objects(app) == set()


def test_fsck_removes_orphan_objects_and_dry_run_changes_nothing(app, auth, client, tmp_path):
    auth.signup("alice")
    upload(client, "kept.png")
    source = tmp_path / "orphan"
    source.write_bytes(b"left behind")
    bucket = app.config["USER_BUCKET_PREFIX"] + "alice"
    with app.app_context():
        storage.store.put_file(bucket, "orphan.png", str(source), "image/png")
        dry = fsck.run(dry_run=True, grace=dt.timedelta(0))
        assert dry.found == [f"orphan object {bucket}/orphan.png"] and dry.done == []
        assert f"{bucket}/orphan.png" in objects(app)
        report = fsck.run(grace=dt.timedelta(0))
        assert report.done == [f"remove {bucket}/orphan.png"]
    assert f"{bucket}/orphan.png" not in objects(app)
    assert [r[0] for r in image_rows(app)] == ["kept.png"]


def test_fsck_leaves_recent_objects_alone(app, auth, client, tmp_path):
    auth.signup("alice")
    source = tmp_path / "orphan"
    source.write_bytes(b"maybe an upload in progress")
    bucket = app.config["USER_BUCKET_PREFIX"] + "alice"
    with app.app_context():
        storage.store.put_file(bucket, "new.png", str(source), "image/png")
        assert fsck.run().found == []


def test_fsck_removes_rows_whose_file_is_lost_and_remakes_thumbnails(app, auth, client):
    auth.signup()
    upload(client, "lost.png")
    upload(client, "thumbless.png")
    pub = app.config["PUBLIC_BUCKET"]
    lost, thumbless = (row[0] for row in ids(app))
    with app.app_context():
        storage.store.remove(pub, "lost.png")
        storage.store.remove(pub, f".thumbnails/{thumbless}.webp")
        report = fsck.run()
    assert sorted(report.found) == [
        f"image {lost} has lost its file {pub}/lost.png",
        f"image {thumbless} has lost its thumbnail",
    ]
    assert [r[0] for r in image_rows(app)] == ["thumbless.png"]
    assert f"{pub}/.thumbnails/{thumbless}.webp" in objects(app)


def ids(app):
    with app.app_context():
        return list(db.session.execute(text("SELECT id FROM images ORDER BY id")))


def test_fsck_removes_buckets_of_no_user_and_recreates_missing_ones(app, auth, client):
    user = auth.signup("alice")
    stray = app.config["USER_BUCKET_PREFIX"] + "ghost"
    with app.app_context():
        storage.store.ensure_bucket(stray)
        storage.store.remove_bucket(user.bucket)
        report = fsck.run()
        assert f"bucket {stray} belongs to no user" in report.found
        assert "bucket of user alice is missing" in report.found
        assert not storage.store.bucket_exists(stray)
        assert storage.store.bucket_exists(user.bucket)


def test_fsck_command_reports(app, auth, client):
    auth.signup()
    upload(client, "a.png")
    result = app.test_cli_runner().invoke(args=["fsck", "--dry-run"])
    assert result.exit_code == 0
    assert "found 0 problem(s) (dry run)" in result.output


def test_health_is_ok_when_both_answer(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "object_store": "ok"}


def dead_store(monkeypatch, app):
    store = S3Store(f"127.0.0.1:{processes.free_port()}", "k", "s", timeout=1)
    monkeypatch.setitem(app.extensions, "object_store", store)


def test_health_says_which_part_failed(app, client, monkeypatch):
    dead_store(monkeypatch, app)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json["database"] == "ok"
    assert response.json["object_store"].startswith("failed")
    engine = create_engine(
        f"mysql+pymysql://root@127.0.0.1:{processes.free_port()}/x",
        connect_args={"connect_timeout": 1},
    )
    monkeypatch.setitem(app.extensions, "db_sessionmaker", sessionmaker(engine))
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json["database"].startswith("failed")


def test_upload_with_the_store_down_is_503_and_changes_nothing(app, auth, client, monkeypatch):
    auth.signup()
    dead_store(monkeypatch, app)
    response = upload(client, "a.png")
    monkeypatch.undo()
    assert response.status_code == 503
    assert image_rows(app) == []
    with app.app_context():
        assert db.session.execute(text("SELECT COUNT(*) FROM images")).scalar() == 0


def usage_of(app, username="user"):
    with app.app_context():
        return tuple(
            db.session.execute(
                text("SELECT image_count, bytes_used FROM users WHERE username = :u"),
                {"u": username},
            ).one()
        )


def test_usage_counters_follow_uploads_deletes_and_failures(app, auth, client, monkeypatch):
    auth.signup("alice")
    a, b = image_bytes("PNG", (30, 30)), image_bytes("PNG", (60, 60))
    upload(client, "a.png", a)
    upload(client, "b.png", b, "private")
    assert usage_of(app, "alice") == (2, len(a) + len(b))
    assert "You have 2 images using" in client.get("/myfiles").get_data(as_text=True)
    break_puts(monkeypatch, app, lambda key: True)
    upload(client, "c.png")
    monkeypatch.undo()
    assert usage_of(app, "alice") == (2, len(a) + len(b))
    client.post("/delete", data={"filename": "a.png", "visibility": "public"})
    assert usage_of(app, "alice") == (1, len(a) + len(b))  # the trash keeps its bytes
    with app.app_context():
        assert fsck.run().found == []


def test_fsck_recounts_usage_that_disagrees(app, auth, client):
    auth.signup("alice")
    data = image_bytes("PNG")
    upload(client, "a.png", data)
    with app.app_context():
        db.session.execute(update(User).values(image_count=7, bytes_used=1))
        db.session.commit()
        report = fsck.run()
    assert report.found == [
        f"usage of alice says 7 image(s), 1 bytes; they have 1, {len(data)} bytes"
    ]
    assert usage_of(app, "alice") == (1, len(data))


def test_thumbnails_come_from_the_worker_cache_after_the_permission_check(
    app, auth, client, monkeypatch
):
    auth.signup("alice")
    upload(client, "p.png", visibility="private")
    image_id = ids(app)[0][0]
    first = client.get(f"/image/{image_id}/thumb").data
    store = app.extensions["object_store"]

    def fail_open(bucket, key):
        raise StorageError("the store is not asked again")

    monkeypatch.setattr(store, "open", fail_open)
    assert client.get(f"/image/{image_id}/thumb").data == first
    stranger = signed_in(app, "bob")
    assert stranger.get(f"/image/{image_id}/thumb").status_code == 404
    monkeypatch.undo()
    client.post("/delete", data={"filename": "p.png", "visibility": "private"})
    assert client.get(f"/image/{image_id}/thumb").status_code == 404


no_thumbnail_cache = settings("no_thumbnail_cache", THUMB_CACHE_MB=0)


def _thumbnail_answers(app, auth, client) -> None:
    auth.signup("alice")
    upload(client, "p.png", visibility="private")
    image_id = ids(app)[0][0]
    for _ in range(2):
        answer = client.get(f"/image/{image_id}/thumb")
        assert answer.status_code == 200 and answer.mimetype == "image/webp"
        assert answer.headers["Content-Length"] == str(len(answer.data)) and answer.data


def test_a_thumbnail_is_sent_whole_with_its_length(app, auth, client):
    """A thumbnail is small: sent in one piece with Content-Length (no chunked encoding)."""
    _thumbnail_answers(app, auth, client)
    assert app.extensions["thumbnail_cache"].size > 0


def test_without_the_cache_a_thumbnail_comes_whole_from_the_store(
    no_thumbnail_cache, app, auth, client
):
    _thumbnail_answers(app, auth, client)
    assert "thumbnail_cache" not in app.extensions
