"""Fixtures: the app on both backends, a client, logged-in users, and image factories.

Every test that takes ``app`` (or anything built on it) runs twice: on the embedded
default (SQLite + files) and on MySQL/MariaDB + S3 (SeaweedFS). The real servers start
once per run; a server that cannot start fails the run, it never skips.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import create_engine, text

from tests import services
from web import create_app, migrate, repository, users
from web.extensions import db, storage
from web.models import Base, User

PASSWORD = "Quiet-harbor-lantern-42"
BACKENDS = ["sqlite-files", "mysql-s3"]
_counter = itertools.count(1)


# --- real services, once per run ----------------------------------------------------


@pytest.fixture(scope="session")
def mysql_database() -> Iterator[str]:
    """A fresh MySQL/MariaDB database with the schema from the migrations."""
    with services.mysql_server() as base_url:
        url = services.create_database(base_url)
        engine = create_engine(url)
        try:
            migrate.upgrade(engine)
            yield url
        finally:
            engine.dispose()
            services.drop_database(url)


@pytest.fixture(scope="session")
def s3() -> Iterator[services.S3Server]:
    with services.s3_server() as server:
        yield server


# --- the application on each backend ------------------------------------------------


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
        migrate.upgrade(db.engine)
        repository.ensure_public_bucket()
    return app


def teardown_app(app: Flask) -> None:
    """Empty the tables and remove this test's buckets."""
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
        db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def config(request: pytest.FixtureRequest, backend: str, tmp_path) -> dict[str, Any]:
    """Per-test settings; a test may change them before it first asks for ``app``."""
    return backend_config(request, backend, tmp_path)


@pytest.fixture
def app(config: dict[str, Any]) -> Iterator[Flask]:
    application = build_app(config)
    yield application
    teardown_app(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- factories ----------------------------------------------------------------------


def image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (64, 48), color: Any = None, **save: Any
) -> bytes:
    """A real image made by Pillow; a fresh colour each call gives distinct content."""
    n = next(_counter)
    color = color or ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256)
    mode = "RGBA" if fmt in ("PNG", "WEBP") and save.pop("alpha", False) else "RGB"
    im = Image.new(mode, size, color)
    out = io.BytesIO()
    im.save(out, fmt, **save)
    return out.getvalue()


def make_user(
    app: Flask, username: str | None = None, password: str = PASSWORD, **fields: Any
) -> User:
    with app.app_context():
        name = username or f"user{next(_counter)}"
        user = users.register(
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


@pytest.fixture
def auth(client: FlaskClient, app: Flask) -> Auth:
    return Auth(client, app)


@pytest.fixture
def other_client(app: Flask) -> FlaskClient:
    """A second browser: another user's session."""
    return app.test_client()


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


# --- what ran, said at the end of the run ----------------------------------------------


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    """Say how many tests passed on each backend and in the browser, so that a CI log
    shows the MySQL + S3 and end-to-end tests ran rather than being skipped."""
    groups: dict[str, dict[str, int]] = {}
    e2e_passed: list[str] = []
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            nodeid = report.nodeid
            if "/e2e/" in nodeid:
                group = "end-to-end (Chromium)"
                if outcome == "passed":
                    e2e_passed.append(nodeid.split("::", 1)[1])
            elif "[mysql-s3" in nodeid:
                group = "MySQL/MariaDB + S3 (SeaweedFS)"
            elif "[sqlite-files" in nodeid:
                group = "SQLite + files"
            else:
                group = "backend-independent"
            counts = groups.setdefault(group, {})
            counts[outcome] = counts.get(outcome, 0) + 1
    if not groups:
        return
    terminalreporter.section("tests by backend")
    for group, counts in groups.items():
        text = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        terminalreporter.write_line(f"{group}: {text}")
    for name in e2e_passed:
        terminalreporter.write_line(f"  passed in the browser: {name}")
