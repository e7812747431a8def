"""Previous and next on the image page: the neighbours in the gallery's order (newest
first, or the sort and search the gallery was in, in the image's own gallery), skipping
what the viewer may not see."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

import pytest

from tests.helpers import image_bytes, last_image_id, signed_in, upload


def _steps(client, image: int | str):
    """The image page's previous, next and back links; ``image`` an id or a page's path."""
    html = client.get(image if isinstance(image, str) else f"/image/{image}").get_data(as_text=True)
    found = {}
    for name in ("previous-image", "next-image", "back-to-gallery"):
        match = re.search(rf'id="{name}"[^>]*href="([^"]+)"', html)
        found[name] = unescape(match.group(1)) if match else None
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


# --- in the gallery's sort and search ---------------------------------------------------

GALLERY_LINK = re.compile(r'class="filename[^"]*" href="/image/(\d+)([^"]*)"')


def _gallery(client, **args) -> list[tuple[int, str]]:
    """The gallery's images in its order, with the query string of each image's link."""
    html = client.get("/gallery", query_string=args).get_data(as_text=True)
    return [(int(number), unescape(query)) for number, query in GALLERY_LINK.findall(html)]


def _walk(client, start: str, step: str) -> list[str]:
    """Follow the image page's ``step`` link from ``start`` to the end: the pages seen."""
    seen = [start]
    while (found := _steps(client, seen[-1])[step]) is not None:
        assert len(seen) < 10, seen
        seen.append(found)
    return seen


def _sorted_pictures(app, client) -> dict[str, int]:
    """Four public pictures whose order differs by date, name and size; cat-c has the
    bytes (so the size) of cat-b, a tie the id breaks."""
    small = image_bytes(size=(8, 8), color=(200, 10, 10))
    pictures = {
        "cat-b.png": small,
        "dog.png": image_bytes(size=(64, 64)),
        "cat-a.png": image_bytes(size=(300, 200), color=None),
        "cat-c.png": small,
    }
    ids = {}
    for name, data in pictures.items():
        upload(client, name, data=data)
        ids[name] = last_image_id(app)
    return ids


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, ["cat-c.png", "cat-a.png", "dog.png", "cat-b.png"]),
        ({"sort": "name"}, ["cat-a.png", "cat-b.png", "cat-c.png", "dog.png"]),
        ({"sort": "size"}, ["cat-a.png", "dog.png", "cat-c.png", "cat-b.png"]),
        ({"q": "CAT"}, ["cat-c.png", "cat-a.png", "cat-b.png"]),
        ({"sort": "name", "q": "cat"}, ["cat-a.png", "cat-b.png", "cat-c.png"]),
        ({"sort": "size", "q": "cat"}, ["cat-a.png", "cat-c.png", "cat-b.png"]),
        ({"sort": "bogus"}, ["cat-c.png", "cat-a.png", "dog.png", "cat-b.png"]),
    ],
)
def test_previous_and_next_follow_the_sort_and_search_of_the_gallery(
    app, auth, client, args, expected
):
    auth.signup("alice")
    ids = _sorted_pictures(app, client)
    gallery = _gallery(client, **args)
    assert [number for number, _ in gallery] == [ids[name] for name in expected]
    carried = {key: value for key, value in args.items() if key != "sort" or value != "bogus"}
    query = f"?{urlencode(carried)}" if carried else ""
    assert {q for _, q in gallery} == {query}  # the links carry the sort and search
    pages = [f"/image/{ids[name]}{query}" for name in expected]
    assert _walk(client, pages[0], "next-image") == pages
    assert _walk(client, pages[-1], "previous-image") == pages[::-1]
    assert _steps(client, pages[1])["back-to-gallery"] == f"/gallery{query}"
