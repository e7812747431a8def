"""Image probing, validation, thumbnails and EXIF handling (Pillow).

Content decides the type: the file is opened by Pillow restricted to the accepted
formats, its declared size (one frame, and all frames of an animation together) is
checked before any pixel is decoded (decompression bombs), and its first frame is
decoded once to catch truncated files. Nothing here decodes the other frames of an
animation: GPS removal edits the metadata in the container (``web.metadata``).
"""

from __future__ import annotations

import codecs
import math
import os
import re
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageFile, UnidentifiedImageError

from . import metadata
from .i18n import N_

try:  # HEIC/HEIF support comes from the pillow-heif plugin
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - the plugin is in requirements.txt
    HEIF = False

ImageFile.LOAD_TRUNCATED_IMAGES = False
# probe() checks the pixel count against the MAX_IMAGE_PIXELS setting, with a clear
# message, before any pixel is decoded; every stored file has passed probe(). Pillow's
# own fixed guard would answer first with a vaguer message, so it is off.
Image.MAX_IMAGE_PIXELS = None
THUMB_SIZE = 400

CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "AVIF": "image/avif",
    "HEIF": "image/heif",
}
FORMAT_NAMES = {"MPO": "JPEG"}
EXTENSIONS = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "GIF": ".gif",
    "WEBP": ".webp",
    "BMP": ".bmp",
    "TIFF": ".tif",
    "AVIF": ".avif",
    "HEIF": ".heic",
    "FILE": "",
}
# The file suffixes of image files, every spelling people use (for loading folders).
SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".avif", ".heic"}
)
ACCEPTED_FORMATS = [f for f in CONTENT_TYPES if f != "MPO" and (f != "HEIF" or HEIF)]
ACCEPTED_LABEL = "JPEG, PNG, GIF, WebP, BMP, TIFF, AVIF" + (", HEIC" if HEIF else "")

# An SVG drawing is an XML document that can carry scripts: refused, and recognised by
# how the document begins. No byte search elsewhere in a file: compressed image data is
# close to random, so markup-like bytes turn up in real photos by chance. An image whose
# bytes also read as a page (a polyglot) is made harmless by how it is served instead.
SVG_MESSAGE = N_("SVG images are not accepted: they can carry scripts.")
SVG_HEAD_BYTES = 4096  # an SVG's first element comes after at most this much prologue
_XML_PROLOG = re.compile(
    r"(?:\s+|<\?xml[^>]*>|<!--.*?-->|<!doctype[^>\[]*(?:\[[^\]]*\]\s*)?>)*", re.S | re.I
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

TAG_MAKE, TAG_MODEL, TAG_DATETIME = 0x010F, 0x0110, 0x0132
TAG_EXIF_IFD, TAG_GPS_IFD, TAG_DATETIME_ORIGINAL = 0x8769, 0x8825, 0x9003
TAG_ORIENTATION = 0x0112


class InvalidImage(ValueError):
    """The upload is not an image this product accepts; the message says why.

    ``str(exc)`` is the English sentence; ``message`` (marked ``N_``) and ``params`` let
    a page show it in its own language."""

    def __init__(self, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


@dataclass(frozen=True)
class ImageInfo:
    format: str
    content_type: str
    width: int
    height: int
    animated: bool
    camera: str | None = None
    taken_at: str | None = None
    gps: str | None = None
    rotated: bool = False  # EXIF orientation turns it a quarter: width and height swap
    thumb_size: tuple[int, int] | None = None

    @property
    def display_size(self) -> tuple[int | None, int | None]:
        """Width and height as displayed, after the EXIF orientation is applied."""
        if self.format == "FILE":
            return None, None
        return (self.height, self.width) if self.rotated else (self.width, self.height)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


# Any other file, stored only with ALLOW_ANY_FILE: never rendered inline, no thumbnail.
OTHER_FILE = ImageInfo("FILE", "application/octet-stream", 0, 0, False)


def probe(
    path: str,
    max_pixels: int,
    thumb_path: str | None = None,
    max_total_pixels: int | None = None,
) -> ImageInfo:
    """Check that ``path`` holds a whole, accepted image and describe it.

    ``max_pixels`` bounds one frame; ``max_total_pixels`` all frames of an animation
    together (frames × width × height, as declared: no frame is decoded to count them).
    With ``thumb_path``, the thumbnail is made from the same decoded pixels (an upload
    decodes its first frame once). Raises ``InvalidImage`` with a message for the user.
    """
    thumb_size = None
    _refuse_svg(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=ACCEPTED_FORMATS) as im:
                width, height = im.size
                if width * height > max_pixels:
                    raise InvalidImage(
                        N_(
                            "The image is too large: %(width)s×%(height)s pixels "
                            "(the limit is %(limit)s megapixels)."
                        ),
                        width=width,
                        height=height,
                        limit=max_pixels // 1_000_000,
                    )
                frames = int(getattr(im, "n_frames", 1) or 1)
                if frames > 1 and max_total_pixels and frames * width * height > max_total_pixels:
                    raise InvalidImage(
                        N_(
                            "The animation is too large: %(frames)s frames of "
                            "%(width)s×%(height)s pixels (the limit is %(limit)s megapixels "
                            "across all frames)."
                        ),
                        frames=frames,
                        width=width,
                        height=height,
                        limit=max_total_pixels // 1_000_000,
                    )
                fmt = FORMAT_NAMES.get(im.format or "", im.format or "")
                animated = bool(getattr(im, "is_animated", False))
                exif = im.getexif()
                if thumb_path is not None:
                    _draft(im, THUMB_SIZE)
                im.load()  # decodes (every byte, even when drafted): truncation fails here
                xmp = _xmp_of(im) if fmt != "GIF" else metadata.gif_xmp(_read(path))
                # EXIF of a multi-frame TIFF is read from the open file: read it now.
                camera, taken, gps = exif_summary(exif)
                if thumb_path is not None:
                    thumb_size = _write_thumbnail(im, thumb_path, THUMB_SIZE)
    except InvalidImage:
        raise
    except Image.DecompressionBombError:
        raise InvalidImage(N_("The image is too large to process safely.")) from None
    except UnidentifiedImageError:
        raise InvalidImage(
            N_("This file is not an accepted image (%(formats)s)."), formats=ACCEPTED_LABEL
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise InvalidImage(
            N_("The image is damaged or incomplete (%(reason)s)."), reason=_short(exc)
        ) from None
    if fmt == "PNG":
        _refuse_png_trailer(path)
    if gps is None and xmp:
        gps = metadata.xmp_gps_text(xmp)
    return ImageInfo(
        fmt,
        CONTENT_TYPES[fmt],
        width,
        height,
        animated,
        camera,
        taken,
        gps,
        rotated=exif.get(TAG_ORIENTATION) in (5, 6, 7, 8),
        thumb_size=thumb_size,
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:80]


def _refuse_svg(path: str) -> None:
    """Refuse an SVG document: text whose first element, after any XML declaration,
    comments and doctype, is ``<svg``. No accepted image format begins with ``<``, so
    this never refuses an image; other text is refused by Pillow as not an image."""
    with open(path, "rb") as handle:
        head = handle.read(SVG_HEAD_BYTES)
    text = _head_text(head)
    if text[_XML_PROLOG.match(text).end() :][:4].lower() == "<svg":
        raise InvalidImage(SVG_MESSAGE)


def _head_text(head: bytes) -> str:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, "ignore")
    return head.decode("latin-1")


def _refuse_png_trailer(path: str) -> None:
    """A PNG ends with its IEND chunk; data after it is another file riding along."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 12))
        if handle.read(12)[4:8] != b"IEND":
            raise InvalidImage(N_("The PNG file carries extra data after its end."))


def exif_summary(exif: Image.Exif) -> tuple[str | None, str | None, str | None]:
    """Camera (make and model), date taken and GPS position from EXIF, where present."""
    make = _text(exif.get(TAG_MAKE))
    model = _text(exif.get(TAG_MODEL))
    camera = (
        model
        if make and model and model.startswith(make)
        else " ".join(p for p in (make, model) if p)
    )
    sub = exif.get_ifd(TAG_EXIF_IFD) if TAG_EXIF_IFD in exif else {}
    taken = _text(sub.get(TAG_DATETIME_ORIGINAL)) or _text(exif.get(TAG_DATETIME))
    gps = _gps_text(exif.get_ifd(TAG_GPS_IFD)) if TAG_GPS_IFD in exif else None
    return camera[:200] or None, taken, gps


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    return cleaned[:100] or None


def _gps_text(gps: dict) -> str | None:
    try:
        lat = _degrees(gps[2], gps.get(1, "N"))
        lon = _degrees(gps[4], gps.get(3, "E"))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return "present" if gps else None
    return f"{lat:.5f}, {lon:.5f}"


def _degrees(value: tuple, ref: str) -> float:
    d, m, s = (float(v) for v in value)
    sign = -1 if str(ref).upper() in ("S", "W") else 1
    return sign * (d + m / 60 + s / 3600)


def make_thumbnail(path: str, out_path: str, size: int = THUMB_SIZE) -> tuple[int, int]:
    """Write a still WebP rendition (EXIF orientation applied) no larger than ``size``."""
    return make_renditions(path, {"WEBP": out_path}, size)


def make_renditions(path: str, outputs: dict[str, str], size: int) -> tuple[int, int]:
    """Write the same still rendition no larger than ``size`` (EXIF orientation applied,
    no metadata) in several formats from one decode: ``outputs`` maps a format
    ("WEBP", "AVIF") to the path it is written to."""
    with Image.open(path, formats=ACCEPTED_FORMATS) as im:
        im.seek(0)
        _draft(im, size)
        frame = _small_frame(im, size)
        for fmt, out_path in outputs.items():
            frame.save(out_path, fmt, **RENDITION_OPTIONS[fmt])
        return frame.size


# The WebP encoder's effort: method 2 at quality 79 makes thumbnails of photos no larger
# than method 4 at quality 80 did (1 % smaller, measured on 2-megapixel photos) in about
# half the time; higher methods save a few percent more for twice the time or more.
WEBP_OPTIONS = {"quality": 79, "method": 2}
# AVIF (previews only, with PREVIEW_FORMAT=avif or smallest): quality 60 at speed 8 makes
# a 1600 px preview of a photo about a quarter smaller than the WebP above, for about
# four times its CPU time; speed 6, the encoder's default, took about twice as long
# again for 1 % less.
AVIF_OPTIONS = {"quality": 60, "speed": 8}
RENDITION_OPTIONS: dict[str, dict[str, int]] = {"WEBP": WEBP_OPTIONS, "AVIF": AVIF_OPTIONS}

# How ImageOps.exif_transpose turns each EXIF orientation upright (applied here to the
# small rendition, not to the whole decoded image, which it would copy).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _draft(im: Image.Image, size: int) -> None:
    """Before a JPEG is decoded: have libjpeg decode it at the smallest of its scales
    (1/2, 1/4, 1/8) that still covers a rendition of ``size`` px on the long side. The
    requested size follows the image's own proportions: asking for a square would keep a
    3:2 photo at full size, as its short side must stay above it too. Every byte of the
    stream is still read, so a truncated file fails as at full size."""
    if im.format not in ("JPEG", "MPO"):
        return
    width, height = im.size
    scale = size / max(width, height, 1)
    if scale < 1:
        im.draft("RGB", (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))


def _write_thumbnail(im: Image.Image, out_path: str, size: int) -> tuple[int, int]:
    frame = _small_frame(im, size)
    frame.save(out_path, "WEBP", **WEBP_OPTIONS)
    return frame.size


def _small_frame(im: Image.Image, size: int) -> Image.Image:
    orientation = im.getexif().get(TAG_ORIENTATION)
    frame = im  # made smaller in place: the full decode is let go at once
    frame.thumbnail((size, size), Image.Resampling.LANCZOS)
    if frame.mode not in ("RGB", "RGBA"):
        has_alpha = frame.mode in ("LA", "PA") or "transparency" in frame.info
        frame = frame.convert("RGBA" if has_alpha else "RGB")
    if orientation in _UPRIGHT:
        frame = frame.transpose(_UPRIGHT[orientation])
    return frame


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _xmp_of(im: Image.Image) -> bytes | None:
    """The XMP packet Pillow found (PNG text chunks after the image data count only
    once the first frame is loaded)."""
    xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, tuple) and xmp:  # TIFF keeps tag values in tuples
        xmp = xmp[0]
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    return xmp if isinstance(xmp, bytes) and xmp else None


def strip_gps(path: str, out_path: str) -> bool:
    """Write a copy of ``path`` without its GPS position, in EXIF and in XMP; False
    (nothing written) when it has none.

    JPEG, PNG, WebP and GIF are edited in their container and no pixel is decoded, so
    an animation of any length costs its file size (``web.metadata``). TIFF, AVIF and
    HEIC are saved again by Pillow with the same pixels (TIFF losslessly, one frame at
    a time; AVIF and HEIC at quality 95): callers hold a decode slot for them.
    """
    data = _read(path)
    try:
        edited = metadata.edit_container(data)
    except metadata.MetadataError as exc:
        raise InvalidImage(
            N_(
                "The image's metadata is damaged, so its GPS position cannot be removed "
                "(%(reason)s)."
            ),
            reason=_short(exc),
        ) from None
    if edited is None:
        return _save_without_gps(path, out_path)
    if edited == data:
        return False
    with open(out_path, "wb") as handle:
        handle.write(edited)
    return True


def _save_without_gps(path: str, out_path: str) -> bool:
    with Image.open(path, formats=ACCEPTED_FORMATS) as im:
        exif = im.getexif()
        xmp = _xmp_of(im)
        xmp_gps = bool(xmp) and metadata.xmp_has_gps(xmp)
        if TAG_GPS_IFD not in exif and not xmp_gps:
            return False
        exif.pop(TAG_GPS_IFD, None)
        fmt = im.format
        params: dict = {"exif": exif.tobytes()}
        if xmp_gps:
            params["xmp"] = metadata.xmp_without_gps(xmp or b"") or b""
        if getattr(im, "is_animated", False):
            params["save_all"] = True
        if fmt in ("WEBP", "AVIF", "HEIF"):
            params["quality"] = 95
        im.save(out_path, fmt, **params)
    if xmp_gps:  # an encoder that copies the original's XMP (TIFF) gets it blanked
        with open(out_path, "r+b") as handle:
            written = handle.read()
            blanked = metadata.blank_xmp_gps(written)
            if blanked != written:
                handle.seek(0)
                handle.write(blanked)
    return True
