"""Animated images and big decodes: the frame limit, GPS removal that decodes no frame,
and the bound on decodes running at once in a worker."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import textwrap
import zlib

import pytest
from PIL import Image

from tests.helpers import flashes, image_rows, last_image_id, settings, upload
from web.images import decoding

GPS = {1: "N", 2: (43.0, 39.0, 12.5), 3: "W", 4: (79.0, 23.0, 0.0)}


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def apng_bomb(frames: int = 80, size: int = 2000) -> bytes:
    """An animated PNG of ``frames`` frames of size×size, each changing one pixel of the
    last, with a GPS block: about 20 KB. Written chunk by chunk, as an encoder of
    animations stores it (Pillow would hold every frame while saving it)."""
    exif = Image.Exif()
    exif[0x8825] = GPS
    row = b"\x00" + b"\x0a\x14\x1e" * size
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    parts = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", ihdr)]
    parts.append(_chunk(b"acTL", struct.pack(">II", frames, 0)))
    parts.append(_chunk(b"eXIf", exif.tobytes()[6:]))
    parts.append(_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, size, size, 0, 0, 1, 10, 0, 0)))
    parts.append(_chunk(b"IDAT", zlib.compress(row * size, 9)))
    pixel = zlib.compress(b"\x00\xff\xff\xff")
    for n in range(1, frames):
        control = struct.pack(">IIIIIHHBB", 2 * n - 1, 1, 1, n, 0, 1, 10, 0, 0)
        parts.append(_chunk(b"fcTL", control))
        parts.append(_chunk(b"fdAT", struct.pack(">I", 2 * n) + pixel))
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return apng_bomb()


def test_the_bomb_is_what_it_claims(bomb):
    assert len(bomb) < 40_000
    with Image.open(io.BytesIO(bomb)) as im:
        assert (im.size, im.n_frames) == ((2000, 2000), 80)
        assert 0x8825 in im.getexif()


def test_an_animation_over_the_frame_limit_is_refused(app, auth, client, bomb):
    auth.signup()
    response = upload(client, "bomb.png", bomb, "public")
    assert response.status_code == 400
    message = (
        "The animation is too large: 80 frames of 2000×2000 pixels "
        "(the limit is 250 megapixels across all frames)."
    )
    assert any(message in m for m in flashes(response))
    assert image_rows(app) == []


roomy = settings("roomy", MAX_TOTAL_PIXELS=1_000_000_000)


def test_a_long_animation_within_the_limit_loses_its_gps_frames_intact(
    roomy, app, auth, client, bomb
):
    auth.signup()
    assert upload(client, "long.png", bomb, "public").status_code == 303
    served = client.get(f"/image/{last_image_id(app)}/file").data
    with Image.open(io.BytesIO(served)) as im:
        assert 0x8825 not in im.getexif()
        assert im.n_frames == 80
        im.seek(79)
        im.load()
    assert len(served) < len(bomb)  # no frame was decoded and saved again


# VmHWM is this process's own peak: ru_maxrss would also count the pytest process that
# started it (Linux keeps the larger of the two across exec), and that grows over a run.
PEAK = """
import sys
from web import imaging
path, workdir = sys.argv[1], sys.argv[2]
info = imaging.probe(path, 100_000_000, workdir + "/thumb.webp", 1_000_000_000)
assert info.gps and info.animated
assert imaging.strip_gps(path, workdir + "/stripped")
status = open("/proc/self/status").read().split("VmHWM:")[1]
print(int(status.split()[0]) // 1024)
"""


def test_the_work_of_a_public_upload_of_the_bomb_stays_in_bounded_memory(tmp_path, bomb):
    """What an upload runs on the file (probe with its thumbnail, then GPS removal),
    measured as the peak memory of a process of its own. It was 1.5 GB: every frame was
    decoded and saved again."""
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PEAK), str(path), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    peak_mb = int(result.stdout.strip())
    assert peak_mb < 300, f"peak memory {peak_mb} MB"
    with Image.open(tmp_path / "stripped") as im:
        assert 0x8825 not in im.getexif()
        assert im.n_frames == 80


one_decode = settings("one_decode", MAX_CONCURRENT_DECODES=1)


def test_decodes_beyond_the_limit_wait_and_then_are_told_to_retry(
    one_decode, app, auth, client, monkeypatch
):
    auth.signup()
    monkeypatch.setattr(decoding, "DECODE_WAIT_SECONDS", 0.2)
    with app.app_context():
        gate = decoding.decode_gate()
    assert gate.acquire(timeout=1)  # another request is decoding
    try:
        response = upload(client, "busy.png")
        assert response.status_code == 503
        assert decoding.BUSY in response.get_data(as_text=True)
        assert image_rows(app) == []
    finally:
        gate.release()
    assert upload(client, "busy.png").status_code == 303
