"""What the journeys share: a guarded browser tab, test images, sign-up/log-in, uploads."""

from __future__ import annotations

import base64
import contextlib
import io
import math
import random
import re
import secrets
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image, ImageDraw, ImageFilter
from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Response, expect

from .live_server import HOST, MAX_UPLOAD_MB, LiveServer

PASSWORD = "Quiet-harbor-lantern-42"
UPLOAD_TIMEOUT = 15_000  # ms: one upload on loopback takes well under a second
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Known problems of the app that the guard tolerates until they are fixed in web/.
# Console errors that are expected and harmless (none today); each entry a regular
# expression, with a comment saying why it is allowed.
KNOWN_CONSOLE_ERRORS: list[str] = []

# Every <img> of the page has loaded (lazy ones are asked to load now), within a bound.
_IMAGES_JS = """
async (timeoutMs) => {
  const images = Array.from(document.images);
  for (const img of images) { if (img.loading === "lazy") { img.loading = "eager"; } }
  const settled = (img) => img.complete ? Promise.resolve() : new Promise((resolve) => {
    img.addEventListener("load", resolve, { once: true });
    img.addEventListener("error", resolve, { once: true });
  });
  await Promise.race([
    Promise.all(images.map(settled)),
    new Promise((resolve) => setTimeout(resolve, timeoutMs)),
  ]);
  return images
    .filter((img) => !(img.complete && img.naturalWidth > 0))
    .map((img) => img.currentSrc || img.src || img.outerHTML.slice(0, 200));
}
"""


class Tab:
    """One person's browser tab (its own context: own cookies) on one server.

    It records, for the whole test, every request to a host other than 127.0.0.1, every
    console error and uncaught page error, and every image answered with an error status.
    ``check()`` runs on every page the tab shows (``goto`` and ``navigation`` call it) and
    asserts that every <img> has loaded (complete, naturalWidth > 0). ``problems()`` lists
    what went wrong; the ``tab``/``open_tab`` fixtures assert it is empty at teardown.
    """

    def __init__(self, page: Page, server: LiveServer) -> None:
        self.page = page
        self.server = server
        self.foreign_requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.broken_images: list[str] = []
        self.unchecked: list[str] = []
        self._allowed_console = [re.compile(p) for p in KNOWN_CONSOLE_ERRORS]
        self._served_here: set[str] = set()
        page.on("request", self._on_request)
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        page.on("response", self._on_response)
        page.on("framenavigated", self._on_navigated)

    # --- event recorders --------------------------------------------------------------

    def _on_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname != HOST and parts.hostname not in self._served_here:
            self.foreign_requests.append(request.url)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "") if message.location else ""
        text = f"{message.text} @ {where}"
        if not any(p.search(text) for p in self._allowed_console):
            self.console_errors.append(text)

    def _on_page_error(self, error: Exception) -> None:
        self.page_errors.append(str(error))

    def _on_response(self, response: Response) -> None:
        if response.request.resource_type == "image" and response.status >= 400:
            self.broken_images.append(f"{response.status} {response.url}")

    def _on_navigated(self, frame) -> None:
        if frame == self.page.main_frame and frame.url != "about:blank":
            self.unchecked.append(frame.url)

    # --- what tests call ----------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.server.url + path

    def serve_other_site(self, origin: str, path: str, html: str) -> str:
        """Show ``html`` at ``origin + path`` as if another site served it: the test
        answers the request itself (nothing leaves the machine), so it is no foreign
        request. Returns the page's URL."""
        url = origin.rstrip("/") + path
        self._served_here.add(urlsplit(url).hostname or "")
        self.page.route(
            url, lambda route: route.fulfill(status=200, content_type="text/html", body=html)
        )
        return url

    def assert_fits(self, width: int = 390) -> None:
        """The page shown needs no horizontal scroll at ``width`` CSS pixels (a phone)."""
        before = self.page.viewport_size
        self.page.set_viewport_size({"width": width, "height": 800})
        try:
            overflow = self.page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{self.page.url} scrolls sideways by {overflow}px at {width}px"
        finally:
            if before:
                self.page.set_viewport_size(before)

    def allow_console_error(self, pattern: str) -> None:
        """Expect console errors matching ``pattern`` (e.g. the log line of a 404 asked for)."""
        self._allowed_console.append(re.compile(pattern))

    def expect_http_error(self, status: int, path_pattern: str) -> None:
        """Chromium logs 'Failed to load resource: ... status of N' for every error answer."""
        self.allow_console_error(
            rf"status of {status}\b.* @ {re.escape(self.server.url)}{path_pattern}$"
        )

    def goto(self, path: str, status: int = 200) -> Response:
        response = self.page.goto(self.url(path), wait_until="load")
        assert response is not None, path
        assert response.status == status, f"GET {path}: {response.status}, expected {status}"
        self.check()
        return response

    @contextlib.contextmanager
    def navigation(self, url: str | re.Pattern[str] | None = None) -> Iterator[None]:
        """Wrap an action that loads a new page: wait for it, then check it."""
        with self.page.expect_navigation(url=url, wait_until="load"):
            yield
        self.check()

    def check(self) -> None:
        """Assert that the page shown has no broken image; mark the page as checked."""
        broken = self.page.evaluate(_IMAGES_JS, 5_000)
        assert not broken, f"broken images on {self.page.url}: {broken}"
        self.unchecked.clear()

    def problems(self) -> list[str]:
        found = []
        if self.unchecked and not self.page.is_closed():
            unchecked_before_last = self.unchecked[:-1]
            if unchecked_before_last:
                found.append(f"pages shown without a check: {unchecked_before_last}")
            try:
                self.check()
            except AssertionError as exc:
                found.append(str(exc))
        if self.foreign_requests:
            found.append(f"requests to other hosts than {HOST}: {self.foreign_requests}")
        if self.console_errors:
            found.append(f"console errors: {self.console_errors}")
        if self.page_errors:
            found.append(f"uncaught page errors: {self.page_errors}")
        if self.broken_images:
            found.append(f"image requests that failed: {self.broken_images}")
        return found

    def screenshot(self, name: str, folder: Path = SCREENSHOTS, full_page: bool = False) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        self.page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path


# --- names ------------------------------------------------------------------------------


def unique(prefix: str) -> str:
    """A fresh name (letters and digits, starting with the prefix): runs share a server."""
    return f"{prefix}{secrets.token_hex(3)}"


# --- images -----------------------------------------------------------------------------

PALETTES = [
    # sky top, sky bottom, sun, far hills, near hills
    ((32, 58, 120), (250, 170, 110), (255, 236, 170), (92, 70, 120), (40, 36, 70)),
    ((12, 40, 66), (64, 160, 190), (240, 250, 255), (30, 100, 110), (10, 50, 60)),
    ((90, 30, 90), (255, 120, 90), (255, 220, 120), (150, 60, 90), (70, 25, 55)),
    ((120, 190, 240), (235, 245, 250), (255, 250, 220), (110, 150, 120), (50, 90, 60)),
    ((20, 20, 50), (90, 60, 140), (230, 230, 255), (60, 50, 100), (25, 20, 45)),
    ((250, 200, 120), (255, 240, 200), (255, 255, 240), (200, 130, 80), (120, 70, 40)),
]


def _ridge(rnd: random.Random, width: int, height: int, base: float, amp: float) -> list:
    """A hill line across the picture, as a closed polygon down to the bottom edge."""
    phase, freq = rnd.uniform(0, math.tau), rnd.uniform(1.5, 3.5)
    points = [(0, height)]
    for x in range(0, width + 8, 8):
        wobble = math.sin(phase + freq * math.tau * x / width) + 0.4 * math.sin(
            phase * 2 + freq * 2.7 * math.tau * x / width
        )
        points.append((x, base * height - amp * height * wobble))
    points.append((width, height))
    return points


def landscape(seed: int, size: tuple[int, int] = (480, 320), fmt: str = "PNG") -> bytes:
    """A small picture (sky gradient, sun, two hill lines) that looks good in a gallery."""
    rnd = random.Random(seed)
    sky_top, sky_bottom, sun, far, near = PALETTES[seed % len(PALETTES)]
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    picture = Image.composite(
        Image.new("RGB", size, sky_bottom), Image.new("RGB", size, sky_top), gradient
    ).convert("RGBA")
    glow = Image.new("RGBA", size, (0, 0, 0, 0))
    sx, sy, r = rnd.uniform(0.2, 0.8) * width, rnd.uniform(0.25, 0.45) * height, height * 0.11
    ImageDraw.Draw(glow).ellipse((sx - 2 * r, sy - 2 * r, sx + 2 * r, sy + 2 * r), (*sun, 90))
    picture = Image.alpha_composite(picture, glow.filter(ImageFilter.GaussianBlur(r)))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((sx - r, sy - r, sx + r, sy + r), (*sun, 255))
    draw.polygon(_ridge(rnd, width, height, 0.62, 0.07), (*far, 255))
    draw.polygon(_ridge(rnd, width, height, 0.8, 0.06), (*near, 255))
    out = io.BytesIO()
    picture.convert("RGB").save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def write_landscape(folder: Path, name: str, seed: int, size: tuple[int, int] = (480, 320)) -> Path:
    fmt = "JPEG" if name.lower().endswith((".jpg", ".jpeg")) else "PNG"
    path = folder / name
    path.write_bytes(landscape(seed, size, fmt))
    return path


def write_oversized(folder: Path, name: str = "huge.png") -> Path:
    """A noisy PNG (noise does not compress) well above the server's MAX_UPLOAD_MB."""
    side = 1100  # 1100 x 1100 x 3 bytes of noise: about 3.6 MB as PNG
    noise = random.Random(7).randbytes(side * side * 3)
    path = folder / name
    Image.frombytes("RGB", (side, side), noise).save(path, "PNG", compress_level=1)
    assert path.stat().st_size > MAX_UPLOAD_MB * 1024 * 1024 * 1.3
    return path


def write_not_an_image(folder: Path, name: str = "fake.jpg") -> Path:
    path = folder / name
    path.write_text("This is a text file, not a JPEG.\n" * 20)
    return path


# --- accounts ---------------------------------------------------------------------------


def fill_signup(tab: Tab, username: str, password: str = PASSWORD, confirm: str | None = None):
    page = tab.page
    page.fill("#name", username.capitalize() + " Tester")
    page.fill("#username", username)
    page.fill("#email", f"{username}@example.org")
    page.fill("#password", password)
    page.fill("#confirm_password", password if confirm is None else confirm)
    with tab.navigation():
        page.locator("main form").get_by_role("button", name="Sign up").click()


def sign_up(tab: Tab, username: str | None = None, password: str = PASSWORD) -> str:
    """Sign up through the form at /signin; the new account lands on /myfiles."""
    username = username or unique("user")
    tab.goto("/signin")
    fill_signup(tab, username, password)
    expect(tab.page).to_have_url(tab.url("/myfiles"))
    expect(tab.page.locator(".alert-success")).to_contain_text("Your account is ready")
    return username


def log_in(tab: Tab, username: str, password: str = PASSWORD) -> None:
    tab.goto("/login")
    fill_login(tab, username, password)
    expect(tab.page).to_have_url(tab.url("/myfiles"))


def fill_login(tab: Tab, username: str, password: str) -> None:
    page = tab.page
    page.fill("#username", username)
    page.fill("#password", password)
    with tab.navigation():
        page.locator("main form").get_by_role("button", name="Log in").click()


def log_out(tab: Tab) -> None:
    with tab.navigation():
        tab.page.get_by_role("link", name="Log out").click()
    expect(tab.page.locator(".alert-info")).to_contain_text("You are logged out.")


# --- uploads ----------------------------------------------------------------------------

# Records every value each <progress> of #upload-results takes (the value attribute
# reflects the property), so that a test can see each bar go up to its max.
_WATCH_PROGRESS_JS = """
() => {
  if (window.__e2eProgress) { return; }
  const log = window.__e2eProgress = [];
  const index = new Map();
  const record = (bar) => {
    if (!index.has(bar)) {
      index.set(bar, log.length);
      log.push({ label: bar.getAttribute("aria-label"), max: bar.max, values: [] });
    }
    log[index.get(bar)].values.push(bar.value);
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.type === "childList") {
        m.addedNodes.forEach((n) => {
          if (n.querySelectorAll) { n.querySelectorAll("progress").forEach(record); }
        });
      } else if (m.target.tagName === "PROGRESS") {
        record(m.target);
      }
    }
  }).observe(document.getElementById("upload-results"),
             { childList: true, subtree: true, attributes: true, attributeFilter: ["value"] });
}
"""

# A DataTransfer carrying File objects made in the page from the bytes given.
_DATA_TRANSFER_JS = """
(files) => {
  const transfer = new DataTransfer();
  for (const f of files) {
    const binary = atob(f.data);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) { bytes[i] = binary.charCodeAt(i); }
    transfer.items.add(new File([bytes], f.name, { type: f.type }));
  }
  return transfer;
}
"""

MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}


def drop_files(
    tab: Tab, paths: list[Path], visibility: str = "public", names: list[str] | None = None
) -> list[Locator]:
    """Drag and drop files onto #drop-zone; return the result row (li) of each file."""
    page = tab.page
    page.check(f"#visibility-{visibility}")
    zone = page.locator("#drop-zone")
    expect(zone).to_be_visible()
    page.evaluate(_WATCH_PROGRESS_JS)
    rows = page.locator("#upload-results li")
    before = rows.count()
    files = [
        {
            "name": (names[i] if names else path.name),
            "type": MIME.get(path.suffix.lower(), "application/octet-stream"),
            "data": base64.b64encode(path.read_bytes()).decode("ascii"),
        }
        for i, path in enumerate(paths)
    ]
    transfer = page.evaluate_handle(_DATA_TRANSFER_JS, files)
    try:
        zone.dispatch_event("dragenter", {"dataTransfer": transfer})
        zone.dispatch_event("dragover", {"dataTransfer": transfer})
        expect(zone).to_have_class(re.compile(r"\bdrag-over\b"))
        zone.dispatch_event("drop", {"dataTransfer": transfer})
    finally:
        transfer.dispose()
    expect(zone).not_to_have_class(re.compile(r"\bdrag-over\b"))
    expect(rows).to_have_count(before + len(files))
    new_rows = [rows.nth(before + i) for i in range(len(files))]
    for row, f in zip(new_rows, files, strict=True):
        expect(row.locator(".upload-name")).to_have_text(f["name"])
    return new_rows


def choose_and_upload(tab: Tab, paths: list[Path], visibility: str = "public") -> list[Locator]:
    """Click the drop zone, pick files in the file chooser, press Upload (no page load)."""
    page = tab.page
    page.check(f"#visibility-{visibility}")
    page.evaluate(_WATCH_PROGRESS_JS)
    rows = page.locator("#upload-results li")
    before = rows.count()
    with page.expect_file_chooser() as chooser:
        page.locator("#drop-zone").click()
    assert chooser.value.is_multiple()
    chooser.value.set_files([str(p) for p in paths])
    url = page.url
    page.locator("#upload-form").get_by_role("button", name="Upload").click()
    expect(rows).to_have_count(before + len(paths))
    assert page.url == url and not tab.unchecked, "the upload loaded a page"
    new_rows = [rows.nth(before + i) for i in range(len(paths))]
    for row, path in zip(new_rows, paths, strict=True):
        expect(row.locator(".upload-name")).to_have_text(path.name)
    expect(page.locator("#file")).to_have_js_property("value", "")
    return new_rows


def expect_uploaded(tab: Tab, rows: list[Locator]) -> None:
    """Each row ends as uploaded, and its progress bar went up to its max, never down."""
    for row in rows:
        expect(row).to_have_attribute("data-result", "uploaded", timeout=UPLOAD_TIMEOUT)
        expect(row.locator(".upload-status")).to_contain_text("Uploaded as ")
    _expect_bars_full(tab, rows)


def signed_up_with_pictures(
    tab: Tab, folder: Path, names: list[str], seed: int, size: tuple[int, int] = (480, 320)
) -> None:
    """A new user who has uploaded public pictures ``names`` (seeds from ``seed``), on
    My Files showing them."""
    sign_up(tab)
    paths = [write_landscape(folder, name, seed + n, size) for n, name in enumerate(names)]
    expect_uploaded(tab, choose_and_upload(tab, paths))
    refresh_gallery(tab)


def upload_public_and_private(
    tab: Tab, folder: Path, public_name: str, private_name: str, seed: int
) -> None:
    """Drop one public and one private picture (seeds ``seed`` and ``seed + 1``) and wait
    until both are uploaded."""
    expect_uploaded(tab, drop_files(tab, [write_landscape(folder, public_name, seed)]))
    private = write_landscape(folder, private_name, seed + 1)
    expect_uploaded(tab, drop_files(tab, [private], "private"))


def expect_failed(tab: Tab, row: Locator, message: str | re.Pattern[str]) -> None:
    expect(row).to_have_attribute("data-result", "failed", timeout=UPLOAD_TIMEOUT)
    expect(row.locator(".upload-status")).to_contain_text(message)
    _expect_bars_full(tab, [row])


def _expect_bars_full(tab: Tab, rows: list[Locator]) -> None:
    for row in rows:
        bar = row.locator("progress")
        label = bar.get_attribute("aria-label")
        state = bar.evaluate("(b) => ({ value: b.value, max: b.max })")
        assert state["max"] > 0 and state["value"] == state["max"], (label, state)
        history = [
            e for e in tab.page.evaluate("() => window.__e2eProgress || []") if e["label"] == label
        ]
        assert history, f"no progress recorded for {label}"
        values = history[-1]["values"]
        assert values == sorted(values), f"{label} went backwards: {values}"
        assert values[-1] == state["max"], f"{label}: {values}"


def gallery_image(tab: Tab, section: str, filename: str) -> Locator:
    """The thumbnail of ``filename`` in #public-images or #private-images."""
    return tab.page.locator(f"#{section}-images img.thumb").and_(
        tab.page.get_by_alt_text(filename, exact=True)
    )


def expect_thumbnail_shown(tab: Tab, section: str, filename: str) -> None:
    img = gallery_image(tab, section, filename)
    expect(img).to_have_count(1)
    expect(img).to_have_js_property("complete", True)
    assert img.evaluate("(i) => i.naturalWidth") > 0, filename


def image_id(tab: Tab, section: str, filename: str) -> int:
    link = tab.page.locator(f"#{section}-images a.filename").filter(
        has_text=re.compile(f"^{re.escape(filename)}$")
    )
    expect(link).to_have_count(1)
    href = link.get_attribute("href") or ""
    match = re.fullmatch(r"/image/(\d+)", href)
    assert match, href
    return int(match.group(1))


def open_image_page(tab: Tab, section: str, filename: str) -> int:
    """Click the image's name in the gallery; return its id."""
    number = image_id(tab, section, filename)
    link = tab.page.locator(f'#{section}-images a.filename[href="/image/{number}"]')
    with tab.navigation(tab.url(f"/image/{number}")):
        link.click()
    expect(tab.page.locator("h1")).to_have_text(filename)
    return number


def refresh_gallery(tab: Tab) -> None:
    with tab.navigation(tab.url("/myfiles")):
        tab.page.locator("#refresh-gallery").click()


def album_of_selection(tab: Tab, title: str, names: list[str]) -> None:
    """Make the album ``title`` and add the private images ``names`` from My Files'
    selection; the album's page is shown."""
    page = tab.page
    tab.goto("/albums")
    page.fill("#album-title", title)
    with tab.navigation():
        page.get_by_role("button", name="Make album").click()
    tab.goto("/myfiles")
    for name in names:
        page.locator("#private-images figure", has_text=name).locator(".select-image").check()
    page.select_option("#bulk-album", label=title)
    tab.assert_fits(390)
    with tab.navigation():
        page.locator("#add-selected").click()
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("#album-images img")).to_have_count(len(names))


def make_admin(server: LiveServer, username: str | None = None) -> str:
    """Create an admin account with the operator's command (``flask create-admin``)."""
    username = username or unique("admin")
    output = server.flask(
        "create-admin",
        username,
        "--email",
        f"{username}@example.org",
        env={"ADMIN_PASSWORD": PASSWORD},
    )
    assert username in output, output
    return username


# --- mail -------------------------------------------------------------------------------


class Inbox:
    """What a local SMTP server (aiosmtpd; the ``inbox`` fixture) was sent: each mail's body."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.bodies.append(message.get_content())
        return "250 OK"

    def mail_settings(self) -> dict[str, str]:
        """The settings of a server that sends its mail here. Links in mail start with
        PUBLIC_URL http://127.0.0.1: a test follows their path."""
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(self.port),
            "MAIL_TLS": "none",
            "MAIL_FROM": "photos@example.org",
            "PUBLIC_URL": "http://127.0.0.1",
        }

    def link_path(self, pattern: str, since: int = 0) -> str:
        """The path of the link matching ``pattern`` in the first mail after the first
        ``since`` ones (waiting up to 15 s for it)."""
        deadline = time.monotonic() + 15
        while len(self.bodies) <= since and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.bodies) > since, "no mail came"
        match = re.search(r"http://127\.0\.0\.1(" + pattern + ")", self.bodies[since])
        assert match, self.bodies[since]
        return match.group(1)
