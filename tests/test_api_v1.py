"""The public API under /api/v1 with tokens: every endpoint, its errors, and the rules it
shares with the pages (visibility, ownership, read-only tokens, CSRF, rate limits)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tests.helpers import image_bytes, image_rows, make_user, objects, settings, signed_in
from web.accounts import tokens
from web.extensions import db
from web.models import User


def token_for(app, username: str, scope: str = "read-write", admin: bool = False) -> dict:
    """A new user with a token; the Authorization header that carries it."""
    make_user(app, username, is_admin=admin)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        secret = tokens.create(user, "test", scope).secret
    return {"Authorization": f"Bearer {secret}"}


def post_files(client, headers, *files, visibility="public"):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    if visibility is not None:
        data["visibility"] = visibility
    return client.post(
        "/api/v1/images", data=data, headers=headers, content_type="multipart/form-data"
    )


@pytest.fixture
def alice(app):
    return token_for(app, "alice")


def upload_one(client, headers, name="photo.png", visibility="public") -> dict:
    response = post_files(client, headers, (name, image_bytes()), visibility=visibility)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["items"][0]


def is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["type"] == "about:blank" and body["detail"]
    return body


def test_upload_private_then_list_get_and_page_show_it(app, client, alice):
    item = upload_one(client, alice, "photo.png", "private")
    assert item["visibility"] == "private" and item["owner"] == "alice"
    assert item["format"] == "PNG" and (item["width"], item["height"]) == (64, 48)
    assert item["created_at"].endswith("Z") or item["created_at"].endswith("+00:00")
    assert set(item["urls"]) == {"page", "original", "thumbnail"}
    listed = client.get("/api/v1/images", headers=alice).json
    assert [i["id"] for i in listed["items"]] == [item["id"]] and listed["next_cursor"] is None
    assert client.get(f"/api/v1/images/{item['id']}", headers=alice).json == item
    assert image_rows(app)[0][:3] == ("photo.png", "private", "ready")


def test_me_counts_images_and_bytes(client, alice):
    item = upload_one(client, alice)
    me = client.get("/api/v1/me", headers=alice).json
    assert me["username"] == "alice" and me["image_count"] == 1
    assert me["bytes_used"] == item["size"] and me["quota"] is None
    assert me["token"]["scope"] == "read-write" and me["token"]["prefix"].startswith("imgrepo_")


def test_other_users_private_image_is_404_and_public_is_403_on_delete(app, client, alice):
    private = upload_one(client, alice, "secret.png", "private")
    public = upload_one(client, alice, "shared.png", "public")
    bob = token_for(app, "bob")
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)(
            f"/api/v1/images/{private['id']}", headers=bob, json={"filename": "x.png"}
        )
        is_problem(response, 404)
    is_problem(client.get(f"/api/v1/images/{private['id']}/original", headers=bob), 404)
    assert client.get(f"/api/v1/images/{public['id']}", headers=bob).status_code == 200
    is_problem(client.delete(f"/api/v1/images/{public['id']}", headers=bob), 403)
    is_problem(client.patch(f"/api/v1/images/{public['id']}", headers=bob, json={}), 403)
    listed = client.get("/api/v1/images", headers=bob).json["items"]
    assert [i["filename"] for i in listed] == ["shared.png"]
    assert len(image_rows(app)) == 2


def test_a_read_token_cannot_change_anything(app, client, alice):
    item = upload_one(client, alice)
    reader = token_for(app, "reader", "read")
    assert client.get(f"/api/v1/images/{item['id']}", headers=reader).status_code == 200
    body = is_problem(post_files(client, reader, ("a.png", image_bytes())), 403)
    assert "only read" in body["detail"]
    is_problem(client.delete(f"/api/v1/images/{item['id']}", headers=reader), 403)
    is_problem(client.patch(f"/api/v1/images/{item['id']}", headers=reader, json={}), 403)
    assert len(image_rows(app)) == 1


def test_an_admin_token_acts_as_an_admin(app, client, alice):
    item = upload_one(client, alice, "mine.png", "private")
    admin = token_for(app, "chief", admin=True)
    assert client.get(f"/api/v1/images/{item['id']}", headers=admin).status_code == 200
    assert client.delete(f"/api/v1/images/{item['id']}", headers=admin).status_code == 204


def test_several_files_one_bad_gives_207_with_per_file_results(app, client, alice):
    response = post_files(
        client,
        alice,
        ("a.png", image_bytes()),
        ("fake.jpg", b"not an image"),
        ("b.png", image_bytes()),
    )
    assert response.status_code == 207
    body = response.json
    assert [i["filename"] for i in body["items"]] == ["a.png", "b.png"]
    [error] = body["errors"]
    assert error["index"] == 1 and error["filename"] == "fake.jpg" and error["status"] == 400
    assert len(image_rows(app)) == 2


def test_all_files_refused_is_a_problem_with_each_error(app, client, alice):
    upload_one(client, alice, "taken.png")
    body = is_problem(post_files(client, alice, ("taken.png", image_bytes())), 409)
    assert "already exists" in body["detail"] and body["errors"][0]["status"] == 409
    body = is_problem(post_files(client, alice, ("x.png", b""), ("y.png", b"junk")), 400)
    assert body["detail"] == "None of the files was stored." and len(body["errors"]) == 2
    assert len(image_rows(app)) == 1


def test_upload_validation_names_the_field(app, client, alice):
    body = is_problem(
        client.post("/api/v1/images", data={"visibility": "public"}, headers=alice), 400
    )
    assert body["invalid-params"][0]["name"] == "file"
    body = is_problem(post_files(client, alice, ("a.png", image_bytes()), visibility="secret"), 400)
    assert body["invalid-params"][0]["name"] == "visibility"
    assert image_rows(app) == []
    assert upload_one(client, alice, "d.png", visibility=None)["visibility"] == "public"


def test_patch_renames_and_moves_atomically(app, client, alice):
    item = upload_one(client, alice, "old.png")
    changed = client.patch(
        f"/api/v1/images/{item['id']}",
        headers=alice,
        json={"filename": "new.png", "visibility": "private"},
    )
    assert changed.status_code == 200
    assert (changed.json["filename"], changed.json["visibility"]) == ("new.png", "private")
    assert image_rows(app)[0][:3] == ("new.png", "private", "ready")
    other = upload_one(client, alice, "other.png", "private")
    body = is_problem(
        client.patch(f"/api/v1/images/{other['id']}", headers=alice, json={"filename": "new.png"}),
        409,
    )
    assert "already have a private image" in body["detail"]
    for bad in ({"visibility": "everyone"}, {"filename": ""}, {"size": 3}, [1]):
        response = client.patch(f"/api/v1/images/{item['id']}", headers=alice, json=bad)
        assert is_problem(response, 400)["invalid-params"], bad
    not_json = client.patch(f"/api/v1/images/{item['id']}", headers=alice, data="filename=x")
    assert is_problem(not_json, 400)["invalid-params"][0]["name"] == "body"
    assert sorted(r[0] for r in image_rows(app)) == ["new.png", "other.png"]


def test_delete_for_good_removes_row_and_objects(app, client, alice):
    item = upload_one(client, alice)
    response = client.delete(f"/api/v1/images/{item['id']}?permanent=true", headers=alice)
    assert response.status_code == 204 and response.data == b""
    assert image_rows(app) == [] and objects(app) == set()
    is_problem(client.delete(f"/api/v1/images/{item['id']}", headers=alice), 404)


def test_original_and_thumbnail_with_etags(client, alice):
    item = upload_one(client, alice, "p.png", "private")
    original = client.get(f"/api/v1/images/{item['id']}/original", headers=alice)
    assert original.status_code == 200 and original.content_type == "image/png"
    assert len(original.data) == item["size"] and original.headers["ETag"]
    assert original.headers["Cache-Control"] == "private, no-cache"
    again = client.get(
        f"/api/v1/images/{item['id']}/original",
        headers={**alice, "If-None-Match": original.headers["ETag"]},
    )
    assert again.status_code == 304 and again.data == b""
    thumb = client.get(f"/api/v1/images/{item['id']}/thumbnail", headers=alice)
    assert thumb.status_code == 200 and thumb.content_type == "image/webp"


def test_listing_filters_sorts_and_pages(app, client, alice):
    for name, visibility in (("b.png", "public"), ("a.png", "private"), ("c.png", "public")):
        upload_one(client, alice, name, visibility)
    names = lambda **q: [  # noqa: E731
        i["filename"]
        for i in client.get("/api/v1/images", headers=alice, query_string=q).json["items"]
    ]
    assert names() == ["c.png", "a.png", "b.png"]
    assert names(visibility="public") == ["c.png", "b.png"]
    assert names(visibility="private") == ["a.png"]
    assert names(sort="name") == ["a.png", "b.png", "c.png"]
    assert names(q="B.") == ["b.png"]
    first = client.get("/api/v1/images", headers=alice, query_string={"limit": 2, "sort": "name"})
    assert [i["filename"] for i in first.json["items"]] == ["a.png", "b.png"]
    cursor = first.json["next_cursor"]
    assert names(limit=2, sort="name", cursor=cursor) == ["c.png"]
    for bad in (
        {"limit": 0},
        {"limit": 201},
        {"limit": "x"},
        {"sort": "color"},
        {"visibility": "x"},
    ):
        body = is_problem(client.get("/api/v1/images", headers=alice, query_string=bad), 400)
        assert body["invalid-params"][0]["name"] == next(iter(bad))
    is_problem(client.get("/api/v1/images", headers=alice, query_string={"cursor": "!!"}), 400)


def test_no_credentials_is_401_and_unknown_api_paths_are_problems(client):
    for path in ("/api/v1/me", "/api/v1/images", "/api/v1/images/1"):
        response = client.get(path)
        is_problem(response, 401)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    is_problem(client.get("/api/v1/nothing-here"), 404)
    is_problem(client.put("/api/v1/images"), 405)
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_a_session_works_for_reads_and_the_legacy_endpoint_still_uploads(app):
    browser = signed_in(app, "alice")
    assert browser.get("/api/v1/me").json["token"] is None
    legacy = browser.post(
        "/api/images",
        data={"file": (io.BytesIO(image_bytes()), "old.png"), "visibility": "public"},
        content_type="multipart/form-data",
    )
    assert legacy.status_code == 201 and legacy.json["filename"] == "old.png"
    assert [i["filename"] for i in browser.get("/api/v1/images").json["items"]] == ["old.png"]


csrf_on = settings("csrf_on", WTF_CSRF_ENABLED=True)


def test_tokens_need_no_csrf_but_sessions_do(csrf_on, app, client):
    headers = token_for(app, "alice")
    assert post_files(client, headers, ("a.png", image_bytes())).status_code == 201
    browser = signed_in_with_csrf(app, "bob")
    refused = post_files(browser, {}, ("b.png", image_bytes()))
    body = is_problem(refused, 400)
    assert "security token" in body["detail"]
    # A session cookie next to a bogus token does not get past the CSRF check either.
    refused = post_files(
        browser, {"Authorization": "Bearer imgrepo_forged"}, ("c.png", image_bytes())
    )
    is_problem(refused, 401)
    assert [r[0] for r in image_rows(app)] == ["a.png"]


def signed_in_with_csrf(app, username):
    from tests.helpers import login

    make_user(app, username)
    browser = app.test_client()
    login(browser, username)
    return browser


rate_limited = settings("rate_limited", RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")


def test_each_token_has_its_own_rate_limit(rate_limited, app, client):
    first, second = token_for(app, "alice"), token_for(app, "bob")
    for _ in range(3):
        assert client.get("/api/v1/me", headers=first).status_code == 200
    refused = client.get("/api/v1/me", headers=first)
    body = is_problem(refused, 429)
    assert 0 < int(refused.headers["Retry-After"]) <= 60 and "Too many requests" in body["detail"]
    assert client.get("/api/v1/me", headers=second).status_code == 200
