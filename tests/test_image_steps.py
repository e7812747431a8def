"""Previous and next on the image page: the neighbours in the gallery's order (newest
first, in the image's own gallery), skipping what the viewer may not see."""

from __future__ import annotations

import re

from tests.helpers import last_image_id, signed_in, upload


def _steps(client, image_id):
    html = client.get(f"/image/{image_id}").get_data(as_text=True)
    found = {}
    for name in ("previous-image", "next-image", "back-to-gallery"):
        match = re.search(rf'id="{name}"[^>]*href="([^"]+)"', html)
        found[name] = match.group(1) if match else None
    return found


def _three_public(app, client) -> list[int]:
    ids = []
    for name in ("a.png", "b.png", "c.png"):
        upload(client, name)
        ids.append(last_image_id(app))
    return ids


def test_previous_and_next_follow_the_gallery_order(app, auth, client):
    auth.signup("alice")
    oldest, middle, newest = _three_public(app, client)
    assert _steps(client, middle) == {
        "previous-image": f"/image/{newest}",
        "next-image": f"/image/{oldest}",
        "back-to-gallery": "/gallery",
    }
    assert _steps(client, newest)["previous-image"] is None
    assert _steps(client, oldest)["next-image"] is None


def test_private_images_step_through_the_owners_private_images_only(app, auth, client):
    auth.signup("alice")
    upload(client, "mine1.png", visibility="private")
    first = last_image_id(app)
    bob = signed_in(app, "bob")
    upload(bob, "bobs.png", visibility="private")
    upload(client, "public.png")
    upload(client, "mine2.png", visibility="private")
    second = last_image_id(app)
    assert _steps(client, second) == {
        "previous-image": None,
        "next-image": f"/image/{first}",
        "back-to-gallery": "/myfiles",
    }


def test_trashed_images_are_skipped(app, auth, client):
    auth.signup("alice")
    ids = _three_public(app, client)
    client.post("/delete", data={"filename": "b.png", "visibility": "public"})
    assert _steps(client, ids[2])["next-image"] == f"/image/{ids[0]}"


def test_the_key_script_is_served_and_linked(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    html = client.get(f"/image/{last_image_id(app)}").get_data(as_text=True)
    assert '<script src="/static/js/image_keys.js"></script>' in html
    assert client.get("/static/js/image_keys.js").status_code == 200
