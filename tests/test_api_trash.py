"""The API's deletes go to the trash as the pages' "Delete" does (TRASH_DAYS honoured;
`permanent=true` deletes for good), and /api/v1/trash lists, restores and deletes for
good; a bad request changes nothing."""

from __future__ import annotations

import datetime as dt

from tests.helpers import audit_rows, image_rows, objects, settings
from tests.test_api_v1 import is_problem, token_for, upload_one

no_trash_config = settings("no_trash_config", TRASH_DAYS=0)


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_delete_puts_the_image_in_the_trash_and_it_comes_back(app, client):
    alice = token_for(app, "alice")
    item = upload_one(client, alice, "sea.png", "private")
    assert client.delete(f"/api/v1/images/{item['id']}", headers=alice).status_code == 204
    is_problem(client.get(f"/api/v1/images/{item['id']}", headers=alice), 404)
    assert client.get("/api/v1/images", headers=alice).json["items"] == []
    [trashed] = client.get("/api/v1/trash", headers=alice).json["items"]
    assert trashed["id"] == item["id"] and trashed["filename"] == "sea.png"
    assert trashed["visibility"] == "private" and trashed["size"] == item["size"]
    days = when(trashed["expires_at"]) - when(trashed["deleted_at"])
    assert days == dt.timedelta(days=app.config["TRASH_DAYS"])
    restored = client.post(f"/api/v1/trash/{item['id']}/restore", headers=alice)
    assert restored.status_code == 200 and restored.json["filename"] == "sea.png"
    assert client.get(f"/api/v1/images/{item['id']}", headers=alice).status_code == 200
    assert client.get("/api/v1/trash", headers=alice).json["items"] == []


def test_a_taken_name_is_restored_under_the_suggested_one(app, client):
    alice = token_for(app, "alice")
    old = upload_one(client, alice, "sea.png")
    client.delete(f"/api/v1/images/{old['id']}", headers=alice)
    upload_one(client, alice, "sea.png")  # the name was free at once
    refused = is_problem(client.post(f"/api/v1/trash/{old['id']}/restore", headers=alice), 409)
    assert "Restore it under another name." in refused["detail"]
    assert refused["suggested_filename"] == "sea (2).png"
    url = f"/api/v1/trash/{old['id']}/restore?filename=sea (2).png"
    restored = client.post(url, headers=alice)
    assert restored.status_code == 200 and restored.json["filename"] == "sea (2).png"


def test_delete_forever_and_permanent_delete(app, client):
    alice = token_for(app, "alice")
    first, second = upload_one(client, alice, "a.png"), upload_one(client, alice, "b.png")
    client.delete(f"/api/v1/images/{first['id']}", headers=alice)
    assert client.delete(f"/api/v1/trash/{first['id']}", headers=alice).status_code == 204
    is_problem(client.delete(f"/api/v1/trash/{first['id']}", headers=alice), 404)
    url = f"/api/v1/images/{second['id']}?permanent=true"
    assert client.delete(url, headers=alice).status_code == 204
    assert client.get("/api/v1/trash", headers=alice).json["items"] == []
    assert image_rows(app) == [] and objects(app) == set()


def test_with_trash_days_0_delete_is_for_good(no_trash_config, app, client):
    alice = token_for(app, "alice")
    item = upload_one(client, alice)
    assert client.delete(f"/api/v1/images/{item['id']}", headers=alice).status_code == 204
    assert client.get("/api/v1/trash", headers=alice).json["items"] == []
    assert image_rows(app) == [] and objects(app) == set()


def test_only_your_own_trash_and_bad_requests_change_nothing(app, client):
    alice, bob = token_for(app, "alice"), token_for(app, "bob")
    reader = token_for(app, "rita", scope="read")
    item = upload_one(client, alice)
    client.delete(f"/api/v1/images/{item['id']}", headers=alice)
    before = image_rows(app), objects(app)
    assert client.get("/api/v1/trash", headers=bob).json["items"] == []
    for headers in (bob, reader):
        status = 404 if headers is bob else 403
        is_problem(client.post(f"/api/v1/trash/{item['id']}/restore", headers=headers), status)
        is_problem(client.delete(f"/api/v1/trash/{item['id']}", headers=headers), status)
    for bad in (f"/api/v1/trash/{10**6}/restore", f"/api/v1/trash/{item['id']}/restore?filename="):
        assert client.post(bad, headers=alice).status_code in (400, 404)
    is_problem(client.delete(f"/api/v1/trash/{10**6}", headers=alice), 404)
    detail = is_problem(client.delete(f"/api/v1/trash/{10**6}", headers=alice), 404)["detail"]
    assert detail == "This image is not in your trash."
    assert client.get("/api/v1/trash").status_code == 401
    assert (image_rows(app), objects(app)) == before


def test_an_admin_token_deletes_to_the_owners_trash_audited(app, client):
    alice = token_for(app, "alice")
    admin = token_for(app, "chief", admin=True)
    item = upload_one(client, alice, "sea.png")
    assert client.delete(f"/api/v1/images/{item['id']}", headers=admin).status_code == 204
    assert [i["id"] for i in client.get("/api/v1/trash", headers=alice).json["items"]] == [
        item["id"]
    ]
    assert client.get("/api/v1/trash", headers=admin).json["items"] == []
    [(actor, target)] = [(a, t) for a, action, t in audit_rows(app) if action == "delete image"]
    assert actor == "chief" and target.endswith("(to the trash)")
