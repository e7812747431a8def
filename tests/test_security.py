"""Who may do what, bad input, sessions and headers (the security and integrity rules)."""

from __future__ import annotations

import io
import logging
import re
import struct
import unicodedata
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func

from tests.helpers import (
    PASSWORD,
    flashes,
    image_bytes,
    image_rows,
    make_user,
    objects,
    signed_in,
    upload,
)
from web.extensions import db
from web.images import naming
from web.models import Image
from web.storage import check_key

# --- the authorization matrix ---------------------------------------------------------

SECRET_NAME = "owner-secret-name.png"


@pytest.fixture
def world(app):
    """An owner with one image of the visibility under test, another user, a visitor."""
    return {
        "owner": signed_in(app, "owner"),
        "other": signed_in(app, "other"),
        "anonymous": app.test_client(),
    }


def add_image(app, client, visibility):
    data = image_bytes("PNG", (40, 40))
    assert upload(client, SECRET_NAME, data, visibility).status_code == 303
    with app.app_context():
        image_id = db.session.query(func.max(Image.id)).scalar()
    return image_id, data


ROUTES = {
    "page": ("GET", "/image/{id}", None),
    "file": ("GET", "/image/{id}/file", None),
    "thumb": ("GET", "/image/{id}/thumb", None),
    "download": ("GET", "/image/{id}/file?download=1", None),
    "edit": ("POST", "/image/{id}/edit", {"filename": SECRET_NAME, "visibility": "{vis}"}),
    "delete": ("POST", "/delete", {"filename": SECRET_NAME, "visibility": "{vis}"}),
    "delete-selected": ("POST", "/delete-selected", {"image_id": "{id}", "confirm": "yes"}),
}
# (route, actor, visibility) -> status
EXPECTED = {
    ("page", "owner"): (200, 200),
    ("page", "other"): (200, 404),
    ("page", "anonymous"): (404, 404),
    ("file", "owner"): (200, 200),
    ("file", "other"): (200, 404),
    ("file", "anonymous"): (404, 404),
    ("thumb", "owner"): (200, 200),
    ("thumb", "other"): (200, 404),
    ("thumb", "anonymous"): (404, 404),
    ("download", "owner"): (200, 200),
    ("download", "other"): (200, 404),
    ("download", "anonymous"): (404, 404),
    ("edit", "owner"): (303, 303),
    ("edit", "other"): (403, 404),
    ("edit", "anonymous"): (302, 302),
    ("delete", "owner"): (303, 303),
    ("delete", "other"): (403, 404),
    ("delete", "anonymous"): (302, 302),
    ("delete-selected", "owner"): (303, 303),
    ("delete-selected", "other"): (303, 303),
    ("delete-selected", "anonymous"): (302, 302),
}


@pytest.mark.parametrize("visibility", ["public", "private"])
@pytest.mark.parametrize("actor", ["owner", "other", "anonymous"])
@pytest.mark.parametrize("route", list(ROUTES))
def test_authorization_matrix(app, world, route, actor, visibility):
    image_id, data = add_image(app, world["owner"], visibility)
    method, url, form = ROUTES[route]
    url = url.format(id=image_id)
    if form:
        form = {k: v.format(id=image_id, vis=visibility) for k, v in form.items()}
    client = world[actor]
    response = client.open(url, method=method, data=form)
    expected = EXPECTED[(route, actor)][0 if visibility == "public" else 1]
    assert response.status_code == expected
    if actor == "anonymous" and response.status_code == 302:
        assert response.headers["Location"] == "/login"
    may_change = actor == "owner"
    still_there = any(row[2] == "ready" for row in image_rows(app))  # not in a trash
    if route in ("delete", "delete-selected"):
        assert still_there != may_change
    else:
        assert still_there
    if visibility == "private" and actor != "owner":
        body = response.get_data()
        assert data not in body
        assert SECRET_NAME.encode() not in body
        follow = client.get("/myfiles", follow_redirects=True).get_data()
        assert SECRET_NAME.encode() not in follow


def test_bulk_delete_by_another_user_reports_and_keeps_public_image(app, world):
    image_id, _ = add_image(app, world["owner"], "public")
    response = world["other"].post(
        "/delete-selected", data={"image_id": image_id, "confirm": "yes"}
    )
    assert response.status_code == 303
    messages = flashes(world["other"].get("/myfiles"))
    assert (
        f"Could not delete {SECRET_NAME}: Only the person who uploaded this image can "
        "delete it." in messages
    )
    assert len(image_rows(app)) == 1


def test_delete_button_shows_only_where_allowed(app, world):
    add_image(app, world["owner"], "public")
    assert 'aria-label="Delete ' in world["owner"].get("/myfiles").get_data(as_text=True)
    assert 'aria-label="Delete ' not in world["other"].get("/myfiles").get_data(as_text=True)


def test_forbidden_delete_says_why(app, world):
    add_image(app, world["owner"], "public")
    response = world["other"].post(
        "/delete", data={"filename": SECRET_NAME, "visibility": "public"}
    )
    assert response.status_code == 403
    assert "Only the person who uploaded this image can delete it." in response.get_data(
        as_text=True
    )


def test_anonymous_visitors_see_no_public_gallery_by_default(app, world):
    add_image(app, world["owner"], "public")
    response = world["anonymous"].get("/gallery")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


@pytest.fixture
def anonymous_gallery(config):
    config["ANONYMOUS_GALLERY"] = True
    return config


def test_anonymous_gallery_setting_opens_public_images_only(anonymous_gallery, app, world):
    public_id, _ = add_image(app, world["owner"], "public")
    world["owner"].post(
        f"/image/{public_id}/edit", data={"filename": "public.png", "visibility": "public"}
    )
    private_id, _ = add_image(app, world["owner"], "private")
    visitor = world["anonymous"]
    gallery = visitor.get("/gallery").get_data(as_text=True)
    assert "public.png" in gallery and SECRET_NAME not in gallery
    assert visitor.get(f"/image/{public_id}/thumb").status_code == 200
    assert visitor.get(f"/image/{public_id}/file").headers["Cache-Control"] == "public, max-age=60"
    assert visitor.get(f"/image/{private_id}/file").status_code == 404
    assert visitor.get("/myfiles").status_code == 302


def test_stored_objects_are_not_reachable_except_through_the_app(app, world, backend, client):
    add_image(app, world["owner"], "private")
    bucket = app.config["USER_BUCKET_PREFIX"] + "owner"
    if backend == "sqlite-files":
        # no route serves DATA_DIR: the bytes leave only through /image/<id>/…
        for url in (
            f"/objects/{bucket}/{SECRET_NAME}",
            f"/data/objects/{bucket}/{SECRET_NAME}",
            f"/static/../objects/{bucket}/{SECRET_NAME}",
        ):
            assert client.get(url).status_code == 404
        return
    import urllib3

    endpoint = app.config["S3_ENDPOINT"]
    http = urllib3.PoolManager()
    for url in (
        f"http://{endpoint}/{bucket}/{SECRET_NAME}",
        f"http://{endpoint}/{bucket}/",
        f"http://{endpoint}/{app.config['PUBLIC_BUCKET']}/",
    ):
        response = http.request("GET", url, timeout=5, retries=False)
        assert response.status in (401, 403), url


# --- accounts ---------------------------------------------------------------------------

SIGNUP = {"name": "Carol", "username": "carol", "email": "cs.writer@example.org"}


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Sh0rt!x", "Use at least 10 characters."),
        ("password123", "This password is too easy to guess."),
        ("aaaaaaaaaaaa", "This password is too easy to guess."),
        ("carol-Lantern-42", "The password must not contain your username."),
        ("Zcs.writer-99Q!", "The password must not contain your email address."),
    ],
)
def test_weak_passwords_are_refused_with_a_helpful_message(app, client, password, message):
    response = client.post(
        "/signin", data={**SIGNUP, "password": password, "confirm_password": password}
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert (
        app.test_client()
        .post("/login", data={"username": "carol", "password": password})
        .status_code
        == 200
    )


@pytest.mark.parametrize(
    "username", ["admin", "Root", "api", "static", "login", "signin", "logout", "public", "myfiles"]
)
def test_reserved_usernames_are_refused(app, client, username):
    response = client.post(
        "/signin",
        data={**SIGNUP, "username": username, "password": PASSWORD, "confirm_password": PASSWORD},
    )
    assert response.status_code == 200
    assert "This username is reserved; please choose another." in response.get_data(as_text=True)


def test_the_public_bucket_name_is_reserved(app, client):
    name = app.config["PUBLIC_BUCKET"]
    response = client.post(
        "/signin",
        data={**SIGNUP, "username": name, "password": PASSWORD, "confirm_password": PASSWORD},
    )
    assert "This username is reserved" in response.get_data(as_text=True)


@pytest.fixture
def limited(config):
    config["RATELIMIT_ENABLED"] = True
    return config


def test_five_failures_for_one_username_lock_it_for_a_while(limited, app, client):
    make_user(app, "dave")
    for _ in range(5):
        assert (
            client.post(
                "/login", data={"username": "dave", "password": "wrong-Pass-1234"}
            ).status_code
            == 200
        )
    locked = client.post("/login", data={"username": "DAVE", "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert re.search(r"try again in 1[45] minutes", locked.get_data(as_text=True))
    other = client.post("/login", data={"username": "erin", "password": "wrong-Pass-1234"})
    assert other.status_code == 200  # other usernames are not locked


def test_successful_logins_do_not_count(limited, app, client):
    make_user(app, "dave")
    for _ in range(8):
        assert (
            client.post("/login", data={"username": "dave", "password": PASSWORD}).status_code
            == 302
        )
        client.get("/logout")


def test_twenty_failures_from_one_address_block_it(limited, app, client):
    for n in range(20):
        client.post("/login", data={"username": f"user{n}x", "password": "wrong-Pass-1234"})
    response = client.post("/login", data={"username": "fresh", "password": "wrong-Pass-1234"})
    assert response.status_code == 429


# --- sessions and headers ---------------------------------------------------------------


def cookie_header(response) -> str:
    return "; ".join(response.headers.getlist("Set-Cookie"))


def test_session_cookie_is_httponly_and_samesite_lax(app, client):
    make_user(app, "alice")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    cookie = cookie_header(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.fixture
def https(config):
    config["SESSION_COOKIE_SECURE"] = True
    return config


def test_session_cookie_is_secure_when_served_over_https(https, app):
    make_user(app, "alice")
    client = app.test_client()
    response = client.post(
        "/login", base_url="https://localhost", data={"username": "alice", "password": PASSWORD}
    )
    assert "Secure" in cookie_header(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_login_starts_a_fresh_session(app, client):
    make_user(app, "alice")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/login", data={"username": "alice", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


def test_logout_ends_the_session(app, client):
    make_user(app, "alice")
    client.post("/login", data={"username": "alice", "password": PASSWORD})
    client.get("/logout")
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert client.get("/myfiles").status_code == 302


@pytest.mark.parametrize("url", ["/", "/login", "/signin", "/nowhere", "/health"])
def test_security_headers_on_every_response(client, url):
    headers = client.get(url).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_pages_load_nothing_from_other_hosts_and_have_no_inline_script(auth, client):
    auth.signup()
    upload(client, "a.png")
    for url in ("/", "/login", "/signin", "/myfiles", "/gallery"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', html), url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " style=" not in html and "onclick" not in html, url
        for asset in re.findall(r'(?:src|href)="(/[^"]+\.(?:css|js))"', html):
            assert client.get(asset).status_code == 200, asset


# --- bad input ---------------------------------------------------------------------------


@pytest.fixture
def small_limit(config):
    config["MAX_UPLOAD_MB"] = 1
    return config


def test_upload_over_the_size_limit_is_413_with_the_limit(small_limit, app, auth, client):
    auth.signup()
    big = b"\0" * (1024 * 1024 + 1)
    response = upload(client, "big.png", big)
    assert response.status_code == 413
    assert "larger than the limit of 1 MB" in response.get_data(as_text=True)
    several = client.post(
        "/myfiles",
        content_type="multipart/form-data",
        data={
            "file": [
                (io.BytesIO(b"\0" * 600_000), "a.png"),
                (io.BytesIO(b"\0" * 600_000), "b.png"),
            ],
            "visibility": "public",
        },
    )
    assert several.status_code == 413
    api = client.post(
        "/api/images",
        data={"file": (io.BytesIO(big), "big.png"), "visibility": "public"},
        headers={"Accept": "application/json"},
    )
    assert api.status_code == 413
    assert "larger than the limit of 1 MB" in api.json["error"]
    assert image_rows(app) == [] and objects(app) == set()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_quickly(app, auth, client):
    """The size check answers from the header, before any pixel is decoded."""
    auth.signup()
    response = upload(client, "bomb.png", png_declaring(50000, 50000))
    assert response.status_code == 400
    assert any(
        "The image is too large: 50000×50000 pixels (the limit is 100 megapixels)." in m
        for m in flashes(response)
    )
    assert image_rows(app) == []


def truncated_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((600, 400), 60).convert("RGB").save(out, "JPEG")
    return out.getvalue()[: len(out.getvalue()) // 2]


BAD_FILES = {
    "text.jpg": (b"hello, this is text\n" * 5, "is not an accepted image"),
    "truncated.jpg": (truncated_jpeg(), "The image is damaged or incomplete"),
    "page.png": (
        b"<!doctype html><html><script>alert(1)</script></html>",
        "This file is not an accepted image",
    ),
    "vector.svg": (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
        b"<script>alert(1)</script></svg>",
        "SVG images are not accepted",
    ),
    "polyglot.gif": (b"GIF89a/*<script>alert(1)</script>*/=1;", "not an accepted image"),
    "trailer.png": (
        image_bytes("PNG") + b"<html><script>alert(1)</script></html>",
        "carries extra data after its end",
    ),
    "zip-tail.png": (
        image_bytes("PNG") + b"PK\x03\x04" + b"\0" * 40,
        "carries extra data after its end",
    ),
    "empty.png": (b"", "The file is empty."),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_content_that_is_not_an_accepted_image_is_refused(app, auth, client, name):
    auth.signup()
    data, message = BAD_FILES[name]
    response = upload(client, name, data)
    assert response.status_code == 400
    assert any(m.startswith(f"{name}:") and message in m for m in flashes(response)), flashes(
        response
    )
    assert image_rows(app) == [] and objects(app) == set()


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("/etc/shadow.png", "shadow.png"),
        ("a\x01b\x7fc\u200b.png", "abc.png"),
        ("...", "upload.png"),
        ("\x01\x02", "upload.png"),
        (".hidden.png", "hidden.png"),
        ("été à Zürich.png", "été à Zürich.png"),
        ("漢字の写真.png", "漢字の写真.png"),
        ("party 🎉.png", "party 🎉.png"),
        ("x" * 300 + ".png", "x" * 251 + ".png"),
        ("é" * 200 + ".png", "é" * 125 + ".png"),
    ],
)
def test_filenames_are_stored_safely_and_stay_readable(app, auth, client, raw, stored):
    auth.signup()
    assert upload(client, raw, image_bytes("PNG")).status_code == 303
    [(filename, *_rest)] = image_rows(app)
    assert filename == stored
    assert len(filename.encode()) <= 255
    pub = app.config["PUBLIC_BUCKET"]
    assert f"{pub}/{stored}" in objects(app)


@given(st.text(max_size=400), st.sampled_from([".png", ".jpg"]))
def test_any_name_sanitizes_to_a_safe_key(raw, extension):
    name = naming.sanitize_filename(raw, extension)
    assert name and len(name.encode()) <= 255
    assert "/" not in name and "\\" not in name
    assert not any(unicodedata.category(ch)[0] == "C" for ch in name)
    assert not name.startswith(".")
    assert check_key(name) == name


def test_windows_paths_keep_only_the_name():
    assert naming.sanitize_filename("C:\\Users\\me\\photo.png", ".png") == "photo.png"


def test_html_in_filenames_is_always_shown_escaped(app, auth, client):
    auth.signup()
    name = "<img src=x onerror=alert(1)>.png"
    assert upload(client, name, image_bytes("PNG")).status_code == 303
    for url in ("/myfiles", "/gallery", "/image/1"):
        html = client.get(url).get_data(as_text=True)
        assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in client.get("/myfiles").get_data(as_text=True)


def test_forged_delete_of_another_users_private_name_changes_nothing(app, world):
    add_image(app, world["owner"], "private")
    response = world["other"].post(
        "/delete", data={"filename": SECRET_NAME, "visibility": "private"}
    )
    assert response.status_code == 404
    assert len(image_rows(app)) == 1


@pytest.fixture
def csrf_on(config):
    config["WTF_CSRF_ENABLED"] = True
    return config


def csrf_token(client, url="/myfiles") -> str:
    return re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True)
    ).group(1)


def test_missing_or_wrong_csrf_token_is_refused(csrf_on, app, client):
    make_user(app, "alice")
    token = csrf_token(client, "/login")
    assert (
        client.post("/login", data={"username": "alice", "password": PASSWORD}).status_code == 400
    )
    assert (
        client.post(
            "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    for token_value in (None, "forged-token"):
        data = {"visibility": "public", "file": (io.BytesIO(image_bytes()), "a.png")}
        if token_value:
            data["csrf_token"] = token_value
        response = client.post("/myfiles", data=data, content_type="multipart/form-data")
        assert response.status_code == 400
        assert "The form was missing its security token" in response.get_data(as_text=True)
    api = client.post(
        "/api/images",
        data={"visibility": "public", "file": (io.BytesIO(image_bytes()), "a.png")},
        headers={"Accept": "application/json"},
    )
    assert api.status_code == 400
    assert image_rows(app) == []
    good = client.post(
        "/api/images",
        data={"visibility": "public", "file": (io.BytesIO(image_bytes()), "a.png")},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert good.status_code == 201


def test_anonymous_post_goes_to_login_even_without_a_csrf_token(csrf_on, client):
    response = client.post("/myfiles", data={"visibility": "public"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.post("/api/images").status_code == 401


# --- error pages ----------------------------------------------------------------------


def test_unknown_route_gets_the_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.get_data(as_text=True)


def test_unknown_method_gets_the_405_page(client):
    response = client.put("/myfiles")
    assert response.status_code == 405
    assert "does not accept that kind of request" in response.get_data(as_text=True)


def test_a_crash_is_logged_with_a_request_id_that_the_page_shows(app, caplog):
    def explode():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/explode", "explode", explode)
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR, logger="web.errors"):
        response = app.test_client().get("/explode")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internal detail" not in html and "Traceback" not in html
    request_id = response.headers["X-Request-Id"]
    assert request_id in html
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)


def test_json_errors_for_json_clients(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"] == "There is nothing at this address."


def test_a_copy_of_the_session_cookie_is_worthless_after_logout(app, client):
    make_user(app, "alice")
    client.post("/login", data={"username": "alice", "password": PASSWORD})
    stolen = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/myfiles").status_code == 200
    client.get("/logout")
    assert thief.get("/myfiles").status_code == 302


def test_logging_out_one_browser_keeps_the_others(app):
    make_user(app, "alice")
    phone, laptop = app.test_client(), app.test_client()
    for c in (phone, laptop):
        c.post("/login", data={"username": "alice", "password": PASSWORD})
    phone.get("/logout")
    assert laptop.get("/myfiles").status_code == 200


def test_sessions_end_on_their_own_after_session_days(app, client):
    import datetime as dt

    from web.models import UserSession

    make_user(app, "alice")
    client.post("/login", data={"username": "alice", "password": PASSWORD})
    with app.app_context():
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=app.config["SESSION_DAYS"], minutes=1)
        db.session.query(UserSession).update({"created_at": old})
        db.session.commit()
    assert client.get("/myfiles").status_code == 302


def test_a_user_being_removed_is_signed_out_at_once(app, client):
    from web.models import User

    make_user(app, "alice")
    client.post("/login", data={"username": "alice", "password": PASSWORD})
    with app.app_context():
        db.session.query(User).update({"state": "deleting"})
        db.session.commit()
    assert client.get("/myfiles").status_code == 302
    assert (
        client.post("/login", data={"username": "alice", "password": PASSWORD}).status_code == 200
    )
