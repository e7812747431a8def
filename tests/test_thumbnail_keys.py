"""Thumbnail keys come from the image id, where no filename can reach: no upload can
take over or block another image's thumbnail; rows written with the old keys keep
working."""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update

from tests.helpers import (
    age_everything,
    image_bytes,
    last_image_id,
    objects,
    settings,
    signed_in,
    stored_objects,
    upload,
)
from web.extensions import db, storage
from web.models import Image
from web.operations import fsck


def thumb_key(app, image_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(Image.thumb_key).where(Image.id == image_id))


def test_thumbnails_are_named_by_the_image_id(app):
    client = signed_in(app, "alice")
    upload(client, "a.png", visibility="public")
    image_id = last_image_id(app)
    assert thumb_key(app, image_id) == f".thumbnails/{image_id}.webp"
    assert objects(app) == stored_objects(app, app.config["PUBLIC_BUCKET"], "a.png")


def test_a_name_crafted_after_a_long_name_does_not_share_its_thumbnail(app):
    alice = signed_in(app, "alice")
    long_name = "é" * 120 + "-holiday.png"  # 252 bytes: once shortened to a hash
    assert upload(alice, long_name, image_bytes(color=(255, 0, 0)), "public").status_code == 303
    victim = last_image_id(app)
    before = alice.get(f"/image/{victim}/thumb").data
    # The old shortened key, "thumbnails/<name[:200]>~<hash16>.webp", was exactly the
    # key of a public image named "<name[:200]>~<hash16>".
    stem = long_name.encode()[:200].decode("utf-8", "ignore")
    crafted = f"{stem}~{hashlib.sha256(long_name.encode()).hexdigest()[:16]}"
    mallory = signed_in(app, "mallory")
    assert upload(mallory, crafted, image_bytes(color=(0, 0, 255)), "public").status_code == 303
    attacker = last_image_id(app)
    assert thumb_key(app, attacker) != thumb_key(app, victim)
    assert alice.get(f"/image/{victim}/thumb").data == before
    deleted = mallory.post("/delete", data={"filename": crafted, "visibility": "public"})
    assert deleted.status_code == 303
    assert alice.get(f"/image/{victim}/thumb").data == before
    with app.app_context():
        assert fsck.run(dry_run=True).found == []


any_file = settings("any_file", ALLOW_ANY_FILE=True)


def test_a_public_file_named_thumbnails_does_not_block_later_uploads(any_file, app):
    mallory = signed_in(app, "mallory")
    assert upload(mallory, "thumbnails", b"not an image", "public").status_code == 303
    blocker = last_image_id(app)
    assert upload(mallory, ".thumbnails", b"not an image either", "public").status_code == 409
    alice = signed_in(app, "alice")
    response = upload(alice, "after.png", visibility="public")
    assert response.status_code == 303
    image_id = last_image_id(app)
    assert alice.get(f"/image/{image_id}/thumb").status_code == 200
    assert mallory.get(f"/image/{blocker}/file").data == b"not an image"


def make_old_style(app, image_id: int) -> str:
    """Give an image the thumbnail key of rows written before: thumbnails/<name>.webp."""
    with app.app_context():
        image = db.session.get(Image, image_id)
        old_key = f"thumbnails/{image.filename}.webp"
        storage.store.copy(image.bucket, image.thumb_key, image.bucket, old_key)
        storage.store.remove(image.bucket, image.thumb_key)
        db.session.execute(update(Image).where(Image.id == image_id).values(thumb_key=old_key))
        db.session.commit()
        return old_key


def test_rows_with_old_thumbnail_keys_still_serve_and_fsck_accepts_them(app):
    client = signed_in(app, "alice")
    upload(client, "old.png", visibility="public")
    image_id = last_image_id(app)
    thumbnail = client.get(f"/image/{image_id}/thumb").data
    old_key = make_old_style(app, image_id)
    pub = app.config["PUBLIC_BUCKET"]
    assert objects(app) == {f"{pub}/old.png", f"{pub}/{old_key}"}
    assert client.get(f"/image/{image_id}/thumb").data == thumbnail
    age_everything(app)
    with app.app_context():
        assert fsck.run(dry_run=True).found == []
    # A move gives the image a thumbnail named by its id and drops the old one.
    response = client.post(
        f"/image/{image_id}/edit", data={"filename": "renamed.png", "visibility": "public"}
    )
    assert response.status_code == 303
    assert objects(app) == stored_objects(app, pub, "renamed.png")
    assert client.get(f"/image/{image_id}/thumb").data == thumbnail
    with app.app_context():
        assert fsck.run(dry_run=True).found == []


def test_a_rename_keeps_the_thumbnail_where_it_is(app):
    client = signed_in(app, "alice")
    upload(client, "first.png", visibility="private")
    image_id = last_image_id(app)
    key = thumb_key(app, image_id)
    thumbnail = client.get(f"/image/{image_id}/thumb").data
    response = client.post(
        f"/image/{image_id}/edit", data={"filename": "second.png", "visibility": "private"}
    )
    assert response.status_code == 303
    assert thumb_key(app, image_id) == key
    bucket = app.config["USER_BUCKET_PREFIX"] + "alice"
    assert objects(app) == stored_objects(app, bucket, "second.png")
    assert client.get(f"/image/{image_id}/thumb").data == thumbnail
    age_everything(app)
    with app.app_context():
        assert fsck.run(dry_run=True).found == []
