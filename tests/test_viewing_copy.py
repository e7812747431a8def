"""Browsers cannot show a TIFF or HEIC original, so its pages show the preview (a WebP
copy) and say so under the picture, with the original's download where the viewer may
have it: the image's own page, a shared image's page and a shared album's image page,
in English and in German. Formats browsers show get no such note."""

from __future__ import annotations

import re

import pytest

from tests.helpers import image_bytes, last_image_id, signed_in, upload

TOKEN_PATH = re.compile(r'id="new-link" value="http://localhost(/s/[A-Za-z0-9_-]+)"')
NOTE = re.compile(r'<p class="text-muted small mt-2" id="format-note">(.*?)</p>', re.S)
COPIES = [("TIFF", "scan.tif"), ("HEIF", "phone.heic")]
GERMAN = {"Accept-Language": "de"}


def _note(html: str) -> str | None:
    found = NOTE.search(html)
    return " ".join(found[1].split()) if found else None


def _sentence(fmt: str, download: str | None) -> str:
    said = f"Browsers cannot show {fmt} files, so this is a copy made for viewing."
    if download:
        said += (
            f' <a href="{download}" id="format-note-download">Download the original {fmt} file</a>'
        )
    return said


def _owner_of(app, fmt: str, name: str):
    owner = signed_in(app, "keeper")
    assert upload(owner, name, image_bytes(fmt, (90, 60)), "private").status_code == 303
    return owner, last_image_id(app)


def _shared(owner, what: str, allow_download: bool) -> str:
    share = {"expires": "never", **({"allow_download": "yes"} if allow_download else {})}
    made = owner.post(f"{what}/share", data=share).get_data(as_text=True)
    return TOKEN_PATH.search(made)[1]


@pytest.mark.parametrize(("fmt", "name"), COPIES)
def test_the_image_page_says_it_shows_a_viewing_copy(app, fmt, name):
    owner, number = _owner_of(app, fmt, name)
    html = owner.get(f"/image/{number}").get_data(as_text=True)
    assert _note(html) == _sentence(fmt, f"/image/{number}/file?download=1")
    german = _note(owner.get(f"/image/{number}", headers=GERMAN).get_data(as_text=True))
    assert german == (
        f"Browser können {fmt}-Dateien nicht anzeigen, daher sehen Sie eine Kopie zum Ansehen."
        f' <a href="/image/{number}/file?download=1" id="format-note-download">'
        f"Die {fmt}-Originaldatei herunterladen</a>"
    )


@pytest.mark.parametrize("allow_download", [True, False])
@pytest.mark.parametrize(("fmt", "name"), COPIES)
def test_a_shared_image_says_it_shows_a_viewing_copy(app, fmt, name, allow_download):
    owner, number = _owner_of(app, fmt, name)
    path = _shared(owner, f"/image/{number}", allow_download)
    visitor = app.test_client()
    html = visitor.get(path).get_data(as_text=True)
    assert _note(html) == _sentence(fmt, f"{path}/file?download=1" if allow_download else None)
    german = _note(visitor.get(path, headers=GERMAN).get_data(as_text=True))
    assert german and german.startswith(f"Browser können {fmt}-Dateien nicht anzeigen")
    assert ("Originaldatei herunterladen" in german) is allow_download


@pytest.mark.parametrize("allow_download", [True, False])
def test_a_shared_album_image_says_it_shows_a_viewing_copy(app, allow_download):
    owner, number = _owner_of(app, "TIFF", "scan.tiff")
    album_id = int(
        owner.post("/albums", data={"title": "Scans"}).headers["Location"].split("/")[-1]
    )
    owner.post("/albums/add", data={"album_id": str(album_id), "image_id": str(number)})
    path = _shared(owner, f"/albums/{album_id}", allow_download)
    visitor = app.test_client()
    assert visitor.get(path).status_code == 200  # the album's page opens the link
    html = visitor.get(f"{path}/i/{number}").get_data(as_text=True)
    file = f"{path}/i/{number}/file?download=1"
    assert _note(html) == _sentence("TIFF", file if allow_download else None)


def test_formats_browsers_show_get_no_note(app):
    owner, number = _owner_of(app, "JPEG", "photo.jpg")
    assert _note(owner.get(f"/image/{number}").get_data(as_text=True)) is None
    path = _shared(owner, f"/image/{number}", allow_download=True)
    html = app.test_client().get(path).get_data(as_text=True)
    assert 'id="shared-image"' in html and _note(html) is None
