"""The trash: "Delete" hides an image at once and frees its name; the owner restores it
or deletes it for good; maintenance and fsck empty what is older than TRASH_DAYS."""

from __future__ import annotations

import datetime as dt
import io
import os
import re

from PIL import Image as PILImage
from sqlalchemy import select, update

from tests.helpers import (
    audit_rows,
    flashes,
    image_bytes,
    image_rows,
    last_image_id,
    login,
    make_user,
    objects,
    settings,
    signed_in,
    stored_objects,
    upload,
)
from web.admin import actions
from web.extensions import db
from web.models import Image, User
from web.operations import fsck, maintenance
from web.storage import StorageError

no_trash_config = settings("no_trash_config", TRASH_DAYS=0)
short_trash_config = settings("short_trash_config", TRASH_DAYS=1)


def _delete(client, name="a.png", visibility="public"):
    return client.post("/delete", data={"filename": name, "visibility": visibility})


def _counters(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return user.image_count, user.bytes_used


def _age_trash(app, days):
    with app.app_context():
        when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        db.session.execute(update(Image).where(Image.state == "trashed").values(updated_at=when))
        db.session.commit()


def test_delete_moves_to_the_trash_hidden_from_everyone_with_its_name_free(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    image_id = last_image_id(app)
    bob = signed_in(app, "bob")
    response = _delete(client)
    assert response.status_code == 303 and response.headers["Location"] == "/myfiles"
    [note] = [m for m in flashes(client.get("/myfiles")) if "trash" in m]
    assert note == "Moved “a.png” to the trash. You can restore it from the Trash for 30 days."
    for who in (client, bob):
        assert who.get(f"/image/{image_id}").status_code == 404
        assert who.get(f"/image/{image_id}/file").status_code == 404
        assert "a.png" not in who.get("/gallery").get_data(as_text=True)
    pub = app.config["PUBLIC_BUCKET"]
    assert objects(app) == {f"{pub}/.trash/{image_id}", f"{pub}/.thumbnails/{image_id}.webp"}
    # The name is free at once: bob may upload a public a.png, and it is a new image.
    assert upload(bob, "a.png").status_code == 303
    assert ("a.png", "public", "ready", pub, "a.png") in image_rows(app)
    page = client.get("/trash").get_data(as_text=True)
    assert "a.png" in page and f"/trash/{image_id}/thumb" in page
    assert client.get(f"/trash/{image_id}/thumb").status_code == 200
    assert bob.get(f"/trash/{image_id}/thumb").status_code == 404
    assert "a.png" not in bob.get("/trash").get_data(as_text=True)


def test_the_trash_leaves_the_image_count_but_its_bytes_count_until_deleted_for_good(
    app, auth, client
):
    auth.signup("alice")
    upload(client, "a.png", image_bytes(size=(300, 200)))
    count, used = _counters(app, "alice")
    assert count == 1 and used > 0
    _delete(client)
    assert _counters(app, "alice") == (0, used)
    assert "You have 0 images" in client.get("/myfiles").get_data(as_text=True)
    with app.app_context():
        assert fsck.run(dry_run=True).clean  # fsck agrees with the counters
    client.post(f"/trash/{last_image_id(app)}/delete", data={"confirm": "yes"})
    assert _counters(app, "alice") == (0, 0)


def test_restore_brings_the_image_back_under_its_name(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png", visibility="private")
    image_id = last_image_id(app)
    before = objects(app)
    counters = _counters(app, "alice")
    _delete(client, visibility="private")
    response = client.post(f"/trash/{image_id}/restore")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/image/{image_id}"
    assert "Restored “a.png”." in flashes(client.get(f"/image/{image_id}"))
    assert objects(app) == before
    assert _counters(app, "alice") == counters
    assert [r[:3] for r in image_rows(app)] == [("a.png", "private", "ready")]
    assert client.get(f"/image/{image_id}/file").status_code == 200


def test_restore_when_the_name_was_taken_suggests_a_free_one(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    first = last_image_id(app)
    _delete(client)
    upload(client, "a.png")
    upload(client, "a (2).png")
    response = client.post(f"/trash/{first}/restore")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "A public image named “a.png” already exists." in html
    assert 'value="a (3).png"' in html
    assert [r[2] for r in image_rows(app)].count("trashed") == 1  # nothing changed
    response = client.post(f"/trash/{first}/restore", data={"filename": "a (3).png"})
    assert response.status_code == 303
    pub = app.config["PUBLIC_BUCKET"]
    assert stored_objects(app, pub, "a (3).png") <= objects(app)
    assert not any(key.startswith(f"{pub}/.trash/") for key in objects(app))


def test_restore_with_an_empty_name_is_refused(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    _delete(client)
    response = client.post(f"/trash/{last_image_id(app)}/restore", data={"filename": "  "})
    assert response.status_code == 400
    assert "The new name cannot be empty." in response.get_data(as_text=True)
    assert [r[2] for r in image_rows(app)] == ["trashed"]


def test_only_the_owner_may_restore_or_delete_forever(app, auth, client):
    make_user(app, "boss", is_admin=True)
    auth.signup("alice")
    upload(client, "a.png")
    image_id = last_image_id(app)
    _delete(client)
    bob = signed_in(app, "bob")
    admin = app.test_client()
    login(admin, "boss")
    for who in (bob, admin):
        for action in ("restore", "delete"):
            response = who.post(f"/trash/{image_id}/{action}", data={"confirm": "yes"})
            assert response.status_code == 404
            assert "This image is not in your trash." in response.get_data(as_text=True)
    assert [r[2] for r in image_rows(app)] == ["trashed"]
    assert client.post("/trash/999999/restore").status_code == 404


def test_delete_forever_asks_first_then_removes_everything(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    image_id = last_image_id(app)
    _delete(client)
    page = client.post(f"/trash/{image_id}/delete")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Delete “<span" in html and "This cannot be undone." in html
    assert [r[2] for r in image_rows(app)] == ["trashed"]
    response = client.post(f"/trash/{image_id}/delete", data={"confirm": "yes"})
    assert response.status_code == 303 and response.headers["Location"] == "/trash"
    assert "Deleted “a.png” for good." in flashes(client.get("/trash"))
    assert image_rows(app) == [] and objects(app) == set()
    assert "The trash is empty." in client.get("/trash").get_data(as_text=True)


def test_empty_trash_asks_first_and_leaves_other_peoples_trash(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    upload(client, "b.png", visibility="private")
    _delete(client)
    _delete(client, "b.png", "private")
    bob = signed_in(app, "bob")
    upload(bob, "c.png")
    _delete(bob, "c.png")
    confirm = client.post("/trash/empty").get_data(as_text=True)
    assert "Empty the trash?" in confirm and "a.png" in confirm and "c.png" not in confirm
    assert len(image_rows(app)) == 3
    response = client.post("/trash/empty", data={"confirm": "yes"})
    assert response.status_code == 303
    assert "Deleted 2 images for good." in flashes(client.get("/trash"))
    assert [r[0] for r in image_rows(app)] == ["c.png"]


def test_bulk_delete_moves_to_the_trash(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    upload(client, "b.png", visibility="private")
    ids = [last_image_id(app) - 1, last_image_id(app)]
    confirm = client.post("/delete-selected", data={"image_id": ids}).get_data(as_text=True)
    assert "They move to your trash, where you can restore them for 30 days." in confirm
    client.post("/delete-selected", data={"image_id": ids, "confirm": "yes"})
    message = "Moved 2 images to the trash. You can restore them from the Trash for 30 days."
    assert message in flashes(client.get("/myfiles"))
    assert [r[2] for r in image_rows(app)] == ["trashed", "trashed"]


def test_with_trash_days_zero_delete_is_for_good(no_trash_config, app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    _delete(client)
    assert "Deleted “a.png”." in flashes(client.get("/myfiles"))
    assert image_rows(app) == [] and objects(app) == set()
    assert "deleted for good at once" in client.get("/trash").get_data(as_text=True)


def test_maintenance_empties_what_is_past_trash_days(short_trash_config, app, auth, client):
    auth.signup("alice")
    upload(client, "old.png")
    upload(client, "new.png")
    _delete(client, "old.png")
    _age_trash(app, 2)
    _delete(client, "new.png")
    record = maintenance.run_once(app)
    assert any("from the trash" in line for line in record["repaired"]), record
    assert [r[0] for r in image_rows(app)] == ["new.png"]
    assert _counters(app, "alice")[1] == image_rows_size(app)


def image_rows_size(app) -> int:
    with app.app_context():
        return sum(db.session.scalars(select(Image.size)))


def test_fsck_reports_and_empties_expired_trash(short_trash_config, app, auth, client):
    auth.signup("alice")
    upload(client, "old.png")
    _delete(client, "old.png")
    _age_trash(app, 2)
    with app.app_context():
        report = fsck.run(dry_run=True)
        assert any("past its time in the trash" in f for f in report.found)
        assert len(image_rows(app)) == 1
        fsck.run()
    assert image_rows(app) == [] and objects(app) == set()


def test_a_failed_copy_to_the_trash_changes_nothing(monkeypatch, app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    before = (image_rows(app), objects(app))
    store = app.extensions["object_store"]

    def copy(*args):
        raise StorageError("simulated outage")

    monkeypatch.setattr(store, "copy", copy)
    response = _delete(client)
    assert response.status_code == 503
    assert (image_rows(app), objects(app)) == before


def test_an_admin_deleting_someone_elses_image_puts_it_in_their_trash_and_audits(app, auth, client):
    make_user(app, "boss", is_admin=True)
    auth.signup("alice")
    upload(client, "a.png")
    admin = app.test_client()
    login(admin, "boss")
    assert _delete(admin).status_code == 303
    assert "Moved “a.png” to the trash of alice." in flashes(admin.get("/myfiles"))
    assert "a.png" in client.get("/trash").get_data(as_text=True)
    assert "The trash is empty." in admin.get("/trash").get_data(as_text=True)
    assert any("a.png" in target and "trash" in target for _, _, target in audit_rows(app))


def test_the_trash_page_needs_a_login(client):
    response = client.get("/trash")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_reset_empties_every_trash_the_admins_too(app, client):
    make_user(app, "boss", is_admin=True)
    login(client, "boss")
    upload(client, "a.png")
    _delete(client)
    with app.app_context():
        boss = db.session.scalar(select(User).where(User.username == "boss"))
        result = actions.reset(boss, "RESET")
    assert result.images_deleted == 1
    assert image_rows(app) == [] and objects(app) == set()


def test_trash_page_lists_expiry_dates(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    _delete(client)
    html = client.get("/trash").get_data(as_text=True)
    expected = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).strftime("%Y-%m-%d")
    assert re.search(rf"deleted for good on\s*<time[^>]*>{expected}</time>", html)


def _noise_png(side: int = 450) -> bytes:
    """A PNG of random pixels: about side² × 3 bytes, which no compression shrinks."""
    out = io.BytesIO()
    PILImage.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def test_quotas_count_the_trash_until_it_is_emptied(app, auth, client):
    auth.signup("alice")
    with app.app_context():
        db.session.execute(update(User).where(User.username == "alice").values(quota_mb=1))
        db.session.commit()
    assert upload(client, "a.png", _noise_png()).status_code == 303
    _delete(client)
    refused = upload(client, "b.png", _noise_png())
    assert refused.status_code == 413
    assert [r[0] for r in image_rows(app)] == ["a.png"]
    client.post("/trash/empty", data={"confirm": "yes"})
    assert upload(client, "b.png", _noise_png()).status_code == 303
