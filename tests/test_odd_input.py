"""Odd input never breaks a page: whatever arrives in a path, a query string or a form,
the answer is a page of the product (2xx, 3xx or 4xx), never a 5xx with a traceback.

The property test walks every rule of the application's URL map, so a new route is
covered without editing this file; a route whose converter has no strategy here fails
the test until one is added. It runs on both backends (a query that SQLite refuses may
be one MySQL accepts, and the other way round): eight examples per route and method,
each sent by a visitor, a user and an admin (about a thousand requests, some ten seconds
per backend), derandomized so that every run sends the same requests. CSRF is off (as
in every test by default) so that the bodies reach the views. Below it, one test per
crash that was found, with the exact addresses.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.routing import AnyConverter, BaseConverter, PathConverter, Rule, UnicodeConverter

from tests.helpers import (
    PASSWORD,
    flashes,
    image_rows,
    last_image_id,
    login,
    make_user,
    say,
    signed_in,
    upload,
)
from web.accounts import sessions
from web.extensions import db
from web.images.access import NO_SUCH_IMAGE
from web.integers import MAX_ID, IdConverter, parse_id
from web.models import ACTIVE, AuditEntry, Comment, Image, User
from web.paging import INVALID_CURSOR, decode_cursor
from web.rules import RuleError

HUGE = "99999999999999999999999"
NOTHING_HERE = "There is nothing at this address."
EXAMPLES_PER_ROUTE = 8  # each sent by all three roles


# --- what the random requests are made of ----------------------------------------------


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def nested(depth: int) -> str:
    """A cursor of ``depth`` nested JSON arrays."""
    return b64(b"[" * depth)


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
cursors = st.one_of(
    st.tuples(json_leaf, json_leaf).map(lambda pair: b64(json.dumps(list(pair)).encode())),
    st.lists(json_leaf, max_size=3).map(lambda items: b64(json.dumps(items).encode())),
    st.integers(min_value=1, max_value=3000).map(nested),
    st.binary(max_size=40).map(b64),
    st.sampled_from([b64(b'["\\ud800", 1]'), b64(b"[1, 1e999]"), "=" * 5, "*"]),
)
numbers = st.one_of(
    st.integers(min_value=0, max_value=12),
    st.integers(min_value=MAX_ID - 2, max_value=10**30),
    st.integers(min_value=-(10**30), max_value=-1),
).map(str)
odd_texts = st.sampled_from(
    ["", " 1", "1.5", "١٢", "\u2028", "\x00", "%00", "x" * 5000, "<b>", "yes", "promote"]
)
next_targets = st.sampled_from(
    [
        "/x\r\nSet-Cookie: a=b",
        "/x\nLocation: //evil.example",
        "//evil.example/",
        "https://evil.example/",
        "/myfiles\x00",
        "/\u2028",
        "/\\evil.example",
        "/image/1?comments_page=2",
    ]
)
values = st.one_of(st.text(max_size=30), numbers, cursors, odd_texts)


def shaped(*likely: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly values of the kind a field expects (so that the view gets past its first
    check), sometimes anything."""
    return st.one_of(*likely, *likely, values)


def id_texts(known: list[int]) -> st.SearchStrategy[str]:
    """Ids of rows that exist (the most likely), of none, beyond 64 bits, and text."""
    existing = st.sampled_from(known).map(str)
    return st.one_of(existing, existing, numbers, segment_texts)


def pairs(known: list[int]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Some of the names a view reads (and of the names that url_for keeps for itself),
    with the values each expects, and random pairs besides."""
    fields = {
        "q": shaped(st.sampled_from(["odd", "%", "_", "\\"])),
        "sort": shaped(st.sampled_from(["date", "name", "size"])),
        "public_after": shaped(cursors),
        "private_after": shaped(cursors),
        "before": shaped(st.sampled_from(known).map(str), numbers),
        "after": shaped(st.text(max_size=10)),
        "comments_page": shaped(numbers),
        "next": shaped(next_targets),
        "download": values,
        "endpoint": values,
        "_external": values,
        "_anchor": values,
        "filename": shaped(st.sampled_from(["odd0.png", "odd2.png", "new.png", "a/b.png"])),
        "visibility": shaped(st.sampled_from(["public", "private"])),
        "image_id": shaped(st.sampled_from(known).map(str), numbers),
        "confirm": shaped(st.sampled_from(["yes", "no"])),
        "body": values,
        "password": shaped(st.just(PASSWORD)),
        "username": shaped(st.sampled_from(["member", "chief", "newcomer"])),
        "name": values,
        "email": shaped(st.just("someone@example.org")),
    }
    names = st.one_of(st.sampled_from(list(fields)), st.text(min_size=1, max_size=12))
    return st.tuples(
        st.fixed_dictionaries({}, optional=fields),
        st.lists(st.tuples(names, values), max_size=3),
    ).map(lambda drawn: [*drawn[0].items(), *drawn[1]])


segment_texts = st.one_of(st.text(max_size=20), numbers)
# Beside these: AnyConverter (its words, or text) and IdConverter (id_texts).
SEGMENTS: dict[type[BaseConverter], st.SearchStrategy[str]] = {
    UnicodeConverter: segment_texts,
    PathConverter: st.one_of(
        segment_texts, st.sampled_from(["favicon.svg", "css/app.css", "../../etc/passwd"])
    ),
}

ROLES = ["anonymous", "user", "admin"]
VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")  # <converter(args):name> in a rule


def segment_strategy(rule: Rule, name: str, known: list[int]) -> st.SearchStrategy[str]:
    """Random text for one variable part of ``rule``; fails for an unknown converter."""
    converter = rule._converters[name]
    if isinstance(converter, AnyConverter):
        words = re.findall(r"\w+", converter.regex)
        return st.one_of(st.sampled_from(words), segment_texts)
    if isinstance(converter, IdConverter):
        return id_texts(known)
    strategy = SEGMENTS.get(type(converter))
    if strategy is None:
        pytest.fail(
            f"{rule.rule} uses the converter {type(converter).__name__}, which has no "
            "strategy in tests/test_odd_input.py: add one to SEGMENTS"
        )
    return strategy


@dataclass
class Probe:
    """One random request."""

    method: str
    path: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]] = field(default_factory=list)
    file: bytes | None = None

    def send(self, client: FlaskClient):
        data: dict | None = None
        if self.method == "POST":
            data = {}
            for name, value in self.form:
                data.setdefault(name, []).append(value)
            if self.file is not None:
                data["file"] = (io.BytesIO(self.file), "odd.png")
        return client.open(self.path, method=self.method, query_string=self.query, data=data)


def probes(rule: Rule, method: str, known: list[int]) -> st.SearchStrategy[Probe]:
    """Requests to ``rule`` with ``method``; ``known`` are ids of rows that exist."""
    parts = {name: segment_strategy(rule, name, known) for name in rule.arguments}
    fields = pairs(known)

    @st.composite
    def build(draw: st.DrawFn) -> Probe:
        segments = {name: quote(draw(strategy), safe="") or "x" for name, strategy in parts.items()}
        return Probe(
            method,
            VARIABLE.sub(lambda match: segments[match.group(1)], rule.rule),
            draw(fields),
            draw(fields) if method == "POST" else [],
            draw(st.none() | st.binary(max_size=64)) if method == "POST" else None,
        )

    return build()


# --- who sends them ---------------------------------------------------------------------


class Visitors:
    """A browser per role. A random request may log its browser out, or an admin's may
    remove the signed-in user or give them a temporary password; before each request the
    browser is signed in again (as a new user when the old one cannot log in)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.names = {"user": "member", "admin": "chief"}
        self.clients = {role: app.test_client() for role in ROLES}
        self.generation = 0
        self.known_ids: list[int] = []  # of users, images, comments and audit entries

    def client(self, role: str) -> FlaskClient:
        client = self.clients[role]
        if role != "anonymous" and not self._signed_in(client, role):
            client = self.clients[role] = self.app.test_client()
            if not self._exists(role):
                self.generation += 1
                self.names[role] = f"{role}again{self.generation}"
                make_user(self.app, self.names[role], is_admin=role == "admin")
            login(client, self.names[role])
        return client

    def _signed_in(self, client: FlaskClient, role: str) -> bool:
        with client.session_transaction() as session:
            user_id, token = session.get("_user_id"), session.get("sid")
        if not user_id:
            return False
        with self.app.app_context():
            user = sessions.load(user_id, token)
            return user is not None and (role != "admin" or user.is_admin)

    def _exists(self, role: str) -> bool:
        """Whether this role's account is still there (and for the admin, still one) with
        its password (an admin's request may have given it a temporary one)."""
        with self.app.app_context():
            user = db.session.scalar(select(User).where(User.username == self.names[role]))
            return (
                user is not None
                and user.state == ACTIVE
                and not user.must_change_password
                and (role != "admin" or user.is_admin)
            )


def image_id_of(app: Flask, filename: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Image.id).where(Image.filename == filename))


@pytest.fixture
def world(app) -> Visitors:
    """An admin, a user with public and private images (one page each holds one image, so
    galleries have "Next page" links), a comment, and an audit entry."""
    app.config["PAGE_SIZE"] = 1  # read at request time
    make_user(app, "chief", is_admin=True)
    make_user(app, "member")
    visitors = Visitors(app)
    member = visitors.client("user")
    for n, visibility in enumerate(["public", "public", "private", "private"]):
        assert upload(member, f"odd{n}.png", visibility=visibility).status_code == 303
    assert say(member, image_id_of(app, "odd0.png"), "A first comment.").status_code == 303
    owner = signed_in(app, "victim")
    assert upload(owner, "victim.png", visibility="public").status_code == 303
    root = visitors.client("admin")
    assert root.post(f"/admin/images/{last_image_id(app)}/delete").status_code == 303
    with app.app_context():
        for model in (User, Image, Comment, AuditEntry):
            visitors.known_ids += db.session.scalars(select(model.id)).all()
    return visitors


def test_no_route_answers_5xx_to_odd_input(app, world):
    """Every rule, every method, random segments, query strings and form bodies, as an
    anonymous visitor, a user and an admin: never a 5xx."""
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 20
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):

            @settings(
                max_examples=EXAMPLES_PER_ROUTE,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(probe=probes(rule, method, world.known_ids))
            def no_5xx(probe: Probe) -> None:
                note(repr(probe))
                for role in ROLES:
                    response = probe.send(world.client(role))
                    assert response.status_code < 500, (role, response.get_data(as_text=True))

            no_5xx()


# --- one test per crash that was found ----------------------------------------------------


def assert_page(response, status: int, message: str) -> None:
    """The product's error page (not a traceback), with its status and message."""
    assert response.status_code == status, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert message in html and "Traceback" not in html


@pytest.mark.parametrize(
    "method, url",
    [
        ("GET", f"/image/{HUGE}/file"),
        ("GET", f"/image/{HUGE}/thumb"),
        ("GET", f"/image/{HUGE}"),
        ("POST", f"/image/{HUGE}/edit"),
        ("POST", f"/image/{HUGE}/comments"),
        ("POST", f"/comments/{HUGE}/delete"),
        ("GET", f"/admin/users/{HUGE}"),
        ("POST", f"/admin/images/{HUGE}/delete"),
        ("GET", f"/image/{MAX_ID + 1}"),
    ],
)
def test_ids_too_large_for_the_database_are_404(app, auth, client, method, url):
    make_user(app, "chief", is_admin=True)
    auth.login("chief")
    assert_page(client.open(url, method=method, data={"body": "hi"}), 404, NOTHING_HERE)


def test_the_largest_id_is_still_looked_up(app, auth, client):
    auth.signup()
    assert_page(client.get(f"/image/{MAX_ID}"), 404, NO_SUCH_IMAGE)


def test_bulk_delete_of_an_id_too_large_is_refused_and_deletes_nothing(app, auth, client):
    auth.signup()
    assert upload(client, "keep.png").status_code == 303
    for confirm in ("", "yes"):
        response = client.post(
            "/delete-selected", data={"image_id": ["1", HUGE], "confirm": confirm}
        )
        assert_page(response, 400, "The selection is not valid.")
    assert [row[0] for row in image_rows(app)] == ["keep.png"]


@pytest.mark.parametrize(
    "fields",
    [
        {"image_id": ["A", HUGE]},
        {"image_id": ["A", "B", "-1"]},
        {"image_id": ["B", "A", "A"]},
        {"image_id": ["A", "B"], "before": "A"},  # the page after the last: none
        {"image_id": ["1e3", "B"]},
        {"image_id": [""]},
        {},
    ],
)
def test_a_dragged_album_order_with_odd_ids_is_400_and_changes_nothing(app, auth, client, fields):
    auth.signup()
    ids = {}
    for name in ("A", "B"):
        assert upload(client, f"{name}.png", None, "private").status_code == 303
        ids[name] = str(last_image_id(app))
    album = client.post("/albums", data={"title": "Odd"}).headers["Location"]
    data = {"album_id": album.rsplit("/", 1)[1], "image_id": list(ids.values())}
    assert client.post("/albums/add", data=data).status_code == 303
    shown = re.findall(r'data-image-id="(\d+)"', client.get(album).get_data(as_text=True))
    sent = {
        k: [ids.get(v, v) for v in vs] if k == "image_id" else ids[vs] for k, vs in fields.items()
    }
    response = client.post(f"{album}/arrange", data=sent)
    assert_page(response, 400, "Send every image of the page exactly once, and no other.")
    after = re.findall(r'data-image-id="(\d+)"', client.get(album).get_data(as_text=True))
    assert after == shown == [ids["B"], ids["A"]]


@pytest.mark.parametrize("before", [HUGE, "abc", "-1"])
def test_admin_page_links_with_a_bad_before_are_400(app, auth, client, before):
    admin = make_user(app, "chief", is_admin=True)
    auth.login("chief")
    for url in ("/admin/audit", f"/admin/users/{admin.id}"):
        assert_page(client.get(url, query_string={"before": before}), 400, INVALID_CURSOR)
    assert client.get("/admin/audit?before=").status_code == 200


@pytest.mark.parametrize(
    "cursor",
    [
        b64(json.dumps(["a", int(HUGE)]).encode()),
        b64(json.dumps([int(HUGE), 1]).encode()),
        b64(json.dumps([-int(HUGE), 1]).encode()),
        nested(1500),
        b64(b'["\\ud800", 1]'),
        b64(json.dumps([1, True]).encode()),
        "A" * 3000,
    ],
)
@pytest.mark.parametrize("sort", ["date", "name", "size"])
def test_forged_gallery_cursors_are_400(app, auth, client, cursor, sort):
    auth.signup()
    for url in ("/myfiles", "/gallery"):
        response = client.get(url, query_string={"public_after": cursor, "sort": sort})
        assert_page(response, 400, INVALID_CURSOR)
    response = client.get("/myfiles", query_string={"private_after": cursor, "sort": sort})
    assert_page(response, 400, INVALID_CURSOR)


def test_a_cursor_of_another_sort_is_400(app, auth, client):
    """A name cursor is text, a size or date cursor a number: mixing them is forged."""
    auth.signup()
    for n in range(3):
        assert upload(client, f"p{n}.png").status_code == 303
    client.application.config["PAGE_SIZE"] = 1
    page = client.get("/gallery?sort=name").get_data(as_text=True)
    link = re.search(r'rel="next" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert client.get(link).status_code == 200
    assert_page(client.get(link.replace("sort=name", "sort=size")), 400, INVALID_CURSOR)


def test_decode_cursor_bounds():
    assert decode_cursor(b64(json.dumps(["a.png", MAX_ID]).encode())) == ("a.png", MAX_ID)
    for forged in (
        [1, MAX_ID + 1],
        [1, -1],
        [1, 1.0],
        ["x" * 1025, 1],
        [None, 1],
        [[1], 1],
    ):
        with pytest.raises(RuleError):
            decode_cursor(b64(json.dumps(forged).encode()))
    with pytest.raises(RuleError):
        decode_cursor(b64(json.dumps(["a.png", 1]).encode()), int)


def test_a_query_argument_named_like_a_url_for_parameter_keeps_the_next_link(app, auth, client):
    app.config["PAGE_SIZE"] = 1
    auth.signup()
    for n in range(2):
        assert upload(client, f"p{n}.png").status_code == 303
    response = client.get("/myfiles?endpoint=x&_external=1&q=p")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    link = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert link.startswith("/myfiles?") and "endpoint=x" in link and "q=p" in link
    assert "public_after=" in link
    assert "p0.png" in client.get(link).get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "/x%0d%0aSet-Cookie:%20a=b",
        "/x%0aLocation:%20//evil.example",
        "/x%00",
        "/x%09y",
        "/x%7f",
        "/x%e2%80%a8",  # LINE SEPARATOR
        "/x%c2%85",  # NEXT LINE
    ],
)
def test_a_login_next_with_control_characters_is_ignored(app, auth, client, target):
    """The login succeeds and goes to My Files, as for a next of another site."""
    make_user(app, "walker")
    response = client.post(
        f"/login?next={target}", data={"username": "walker", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/myfiles"
    assert client.get("/myfiles").status_code == 200


def test_a_login_next_to_a_local_path_still_works(app, client):
    make_user(app, "walker")
    response = client.post(
        "/login?next=/image/1%3Fcomments_page%3D2",
        data={"username": "walker", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/image/1?comments_page=2"


def test_comment_page_numbers_that_are_not_numbers_show_the_first_page(app, auth, client):
    auth.signup()
    assert upload(client, "talk.png").status_code == 303
    image = image_id_of(app, "talk.png")
    assert say(client, image, "Hello there.").status_code == 303
    for page in (HUGE, "-3", "x", "1.5"):
        response = client.get(f"/image/{image}", query_string={"comments_page": page})
        assert response.status_code == 200 and "Hello there." in response.get_data(as_text=True)
    with app.app_context():
        comment = db.session.scalar(select(Comment.id))
    response = client.post(f"/comments/{comment}/delete", data={"comments_page": HUGE})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/image/{image}#comments"
    assert "The comment is deleted." in flashes(client.get(f"/image/{image}"))


@pytest.mark.parametrize(
    "raw, number",
    [
        ("0", 0),
        ("42", 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        (HUGE, None),
        ("", None),
        (None, None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1_000", None),
        ("١٢", None),
        ("1" * 5000, None),
    ],
)
def test_parse_id(raw, number):
    assert parse_id(raw) == number
