"""GPS position in XMP (and EXIF) in every format: gone from public originals, kept in
private ones, removed when an image is made public later."""

from __future__ import annotations

import io
import re
import struct

import pytest
from PIL import Image, PngImagePlugin

from tests.helpers import last_image_id, upload
from web import imaging
from web.operations import fsck

XMP = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Example Editor" '
    'exif:GPSLatitude="43,39.2083N" exif:GPSLatitudeRef="N">'
    "<exif:GPSLongitude>79,23.0W</exif:GPSLongitude>"
    "<exif:GPSAltitude>120/1</exif:GPSAltitude>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
    '<?xpacket end="w"?>'
).encode()
GPS_PROPERTY = re.compile(rb"GPS(Latitude|Longitude|Altitude)", re.I)


def _gif_with_xmp(frames: list[Image.Image]) -> bytes:
    """GIF keeps XMP in an application block ending with a 258-byte "magic trailer"."""
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=len(frames) > 1, append_images=frames[1:])
    data = out.getvalue()
    packed = data[10]
    pos = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    trailer = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"
    return data[:pos] + b"\x21\xff\x0bXMP DataXMP" + XMP + trailer + data[pos:]


def with_xmp(fmt: str, frames: int = 1, exif_gps: bool = False) -> bytes:
    """An image of ``fmt`` whose XMP holds a position (and its EXIF too, if asked)."""
    images = [Image.new("RGB", (120, 90), (40 * n, 120, 200)) for n in range(frames)]
    exif = Image.Exif()
    exif[0x0110] = "Example Camera 2"
    if exif_gps:
        exif[0x8825] = {1: "N", 2: (43.0, 39.0, 12.5), 3: "W", 4: (79.0, 23.0, 0.0)}
    if fmt == "GIF":
        return _gif_with_xmp(images)
    params: dict = {"exif": exif.tobytes()}
    if frames > 1:
        params.update(save_all=True, append_images=images[1:])
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP.decode(), zip=frames > 1)
        params["pnginfo"] = info
    elif fmt == "TIFF":
        tags = Image.Exif()
        tags.load(exif.tobytes())
        tags[700] = XMP
        params["exif"] = tags
    else:
        params["xmp"] = XMP
    out = io.BytesIO()
    images[0].save(out, fmt, **params)
    return out.getvalue()


CASES = [
    ("JPEG", 1, "a.jpg"),
    ("PNG", 1, "a.png"),
    ("PNG", 3, "animated.png"),
    ("WEBP", 1, "a.webp"),
    ("WEBP", 3, "animated.webp"),
    ("GIF", 3, "animated.gif"),
    ("TIFF", 1, "a.tif"),
    ("TIFF", 3, "pages.tif"),
    ("AVIF", 1, "a.avif"),
    ("HEIF", 1, "a.heic"),
]


def readable(data: bytes) -> bytes:
    """The file's bytes and its XMP as Pillow reads it (a PNG's may be compressed)."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        xmp = im.info.get("xmp") or b""
    return data + (xmp if isinstance(xmp, bytes) else xmp.encode())


def has_position(data: bytes) -> bool:
    return bool(GPS_PROPERTY.search(readable(data)))


def served_original(client, app) -> bytes:
    response = client.get(f"/image/{last_image_id(app)}/file")
    assert response.status_code == 200
    return response.data


def assert_whole_image(data: bytes, frames: int) -> None:
    with Image.open(io.BytesIO(data)) as im:
        assert getattr(im, "n_frames", 1) == frames
        assert 0x8825 not in im.getexif()
        for n in range(frames):
            im.seek(n)
            im.load()


@pytest.mark.parametrize(("fmt", "frames", "name"), CASES)
def test_public_originals_lose_the_position_in_xmp(app, auth, client, fmt, frames, name):
    auth.signup()
    original = with_xmp(fmt, frames)
    assert has_position(original)
    assert upload(client, name, original, "public").status_code == 303
    served = served_original(client, app)
    assert not has_position(served)
    # The rest of the XMP stays; a GIF's XMP block holding a position goes whole.
    assert (b"Example Editor" in readable(served)) == (fmt != "GIF")
    assert_whole_image(served, frames)
    # The owner still sees where it was taken, read from the XMP.
    page = client.get(f"/image/{last_image_id(app)}").get_data(as_text=True)
    assert "43.65347, -79.38333" in page


@pytest.mark.parametrize(("fmt", "frames", "name"), CASES)
def test_private_originals_keep_the_position_in_xmp(app, auth, client, fmt, frames, name):
    auth.signup()
    original = with_xmp(fmt, frames)
    assert upload(client, name, original, "private").status_code == 303
    assert served_original(client, app) == original


@pytest.mark.parametrize(("fmt", "frames", "name"), CASES)
def test_an_image_made_public_later_loses_the_position_in_xmp_and_exif(
    app, auth, client, fmt, frames, name
):
    auth.signup()
    assert upload(client, name, with_xmp(fmt, frames, exif_gps=True), "private").status_code == 303
    image_id = last_image_id(app)
    response = client.post(
        f"/image/{image_id}/edit", data={"filename": name, "visibility": "public"}
    )
    assert response.status_code == 303
    served = served_original(client, app)
    assert not has_position(served)
    assert_whole_image(served, frames)
    with app.app_context():
        assert fsck.run(dry_run=True).found == []


def test_damaged_metadata_is_refused_with_a_message(tmp_path):
    """A chunk that claims more bytes than the file has: the position cannot be found
    for certain, so the file is not published."""
    png = with_xmp("PNG")
    broken = png[:-12] + struct.pack(">I", 1 << 20) + b"tEXt" + b"x" * 8
    path = tmp_path / "broken.png"
    path.write_bytes(broken)
    with pytest.raises(imaging.InvalidImage, match="metadata is damaged"):
        imaging.strip_gps(str(path), str(tmp_path / "out.png"))
