"""Screenshots of the main pages for the documentation: docs/screenshots/*.png.

A server of its own (embedded default), so that the gallery shows only these pictures.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .helpers import (
    SCREENSHOTS,
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

PUBLIC = ["harbour-dawn.jpg", "blue-fjord.jpg", "desert-dusk.jpg", "meadow-noon.jpg"]
PRIVATE = ["violet-night.jpg", "amber-hills.jpg"]


@pytest.fixture(scope="module")
def showcase_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e-showcase")) as running:
        yield running


def _is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_screenshots_of_the_main_pages(open_tab, showcase_server, tmp_path):
    tab = open_tab(showcase_server)
    page = tab.page
    shots = []

    tab.goto("/")
    shots.append(tab.screenshot("home.png"))
    tab.goto("/signin")
    shots.append(tab.screenshot("signup.png"))

    sign_up(tab, "maya")
    pictures = [write_landscape(tmp_path, name, seed) for seed, name in enumerate(PUBLIC + PRIVATE)]
    expect_uploaded(tab, drop_files(tab, pictures[: len(PUBLIC)], "public"))
    expect_uploaded(tab, drop_files(tab, pictures[len(PUBLIC) :], "private"))
    refresh_gallery(tab)
    for name in PUBLIC:
        expect_thumbnail_shown(tab, "public", name)
    for name in PRIVATE:
        expect_thumbnail_shown(tab, "private", name)
    shots.append(tab.screenshot("gallery.png", full_page=True))

    open_image_page(tab, "public", PUBLIC[0])
    expect(page.locator("main img.preview")).to_have_js_property("complete", True)
    shots.append(tab.screenshot("image.png"))

    # The admin panel's user list, seen by an admin made with `flask create-admin`.
    sign_up(open_tab(showcase_server), "leo")
    make_admin(showcase_server, "ada")
    admin = open_tab(showcase_server)
    log_in(admin, "ada")
    admin.goto("/admin")
    expect(admin.page.locator("#users tbody tr")).to_have_count(3)
    shots.append(admin.screenshot("admin.png"))

    assert [p.name for p in shots] == [
        "home.png",
        "signup.png",
        "gallery.png",
        "image.png",
        "admin.png",
    ]
    for path in shots:
        assert path.parent == SCREENSHOTS and _is_png(path), path
