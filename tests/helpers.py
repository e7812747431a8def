"""Plain helpers of the test suite: factories, readers of pages and rows, form posts.

Fixtures stay in conftest.py (which uses these too); test modules import helpers from here,
never from conftest.py or from each other.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import io
import itertools
import re
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image as PILImage
from sqlalchemy import Engine, create_engine, event, func, select, text, update

from web import create_app, migrate
from web.accounts.registration import register
from web.extensions import db, storage
from web.images import renditions
from web.images.naming import ensure_public_bucket
from web.models import AuditEntry, Base, Image, User
from web.operations import maintenance
from web.storage import StorageError

# --- users and images -----------------------------------------------------------------


PASSWORD = "Quiet-harbor-lantern-42"
_counter = itertools.count(1)


def image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (64, 48), color: Any = None, **save: Any
) -> bytes:
    """A real image made by Pillow; a fresh colour each call gives distinct content."""
    n = next(_counter)
    color = color or ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256)
    mode = "RGBA" if fmt in ("PNG", "WEBP") and save.pop("alpha", False) else "RGB"
    im = PILImage.new(mode, size, color)
    out = io.BytesIO()
    im.save(out, fmt, **save)
    return out.getvalue()


def make_user(
    app: Flask, username: str | None = None, password: str = PASSWORD, **fields: Any
) -> User:
    with app.app_context():
        name = username or f"user{next(_counter)}"
        user = register(
            fields.get("name", name.title()),
            name,
            fields.get("email", f"{name}@example.org"),
            password,
        )
        if fields.get("is_admin"):
            user.is_admin = True
            db.session.commit()
        db.session.expunge(user)
        return user


def signed_in(app: Flask, username: str) -> FlaskClient:
    """A new user and a browser of theirs, logged in."""
    make_user(app, username)
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def upload(
    client: FlaskClient,
    filename: str = "photo.png",
    data: bytes | None = None,
    visibility: str = "public",
    **extra: Any,
):
    payload = {
        "file": (io.BytesIO(image_bytes() if data is None else data), filename),
        "visibility": visibility,
        **extra,
    }
    return client.post("/myfiles", data=payload, content_type="multipart/form-data")


@dataclass
class Auth:
    client: FlaskClient
    app: Flask

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.get("/logout")

    def signup(self, username: str | None = None, password: str = PASSWORD) -> User:
        user = make_user(self.app, username, password)
        response = self.login(user.username, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user


# --- the application on each backend --------------------------------------------------


def backend_config(request: pytest.FixtureRequest, backend: str, tmp_path) -> dict[str, Any]:
    """Settings for one test: its own data dir, and its own buckets on the S3 server."""
    n = next(_counter)
    config: dict[str, Any] = {
        "TESTING": True,
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PUBLIC_BUCKET": f"pub{n}x",
        "USER_BUCKET_PREFIX": f"u{n}x-",
        # Previews are made in the background only where a test asks (tests/test_previews.py),
        # so that the objects an upload stores right away stay what tests compare.
        "RENDITION_WORKERS": 0,
        # and, where they are made, at once: tests/test_activity.py tests the wait.
        "RENDITION_IDLE_MS": 0,
    }
    if backend == "mysql-s3":
        s3 = request.getfixturevalue("s3")
        config.update(
            DATABASE_URL=request.getfixturevalue("mysql_database"),
            S3_ENDPOINT=s3.endpoint,
            S3_ACCESS_KEY=s3.access_key,
            S3_SECRET_KEY=s3.secret_key,
        )
    return config


def build_app(config: dict[str, Any]) -> Flask:
    app = create_app(config)
    with app.app_context():
        if not start_from_migrated_copy(db.engine) and not at_head(db.engine):
            migrate.upgrade(db.engine)
        ensure_public_bucket()
    return app


def start_from_migrated_copy(engine: Engine) -> bool:
    """A new SQLite database starts as a copy of one migrated to the head once per run:
    running every migration for each test cost about 0.3 s a test on SQLite. Any other
    database, or one already there, is left alone (and False returned)."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or Path(path).exists():
        return False
    shutil.copyfile(migrated_sqlite(), path)
    return True


@functools.cache
def migration_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(migrate.alembic_config()).get_heads())


def at_head(engine: Engine) -> bool:
    """Whether the schema is at the latest migration (one query; an upgrade that finds
    nothing to do reads every migration script and takes a lock first)."""
    return migrate.applied(engine) == migration_heads()


@functools.cache
def migrated_sqlite() -> Path:
    """An SQLite database the app made and migrated to the head, once per run."""
    folder = Path(tempfile.mkdtemp(prefix="imgrepo-schema-"))
    atexit.register(shutil.rmtree, folder, True)
    app = create_app({"TESTING": True, "DATA_DIR": str(folder), "SECRET_KEY": "schema"})
    with app.app_context():
        migrate.upgrade(db.engine)
        db.dispose()
    path = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    assert path.is_file() and not Path(f"{path}-wal").exists(), path
    return path


def teardown_app(app: Flask) -> None:
    """Stop its maintenance thread and its previews in the making, empty the tables and
    remove this test's buckets."""
    maintenance.stop(app)
    renditions.stop(app)
    with app.app_context():
        db.session.rollback()
        store = storage.store
        prefix = app.config["USER_BUCKET_PREFIX"]
        for bucket in store.list_buckets():
            if bucket == app.config["PUBLIC_BUCKET"] or bucket.startswith(prefix):
                store.remove_bucket(bucket)
        with db.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
        db.dispose()


# --- what a page shows and what the tables and buckets hold ---------------------------


def flashes(response) -> list[str]:
    """The messages shown in alert boxes of a page."""
    html = response.get_data(as_text=True)
    return [
        re.sub(r"\s+", " ", m).strip()
        for m in re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S)
    ]


def image_rows(app: Flask) -> list[tuple]:
    with app.app_context():
        return [
            tuple(r)
            for r in db.session.execute(
                text(
                    "SELECT filename, visibility, state, bucket, object_key FROM images ORDER BY id"
                )
            )
        ]


def objects(app: Flask, bucket: str | None = None) -> set[str]:
    """Every object in this test's buckets, as 'bucket/key'."""
    with app.app_context():
        store = storage.store
        prefix = app.config["USER_BUCKET_PREFIX"]
        found = set()
        for name in store.list_buckets():
            if name == app.config["PUBLIC_BUCKET"] or name.startswith(prefix):
                if bucket is None or name == bucket:
                    found.update(f"{name}/{o.key}" for o in store.list(name))
        return found


def stored_objects(app: Flask, bucket: str, filename: str) -> set[str]:
    """What a ready image keeps in ``bucket``: its original, named by its filename, and
    its thumbnail, named by its id."""
    with app.app_context():
        image_id = db.session.scalar(
            select(Image.id).where(
                Image.bucket == bucket, Image.object_key == filename, Image.state == "ready"
            )
        )
    assert image_id is not None, f"no ready image {bucket}/{filename}"
    return {f"{bucket}/{filename}", f"{bucket}/.thumbnails/{image_id}.webp"}


def comment_rows(app) -> list[tuple]:
    with app.app_context():
        return [
            tuple(r)
            for r in db.session.execute(
                text("SELECT image_id, author_id, body FROM comments ORDER BY id")
            )
        ]


def last_image_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(Image.id)))


def users_by_name(app) -> dict[str, tuple]:
    with app.app_context():
        rows = db.session.execute(text("SELECT username, is_admin, state FROM users"))
        return {r[0]: (bool(r[1]), r[2]) for r in rows}


def audit_rows(app) -> list[tuple]:
    """(who, what, target) of every audit entry, oldest first."""
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.actor_username, e.action, e.target) for e in entries]


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


@contextmanager
def count_queries(app) -> Iterator[list[str]]:
    """The SQL statements the application runs inside the block (on any of its engines)."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engines = db.engines
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


# --- acting as a user, and failures on purpose ----------------------------------------


def login(client, username: str) -> None:
    """Log in through the form (with its CSRF token when CSRF is on)."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    form = {"username": username, "password": PASSWORD}
    if token:
        form["csrf_token"] = token.group(1)
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)


def login_status(app, username: str) -> int:
    return (
        app.test_client()
        .post("/login", data={"username": username, "password": PASSWORD})
        .status_code
    )


def say(client, image_id: int, body: str):
    return client.post(f"/image/{image_id}/comments", data={"body": body})


def settings(name: str, **values):
    """A fixture ``name`` that changes settings before the app is built (ask for it
    before ``app``)."""

    @pytest.fixture(name=name)
    def fixture(config):
        config.update(values)
        return config

    return fixture


def age_everything(app, minutes=60):
    with app.app_context():
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
        db.session.execute(update(Image).values(updated_at=old))
        db.session.commit()


def break_removes(monkeypatch, app, when=lambda bucket, key: True):
    store = app.extensions["object_store"]
    real = store.remove

    def remove(bucket, key):
        if when(bucket, key):
            raise StorageError("simulated outage")
        return real(bucket, key)

    monkeypatch.setattr(store, "remove", remove)


# --- dependencies that are down or frozen (real sockets, no mocks) ---------------------


def down_database_engine(timeout: int = 1):
    """An engine for a MySQL port where nothing listens: a database that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return create_engine(
        f"mysql+pymysql://root@127.0.0.1:{port}/gone", connect_args={"connect_timeout": timeout}
    )


class SilentServer:
    """A TCP server that accepts connections and never answers: a frozen dependency.
    ``accepted`` counts the connections it was sent."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def signed_in_admin(app: Flask, username: str = "boss") -> FlaskClient:
    """A new admin and a browser of theirs, logged in."""
    make_user(app, username, is_admin=True)
    client = app.test_client()
    login(client, username)
    return client
