"""The viewer's part on the server: every grid (My Files, the public gallery, an album,
a shared album) has the viewer's dialog and script, and each thumbnail link carries what
the viewer shows (preview and srcset, name, details, the original where its viewer may
have it), while its href stays the image's page for browsers without JavaScript. A
shared album gives away no more than its image pages do."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.helpers import last_image_id, signed_in, upload

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?")
TOKEN_PATH = re.compile(r'id="new-link" value="http://localhost(/s/[A-Za-z0-9_-]+)"')


class _Thumbs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "a" and "thumb-link" in (found.get("class") or "").split():
            self.links.append(found)


def _thumb_links(client, path: str) -> list[dict[str, str]]:
    response = client.get(path)
    assert response.status_code == 200, path
    html = response.get_data(as_text=True)
    assert '<dialog class="viewer" id="viewer"' in html
    assert '<script src="/static/js/viewer.js" defer></script>' in html
    parser = _Thumbs()
    parser.feed(html)
    return parser.links


def _viewer_data(link: dict[str, str]) -> dict[str, str]:
    return {
        k.removeprefix("data-viewer-"): v for k, v in link.items() if k.startswith("data-viewer-")
    }


def _gallery_data(number: int, visibility: str, owner: str) -> dict[str, str]:
    return {
        "src": f"/image/{number}/preview",
        "srcset": f"/image/{number}/thumb 64w, /image/{number}/preview 64w",
        "width": "64",
        "height": "48",
        "name": "a.png",
        "size": "",  # checked apart: the bytes of a PNG vary with Pillow's version
        "dimensions": "64 × 48 px",
        "visibility": visibility,
        "owner": owner,
        "original": f"/image/{number}/file",
        "download": f"/image/{number}/file?download=1",
    }


def _without_size_and_dates(data: dict[str, str]) -> dict[str, str]:
    assert re.fullmatch(r"\d+ bytes|\d+\.\d KB", data["size"]), data
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", data.pop("date")), data
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?", data.pop("datetime")
    ), data
    return {**data, "size": ""}


@pytest.mark.parametrize("visibility", ["public", "private"])
def test_the_galleries_give_each_thumbnail_to_the_viewer(app, auth, client, visibility):
    auth.signup("alice")
    upload(client, "a.png", visibility=visibility)
    number = last_image_id(app)
    pages = ["/myfiles", "/gallery"] if visibility == "public" else ["/myfiles"]
    for path in pages:
        (link,) = _thumb_links(client, path)
        assert link["href"] == f"/image/{number}"  # the page, without JavaScript
        expected = _gallery_data(number, visibility, "alice")
        assert _without_size_and_dates(_viewer_data(link)) == expected
    assert client.get(f"/image/{number}/preview").status_code == 200
    assert client.get("/static/js/viewer.js").status_code == 200


def test_the_links_of_a_sorted_gallery_keep_its_order_for_the_viewer_too(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    (link,) = _thumb_links(client, "/gallery?sort=name&q=a")
    assert link["href"] == f"/image/{last_image_id(app)}?sort=name&q=a"


def _album_of_one(app, allow_download: bool) -> tuple[object, int, int, str]:
    owner = signed_in(app, "keeper")
    upload(owner, "a.png", visibility="private")
    number = last_image_id(app)
    album_id = int(owner.post("/albums", data={"title": "Trip"}).headers["Location"].split("/")[-1])
    owner.post("/albums/add", data={"album_id": str(album_id), "image_id": str(number)})
    share = {"expires": "never", **({"allow_download": "yes"} if allow_download else {})}
    made = owner.post(f"/albums/{album_id}/share", data=share).get_data(as_text=True)
    return owner, album_id, number, TOKEN_PATH.search(made)[1]


def test_an_album_gives_its_thumbnails_to_the_viewer(app):
    owner, album_id, number, _path = _album_of_one(app, allow_download=True)
    (link,) = _thumb_links(owner, f"/albums/{album_id}")
    assert link["href"] == f"/image/{number}"
    data = _without_size_and_dates(_viewer_data(link))
    assert data == _gallery_data(number, "private", "keeper")


@pytest.mark.parametrize("allow_download", [True, False])
def test_a_shared_album_gives_the_viewer_what_its_image_pages_show(app, allow_download):
    _owner, _album_id, number, path = _album_of_one(app, allow_download)
    visitor = app.test_client()
    (link,) = _thumb_links(visitor, path)
    assert link["href"] == f"{path}/i/{number}"
    data = _without_size_and_dates(_viewer_data(link))
    base = f"{path}/i/{number}"
    preview, file = f"{base}/preview", f"{base}/file"
    # The preview, as the shared image's page shows it; the original only behind View
    # original and Download, and only where the link allows downloading it.
    shown = {"src": preview, "srcset": f"{base}/thumb 64w, {preview} 64w"}
    if allow_download:
        shown.update(original=file, download=f"{file}?download=1")
    assert data == {
        **shown,
        "width": "64",
        "height": "48",
        "name": "a.png",
        "size": "",
        "dimensions": "64 × 48 px",
    }  # no owner, no visibility: the shared page shows neither
    assert visitor.get(preview).status_code == 200
    assert visitor.get(file).status_code == (200 if allow_download else 403)
