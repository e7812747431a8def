"""Deadlines: a dependency that stops answering fails the call in bounded time, and
/health answers within two seconds naming what hangs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from support.processes import HOST
from tests.helpers import SilentServer, build_app, teardown_app
from web import create_app
from web.storage import S3Store, StorageError, retry_policy


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def timed(func, *args):
    start = time.monotonic()
    try:
        outcome = func(*args)
    except StorageError as exc:
        outcome = exc
    return outcome, time.monotonic() - start


def test_a_frozen_database_is_a_503_within_its_timeout(silent, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "DATABASE_URL": f"mysql+pymysql://root@{HOST}:{silent.port}/frozen",
            "DB_CONNECT_TIMEOUT": 1,
            "DB_TIMEOUT": 1,
        }
    )
    start = time.monotonic()
    response = app.test_client().post("/login", data={"username": "a", "password": "b"})
    assert response.status_code == 503
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("action", ["put", "get"])
def test_a_frozen_store_fails_the_call_after_one_read_timeout(silent, tmp_path, action):
    # With a region the client asks no bucket location first: the call is the PUT or GET.
    store = S3Store(
        f"{HOST}:{silent.port}", "key", "secret", region="us-east-1", timeout=1, connect_timeout=1
    )
    source = tmp_path / "a.bin"
    source.write_bytes(b"x" * 1000)
    if action == "put":
        outcome, seconds = timed(store.put_file, "bucket", "a.bin", str(source), "image/png")
    else:
        outcome, seconds = timed(lambda: list(store.open("bucket", "a.bin")))
    assert isinstance(outcome, StorageError)
    assert seconds < 3
    assert len(silent.accepted) == 1  # sent once: never repeated blindly


def test_the_retry_policy_repeats_reads_but_never_a_sent_write():
    policy = retry_policy()
    assert policy.is_retry("GET", 503) and policy.is_retry("DELETE", 502)
    assert not policy.is_retry("PUT", 503)
    assert not policy.is_retry("POST", 503)


def test_health_names_each_frozen_part_within_two_seconds(app, client, silent, monkeypatch):
    engine = create_engine(
        f"mysql+pymysql://root@{HOST}:{silent.port}/frozen",
        connect_args={"connect_timeout": 30, "read_timeout": 30},
    )
    monkeypatch.setitem(app.extensions, "db_sessionmaker", sessionmaker(engine))
    monkeypatch.setitem(
        app.extensions, "object_store", S3Store(f"{HOST}:{silent.port}", "k", "s", timeout=30)
    )
    for _ in range(2):  # the second asks while the first checks still hang
        start = time.monotonic()
        response = client.get("/health")
        assert time.monotonic() - start < 2
        assert response.status_code == 503
        assert response.json == {
            "status": "unavailable",
            "database": "timed out",
            "object_store": "timed out",
        }


def test_health_reports_redis_down_as_degraded(config, silent):
    config["REDIS_URL"] = f"redis://{HOST}:{silent.port}/0"
    app = build_app(config)
    try:
        start = time.monotonic()
        response = app.test_client().get("/health")
        assert time.monotonic() - start < 2
        assert response.status_code == 200
        assert response.json["status"] == "degraded"
        assert response.json["database"] == "ok" and response.json["object_store"] == "ok"
        assert response.json["redis"] == "timed out" or response.json["redis"].startswith("failed")
    finally:
        teardown_app(app)
