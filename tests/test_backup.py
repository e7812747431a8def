"""Export and import: a repository on SQLite + files goes to MySQL + S3 and back with
`flask --app web export` / `import`, and every row, object (by SHA-256), owner,
visibility, comment and password login is the same; bad input changes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from sqlalchemy import select

from tests.helpers import (
    PASSWORD,
    backend_config,
    build_app,
    image_bytes,
    last_image_id,
    make_user,
    say,
    signed_in,
    teardown_app,
    upload,
)
from web.extensions import db, storage
from web.models import Base
from web.storage import ObjectMissing


def fill(app) -> None:
    """Users, public and private images with thumbnails, a comment, a token, a share
    link, an admin action in the audit log."""
    make_user(app, "boss", is_admin=True)
    alice = signed_in(app, "alice")
    bob = signed_in(app, "bob")
    assert upload(alice, "sunset.png", image_bytes(size=(300, 200)), "public").status_code == 303
    public_id = last_image_id(app)
    assert upload(alice, "secret.jpg", image_bytes("JPEG"), "private").status_code == 303
    assert upload(bob, "bob.png", image_bytes(), "public").status_code == 303
    assert say(bob, public_id, "Lovely colours").status_code in (302, 303)
    form = {"name": "laptop", "scope": "read-write", "expires": "never"}
    assert alice.post("/account/tokens", data=form).status_code == 200
    alice.post(f"/image/{public_id}/share", data={"expires": "never", "allow_download": "yes"})
    admin = app.test_client()
    admin.post("/login", data={"username": "boss", "password": PASSWORD})
    victim = make_user(app, "carol")
    assert admin.post(f"/admin/users/{victim.id}/delete").status_code in (302, 303)


def contents(app) -> dict:
    """Every row of every table (buckets as the source names them, datetimes to the
    second) and the SHA-256 of every object, by bucket role and key."""
    config = app.config
    rows = {}
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            found = []
            for row in db.session.execute(select(table).order_by(*table.primary_key)):
                values = dict(row._mapping)
                if values.get("bucket"):
                    values["bucket"] = _role(values["bucket"], config)
                found.append(values)
            rows[table.name] = found
        store = storage.store
        objects = {}
        for bucket in store.list_buckets():
            role = _role(bucket, config)
            if role is None:
                continue
            for info in store.list(bucket):
                data = b"".join(store.open(bucket, info.key))
                objects[(role, info.key)] = hashlib.sha256(data).hexdigest()
    return {"rows": rows, "objects": objects}


def _role(bucket: str, config) -> str | None:
    if bucket == config["PUBLIC_BUCKET"]:
        return "public"
    if bucket.startswith(config["USER_BUCKET_PREFIX"]):
        return "user:" + bucket[len(config["USER_BUCKET_PREFIX"]) :]
    return None


def assert_same(left: dict, right: dict) -> None:
    assert left["objects"] == right["objects"]
    assert left["rows"].keys() == right["rows"].keys()
    for table, rows in left["rows"].items():
        other = right["rows"][table]
        assert len(rows) == len(other), table
        for a, b in zip(rows, other, strict=True):
            assert a.keys() == b.keys()
            for name in a:
                if isinstance(a[name], dt.datetime):  # MySQL keeps whole seconds
                    assert abs(a[name] - b[name]) <= dt.timedelta(seconds=1), (table, name)
                else:
                    assert a[name] == b[name], (table, name)


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def apps(request, tmp_path):
    """An app on each backend, each with its own buckets, torn down afterwards."""
    made = []

    def make(backend: str, name: str):
        app = build_app(backend_config(request, backend, tmp_path / name))
        made.append(app)
        return app

    yield make
    for app in made:
        teardown_app(app)


def test_round_trip_files_to_mysql_s3_and_back(apps, tmp_path):
    source = apps("sqlite-files", "source")
    fill(source)
    original = contents(source)
    assert len(original["rows"]["images"]) == 3 and len(original["objects"]) == 6
    assert original["rows"]["comments"] and original["rows"]["audit_log"]

    result = run(source, "export", str(tmp_path / "one.tar"))
    assert result.exit_code == 0, result.output
    assert "exported to" in result.output and "6 objects" in result.output

    middle = apps("mysql-s3", "middle")
    result = run(middle, "import", str(tmp_path / "one.tar"))
    assert result.exit_code == 0, result.output
    assert "imported from" in result.output
    assert_same(original, contents(middle))
    result = run(middle, "export", str(tmp_path / "two"))
    assert result.exit_code == 0, result.output
    client = middle.test_client()  # after the export: a login adds a session row
    login = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert login.status_code == 302
    assert "secret.jpg" in client.get("/myfiles").get_data(as_text=True)
    manifest = json.loads((tmp_path / "two" / "manifest.json").read_text())
    for entry in manifest["objects"]:
        data = (tmp_path / "two" / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]

    back = apps("sqlite-files", "back")
    result = run(back, "import", str(tmp_path / "two"))
    assert result.exit_code == 0, result.output
    assert_same(original, contents(back))
    assert (
        back.test_client()
        .post("/login", data={"username": "bob", "password": PASSWORD})
        .status_code
        == 302
    )


def test_import_refuses_a_repository_that_is_not_empty(apps, tmp_path, backend):
    source = apps("sqlite-files", "source")
    fill(source)
    assert run(source, "export", str(tmp_path / "snap")).exit_code == 0
    target = apps(backend, "target")
    make_user(target, "dave")
    before = contents(target)
    result = run(target, "import", str(tmp_path / "snap"))
    assert result.exit_code != 0
    assert "the target repository is not empty (rows in users" in result.output
    assert "--force" in result.output
    assert contents(target) == before
    forced = run(target, "import", "--force", str(tmp_path / "snap"))
    assert forced.exit_code == 0, forced.output
    names = [r["username"] for r in contents(target)["rows"]["users"]]
    assert "dave" not in names and "alice" in names


def test_export_refuses_a_used_destination_and_import_a_damaged_snapshot(apps, tmp_path, backend):
    source = apps(backend, "source")
    fill(source)
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    result = run(source, "export", str(used))
    assert result.exit_code != 0 and "is not an empty directory" in result.output
    assert [p.name for p in used.iterdir()] == ["keep.txt"]
    assert run(source, "export", str(tmp_path / "snap.tar")).exit_code == 0
    again = run(source, "export", str(tmp_path / "snap.tar"))
    assert again.exit_code != 0 and "exists already" in again.output

    assert run(source, "export", str(tmp_path / "snap")).exit_code == 0
    teardown_app(source)  # the target may be the same MySQL database
    target = apps(backend, "target")
    missing = run(target, "import", str(tmp_path / "nowhere"))
    assert missing.exit_code != 0 and "does not exist" in missing.output
    not_a_snapshot = run(target, "import", str(used))
    assert not_a_snapshot.exit_code != 0 and "no readable manifest.json" in not_a_snapshot.output
    manifest_path = tmp_path / "snap" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "schema_revision": "0123abcd"}))
    other_version = run(target, "import", str(tmp_path / "snap"))
    assert other_version.exit_code != 0
    assert "the snapshot has schema 0123abcd" in other_version.output
    manifest_path.write_text(json.dumps(manifest))
    first = sorted((tmp_path / "snap" / "objects").iterdir())[0]
    first.write_bytes(b"damaged")
    make_user(target, "erin")
    before = contents(target)
    damaged = run(target, "import", "--force", str(tmp_path / "snap"))
    assert damaged.exit_code != 0 and "does not match its SHA-256" in damaged.output
    assert contents(target) == before


def test_an_image_deleted_while_exporting_is_left_out_with_its_comments(
    apps, tmp_path, monkeypatch, backend
):
    """The rows are of one moment; an image whose original is gone by the time it is read
    (deleted meanwhile) is left out with the rows that point at it."""
    source = apps(backend, "source")
    fill(source)
    first = contents(source)["rows"]["images"][0]  # the commented, shared image
    store = source.extensions["object_store"]
    real = store.open

    def open_(bucket, key):
        if key == first["object_key"]:
            raise ObjectMissing(key)
        return real(bucket, key)

    monkeypatch.setattr(store, "open", open_)
    result = run(source, "export", str(tmp_path / "snap"))
    assert result.exit_code == 0, result.output
    said = f"left out 1 image(s) deleted or moved while exporting (ids {first['id']})"
    assert said in result.output
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text())
    assert manifest["rows"]["images"] == 2 and manifest["rows"]["comments"] == 0
    assert len(manifest["objects"]) == 4 and manifest["left_out"] == [first["id"]]
