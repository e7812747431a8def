#!/usr/bin/env python3
"""Render the project's example images into this folder.

Every picture here is drawn from scratch with Pillow (ImageDraw), so the
project owns them outright. The output is deterministic: all "randomness"
comes from ``random.Random`` with fixed seeds, and no timestamps are written
(the EXIF date in ``portrait.jpg`` is a fixed string).

Regenerate with (from the repository root)::

    .venv/bin/python example_images/make_examples.py

Files written (all in the same folder as this script):

- ``landscape.jpg``  1600x1067 JPEG, quality 85: gradient sky, sun, mountains
- ``circles.png``    800x800 PNG: concentric circles
- ``tiles.webp``     960x640 WebP: checkerboard / tile pattern
- ``bars.png``       900x600 PNG (palette): a bar "chart"
- ``moving-dot.gif`` 320x240 animated GIF, 5 frames, looping: a moving dot
- ``portrait.jpg``   tall 800x1200 picture stored as 1200x800 pixels with
  EXIF Orientation 6 (rotate 90 degrees clockwise to display), camera
  Make/Model "Example Camera" and a fixed DateTimeOriginal, so orientation
  handling can be seen: shown without it, the picture lies on its side.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT_DIR = Path(__file__).resolve().parent

# EXIF tag numbers (see the EXIF 2.32 specification).
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_ORIENTATION = 0x0112
TAG_SOFTWARE = 0x0131
TAG_DATETIME = 0x0132
IFD_EXIF = 0x8769
TAG_DATETIME_ORIGINAL = 0x9003

EXAMPLE_CAMERA = "Example Camera"
EXAMPLE_DATETIME = "2024:05:17 10:30:00"


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's bundled default font (no system fonts, so output is stable)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # very old Pillow without a sized default font
        return ImageFont.load_default()


def _lerp(a: int, b: int, t: float) -> int:
    return round(a + (b - a) * t)


def _mix(c1: tuple[int, int, int], c2: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (_lerp(c1[0], c2[0], t), _lerp(c1[1], c2[1], t), _lerp(c1[2], c2[2], t))


def _vertical_gradient(size: tuple[int, int], top, bottom) -> Image.Image:
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(h):
        draw.line([(0, y), (w, y)], fill=_mix(top, bottom, y / max(h - 1, 1)))
    return img


def _ridge(
    rng: random.Random, width: int, base: int, amplitude: int, step: int
) -> list[tuple[int, int]]:
    """A jagged mountain ridge line from x=0 to x=width (midpoint-ish walk)."""
    points = []
    y = base
    for x in range(0, width + step, step):
        y += rng.randint(-amplitude, amplitude)
        y = max(base - 3 * amplitude, min(base + 2 * amplitude, y))
        points.append((min(x, width), y))
    return points


def make_landscape(path: Path) -> None:
    """1600x1067 JPEG: gradient sky, sun with halo, three mountain ranges."""
    rng = random.Random(1001)
    w, h = 1600, 1067
    img = _vertical_gradient((w, h), (32, 78, 160), (250, 196, 140))
    draw = ImageDraw.Draw(img)

    # Sun with a soft halo.
    cx, cy = 1150, 330
    for r in range(190, 90, -10):
        t = (r - 90) / 100
        draw.ellipse(
            [cx - r, cy - r, cx + r, cy + r], fill=_mix((255, 236, 170), (246, 190, 140), t)
        )
    draw.ellipse([cx - 90, cy - 90, cx + 90, cy + 90], fill=(255, 246, 200))

    # A few clouds made of overlapping ellipses.
    for _ in range(4):
        x0, y0 = rng.randint(80, 1400), rng.randint(80, 300)
        for _ in range(6):
            dx, dy = rng.randint(0, 160), rng.randint(-20, 20)
            rw, rh = rng.randint(50, 90), rng.randint(25, 40)
            draw.ellipse(
                [x0 + dx - rw, y0 + dy - rh, x0 + dx + rw, y0 + dy + rh], fill=(245, 240, 235)
            )

    # Mountain ranges, far to near, each darker.
    ranges = [
        (600, 40, 40, (120, 120, 160)),
        (720, 35, 32, (76, 96, 120)),
        (860, 30, 25, (40, 70, 60)),
    ]
    for base, amp, step, colour in ranges:
        ridge = _ridge(rng, w, base, amp, step)
        draw.polygon([(0, h), *ridge, (w, h)], fill=colour)

    # A lake along the bottom edge.
    lake_top = 960
    for y in range(lake_top, h):
        t = (y - lake_top) / (h - lake_top)
        draw.line([(0, y), (w, y)], fill=_mix((70, 110, 150), (30, 60, 90), t))
    for _ in range(60):  # sun glitter on the water
        x = rng.randint(cx - 160, cx + 160)
        y = rng.randint(lake_top + 5, h - 5)
        draw.line([(x, y), (x + rng.randint(8, 30), y)], fill=(250, 220, 170), width=2)

    img.save(path, "JPEG", quality=85, optimize=True)


def make_circles(path: Path) -> None:
    """800x800 PNG: concentric circles in a repeating palette."""
    w = h = 800
    img = Image.new("RGB", (w, h), (250, 250, 245))
    draw = ImageDraw.Draw(img)
    palette = [(230, 57, 70), (241, 250, 238), (168, 218, 220), (69, 123, 157), (29, 53, 87)]
    cx, cy = w // 2, h // 2
    for i, r in enumerate(range(380, 0, -30)):
        draw.ellipse(
            [cx - r, cy - r, cx + r, cy + r],
            fill=palette[i % len(palette)],
            outline=(29, 53, 87),
            width=3,
        )
    img.save(path, "PNG", optimize=True)


def make_tiles(path: Path) -> None:
    """960x640 WebP: checkerboard with a diagonal motif in every other tile."""
    rng = random.Random(2002)
    w, h, tile = 960, 640, 80
    img = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(img)
    dark, light = (38, 70, 83), (233, 196, 106)
    accents = [(42, 157, 143), (244, 162, 97), (231, 111, 81)]
    for row in range(h // tile):
        for col in range(w // tile):
            x0, y0 = col * tile, row * tile
            box = [x0, y0, x0 + tile - 1, y0 + tile - 1]
            if (row + col) % 2 == 0:
                draw.rectangle(box, fill=dark)
                accent = accents[rng.randrange(len(accents))]
                pad = 14
                draw.polygon(
                    [
                        (x0 + tile // 2, y0 + pad),
                        (x0 + tile - pad, y0 + tile // 2),
                        (x0 + tile // 2, y0 + tile - pad),
                        (x0 + pad, y0 + tile // 2),
                    ],
                    fill=accent,
                )
            else:
                draw.rectangle(box, fill=light)
                draw.line([(x0, y0), (x0 + tile - 1, y0 + tile - 1)], fill=dark, width=3)
    img.save(path, "WEBP", quality=80, method=6)


def make_bars(path: Path) -> None:
    """900x600 palette PNG: a bar "chart" with axes and labels."""
    rng = random.Random(3003)
    w, h = 900, 600
    img = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    left, right, top, bottom = 90, w - 40, 100, h - 70
    title_font, label_font = _font(28), _font(18)

    draw.text((left, 20), "Uploads per month (example data)", fill=(30, 30, 30), font=title_font)

    # Grid lines and y-axis labels.
    for i in range(6):
        y = bottom - i * (bottom - top) / 5
        draw.line([(left, y), (right, y)], fill=(225, 225, 225), width=1)
        draw.text((left - 12, y), str(i * 20), fill=(90, 90, 90), font=label_font, anchor="rm")

    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug"]
    values = [rng.randint(15, 100) for _ in months]
    colours = [(69, 123, 157), (230, 57, 70)]
    slot = (right - left) / len(months)
    for i, (month, value) in enumerate(zip(months, values, strict=True)):
        x0 = left + i * slot + slot * 0.18
        x1 = left + (i + 1) * slot - slot * 0.18
        y0 = bottom - value / 100 * (bottom - top)
        draw.rectangle([x0, y0, x1, bottom], fill=colours[i % 2])
        draw.text(
            ((x0 + x1) / 2, y0 - 6), str(value), fill=(30, 30, 30), font=label_font, anchor="mb"
        )
        draw.text(
            ((x0 + x1) / 2, bottom + 10), month, fill=(60, 60, 60), font=label_font, anchor="mt"
        )

    draw.line([(left, top - 10), (left, bottom)], fill=(30, 30, 30), width=2)
    draw.line([(left, bottom), (right, bottom)], fill=(30, 30, 30), width=2)

    # Few flat colours: store as a palette PNG to keep it small.
    img.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, "PNG", optimize=True
    )


def make_moving_dot(path: Path) -> None:
    """320x240 animated GIF: a dot moving left to right in 5 frames, looping."""
    w, h, n = 320, 240, 5
    frames = []
    for i in range(n):
        frame = Image.new("RGB", (w, h), (240, 244, 248))
        draw = ImageDraw.Draw(frame)
        draw.line([(20, h // 2 + 40), (w - 20, h // 2 + 40)], fill=(180, 190, 200), width=4)
        x = 40 + i * (w - 80) / (n - 1)
        y = h // 2 - 10 - 40 * math.sin(math.pi * i / (n - 1))
        r = 22
        draw.ellipse(
            [x - r, y - r, x + r, y + r], fill=(230, 57, 70), outline=(120, 20, 30), width=3
        )
        draw.text((10, 10), f"frame {i + 1}/{n}", fill=(60, 60, 60), font=_font(16))
        frames.append(
            frame.quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        )
    frames[0].save(
        path, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0, optimize=False
    )


def _portrait_upright() -> Image.Image:
    """The portrait as a person should see it: 800 wide, 1200 tall."""
    rng = random.Random(4004)
    w, h = 800, 1200
    img = _vertical_gradient((w, h), (250, 224, 200), (120, 160, 200))
    draw = ImageDraw.Draw(img)

    # A stylised tree: trunk and layered canopy, obviously upright.
    draw.rectangle([370, 760, 430, 1080], fill=(101, 67, 33))
    for i, (r, y) in enumerate([(230, 620), (190, 470), (140, 340), (90, 240)]):
        green = (34 + 12 * i, 110 + 15 * i, 60 + 8 * i)
        draw.ellipse([400 - r, y - r * 0.75, 400 + r, y + r * 0.75], fill=green)
    for _ in range(25):  # apples
        x, y = rng.randint(220, 580), rng.randint(280, 720)
        draw.ellipse([x - 10, y - 10, x + 10, y + 10], fill=(220, 40, 50))

    draw.rectangle([0, 1080, w, h], fill=(70, 120, 60))

    # An "UP" marker so a sideways rendering is easy to spot.
    draw.polygon([(90, 60), (150, 160), (30, 160)], fill=(30, 30, 30))
    draw.rectangle([75, 160, 105, 260], fill=(30, 30, 30))
    draw.text((90, 280), "UP", fill=(30, 30, 30), font=_font(48), anchor="mt")
    return img


def make_portrait(path: Path) -> None:
    """Tall JPEG whose pixels are stored rotated, with EXIF Orientation 6.

    Orientation 6 means "rotate 90 degrees clockwise to display", so the
    upright picture is stored rotated 90 degrees counter-clockwise
    (1200x800 pixels). ``ImageOps.exif_transpose`` gives back the 800x1200
    upright picture.
    """
    stored = _portrait_upright().transpose(Image.Transpose.ROTATE_90)

    exif = Image.Exif()
    exif[TAG_MAKE] = EXAMPLE_CAMERA
    exif[TAG_MODEL] = EXAMPLE_CAMERA
    exif[TAG_ORIENTATION] = 6
    exif[TAG_SOFTWARE] = "imgrepo example_images/make_examples.py"
    exif[TAG_DATETIME] = EXAMPLE_DATETIME
    exif.get_ifd(IFD_EXIF)[TAG_DATETIME_ORIGINAL] = EXAMPLE_DATETIME

    stored.save(path, "JPEG", quality=85, optimize=True, exif=exif.tobytes())


EXAMPLES = {
    "landscape.jpg": make_landscape,
    "circles.png": make_circles,
    "tiles.webp": make_tiles,
    "bars.png": make_bars,
    "moving-dot.gif": make_moving_dot,
    "portrait.jpg": make_portrait,
}


def main(out_dir: Path = OUT_DIR) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, render in EXAMPLES.items():
        path = out_dir / name
        render(path)
        size = path.stat().st_size
        total += size
        with Image.open(path) as im:
            frames = getattr(im, "n_frames", 1)
            print(
                f"{name:16} {im.format:5} {im.size[0]}x{im.size[1]:<5} "
                f"frames={frames} {size:>8} bytes"
            )
    print(f"{'total':16} {total:>36} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR))
