"""The API's albums and share links: the same rules as the pages (albums private to their
owner, only your own images, links shown once, revoking answers 404 at once)."""

from __future__ import annotations

import io

from sqlalchemy import select

from tests.helpers import image_bytes, make_user
from web.accounts import tokens
from web.extensions import db
from web.models import User


def token_for(app, username: str, scope: str = "read-write") -> dict:
    make_user(app, username)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        secret = tokens.create(user, "test", scope).secret
    return {"Authorization": f"Bearer {secret}"}


def upload_one(client, headers, name: str, visibility: str = "private") -> int:
    response = client.post(
        "/api/v1/images",
        data={"file": [(io.BytesIO(image_bytes()), name)], "visibility": visibility},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["items"][0]["id"]


def test_albums_through_the_api(app, client):
    alice = token_for(app, "alice")
    first, second = upload_one(client, alice, "a.png"), upload_one(client, alice, "b.png")
    made = client.post("/api/v1/albums", json={"title": "Trip"}, headers=alice)
    assert made.status_code == 201 and made.json["image_count"] == 0
    album = f"/api/v1/albums/{made.json['id']}"
    added = client.post(f"{album}/images", json={"image_ids": [first, second]}, headers=alice)
    assert added.status_code == 200 and added.json["image_count"] == 2
    page = client.get(f"{album}/images?limit=1", headers=alice)
    assert [i["id"] for i in page.json["items"]] == [second]
    nxt = client.get(f"{album}/images?limit=1&before={page.json['next_before']}", headers=alice)
    assert [i["id"] for i in nxt.json["items"]] == [first] and nxt.json["next_before"] is None
    patched = client.patch(album, json={"cover_image_id": first, "title": "Trip 2"}, headers=alice)
    assert patched.json["cover_image_id"] == first and patched.json["title"] == "Trip 2"
    assert client.patch(album, json={"cover_image_id": 999}, headers=alice).status_code == 400
    assert client.delete(f"{album}/images/{first}", headers=alice).status_code == 204
    assert client.get(album, headers=alice).json["image_count"] == 1
    assert [a["title"] for a in client.get("/api/v1/albums", headers=alice).json["items"]] == [
        "Trip 2"
    ]
    assert client.delete(album, headers=alice).status_code == 204
    assert client.get(album, headers=alice).status_code == 404
    assert client.get(f"/api/v1/images/{first}", headers=alice).status_code == 200


def test_albums_are_private_and_take_only_your_images(app, client):
    alice, bob = token_for(app, "alice"), token_for(app, "bob")
    theirs = upload_one(client, bob, "bob.png", "public")
    album_id = client.post("/api/v1/albums", json={"title": "Mine"}, headers=alice).json["id"]
    album = f"/api/v1/albums/{album_id}"
    refused = client.post(f"{album}/images", json={"image_ids": [theirs]}, headers=alice)
    assert refused.status_code == 404
    assert refused.mimetype == "application/problem+json"
    for method, path in (("get", album), ("delete", album), ("get", f"{album}/images")):
        assert getattr(client, method)(path, headers=bob).status_code == 404
    assert client.get("/api/v1/albums", headers=bob).json["items"] == []
    reader = token_for(app, "carol", "read")
    assert client.post("/api/v1/albums", json={"title": "x"}, headers=reader).status_code == 403
    bad = client.post("/api/v1/albums", json={"title": ""}, headers=alice)
    assert bad.status_code == 400 and bad.json["invalid-params"][0]["name"] == "title"
    odd = client.post("/api/v1/albums", json={"title": "a\x01"}, headers=alice)
    assert odd.status_code == 400
    assert "without control characters" in odd.json["detail"]


def test_share_links_through_the_api(app, client):
    alice, bob = token_for(app, "alice"), token_for(app, "bob")
    image_id = upload_one(client, alice, "a.png")
    made = client.post(
        "/api/v1/shares",
        json={"image_id": image_id, "expires_in": 3600, "max_views": 3, "password": "pw-1234"},
        headers=alice,
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.json["expires_at"] and made.json["has_password"] and made.json["max_views"] == 3
    path = made.json["url"].split("localhost", 1)[1]
    visitor = app.test_client()
    assert visitor.post(path, data={"password": "pw-1234"}).status_code == 303
    assert visitor.get(path).status_code == 200
    listed = client.get("/api/v1/shares", headers=alice).json["items"]
    assert [(s["id"], s["views"], s["target"]) for s in listed] == [(made.json["id"], 1, "a.png")]
    assert "url" not in listed[0]
    assert client.get("/api/v1/shares", headers=bob).json["items"] == []
    assert client.delete(f"/api/v1/shares/{made.json['id']}", headers=bob).status_code == 404
    assert client.delete(f"/api/v1/shares/{made.json['id']}", headers=alice).status_code == 204
    assert visitor.get(path).status_code == 404


def test_bad_share_requests_are_refused(app, client):
    alice, bob = token_for(app, "alice"), token_for(app, "bob")
    image_id = upload_one(client, alice, "a.png")
    album_id = client.post("/api/v1/albums", json={"title": "T"}, headers=alice).json["id"]
    for body in (
        {},
        {"image_id": image_id, "album_id": album_id},
        {"image_id": image_id, "expires_in": 5},
        {"image_id": image_id, "max_views": 0},
        {"image_id": image_id, "password": "\ud800"},
    ):
        response = client.post("/api/v1/shares", json=body, headers=alice)
        assert response.status_code == 400, body
    assert (
        client.post("/api/v1/shares", json={"image_id": image_id}, headers=bob).status_code == 404
    )
    album_share = client.post("/api/v1/shares", json={"album_id": album_id}, headers=bob)
    assert album_share.status_code == 404
    assert client.get("/api/v1/shares", headers=alice).json["items"] == []
    ok = client.post("/api/v1/shares", json={"album_id": album_id}, headers=alice)
    assert (
        ok.status_code == 201 and ok.json["expires_at"] is None and ok.json["album_id"] == album_id
    )


def test_an_album_path_is_looked_up_after_the_token_and_the_body(app, client):
    """A read token is refused before anything (403), a bad body before a missing album
    (400), and an album that is not yours is a 404 problem+json, as the document says."""
    alice, reader = token_for(app, "alice"), token_for(app, "bob", "read")
    mine = client.post("/api/v1/albums", json={"title": "Mine"}, headers=alice).json["id"]
    refused = client.patch(f"/api/v1/albums/{mine}", json={"title": "X"}, headers=reader)
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert client.patch("/api/v1/albums/999999", json=[], headers=alice).status_code == 400
    missing = client.patch("/api/v1/albums/999999", json={"title": "X"}, headers=alice)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    carol = token_for(app, "carol")
    assert client.get(f"/api/v1/albums/{mine}", headers=carol).status_code == 404
    paths = client.get("/api/v1/openapi.json").json["paths"]
    patch = paths["/api/v1/albums/{album_id}"]["patch"]["responses"]
    assert patch["404"]["description"] == "No such album of yours."
    assert patch["403"]["description"] == "A read token: nothing was changed."
    image = paths["/api/v1/images/{image_id}"]["patch"]["responses"]
    assert image["403"]["description"].startswith("A read token, or an image that is not yours")
    assert "403" not in paths["/api/v1/images/{image_id}"]["get"]["responses"]
