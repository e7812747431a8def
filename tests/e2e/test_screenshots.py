"""Screenshots of the main pages for the documentation: docs/screenshots/*.png.

A server of its own (embedded default), so that the gallery shows only these pictures.

The committed pictures are written only when asked: ``UPDATE_SCREENSHOTS=1`` (then
commit docs/screenshots). Otherwise the test takes the same pictures into its own
temporary folder and compares each with the committed one, tolerantly, because two
runs never give identical pixels (dates and times, font smoothing). The pictures are
made reproducible where it matters: the uploads go one at a time, so the gallery shows
them in the same order every run. The committed file must exist and be a PNG of the
same width, and at least ``SIMILAR_ENOUGH`` of the pixels must be alike (each colour
channel within ``CHANNEL_TOLERANCE``). Two runs of the same code agree on more than
99.5 % of the pixels; two different pages of the app (mostly white, the same navigation
bar) on at most 97 %. So a picture of another page, an error page or a changed layout
fails, and a changed date or word passes; the failure says to update the pictures.
The gallery and the image page are also taken in the dark theme (``*-dark.png``), right
after their light pictures, with the system's colour scheme set to dark; they compare
the same way (two runs: above 99.9 % alike; the dark image page against the dark
gallery: 37 %).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from playwright.sync_api import expect

from .helpers import (
    SCREENSHOTS,
    Tab,
    drop_files,
    expect_thumbnail_shown,
    expect_uploaded,
    log_in,
    make_admin,
    open_image_page,
    refresh_gallery,
    sign_up,
    write_landscape,
)
from .live_server import LiveServer, live_server

pytestmark = pytest.mark.e2e

UPDATE = os.environ.get("UPDATE_SCREENSHOTS") == "1"
SIMILAR_ENOUGH = 0.98
CHANNEL_TOLERANCE = 24

PUBLIC = ["harbour-dawn.jpg", "blue-fjord.jpg", "desert-dusk.jpg", "meadow-noon.jpg"]
PRIVATE = ["violet-night.jpg", "amber-hills.jpg"]


@pytest.fixture(scope="module")
def showcase_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e-showcase")) as running:
        yield running


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def similarity(fresh: Path, committed: Path) -> float:
    """The share of pixels that are alike (0 when the widths differ): each colour channel
    within ``CHANNEL_TOLERANCE``. When a full-page picture is longer or shorter, the rows
    only one of them has count as unlike."""
    with Image.open(fresh) as a, Image.open(committed) as b:
        if a.width != b.width:
            return 0.0
        box = (0, 0, a.width, min(a.height, b.height))
        red, green, blue = ImageChops.difference(
            a.convert("RGB").crop(box), b.convert("RGB").crop(box)
        ).split()
        worst = ImageChops.lighter(ImageChops.lighter(red, green), blue)
        alike = sum(worst.histogram()[: CHANNEL_TOLERANCE + 1])
        return alike / (a.width * max(a.height, b.height))


@contextlib.contextmanager
def dark_theme(tab: Tab) -> Iterator[None]:
    """The page shown in the dark theme, as on a system set to dark (theme.js follows
    the change), then in the light one again."""
    html = tab.page.locator("html")
    tab.page.emulate_media(color_scheme="dark")
    expect(html).to_have_attribute("data-bs-theme", "dark")
    try:
        yield
    finally:
        tab.page.emulate_media(color_scheme="light")
        expect(html).to_have_attribute("data-bs-theme", "light")


def test_screenshots_of_the_main_pages(open_tab, showcase_server, tmp_path):
    tab = open_tab(showcase_server)
    page = tab.page
    folder = SCREENSHOTS if UPDATE else tmp_path / "screenshots"
    shots = []

    tab.goto("/")
    shots.append(tab.screenshot("home.png", folder))
    tab.goto("/signin")
    shots.append(tab.screenshot("signup.png", folder))

    sign_up(tab, "maya")
    pictures = [write_landscape(tmp_path, name, seed) for seed, name in enumerate(PUBLIC + PRIVATE)]
    for index, picture in enumerate(pictures):  # one at a time: the same order every run
        visibility = "public" if index < len(PUBLIC) else "private"
        expect_uploaded(tab, drop_files(tab, [picture], visibility))
    refresh_gallery(tab)
    for name in PUBLIC:
        expect_thumbnail_shown(tab, "public", name)
    for name in PRIVATE:
        expect_thumbnail_shown(tab, "private", name)
    shots.append(tab.screenshot("gallery.png", folder, full_page=True))
    with dark_theme(tab):
        shots.append(tab.screenshot("gallery-dark.png", folder, full_page=True))

    open_image_page(tab, "public", PUBLIC[0])
    expect(page.locator("main img.preview")).to_have_js_property("complete", True)
    shots.append(tab.screenshot("image.png", folder))
    with dark_theme(tab):
        shots.append(tab.screenshot("image-dark.png", folder))

    # The admin panel's user list, seen by an admin made with `flask create-admin`.
    sign_up(open_tab(showcase_server), "leo")
    make_admin(showcase_server, "ada")
    admin = open_tab(showcase_server)
    log_in(admin, "ada")
    admin.goto("/admin")
    expect(admin.page.locator("#users tbody tr")).to_have_count(3)
    shots.append(admin.screenshot("admin.png", folder))

    assert [p.name for p in shots] == [
        "home.png",
        "signup.png",
        "gallery.png",
        "gallery-dark.png",
        "image.png",
        "image-dark.png",
        "admin.png",
    ]
    for path in shots:
        assert path.parent == folder and _is_png(path), path
    if UPDATE:
        return
    for fresh in shots:
        committed = SCREENSHOTS / fresh.name
        assert committed.is_file() and _is_png(committed), f"{committed} is missing"
        alike = similarity(fresh, committed)
        assert alike >= SIMILAR_ENOUGH, (
            f"docs/screenshots/{fresh.name} no longer shows the page ({alike:.0%} alike; "
            f"this run's picture: {fresh}): run this test with UPDATE_SCREENSHOTS=1 and "
            "commit docs/screenshots"
        )
