"""Storage quotas: the default, an admin's override, the refusal before anything is
stored (page, API, legacy API), the pages that show usage against the quota, and two
uploads at once."""

from __future__ import annotations

import html
import io
import re
import threading

import pytest
from sqlalchemy import select, update

from tests.helpers import (
    PASSWORD,
    audit_rows,
    image_bytes,
    image_rows,
    login,
    make_user,
    objects,
    settings,
    upload,
    user_id,
)
from web.accounts import tokens
from web.extensions import db
from web.models import User

MB = 1024 * 1024

one_mb_default = settings("one_mb_default", DEFAULT_QUOTA_MB=1)
no_space_default = settings("no_space_default", DEFAULT_QUOTA_MB=0)


def set_used(app, username: str, used: int) -> None:
    """Put ``used`` bytes on a user's counter, as if their images took that much."""
    with app.app_context():
        db.session.execute(update(User).where(User.username == username).values(bytes_used=used))
        db.session.commit()


def counters(app, username: str) -> tuple[int, int]:
    with app.app_context():
        row = db.session.execute(
            select(User.image_count, User.bytes_used).where(User.username == username)
        ).one()
        return int(row[0]), int(row[1])


def page_text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def test_an_upload_over_the_default_quota_is_refused_with_usage_quota_and_size(one_mb_default, app):
    make_user(app, "alice")
    client = app.test_client()
    login(client, "alice")
    set_used(app, "alice", MB - 100)
    data = image_bytes(size=(64, 48))
    response = upload(client, "big.png", data)
    assert response.status_code == 413
    text = page_text(response)
    assert f"This file ({len(data)} bytes) would take you over your storage quota" in text
    assert "you use 1023.9 KB of 1.0 MB. Nothing was stored" in text
    assert image_rows(app) == [] and objects(app) == set()
    assert counters(app, "alice") == (0, MB - 100)


def test_within_the_quota_uploads_count_and_the_pages_show_usage_against_it(one_mb_default, app):
    make_user(app, "alice")
    make_user(app, "boss", is_admin=True)
    client, admin = app.test_client(), app.test_client()
    login(client, "alice")
    login(admin, "boss")
    data = image_bytes()
    assert upload(client, "a.png", data).status_code == 303
    assert counters(app, "alice") == (1, len(data))
    shown = f"{len(data)} bytes of 1.0 MB used (0 %)"
    assert shown in page_text(client.get("/myfiles"))
    assert shown in page_text(client.get("/account"))
    listing = page_text(admin.get("/admin"))
    assert re.search(rf'storage-used"[^>]*>{len(data)} bytes<span[^>]*> of 1.0 MB', listing)
    assert shown in page_text(admin.get(f"/admin/users/{user_id(app, 'alice')}"))


def test_without_a_default_quota_uploads_are_unlimited(app):
    make_user(app, "alice")
    client = app.test_client()
    login(client, "alice")
    set_used(app, "alice", 10**12)
    assert upload(client, "a.png").status_code == 303
    assert "used, no limit" in page_text(client.get("/account"))
    assert "storage quota" not in page_text(client.get("/myfiles"))


@pytest.fixture
def admin_and_alice(app):
    make_user(app, "alice")
    make_user(app, "boss", is_admin=True)
    client, admin = app.test_client(), app.test_client()
    login(client, "alice")
    login(admin, "boss")
    return admin, client, f"/admin/users/{user_id(app, 'alice')}/quota"


def test_an_admin_overrides_the_default_with_a_number_unlimited_or_the_default_again(
    no_space_default, app, admin_and_alice
):
    admin, client, address = admin_and_alice
    assert upload(client, "a.png").status_code == 413  # the default: 0 MB
    response = admin.post(address, data={"quota": "unlimited"})
    assert response.status_code == 303
    assert "Unlimited" in page_text(admin.get(response.headers["Location"]))
    assert upload(client, "b.png").status_code == 303
    assert admin.post(address, data={"quota": "custom", "quota_mb": "5"}).status_code == 303
    assert "of 5.0 MB used" in page_text(client.get("/account"))
    assert upload(client, "c.png").status_code == 303
    assert admin.post(address, data={"quota": "default"}).status_code == 303
    # Below the usage: the images stay, new uploads are refused.
    assert upload(client, "d.png").status_code == 413
    assert [row[0] for row in image_rows(app)] == ["b.png", "c.png"]
    assert [row[1:] for row in audit_rows(app)] == [
        ("set quota", "storage quota of alice set to unlimited"),
        ("set quota", "storage quota of alice set to 5 MB"),
        ("set quota", "storage quota of alice set to the default"),
    ]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"quota": "custom", "quota_mb": "abc"}, "Give the quota as a whole number of MB"),
        ({"quota": "custom", "quota_mb": "-1"}, "Give the quota as a whole number of MB"),
        ({"quota": "custom", "quota_mb": "1e3"}, "Give the quota as a whole number of MB"),
        ({"quota": "custom", "quota_mb": "٣"}, "Give the quota as a whole number of MB"),
        ({"quota": "custom", "quota_mb": "100000001"}, "from 0 to 100000000"),
        ({"quota": "custom"}, "Give the quota as a whole number of MB"),
        ({"quota": "lots"}, "Choose the default quota, unlimited, or a number of MB."),
        ({}, "Choose the default quota, unlimited, or a number of MB."),
    ],
)
def test_a_bad_quota_form_says_why_and_changes_nothing(app, admin_and_alice, form, message):
    admin, _client, address = admin_and_alice
    response = admin.post(address, data=form)
    assert response.status_code == 400
    assert message in page_text(response)
    with app.app_context():
        row = db.session.execute(
            select(User.quota_mb, User.quota_unlimited).where(User.username == "alice")
        ).one()
    assert tuple(row) == (None, False)
    assert audit_rows(app) == []


def test_only_admins_set_quotas(app, admin_and_alice):
    _admin, client, address = admin_and_alice
    assert client.post(address, data={"quota": "unlimited"}).status_code == 404
    assert audit_rows(app) == []


def test_the_api_refuses_an_upload_over_the_quota_with_a_problem_413(no_space_default, app):
    make_user(app, "alice")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "alice"))
        secret = tokens.create(user, "test", "read-write").secret
    client = app.test_client()
    data = image_bytes()
    response = client.post(
        "/api/v1/images",
        data={"file": [(io.BytesIO(data), "a.png")], "visibility": "public"},
        headers={"Authorization": f"Bearer {secret}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert response.json["detail"].startswith(f"This file ({len(data)} bytes) would take you")
    assert "you use 0 bytes of 0 bytes" in response.json["detail"]
    assert response.json["errors"][0]["status"] == 413
    assert image_rows(app) == [] and objects(app) == set()


def test_the_api_tells_the_caller_their_quota(one_mb_default, app):
    make_user(app, "alice")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "alice"))
        secret = tokens.create(user, "test", "read").secret
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json["quota"] == MB and me.json["bytes_used"] == 0


def test_the_api_document_says_that_413_can_be_the_quota(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    refused = document["paths"]["/api/v1/images"]["post"]["responses"]["413"]["description"]
    assert "or a file would go over the storage quota; nothing was stored" in refused


def test_the_upload_pages_endpoint_refuses_it_with_413_json(no_space_default, app):
    make_user(app, "alice")
    client = app.test_client()
    login(client, "alice")
    page = client.get("/myfiles").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/api/images",
        data={"file": (io.BytesIO(image_bytes()), "a.png"), "visibility": "private"},
        headers={"X-CSRFToken": csrf},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "would take you over your storage quota" in response.json["error"]
    assert image_rows(app) == []


def test_two_uploads_at_once_cannot_both_take_the_last_space(one_mb_default, app):
    make_user(app, "alice")
    files = [image_bytes(size=(64, 48)), image_bytes(size=(64, 48))]
    set_used(app, "alice", MB - max(len(f) for f in files) - 10)  # room for one of them
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        c.post("/login", data={"username": "alice", "password": PASSWORD})
    barrier = threading.Barrier(2)
    statuses = []

    def go(c, name, data):
        barrier.wait()
        statuses.append(upload(c, name, data).status_code)

    threads = [
        threading.Thread(target=go, args=(c, f"{i}.png", files[i])) for i, c in enumerate(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [303, 413]
    assert len(image_rows(app)) == 1
    assert counters(app, "alice")[1] <= MB
