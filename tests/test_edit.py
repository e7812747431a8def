"""Rename and visibility changes, bulk delete, and the JSON upload endpoint."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy.exc import OperationalError

from tests.helpers import (
    age_everything,
    flashes,
    image_bytes,
    image_rows,
    objects,
    settings,
    signed_in,
    stored_objects,
    upload,
)
from web.extensions import db
from web.operations import fsck
from web.storage import StorageError


def only_id(client) -> int:
    html = client.get("/myfiles").get_data(as_text=True)
    return max(int(i) for i in re.findall(r'href="/image/(\d+)"', html))


def edit(client, image_id, filename, visibility):
    return client.post(
        f"/image/{image_id}/edit", data={"filename": filename, "visibility": visibility}
    )


@pytest.fixture
def alice(app, auth):
    return auth.signup("alice")


def places(app, user="alice"):
    pub, prefix = app.config["PUBLIC_BUCKET"], app.config["USER_BUCKET_PREFIX"]
    return pub, prefix + user


def test_rename_moves_the_objects(app, alice, client):
    data = image_bytes("PNG")
    upload(client, "old.png", data, "public")
    image_id = only_id(client)
    response = edit(client, image_id, "new.png", "public")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/image/{image_id}"
    assert "Saved: “new.png” is now public." in flashes(client.get(f"/image/{image_id}"))
    pub, _ = places(app)
    assert objects(app) == stored_objects(app, pub, "new.png")
    assert [r[:3] for r in image_rows(app)] == [("new.png", "public", "ready")]
    assert client.get(f"/image/{image_id}/file").data == data


@pytest.mark.parametrize(("start", "end"), [("public", "private"), ("private", "public")])
def test_switching_visibility_moves_between_buckets(app, alice, client, start, end):
    upload(client, "pic.png", visibility=start)
    image_id = only_id(client)
    assert edit(client, image_id, "pic.png", end).status_code == 303
    pub, own = places(app)
    bucket = pub if end == "public" else own
    assert objects(app) == stored_objects(app, bucket, "pic.png")
    assert [r[:4] for r in image_rows(app)] == [("pic.png", end, "ready", bucket)]


def test_rename_to_a_taken_name_is_refused_and_changes_nothing(app, alice, client):
    upload(client, "a.png")
    upload(client, "b.png")
    before = objects(app)
    response = edit(client, only_id(client), "a.png", "public")
    assert response.status_code == 409
    assert "A public image named “a.png” already exists." in response.get_data(as_text=True)
    assert objects(app) == before
    assert sorted(r[0] for r in image_rows(app)) == ["a.png", "b.png"]


def test_going_public_with_a_name_someone_else_has_is_refused(app, alice, client):
    other = signed_in(app, "bob")
    upload(other, "same.png", visibility="public")
    upload(client, "same.png", visibility="private")
    response = edit(client, only_id(client), "same.png", "public")
    assert response.status_code == 409
    assert [r[1] for r in image_rows(app)] == ["public", "private"]


def test_an_unchanged_edit_changes_nothing(app, alice, client):
    upload(client, "a.png")
    image_id = only_id(client)
    response = edit(client, image_id, "a.png", "public")
    assert "Nothing to change." in flashes(client.get(response.headers["Location"]))


@pytest.mark.parametrize(
    "data",
    [{"filename": "", "visibility": "public"}, {"filename": "x.png", "visibility": "hidden"}],
)
def test_bad_edits_are_400(app, alice, client, data):
    upload(client, "a.png")
    response = client.post(f"/image/{only_id(client)}/edit", data=data)
    assert response.status_code == 400
    assert [r[0] for r in image_rows(app)] == ["a.png"]


def test_a_move_failing_half_way_puts_everything_back(app, alice, client, monkeypatch):
    data = image_bytes("PNG")
    upload(client, "keep.png", data, "private")
    image_id = only_id(client)
    store = app.extensions["object_store"]
    real_copy = store.copy
    calls = []

    def copy(*args):
        calls.append(args)
        if len(calls) == 2:  # the original is copied, the thumbnail copy fails
            raise StorageError("simulated outage")
        return real_copy(*args)

    monkeypatch.setattr(store, "copy", copy)
    response = edit(client, image_id, "moved.png", "public")
    assert response.status_code == 503
    monkeypatch.undo()
    _, own = places(app)
    assert [r[:4] for r in image_rows(app)] == [("keep.png", "private", "ready", own)]
    assert objects(app) == stored_objects(app, own, "keep.png")
    assert client.get(f"/image/{image_id}/file").data == data
    assert upload(client, "moved.png", visibility="public").status_code == 303  # name released


def test_a_move_interrupted_by_a_crash_is_finished_by_fsck(app, alice, client, monkeypatch):
    """A crash after the rename was recorded but before the copy: fsck completes it."""
    from web.images import moves

    data = image_bytes("PNG")
    upload(client, "before.png", data, "private")
    image_id = only_id(client)

    def crash(image):
        raise SystemExit("the process died here")

    monkeypatch.setattr(moves, "finish_move", crash)
    with pytest.raises(SystemExit):
        edit(client, image_id, "after.png", "public")
    monkeypatch.undo()
    rows = image_rows(app)
    assert sorted(r[2] for r in rows) == ["deleting", "moving"]  # hidden until finished
    age_everything(app)
    with app.app_context():
        report = fsck.run()
    assert report.failed == []
    pub, _ = places(app)
    assert [r[:4] for r in image_rows(app)] == [("after.png", "public", "ready", pub)]
    assert objects(app) == stored_objects(app, pub, "after.png")
    assert client.get(f"/image/{image_id}/file").data == data


# "Delete" moves to the trash (tests/test_trash.py); these tests are about deleting for
# good, which TRASH_DAYS=0 makes the delete do at once.
no_trash = settings("no_trash", TRASH_DAYS=0)


def test_bulk_delete_reports_partial_failures(no_trash, app, alice, client, monkeypatch):
    for name in ("a.png", "b.png", "c.png"):
        upload(client, name)
    ids = sorted(
        int(i)
        for i in re.findall(r'href="/image/(\d+)"', client.get("/myfiles").get_data(as_text=True))
    )
    ids = sorted(set(ids))
    store = app.extensions["object_store"]
    real_remove = store.remove

    def remove(bucket, key):
        if key in ("b.png", f".thumbnails/{ids[1]}.webp"):
            raise StorageError("simulated outage")
        return real_remove(bucket, key)

    monkeypatch.setattr(store, "remove", remove)
    response = client.post(
        "/delete-selected", data={"image_id": [str(i) for i in ids], "confirm": "yes"}
    )
    assert response.status_code == 303
    messages = flashes(client.get("/myfiles"))
    assert "Deleted 2 images." in messages
    assert any(m.startswith("Could not delete b.png:") for m in messages)


def test_bulk_delete_without_javascript_asks_for_confirmation_first(app, alice, client):
    upload(client, "a.png")
    image_id = only_id(client)
    page = client.post("/delete-selected", data={"image_id": str(image_id)})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Delete 1 image?" in html and "a.png" in html
    assert len(image_rows(app)) == 1


def test_bulk_delete_with_nothing_selected(app, alice, client):
    response = client.post("/delete-selected", data={})
    assert "Select the images to delete first." in flashes(client.get(response.headers["Location"]))


def test_bulk_delete_with_a_forged_id_is_400(app, alice, client):
    response = client.post("/delete-selected", data={"image_id": "1; DROP TABLE", "confirm": "yes"})
    assert response.status_code == 400


# --- the JSON upload endpoint ------------------------------------------------------------


def api_upload(client, name="a.png", data=None, visibility="public"):
    payload = {
        "file": (io.BytesIO(image_bytes() if data is None else data), name),
        "visibility": visibility,
    }
    return client.post("/api/images", data=payload, headers={"Accept": "application/json"})


def test_api_upload_answers_json(app, alice, client):
    response = api_upload(client, "x.png")
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "uploaded" and body["filename"] == "x.png"
    assert body["page"] == f"/image/{body['id']}"
    assert client.get(body["thumbnail"]).status_code == 200


def test_api_reports_duplicates_and_errors(app, alice, client):
    data = image_bytes()
    api_upload(client, "one.png", data)
    assert api_upload(client, "two.png", data).json["duplicate_of"] == "one.png"
    taken = api_upload(client, "one.png")
    assert taken.status_code == 409
    assert taken.json["error"].startswith("A public image named “one.png” already exists.")
    bad = api_upload(client, "bad.png", b"text")
    assert bad.status_code == 400 and "not an accepted image" in bad.json["error"]
    assert api_upload(client, visibility="nope").json["error"] == "Choose public or private."
    missing = client.post("/api/images", data={"visibility": "public"})
    assert missing.status_code == 400 and missing.json["error"] == "Choose a file to upload."


def test_api_needs_a_login(app, client):
    response = api_upload(client)
    assert response.status_code == 401
    assert response.json["error"] == "Your session has ended. Please log in again."


# --- database failures -------------------------------------------------------------------


def test_database_failure_while_claiming_a_name_is_503(app, alice, client, monkeypatch):
    def fail(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("server has gone away"))

    with app.app_context():
        session_class = type(db.session)
    monkeypatch.setattr(session_class, "commit", fail)
    response = upload(client, "a.png")
    monkeypatch.undo()
    assert response.status_code == 503
    assert image_rows(app) == [] and objects(app) == set()
