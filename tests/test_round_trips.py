"""What serving images costs the database: one round trip for a thumbnail or an original
(the session, its user and the image in one query), a few for a gallery page; and the
pool neither pings nor rolls back twice, yet never keeps a connection that is in a
transaction or that the server closed."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import NullPool

from support.round_trips import round_trips as counting
from tests.helpers import (
    count_queries,
    last_image_id,
    login,
    make_user,
    say,
    signed_in,
    upload,
    user_id,
)
from web.extensions import (
    WriteOutsideTransaction,
    _closed_by_server,
    _mark_fresh,
    _refuse_writes,
    db,
    reads_only,
)
from web.models import User


@pytest.fixture
def alice(app):
    client = signed_in(app, "alice")
    assert upload(client, "private.png", visibility="private").status_code == 303
    return client


def test_a_thumbnail_or_an_original_costs_one_round_trip(app, alice):
    """One query, and on MySQL no ROLLBACK after it (image bytes read in autocommit mode)."""
    image_id = last_image_id(app)
    for path in (f"/image/{image_id}/thumb", f"/image/{image_id}/file"):
        alice.get(path)  # the pools have their connections
        with round_trips(app) as commands:
            response = alice.get(path)
        assert response.status_code == 200
        assert len(commands) == 1, commands
        with round_trips(app) as commands:  # a browser revalidating what it has
            again = alice.get(path, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
        assert len(commands) == 1, commands
    with count_queries(app) as statements:
        assert alice.get(f"/image/{image_id + 1000}/thumb").status_code == 404
    assert len(statements) <= 2


def test_image_bytes_read_only_the_columns_serving_needs(app, alice):
    """The one query of a thumbnail, original or preview reads neither the viewer's
    secrets nor the image's owner or page-only details; the image page still reads all."""
    image_id = last_image_id(app)
    page_only = re.compile(
        r"password_hash|totp_secret|\bemail\b|users_1|images\.(gps|camera|taken_at|created_at)\b"
    )
    for path in ("thumb", "file", "preview"):
        with count_queries(app) as statements:
            assert alice.get(f"/image/{image_id}/{path}").status_code == 200
        assert not page_only.search(statements[0]), (path, statements[0])
    with count_queries(app) as statements:
        assert alice.get(f"/image/{image_id}").status_code == 200
    assert "images.camera" in statements[0] and "users.username" in statements[0]


def test_every_image_request_still_checks_the_session(app, alice):
    image_id = last_image_id(app)
    thief = app.test_client()
    thief.set_cookie("session", alice.get_cookie("session").value)
    assert thief.get(f"/image/{image_id}/thumb").status_code == 200
    alice.get("/logout")
    assert thief.get(f"/image/{image_id}/thumb").status_code == 404
    assert thief.get(f"/image/{image_id}/file").status_code == 404

    login(alice, "alice")
    assert alice.get(f"/image/{image_id}/file").status_code == 200
    with app.app_context():  # an account being removed is signed out at once
        db.session.execute(update(User).where(User.username == "alice").values(state="deleting"))
        db.session.commit()
    assert alice.get(f"/image/{image_id}/thumb").status_code == 404


def test_a_temporary_password_still_comes_first_for_image_bytes(app, alice):
    image_id = last_image_id(app)
    with app.app_context():
        db.session.execute(
            update(User).where(User.username == "alice").values(must_change_password=True)
        )
        db.session.commit()
    response = alice.get(f"/image/{image_id}/thumb")
    assert response.status_code == 302
    assert response.location.endswith("/account/new-password")


def test_an_image_of_someone_else_stays_hidden_and_admins_see_it(app, alice):
    image_id = last_image_id(app)
    bob = signed_in(app, "bob")
    assert bob.get(f"/image/{image_id}/thumb").status_code == 404
    make_user(app, "boss", is_admin=True)
    admin = app.test_client()
    login(admin, "boss")
    assert admin.get(f"/image/{image_id}/thumb").status_code == 200
    assert app.test_client().get(f"/image/{image_id}/thumb").status_code == 404  # anonymous


@contextmanager
def round_trips(app) -> Iterator[list[str]]:
    """The database round trips made inside the block, on every engine of ``app``
    (support/round_trips.py: what PyMySQL sends; on SQLite what sqlite3 carries out)."""
    with app.app_context():
        engines = db.engines
    with counting(engines) as commands:
        yield commands


def test_a_gallery_page_costs_at_most_three_round_trips(app, alice):
    """On MySQL: the session with its user, the pages, the albums; no ROLLBACK after them
    (the galleries read in autocommit mode), whatever the sort and search."""
    for n in range(4):
        upload(alice, f"public{n}.png", visibility="public")
        upload(alice, f"mine{n}.png", visibility="private")
    public_id = last_image_id(app) - 1
    say(alice, public_id, "Nice one")
    alice.post("/albums", data={"title": "Trip"})
    for path in ("/myfiles", "/gallery", "/myfiles?sort=name&q=n", "/gallery?sort=size"):
        alice.get(path)  # the pools have their connections
        with round_trips(app) as commands:
            response = alice.get(path)
        assert response.status_code == 200
        assert len(commands) <= 3, (path, commands)
        assert not any(c.upper().startswith(("ROLLBACK", "COMMIT")) for c in commands), commands
    html = alice.get("/myfiles").get_data(as_text=True)
    assert ">Trip</option>" in html
    html = alice.get("/myfiles").get_data(as_text=True)
    assert f'id="comment-count-{public_id}">1 comment<' in html
    assert 'alt="mine3.png"' in html and 'alt="public3.png"' in html


def test_both_lists_of_my_files_page_on_their_own(app, alice):
    app.config["PAGE_SIZE"] = 2
    for n in range(3):
        upload(alice, f"p{n}.png", visibility="public")
    upload(alice, "m1.png", visibility="private")  # with private.png: two, one page
    alice.get("/myfiles")  # the upload messages, which name the files

    def shown(html: str) -> set[str]:
        return set(re.findall(r'<img src="/image/\d+/thumb" alt="([^"]+)"', html))

    html = alice.get("/myfiles").get_data(as_text=True)
    assert shown(html) == {"p2.png", "p1.png", "m1.png", "private.png"}
    later = re.search(r'href="(/myfiles\?public_after=[^"]+)"', html)
    assert later and "private_after" not in html
    html = alice.get(later.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert shown(html) == {"p0.png", "m1.png", "private.png"}


@pytest.mark.parametrize(
    ("statement", "read"),
    [
        ("SELECT images.id FROM images WHERE images.scope = %(scope)s", True),
        ("  select 1", True),
        ("SHOW VARIABLES LIKE 'sql_mode'", True),
        ("UPDATE users SET name=%(name)s", False),
        ("INSERT INTO comments (body) VALUES (%(body)s)", False),
        ("DELETE FROM user_sessions WHERE id = %(id)s", False),
        ("SELECT users.id FROM users WHERE users.id = %(id)s FOR UPDATE", False),
        ("SELECT id FROM users LOCK IN SHARE MODE", False),
        ("WITH gone AS (SELECT 1) DELETE FROM users", False),
    ],
)
def test_the_engine_in_autocommit_mode_runs_plain_reads_only(statement, read):
    if read:
        _refuse_writes(None, None, statement)
    else:
        with pytest.raises(WriteOutsideTransaction):
            _refuse_writes(None, None, statement)


def test_a_reads_only_view_cannot_write_outside_a_transaction(app, backend):
    """A view marked reads_only whose GET writes fails on MySQL, where its statements run in
    autocommit mode (each would commit on its own), and changes nothing; its POST writes in
    a transaction as any request does. SQLite has one engine for all requests."""

    def rename() -> str:
        db.session.execute(update(User).values(name="Renamed"))
        db.session.commit()
        return "renamed"

    app.add_url_rule("/rename-all", view_func=reads_only(rename), methods=["GET", "POST"])
    make_user(app, "carol")
    client = app.test_client()
    if backend == "mysql-s3":
        with pytest.raises(WriteOutsideTransaction):
            client.get("/rename-all")
        assert _names(app) == {"Carol"}
    assert client.post("/rename-all").get_data(as_text=True) == "renamed"
    assert _names(app) == {"Renamed"}


def _names(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(User.name)))


# --- the pool (MySQL) -------------------------------------------------------------------


@pytest.fixture
def mysql_engine(app, backend):
    if backend != "mysql-s3":
        pytest.skip("SQLite's pool rolls back in the process; nothing to save there")
    return app.extensions["db_engine"]


def test_one_rollback_per_request_and_no_ping(app, alice, mysql_engine, monkeypatch):
    """A request in a transaction (the image page; image bytes read in autocommit mode)."""
    image_id = last_image_id(app)
    alice.get(f"/image/{image_id}")  # the pool has its connection
    dialect = mysql_engine.dialect
    calls = []
    for name in ("do_rollback", "do_ping"):
        real = getattr(dialect, name)
        monkeypatch.setattr(
            dialect, name, lambda conn, name=name, real=real: calls.append(name) or real(conn)
        )
    assert alice.get(f"/image/{image_id}").status_code == 200
    assert calls == ["do_rollback"]


def test_a_connection_left_in_a_transaction_is_rolled_back_by_the_pool(app, mysql_engine):
    uid = user_id(app, make_user(app, "carol").username)
    raw = mysql_engine.raw_connection()
    driver = raw.driver_connection
    cursor = raw.cursor()
    cursor.execute(
        "INSERT INTO user_sessions (token_hash, user_id, created_at) VALUES (%s, %s, NOW())",
        ("x" * 64, uid),
    )
    cursor.close()
    raw.close()  # back to the pool without a commit
    with driver.cursor() as check:  # the same connection, as the next request gets it
        check.execute("SELECT COUNT(*) FROM user_sessions WHERE token_hash = %s", ("x" * 64,))
        assert check.fetchone()[0] == 0
    driver.rollback()


def test_a_connection_the_server_closed_is_replaced_without_a_failed_request(
    app, alice, mysql_engine
):
    image_id = last_image_id(app)
    assert alice.get(f"/image/{image_id}/thumb").status_code == 200
    killer = create_engine(mysql_engine.url, poolclass=NullPool)
    try:
        with killer.connect() as connection:
            me = connection.execute(text("SELECT CONNECTION_ID()")).scalar()
            pooled = connection.execute(
                text("SELECT id FROM information_schema.processlist WHERE db = DATABASE()"),
            ).scalars()
            killed = [int(other) for other in pooled if other != me]
            assert killed, "the pool holds no connection"
            for other in killed:
                connection.execute(text(f"KILL {other}"))
    finally:
        killer.dispose()
    time.sleep(0.2)  # the server closes the killed connections' sockets
    for _ in range(3):
        assert alice.get(f"/image/{image_id}/thumb").status_code == 200


class _Record:
    """What the pool's listeners see of a connection: its info."""

    def __init__(self) -> None:
        self.info: dict = {}


class _Driver:
    def __init__(self, sock) -> None:
        self._sock = sock


def test_only_a_used_connection_is_refused_when_the_server_hung_up():
    """A connection that the server closed is refused at checkout (the pool opens a new
    one), but one just opened is not: the pool gives up after a second refusal in one
    checkout with an error no page knows as a database failure (a 500)."""
    ours, servers = socket.socketpair()
    try:
        servers.close()  # the server hung up: our end reads the end of the stream
        record = _Record()
        _mark_fresh(None, record)
        _closed_by_server(_Driver(ours), record, None)  # just opened: no check
        with pytest.raises(DisconnectionError):
            _closed_by_server(_Driver(ours), record, None)  # used before: refused
    finally:
        ours.close()
    alive, peer = socket.socketpair()
    try:
        _closed_by_server(_Driver(alive), _Record(), None)  # nothing to read: kept
    finally:
        alive.close()
        peer.close()
