"""When a dependency fails: honest 503s that render without the database."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest
from flask import request
from sqlalchemy.orm import sessionmaker

from support.processes import free_port as down_port
from tests.helpers import (
    SilentServer,
    age_everything,
    build_app,
    down_database_engine,
    image_bytes,
    image_rows,
    last_image_id,
    login_status,
    make_user,
    objects,
    signed_in,
    teardown_app,
    upload,
)
from web import create_app
from web.config import ConfigError
from web.extensions import db
from web.models import PENDING
from web.operations import fsck
from web.storage import S3Store, StorageError

REQUEST_ID = "outage-check-1"
MYSQL = {"DATABASE_URL": "mysql+pymysql://u@db:3306/x"}


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def dead_database(monkeypatch, app) -> None:
    """Point the application at a database that is down (both its session makers: the
    galleries' GET requests read through their own, in autocommit mode on MySQL)."""
    down = sessionmaker(down_database_engine())
    for maker in ("db_sessionmaker", "db_read_sessionmaker"):
        monkeypatch.setitem(app.extensions, maker, down)


def assert_try_again_page(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    html = response.get_data(as_text=True)
    assert "try again" in html.lower()
    assert f"request id <code>{REQUEST_ID}</code>" in html


def test_signed_in_page_with_the_database_down_is_a_503_page(app, auth, client, monkeypatch):
    auth.signup("alice")
    dead_database(monkeypatch, app)
    response = client.get("/myfiles", headers={"X-Request-Id": REQUEST_ID})
    assert_try_again_page(response)
    assert "Signed in as" not in response.get_data(as_text=True)


def test_a_database_that_stops_answering_after_the_page_was_made_does_not_spoil_it(
    app, monkeypatch
):
    """The ROLLBACK that ends a read fails (the server froze once the page was made): the
    page still goes out, and the next request gets a working connection."""
    client = signed_in(app, "alice")
    dialect = app.extensions["db_engine"].dialect
    real = dialect.do_rollback

    def frozen(connection):
        raise dialect.loaded_dbapi.OperationalError(2013, "Lost connection (timed out)")

    monkeypatch.setattr(dialect, "do_rollback", frozen)
    # The account page: the galleries' GET requests end without a ROLLBACK on MySQL.
    response = client.get("/account")
    assert response.status_code == 200
    assert "alice" in response.get_data(as_text=True)
    monkeypatch.setattr(dialect, "do_rollback", real)
    for _ in range(3):
        assert client.get("/account").status_code == 200


def test_anonymous_login_with_the_database_down_is_a_503_page(app, client, monkeypatch):
    dead_database(monkeypatch, app)
    response = client.post(
        "/login",
        data={"username": "alice", "password": "whatever-it-is"},
        headers={"X-Request-Id": REQUEST_ID},
    )
    assert_try_again_page(response)
    assert "Sign up" in response.get_data(as_text=True)


def test_upload_with_the_database_down_is_a_503_page(app, auth, client, monkeypatch):
    auth.signup("alice")
    dead_database(monkeypatch, app)
    response = client.post(
        "/myfiles",
        data={"file": (io.BytesIO(image_bytes()), "a.png"), "visibility": "public"},
        content_type="multipart/form-data",
        headers={"X-Request-Id": REQUEST_ID},
    )
    assert_try_again_page(response)


@pytest.mark.parametrize("path", ["/api/images", "/myfiles"])
def test_json_clients_get_a_json_503(app, auth, client, monkeypatch, path):
    auth.signup("alice")
    dead_database(monkeypatch, app)
    response = client.post(
        path,
        data={"visibility": "public"},
        headers={"X-Request-Id": REQUEST_ID, "Accept": "application/json"},
    )
    assert response.status_code == 503
    assert response.json["request_id"] == REQUEST_ID
    assert "try again" in response.json["error"]


def test_the_store_down_while_serving_a_file_is_a_503(app, auth, client, monkeypatch):
    auth.signup("alice")
    assert upload(client, "a.png").status_code == 303
    image_id = last_image_id(app)

    def broken(*args, **kwargs):
        raise StorageError("simulated outage")

    store = app.extensions["object_store"]
    monkeypatch.setattr(store, "open", broken)
    response = client.get(f"/image/{image_id}/file", headers={"X-Request-Id": REQUEST_ID})
    assert_try_again_page(response)


# --- an upload whose dependency fails after the name was claimed ---------------------------


def test_database_dying_mid_upload_is_undone_and_the_name_frees_itself(
    app, auth, client, monkeypatch
):
    auth.signup("alice")
    store = app.extensions["object_store"]
    real_put = store.put_file
    dead = down_database_engine()

    def put_then_lose_the_database(bucket, key, path, content_type):
        real_put(bucket, key, path, content_type)
        if not key.startswith(".thumbnails/"):  # the thumbnail goes from another thread
            db.session.bind = dead  # the request's next statement finds the database down

    monkeypatch.setattr(store, "put_file", put_then_lose_the_database)
    response = upload(client, "a.png")
    monkeypatch.undo()
    assert response.status_code == 503
    assert "please try again" in response.get_data(as_text=True)
    assert objects(app) == set()  # the undo removed what was written
    assert [r[2] for r in image_rows(app)] == [PENDING]  # the row waits for maintenance
    age_everything(app)
    with app.app_context():
        assert fsck.run().failed == []
    assert image_rows(app) == []
    assert upload(client, "a.png").status_code == 303


def test_a_write_the_store_never_answered_keeps_the_name_claimed(
    app, auth, client, monkeypatch, silent
):
    auth.signup("alice")
    frozen = S3Store(f"127.0.0.1:{silent.port}", "k", "s", region="us-east-1", timeout=1)
    monkeypatch.setattr(app.extensions["object_store"], "put_file", frozen.put_file)
    response = upload(client, "a.png")
    assert response.status_code == 503
    assert "did not confirm that a.png was stored" in response.get_data(as_text=True)
    assert [r[2] for r in image_rows(app)] == [PENDING]
    monkeypatch.undo()
    assert upload(client, "a.png").status_code == 409  # a late write cannot replace a newer one
    age_everything(app)
    with app.app_context():
        assert fsck.run().failed == []
    assert image_rows(app) == [] and objects(app) == set()
    assert upload(client, "a.png").status_code == 303


# --- Redis is optional at run time -------------------------------------------------------


@pytest.mark.parametrize("failure", ["down", "frozen"])
def test_logins_work_while_redis_fails(config, silent, caplog, failure):
    port = silent.port if failure == "frozen" else down_port()
    config.update(REDIS_URL=f"redis://127.0.0.1:{port}/0", RATELIMIT_ENABLED=True)
    app = build_app(config)
    try:
        make_user(app, "alice")
        client = app.test_client()
        wrong = client.post("/login", data={"username": "alice", "password": "wrong-guess"})
        assert wrong.status_code == 200
        start = time.monotonic()
        assert login_status(app, "alice") == 302
        assert time.monotonic() - start < 5
        assert "counting limits in memory" in caplog.text or "in-memory" in caplog.text
        health = client.get("/health")
        assert health.status_code == 200 and health.json["status"] == "degraded"
    finally:
        teardown_app(app)


# --- settings for several instances ------------------------------------------------------


def test_a_shared_database_without_a_secret_key_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set when DATABASE_URL is a shared"):
        create_app({"DATA_DIR": str(tmp_path), **MYSQL})
    assert not (tmp_path / "secret_key").exists()
    app = create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "set-by-the-operator", **MYSQL})
    assert app.secret_key == "set-by-the-operator"


@pytest.mark.parametrize("hops", [0, 1])
def test_forwarded_headers_count_only_behind_trusted_proxies(config, hops):
    config["TRUSTED_PROXIES"] = hops
    app = build_app(config)
    seen = {}

    @app.after_request
    def look(response):
        seen.update(address=request.remote_addr, scheme=request.scheme)
        return response

    try:
        app.test_client().get(
            "/login",
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        )
    finally:
        teardown_app(app)
    if hops:
        assert seen == {"address": "203.0.113.9", "scheme": "https"}
    else:
        assert seen == {"address": "10.0.0.1", "scheme": "http"}
