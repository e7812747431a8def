"""What the viewer reads to walk on past a page (static/js/viewer.js): each grid is
followed by its "Next page" link (a ``nav a[rel=next]``), and the page it opens holds the
same grid (found by its id, or its section's) with the next pictures. The viewer reads
no more than that link shows: the images of others stay out of every page, and a
visitor reads the public gallery's next pages only where the gallery is open to them."""

from __future__ import annotations

import html as htmllib
import re

from tests.helpers import last_image_id, settings, signed_in, upload

small_pages = settings("small_pages", PAGE_SIZE=2)
open_small_pages = settings("open_small_pages", PAGE_SIZE=2, ANONYMOUS_GALLERY=True)
THUMB = re.compile(r'<a href="([^"]+)" class="thumb-link"')
NEXT = re.compile(r'<nav aria-label="[^"]*"[^>]*>\s*<a class="[^"]*" rel="next" href="([^"]+)"')
TOKEN_PATH = re.compile(r'id="new-link" value="http://localhost(/s/[A-Za-z0-9_-]+)"')


def _grid(page: str, start: str, end: str = "</section>") -> tuple[list[str], str | None]:
    """The thumbnail links of the grid that begins at ``start`` and its next page."""
    assert start in page, start
    part = page.split(start, 1)[1].split(end, 1)[0]
    found = NEXT.search(part)
    return THUMB.findall(part), htmllib.unescape(found[1]) if found else None


def _walk(client, path: str, start: str, end: str = "</section>") -> list[str]:
    """Every thumbnail of a grid, page after page, as the viewer reads them."""
    seen: list[str] = []
    pages = 0
    while path:
        response = client.get(path)
        assert response.status_code == 200, path
        links, path = _grid(response.get_data(as_text=True), start, end)
        assert 0 < len(links) <= 2
        seen += links
        pages += 1
    assert pages == (len(seen) + 1) // 2
    return seen


def _uploads(client, app, visibility: str, count: int) -> list[str]:
    found = []
    for n in range(count):
        assert upload(client, f"{visibility}{n}.png", visibility=visibility).status_code == 303
        found.append(f"/image/{last_image_id(app)}")
    return found[::-1]  # newest first


def test_my_files_grids_lead_on_to_their_next_pages(small_pages, app):
    alice = signed_in(app, "alice")
    public = _uploads(alice, app, "public", 3)
    mine = _uploads(alice, app, "private", 3)
    bob = signed_in(app, "bob")
    theirs = _uploads(bob, app, "private", 3)
    assert _walk(alice, "/myfiles", 'id="public-images"') == public
    assert _walk(alice, "/myfiles", 'id="private-images"') == mine
    assert _walk(bob, "/myfiles", 'id="private-images"') == theirs
    assert _walk(bob, "/gallery", 'id="public-images"') == public


def test_a_visitor_walks_the_public_gallery_only_where_it_is_open(open_small_pages, app):
    alice = signed_in(app, "alice")
    public = _uploads(alice, app, "public", 3)
    _uploads(alice, app, "private", 3)
    assert _walk(app.test_client(), "/gallery", 'id="public-images"') == public


def test_a_closed_gallery_gives_a_visitor_no_next_page(small_pages, app):
    alice = signed_in(app, "alice")
    _uploads(alice, app, "public", 3)
    _links, more = _grid(alice.get("/gallery").get_data(as_text=True), 'id="public-images"')
    assert more and "public_after=" in more
    answer = app.test_client().get(more)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_an_album_and_its_shared_link_lead_on_to_their_next_pages(small_pages, app):
    alice = signed_in(app, "alice")
    pictures = _uploads(alice, app, "private", 3)
    album_id = int(alice.post("/albums", data={"title": "Trip"}).headers["Location"].split("/")[-1])
    for picture in pictures:
        number = picture.rsplit("/", 1)[1]
        alice.post("/albums/add", data={"album_id": str(album_id), "image_id": number})
    inside = _walk(alice, f"/albums/{album_id}", 'id="album-images"', "</body>")
    assert sorted(inside) == sorted(pictures)
    made = alice.post(f"/albums/{album_id}/share", data={"expires": "never"})
    path = TOKEN_PATH.search(made.get_data(as_text=True))[1]
    shared = _walk(app.test_client(), path, 'id="shared-album-images"', "</body>")
    assert shared == [f"{path}/i/{link.rsplit('/', 1)[1]}" for link in inside]
