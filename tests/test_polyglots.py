"""Images whose bytes also read as markup are accepted; SVG documents are refused by
what they are; every image response is served so that no such bytes can run."""

from __future__ import annotations

import codecs
import io
import random

import pytest
from PIL import Image

from tests.helpers import flashes, image_bytes, image_rows, last_image_id, objects, upload
from web.images.serving import download_name

# What uploads used to be searched for (any case): each turns up in real image data.
MARKERS = (b"<script", b"<html", b"<svg", b"<?php", b"<!doctype", b"<iframe", b"<body")
IMAGE_CSP = "default-src 'none'; sandbox"


def noise(size: tuple[int, int], seed: int) -> Image.Image:
    """An image of random pixels, the same for the same seed."""
    rnd = random.Random(seed)
    return Image.frombytes("RGB", size, rnd.randbytes(size[0] * size[1] * 3))


def noise_png_holding(marker: bytes) -> bytes:
    """A noise PNG whose pixel data holds ``marker``: a palette image stored without
    compression keeps its pixel indices as they are, so seeds are tried until the
    marker's bytes, written as a row of pixels, land whole in the file."""
    for seed in range(100):
        rnd = random.Random(seed)
        width, height = 64, 48
        pixels = bytearray(rnd.randbytes(width * height))
        at = rnd.randrange(width * height - len(marker))
        pixels[at : at + len(marker)] = marker
        im = Image.frombytes("P", (width, height), bytes(pixels))
        im.putpalette(rnd.randbytes(768))
        out = io.BytesIO()
        im.save(out, "PNG", compress_level=0)
        if marker in out.getvalue():
            return out.getvalue()
    raise AssertionError(f"no noise PNG holds {marker!r}")


def noise_jpeg_holding(marker: bytes) -> bytes:
    """A noise JPEG with ``marker`` in its comment segment (a camera or editor writes
    any text there; the entropy-coded data cannot be steered)."""
    out = io.BytesIO()
    noise((64, 48), len(marker)).save(out, "JPEG", quality=90, comment=marker + b">hi")
    assert marker in out.getvalue()
    return out.getvalue()


# A 1000×700 photo of noise whose compressed data holds "<Svg" by chance (found by
# trying seeds): the kind of photo a byte search refused about once in a hundred.
CHANCE_SEED = 3358


def chance_jpeg() -> bytes:
    out = io.BytesIO()
    noise((1000, 700), CHANCE_SEED).save(out, "JPEG", quality=90)
    data = out.getvalue()
    assert b"<svg" in data.lower(), "the JPEG encoder changed: find a new CHANCE_SEED"
    return data


def test_a_photo_whose_compressed_data_holds_svg_by_chance_is_accepted(app, auth, client):
    auth.signup()
    data = chance_jpeg()
    response = upload(client, "noise.jpg", data)
    assert response.status_code == 303, flashes(client.get("/myfiles"))
    assert [r[:3] for r in image_rows(app)] == [("noise.jpg", "public", "ready")]
    served = client.get(f"/image/{last_image_id(app)}/file")
    assert served.data == data
    assert served.headers["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("fmt", "make"), [("PNG", noise_png_holding), ("JPEG", noise_jpeg_holding)]
)
def test_images_whose_bytes_hold_markup_are_accepted(app, auth, client, fmt, make):
    auth.signup()
    names = []
    for n, marker in enumerate(MARKERS):
        name = f"noise{n}.{fmt.lower()}"
        response = upload(client, name, make(marker))
        assert response.status_code == 303, (marker, flashes(client.get("/myfiles")))
        names.append(name)
    assert [r[0] for r in image_rows(app)] == names
    assert all(r[2] == "ready" for r in image_rows(app))


SVG_DOCUMENTS = {
    "plain": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "prolog": b'\n  <?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
    "doctype": (
        b'<?xml version="1.0"?>\n<!-- drawn by hand -->\n'
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [ <!ENTITY a "b"> ]>\n'
        b"<SVG onload='alert(1)'/>"
    ),
    "bom": codecs.BOM_UTF8 + b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    "utf16": codecs.BOM_UTF16_LE
    + '<?xml version="1.0" encoding="UTF-16"?><svg xmlns="http://www.w3.org/2000/svg"/>'.encode(
        "utf-16-le"
    ),
}


@pytest.mark.parametrize("kind", list(SVG_DOCUMENTS))
def test_svg_documents_are_refused_by_what_they_are(app, auth, client, kind):
    auth.signup()
    response = upload(client, "drawing.png", SVG_DOCUMENTS[kind])
    assert response.status_code == 400
    assert "drawing.png: SVG images are not accepted: they can carry scripts." in flashes(response)
    assert image_rows(app) == [] and objects(app) == set()


def assert_harmless(response, content_type: str, disposition: str) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == IMAGE_CSP
    assert response.headers["Content-Disposition"] == disposition


def test_image_responses_say_their_type_and_run_nothing(app, auth, client):
    auth.signup()
    upload(client, "photo.png", image_bytes("PNG"))
    image_id = last_image_id(app)
    file, thumb = f"/image/{image_id}/file", f"/image/{image_id}/thumb"
    assert_harmless(client.get(file), "image/png", "inline; filename*=UTF-8''photo.png")
    assert_harmless(
        client.get(f"{file}?download=1"), "image/png", "attachment; filename*=UTF-8''photo.png"
    )
    assert_harmless(client.get(thumb), "image/webp", "inline; filename*=UTF-8''photo.png.webp")
    etag = client.get(file).headers["ETag"]
    again = client.get(file, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["Content-Security-Policy"] == IMAGE_CSP
    # The pages keep their own policy.
    page = client.get(f"/image/{image_id}")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_a_format_browsers_cannot_display_is_always_an_attachment(app, auth, client):
    auth.signup()
    upload(client, "scan.tiff", image_bytes("TIFF"))
    served = client.get(f"/image/{last_image_id(app)}/file")
    assert_harmless(served, "image/tiff", "attachment; filename*=UTF-8''scan.tiff")


def test_a_polyglot_photo_is_accepted_and_served_as_an_image(app, auth, client):
    """A JPEG followed by a page: browsers told it is a JPEG never run the page."""
    auth.signup()
    data = image_bytes("JPEG") + b"<html><script>alert(document.cookie)</script></html>"
    assert upload(client, "both.jpg", data).status_code == 303
    served = client.get(f"/image/{last_image_id(app)}/file")
    assert served.data == data
    assert_harmless(served, "image/jpeg", "inline; filename*=UTF-8''both.jpg")


def test_an_image_named_like_a_page_downloads_with_its_format_extension(app, auth, client):
    auth.signup()
    upload(client, "evil.html", image_bytes("JPEG"))
    image_id = last_image_id(app)
    assert image_rows(app)[0][0] == "evil.html"  # the name is the user's to choose
    file = f"/image/{image_id}/file"
    assert_harmless(client.get(file), "image/jpeg", "inline; filename*=UTF-8''evil.html.jpg")
    renamed = client.post(
        f"/image/{image_id}/edit", data={"filename": "page.svg", "visibility": "public"}
    )
    assert renamed.status_code == 303
    download = client.get(f"{file}?download=1")
    assert_harmless(download, "image/jpeg", "attachment; filename*=UTF-8''page.svg.jpg")
    assert_harmless(
        client.get(f"/image/{image_id}/thumb"),
        "image/webp",
        "inline; filename*=UTF-8''page.svg.webp",
    )


@pytest.mark.parametrize(
    ("name", "fmt", "saved"),
    [
        ("evil.html", "JPEG", "evil.html.jpg"),
        ("photo.JPEG", "JPEG", "photo.JPEG"),
        ("photo.jfif", "JPEG", "photo.jfif"),
        ("photo.png", "JPEG", "photo.png.jpg"),
        ("scan.tif", "TIFF", "scan.tif"),
        ("phone.HEIF", "HEIF", "phone.HEIF"),
        ("no extension", "GIF", "no extension.gif"),
        ("photo.jpg", "WEBP", "photo.jpg.webp"),
        ("notes.txt", "FILE", "notes.txt"),
    ],
)
def test_download_names_end_with_the_extension_of_the_format(name, fmt, saved):
    assert download_name(name, fmt) == saved
