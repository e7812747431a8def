"""Removing the GPS position from an image file without decoding its pixels.

A position lives in EXIF (the GPS block) and in XMP (``exif:GPSLatitude`` and the
other ``GPS…`` properties). Both are edited where they sit in the file's container and
every other byte is copied as it is: JPEG APP1 segments, PNG ``eXIf`` and text chunks,
WebP ``EXIF``/``XMP`` chunks, GIF XMP blocks. An animated file of any number of frames
costs no more memory than its own size. Other containers (TIFF, AVIF, HEIC) are not
handled here: ``edit_container`` answers None for them.
"""

from __future__ import annotations

import re
import struct
import zlib

from PIL import Image

TAG_GPS_IFD = 0x8825
EXIF_HEADER = b"Exif\x00\x00"
XMP_JPEG = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_JPEG_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
XMP_KEYWORD = b"XML:com.adobe.xmp"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT = 8 << 20  # a compressed PNG text chunk is never inflated beyond this

# An XMP property whose local name starts with "GPS" (exif:GPSLatitude, the IPTC
# extension's GPSLongitude, a drone's GpsLatitude …), as an element or an attribute.
_GPS_NAME = r"[A-Za-z_][\w.-]*:[Gg][Pp][Ss]\w*"
_GPS_ELEMENT = re.compile(rf"<(?P<name>{_GPS_NAME})(?:\s[^<>]*)?(?:/>|>.*?</(?P=name)\s*>)", re.S)
_GPS_ATTRIBUTE = re.compile(rf"\s{_GPS_NAME}\s*=\s*(?:\"[^\"]*\"|'[^']*')")
_GPS_ANY = re.compile(rf"<{_GPS_NAME}[\s/>]|\s{_GPS_NAME}\s*=")
_COORDINATE = r"(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?([NSEW])"


class MetadataError(ValueError):
    """The container is damaged where its metadata sits."""


# --- XMP ---------------------------------------------------------------------------------


def _xmp_text(xmp: bytes) -> tuple[str, bool]:
    """The packet as text, and whether it is UTF-8 (the only encoding edited in place)."""
    if b"\x00" not in xmp:
        try:
            return xmp.decode("utf-8"), True
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-16", "utf-16-be", "utf-32"):
        try:
            return xmp.decode(encoding), False
        except UnicodeDecodeError:
            continue
    return xmp.decode("latin-1"), False


def xmp_has_gps(xmp: bytes) -> bool:
    """Whether an XMP packet holds any GPS property."""
    return bool(_GPS_ANY.search(_xmp_text(xmp)[0]))


def xmp_without_gps(xmp: bytes) -> bytes | None:
    """The packet without its GPS properties; None when the packet has to go entirely
    (an encoding other than UTF-8, or a property the edit could not remove)."""
    text, utf8 = _xmp_text(xmp)
    if not utf8:
        return None
    text = _GPS_ATTRIBUTE.sub("", _GPS_ELEMENT.sub("", text))
    if _GPS_ANY.search(text):
        return None
    return text.encode("utf-8")


def xmp_gps_text(xmp: bytes) -> str | None:
    """The position ("lat, lon") in an XMP packet's GPS properties; "present" when it
    cannot be
    read, None when the packet has none."""
    text = _xmp_text(xmp)[0]
    if not _GPS_ANY.search(text):
        return None
    found = []
    for name in ("GPSLatitude", "GPSLongitude"):
        match = re.search(
            rf"exif:{name}(?:\s*=\s*[\"']|>)\s*{_COORDINATE}\s*(?:[\"']|</)", text, re.I
        )
        if not match:
            return "present"
        degrees, minutes, seconds, ref = match.groups()
        value = float(degrees) + float(minutes) / 60 + float(seconds or 0) / 3600
        found.append(-value if ref in "SW" else value)
    return f"{found[0]:.5f}, {found[1]:.5f}"


# --- EXIF --------------------------------------------------------------------------------


def _exif_without_gps(payload: bytes) -> bytes | None:
    """The EXIF payload without its GPS block, keeping whether it starts with the
    "Exif" header; None when it has no GPS block (nothing to change)."""
    exif = Image.Exif()
    try:
        exif.load(payload)
    except (SyntaxError, ValueError, struct.error, EOFError, OSError) as exc:
        raise MetadataError(f"unreadable EXIF: {exc}") from None
    if TAG_GPS_IFD not in exif:
        return None
    del exif[TAG_GPS_IFD]
    data = exif.tobytes()
    if data.startswith(EXIF_HEADER) and not payload.startswith(EXIF_HEADER):
        data = data[len(EXIF_HEADER) :]
    elif payload.startswith(EXIF_HEADER) and not data.startswith(EXIF_HEADER):
        data = EXIF_HEADER + data
    return data


# --- containers --------------------------------------------------------------------------


def edit_container(data: bytes) -> bytes | None:
    """``data`` without GPS in EXIF and XMP, the same bytes when it has none; None when
    the container is not one edited here."""
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data.startswith(PNG_SIGNATURE):
        return _png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data)
    return None


def _jpeg(data: bytes) -> bytes:
    """Rewrite the APP1 segments before the first scan; the image data is copied."""
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xDA, 0xD9):  # start of scan: the rest is image data
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise MetadataError("a JPEG segment runs past the end of the file")
        segments.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    extended = b"".join(p for m, p in segments if m == 0xE1 and p.startswith(XMP_JPEG_EXTENSION))
    drop_extended = bool(extended) and xmp_has_gps(extended)
    out = [data[:2]]
    for marker, payload in segments:
        if marker == 0xE1 and payload.startswith(EXIF_HEADER):
            edited = _exif_without_gps(payload)
            if edited is not None and len(edited) > 0xFFFD:
                continue  # cannot be written back in one segment: the EXIF goes
            payload = payload if edited is None else edited
        elif marker == 0xE1 and payload.startswith(XMP_JPEG):
            packet = payload[len(XMP_JPEG) :]
            if xmp_has_gps(packet):
                cleaned = xmp_without_gps(packet)
                if cleaned is None:
                    continue
                payload = XMP_JPEG + cleaned
        elif marker == 0xE1 and payload.startswith(XMP_JPEG_EXTENSION) and drop_extended:
            continue
        out.append(b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload)
    out.append(data[pos:])
    return b"".join(out)


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks = []
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if pos + 12 + length > len(data):
            raise MetadataError("a PNG chunk runs past the end of the file")
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
        if kind == b"IEND":
            break
    return chunks


def _inflate(compressed: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(compressed, MAX_TEXT)
    except zlib.error as exc:
        raise MetadataError(f"a PNG text chunk is damaged: {exc}") from None
    if inflater.unconsumed_tail:
        raise MetadataError("a PNG text chunk is too large to check")
    return text


def _png_text(kind: bytes, body: bytes) -> tuple[bytes, bytes] | None:
    """(keyword, text) of a tEXt, zTXt or iTXt chunk; None for other chunks."""
    if kind not in (b"tEXt", b"zTXt", b"iTXt") or b"\x00" not in body:
        return None
    keyword, rest = body.split(b"\x00", 1)
    if kind == b"tEXt":
        return keyword, rest
    if kind == b"zTXt":
        return keyword, _inflate(rest[1:])
    if len(rest) < 2:
        raise MetadataError("a PNG iTXt chunk is cut short")
    compressed, text = rest[0], rest[2:]
    parts = text.split(b"\x00", 2)
    if len(parts) < 3:
        raise MetadataError("a PNG iTXt chunk is cut short")
    return keyword, _inflate(parts[2]) if compressed else parts[2]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _raw_profile_has_gps(keyword: bytes, text: bytes) -> bool:
    """ImageMagick keeps EXIF and XMP as hex in "Raw profile type exif|app1|xmp" text
    chunks; an unreadable one may hold a position, so it counts as holding one."""
    kind = keyword.lower().removeprefix(b"raw profile type ").strip()
    if kind not in (b"exif", b"app1", b"xmp"):
        return False
    try:
        payload = bytes.fromhex("".join(text.decode("latin-1").split("\n")[3:]))
        if kind == b"xmp":
            return xmp_has_gps(payload)
        return _exif_without_gps(payload) is not None
    except (ValueError, MetadataError):
        return True


def _png(data: bytes) -> bytes:
    out = [PNG_SIGNATURE]
    for kind, body in _png_chunks(data):
        text = _png_text(kind, body)
        if kind == b"eXIf":
            edited = _exif_without_gps(body)
            body = body if edited is None else edited
        elif text is not None and text[0] == XMP_KEYWORD and xmp_has_gps(text[1]):
            cleaned = xmp_without_gps(text[1])
            if cleaned is None:
                continue
            kind, body = b"iTXt", XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + cleaned
        elif text is not None and text[0].lower().startswith(b"raw profile type"):
            if _raw_profile_has_gps(*text):
                continue
        out.append(_png_chunk(kind, body))
    return b"".join(out)


def _webp(data: bytes) -> bytes:
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        if pos + 8 + length > len(data):
            raise MetadataError("a WebP chunk runs past the end of the file")
        chunks.append([kind, data[pos + 8 : pos + 8 + length]])
        pos += 8 + length + (length & 1)
    kept = []
    for kind, body in chunks:
        if kind == b"EXIF":
            edited = _exif_without_gps(body)
            body = body if edited is None else edited
        elif kind == b"XMP " and xmp_has_gps(body):
            cleaned = xmp_without_gps(body)
            if cleaned is None:
                for chunk in chunks:  # the extended header no longer announces XMP
                    if chunk[0] == b"VP8X" and chunk[1]:
                        chunk[1] = bytes([chunk[1][0] & ~0x04]) + chunk[1][1:]
                continue
            body = cleaned
        kept.append((kind, body))
    body = b"WEBP" + b"".join(
        kind + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)
        for kind, payload in kept
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _gif_blocks(data: bytes, pos: int) -> int:
    """The position after a run of GIF data sub-blocks starting at ``pos``."""
    while True:
        if pos >= len(data):
            raise MetadataError("a GIF block runs past the end of the file")
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos


def _gif_parts(data: bytes) -> tuple[int, list[tuple[int, int]]]:
    """Where a GIF's header ends, and the (start, end) of each block after it up to the
    trailer."""
    packed = data[10] if len(data) > 12 else 0
    pos = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    header, blocks = pos, []
    while pos < len(data) and data[pos] != 0x3B:
        start = pos
        if data[pos] == 0x21:
            pos = _gif_blocks(data, pos + 2)
        elif data[pos] == 0x2C:
            packed = data[pos + 9] if pos + 9 < len(data) else 0
            pos += 10 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
            pos = _gif_blocks(data, pos + 1)
        else:
            raise MetadataError("the GIF file has an unknown block")
        blocks.append((start, pos))
    return header, blocks


def _gif_xmp_block(block: bytes) -> bytes | None:
    """The XMP of a GIF application block (with its magic trailer), or None."""
    return block[14:] if block[1:14] == b"\xff\x0bXMP DataXMP" else None


def gif_xmp(data: bytes) -> bytes | None:
    """The XMP packet of a GIF file (Pillow does not read it), or None."""
    try:
        _, blocks = _gif_parts(data)
    except (MetadataError, IndexError):
        return None
    for start, end in blocks:
        xmp = _gif_xmp_block(data[start:end])
        if xmp is not None:
            return xmp
    return None


def _gif(data: bytes) -> bytes:
    """Drop an XMP application block that holds a position (GIF has no EXIF)."""
    try:
        header, blocks = _gif_parts(data)
    except IndexError:
        raise MetadataError("a GIF block is cut short") from None
    out = [data[:header]]
    for start, end in blocks:
        xmp = _gif_xmp_block(data[start:end])
        if xmp is None or not xmp_has_gps(xmp):
            out.append(data[start:end])
    out.append(data[blocks[-1][1] if blocks else header :])
    return b"".join(out)


def blank_xmp_gps(data: bytes) -> bytes:
    """``data`` with the GPS properties of every UTF-8 XMP packet in it overwritten by
    spaces: the same length, so the offsets of any container stay true (a TIFF tag, an
    ISO media box). A safety net for files written by an encoder that copies XMP."""

    def blank(match: re.Match[str]) -> str:
        return " " * len(match.group(0).encode("utf-8"))

    def packet(match: re.Match[bytes]) -> bytes:
        try:
            text = match.group(0).decode("utf-8")
        except UnicodeDecodeError:
            return match.group(0)
        text = _GPS_ATTRIBUTE.sub(blank, _GPS_ELEMENT.sub(blank, text))
        return text.encode("utf-8")

    return re.sub(rb"<x:xmpmeta\b.*?</x:xmpmeta>", packet, data, flags=re.S)
