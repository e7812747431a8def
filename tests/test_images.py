"""Formats, thumbnails, image pages, EXIF and GPS, and how bytes are served."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.helpers import flashes, image_bytes, image_rows, upload
from web.operations import fsck


def last_image_id(client) -> int:
    html = client.get("/myfiles").get_data(as_text=True)
    return max(int(i) for i in re.findall(r'href="/image/(\d+)"', html))


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (80, 60), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def with_exif(orientation: int | None = None, gps: bool = False, size=(300, 200)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Example"
    exif[0x0110] = "Example Camera 2"
    exif[0x0132] = "2024:05:17 10:30:00"
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (43.0, 39.0, 12.5), 3: "W", 4: (79.0, 23.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


FORMATS = [
    ("JPEG", "a.jpg", "image/jpeg"),
    ("PNG", "a.png", "image/png"),
    ("GIF", "a.gif", "image/gif"),
    ("WEBP", "a.webp", "image/webp"),
    ("BMP", "a.bmp", "image/bmp"),
    ("TIFF", "a.tif", "image/tiff"),
    ("AVIF", "a.avif", "image/avif"),
    ("HEIF", "a.heic", "image/heif"),
]


@pytest.mark.parametrize(("fmt", "name", "content_type"), FORMATS)
def test_every_format_is_accepted_and_gets_a_thumbnail(auth, client, fmt, name, content_type):
    auth.signup()
    data = image_bytes(fmt, (900, 600))
    assert upload(client, name, data).status_code == 303
    image_id = last_image_id(client)
    original = client.get(f"/image/{image_id}/file")
    assert original.headers["Content-Type"] == content_type
    assert original.data == data
    thumb = client.get(f"/image/{image_id}/thumb")
    assert thumb.status_code == 200
    rendered = Image.open(io.BytesIO(thumb.data))
    assert rendered.format == "WEBP"
    assert rendered.size == (400, 267)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_images_stay_animated_with_a_still_thumbnail(auth, client, fmt):
    auth.signup()
    data = animated(fmt)
    upload(client, f"anim.{fmt.lower()}", data)
    image_id = last_image_id(client)
    assert client.get(f"/image/{image_id}/file").data == data
    original = Image.open(io.BytesIO(data))
    assert original.is_animated
    thumb = Image.open(io.BytesIO(client.get(f"/image/{image_id}/thumb").data))
    assert not getattr(thumb, "is_animated", False)


def test_svg_is_refused(app, auth, client):
    auth.signup()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = upload(client, "logo.svg", svg)
    assert response.status_code == 400
    assert "logo.svg: SVG images are not accepted: they can carry scripts." in flashes(response)
    assert image_rows(app) == []


def test_exif_orientation_is_applied_to_thumbnail_and_dimensions(auth, client):
    auth.signup()
    upload(client, "rotated.jpg", with_exif(orientation=6, size=(300, 200)))
    image_id = last_image_id(client)
    thumb = Image.open(io.BytesIO(client.get(f"/image/{image_id}/thumb").data))
    assert thumb.size == (200, 300)
    page = client.get(f"/image/{image_id}").get_data(as_text=True)
    assert "200 × 300 px" in page


def test_image_page_shows_the_details(auth, client):
    auth.signup("alice")
    data = with_exif()
    upload(client, "details.jpg", data, "private")
    image_id = last_image_id(client)
    page = client.get(f"/image/{image_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in (
        "details.jpg",
        "alice",
        "private",
        "300 × 200 px",
        "JPEG",
        "Example Camera 2",
        "2024:05:17 10:30:00",
        "UTC",
    ):
        assert text in html, text
    assert f'href="/image/{image_id}/file?download=1"' in html
    download = client.get(f"/image/{image_id}/file?download=1")
    assert download.headers["Content-Disposition"] == "attachment; filename*=UTF-8''details.jpg"


def test_gps_is_removed_from_public_originals_and_shown_only_to_the_owner(app, auth, client):
    auth.signup("alice")
    upload(client, "where.jpg", with_exif(gps=True), "public")
    image_id = last_image_id(client)
    served = Image.open(io.BytesIO(client.get(f"/image/{image_id}/file").data))
    exif = served.getexif()
    assert 0x8825 not in exif
    assert exif[0x0110] == "Example Camera 2"  # the rest of EXIF stays
    assert "43.65347, -79.38333" in client.get(f"/image/{image_id}").get_data(as_text=True)
    auth.logout()
    auth.signup("bob")
    page = client.get(f"/image/{image_id}").get_data(as_text=True)
    assert "where.jpg" in page
    assert "43.65347" not in page and "Location" not in page


def test_gps_is_kept_in_private_originals(auth, client):
    auth.signup()
    upload(client, "home.jpg", with_exif(gps=True), "private")
    served = Image.open(io.BytesIO(client.get(f"/image/{last_image_id(client)}/file").data))
    assert 0x8825 in served.getexif()


@pytest.fixture
def keep_gps_config(config):
    config["KEEP_GPS"] = True
    return config


def test_keep_gps_setting_keeps_it_in_public_originals(keep_gps_config, auth, client):
    auth.signup()
    upload(client, "where.jpg", with_exif(gps=True), "public")
    served = Image.open(io.BytesIO(client.get(f"/image/{last_image_id(client)}/file").data))
    assert 0x8825 in served.getexif()


def test_making_an_image_public_removes_its_gps(app, auth, client):
    auth.signup()
    upload(client, "trip.jpg", with_exif(gps=True), "private")
    image_id = last_image_id(client)
    response = client.post(
        f"/image/{image_id}/edit", data={"filename": "trip.jpg", "visibility": "public"}
    )
    assert response.status_code == 303
    served = Image.open(io.BytesIO(client.get(f"/image/{image_id}/file").data))
    assert 0x8825 not in served.getexif()
    with app.app_context():  # the smaller file is counted in the owner's usage
        assert fsck.run().found == []


@pytest.mark.parametrize(
    ("visibility", "cache"), [("public", "private, max-age=60"), ("private", "private, no-cache")]
)
def test_images_have_etags_and_answer_304(auth, client, visibility, cache):
    auth.signup()
    upload(client, "c.png", visibility=visibility)
    image_id = last_image_id(client)
    for url in (f"/image/{image_id}/file", f"/image/{image_id}/thumb"):
        first = client.get(url)
        assert first.headers["Cache-Control"] == cache
        etag = first.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.data == b""
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_any_file_is_refused_by_default(app, auth, client):
    auth.signup()
    response = upload(client, "notes.txt", b"plain text")
    assert response.status_code == 400
    assert image_rows(app) == []


@pytest.fixture
def any_file_config(config):
    config["ALLOW_ANY_FILE"] = True
    return config


def test_allow_any_file_stores_downloads_never_shown_inline(any_file_config, app, auth, client):
    auth.signup()
    payload = b"<html><script>alert(1)</script></html>"
    assert upload(client, "page.html", payload).status_code == 303
    image_id = last_image_id(client)
    gallery = client.get("/myfiles").get_data(as_text=True)
    assert f'src="/image/{image_id}/thumb"' not in gallery
    assert "📄" in gallery
    served = client.get(f"/image/{image_id}/file")
    assert served.data == payload
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert client.get(f"/image/{image_id}/thumb").status_code == 404


@pytest.mark.parametrize(
    ("fmt", "name", "shown"),
    [
        ("TIFF", "scan.tif", False),
        ("HEIF", "phone.heic", False),
        ("JPEG", "photo.jpg", True),
        ("AVIF", "new.avif", True),
    ],
)
def test_image_page_never_shows_a_format_browsers_cannot_display(auth, client, fmt, name, shown):
    auth.signup()
    upload(client, name, image_bytes(fmt, (900, 600)))
    image_id = last_image_id(client)
    html = client.get(f"/image/{image_id}").get_data(as_text=True)
    [preview] = re.findall(r'<img class="img-fluid preview" src="([^"]+)"', html)
    assert preview == f"/image/{image_id}/preview"  # a WebP rendition, whatever the format
    if shown:
        assert "Browsers cannot show" not in html
    else:
        assert f"Browsers cannot show {fmt} files, so this is a copy made for viewing." in html
        assert f'href="/image/{image_id}/file?download=1"' in html
