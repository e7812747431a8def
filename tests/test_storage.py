"""The ObjectStore interface: the same behaviour from the filesystem and from S3."""

from __future__ import annotations

import pytest

from web.extensions import storage
from web.storage import FileStore, ObjectMissing, StorageError, check_key


@pytest.fixture
def store(app):
    with app.app_context():
        yield storage.store


@pytest.fixture
def bucket(app, store):
    name = app.config["USER_BUCKET_PREFIX"] + "store"
    store.ensure_bucket(name)
    return name


def test_put_open_stat_list_remove(store, bucket, tmp_path):
    source = tmp_path / "src"
    source.write_bytes(b"hello world")
    store.put_file(bucket, "a.png", str(source), "image/png")
    store.put_file(bucket, "thumbnails/a.png.webp", str(source), "image/webp")
    assert b"".join(store.open(bucket, "a.png")) == b"hello world"
    assert store.stat(bucket, "a.png").size == 11
    assert store.exists(bucket, "a.png")
    assert sorted(o.key for o in store.list(bucket)) == ["a.png", "thumbnails/a.png.webp"]
    assert [o.key for o in store.list(bucket, "thumbnails/")] == ["thumbnails/a.png.webp"]
    store.remove(bucket, "a.png")
    assert not store.exists(bucket, "a.png")
    with pytest.raises(ObjectMissing):
        store.open(bucket, "a.png")


def test_removing_what_is_already_gone_succeeds(store, bucket):
    store.remove(bucket, "never-there.png")
    store.remove(bucket, "never-there.png")
    assert not store.exists(bucket, "never-there.png")


def test_copy(store, bucket, tmp_path):
    source = tmp_path / "src"
    source.write_bytes(b"x" * 1000)
    store.put_file(bucket, "one.png", str(source), "image/png")
    store.copy(bucket, "one.png", bucket, "two.png")
    assert b"".join(store.open(bucket, "two.png")) == b"x" * 1000
    with pytest.raises(ObjectMissing):
        store.copy(bucket, "missing.png", bucket, "three.png")


def test_unicode_keys_round_trip(store, bucket, tmp_path):
    source = tmp_path / "src"
    source.write_bytes(b"data")
    for key in ("été.png", "漢字.jpg", "😀 party.gif", "<b>x</b>.png"):
        store.put_file(bucket, key, str(source), "image/png")
    assert sorted(o.key for o in store.list(bucket)) == sorted(
        ["été.png", "漢字.jpg", "😀 party.gif", "<b>x</b>.png"]
    )


@pytest.mark.parametrize(
    "key", ["../escape.png", "/abs.png", "a/../../b", "", "a\x00b", "x/./y", "back\\slash"]
)
def test_keys_cannot_escape_their_bucket(store, bucket, tmp_path, key):
    source = tmp_path / "src"
    source.write_bytes(b"data")
    with pytest.raises(ValueError, match="unsafe object key"):
        store.put_file(bucket, key, str(source), "image/png")


def test_check_key_accepts_plain_names():
    assert check_key("thumbnails/a b.png.webp") == "thumbnails/a b.png.webp"


def test_buckets_are_created_listed_and_removed(store, app, tmp_path):
    name = app.config["USER_BUCKET_PREFIX"] + "tmp"
    store.ensure_bucket(name)
    store.ensure_bucket(name)  # idempotent
    assert store.bucket_exists(name) and name in store.list_buckets()
    source = tmp_path / "src"
    source.write_bytes(b"data")
    store.put_file(name, "x.png", str(source), "image/png")
    store.remove_bucket(name)
    assert not store.bucket_exists(name)
    store.remove_bucket(name)  # already gone: fine


def test_writing_into_a_missing_bucket_fails(store, app, tmp_path):
    source = tmp_path / "src"
    source.write_bytes(b"data")
    with pytest.raises(StorageError):
        store.put_file(app.config["USER_BUCKET_PREFIX"] + "nobucket", "x.png", str(source), "")


def test_file_store_leaves_no_temporary_files(tmp_path):
    store = FileStore(tmp_path / "objects")
    store.ensure_bucket("bucket")
    source = tmp_path / "src"
    source.write_bytes(b"data")
    store.put_file("bucket", "a.png", str(source), "image/png")
    assert [p.name for p in (tmp_path / "objects" / "bucket").iterdir()] == ["a.png"]
