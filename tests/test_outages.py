"""When a dependency fails: honest 503s that render without the database."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from support import processes
from tests.helpers import image_bytes, last_image_id, upload
from web.storage import StorageError

REQUEST_ID = "outage-check-1"


def dead_database(monkeypatch, app) -> None:
    """Point the application at a MySQL port where nothing listens (a database that is down)."""
    engine = create_engine(
        f"mysql+pymysql://root@127.0.0.1:{processes.free_port()}/gone",
        connect_args={"connect_timeout": 1},
    )
    monkeypatch.setitem(app.extensions, "db_sessionmaker", sessionmaker(engine))


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
