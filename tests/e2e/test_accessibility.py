"""Accessibility of every page in Chromium, in both themes, checked by axe-core.

A server of its own (the embedded default, sending mail to the test's SMTP server so
that the password reset pages can be reached) is filled through the pages as people
would: an owner with public and private pictures, an album, share links (one with a
password, one that may be opened once), the trash, a token, a second person with
two-factor login, a third one given a temporary password, and an admin. Every page of
the app is then shown, in the light and in the dark theme (the system's colour scheme,
as test_theme.py forces it), and axe-core (tests/e2e/vendor, never served by the app)
runs its WCAG 2.0/2.1/2.2 level A and AA rules on it. Any violation fails the test with
the rule, its impact, the failing elements, the page and the theme. No rule and no
element is excluded; what axe cannot decide itself (its "incomplete" results, such as
text over a picture) is not counted as a failure. Each page is also narrowed to a
phone's 390 px, where it must not scroll sideways and each button, field, menu entry
and tab must be at least 44 px tall (a checkbox or radio button 24 px).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from .helpers import (
    PASSWORD,
    Inbox,
    Tab,
    choose_and_upload,
    expect_uploaded,
    fill_login,
    fill_signup,
    image_id,
    log_in,
    log_out,
    make_admin,
    refresh_gallery,
    sign_up,
    write_landscape,
)
from .live_server import LiveServer, live_server

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
THEMES = ("light", "dark")
# axe-core's tags for the success criteria of WCAG 2.0, 2.1 and 2.2 at levels A and AA.
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
LINK_PASSWORD = "harbour-view-77"
PHONE = {"width": 390, "height": 844}
_OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
_FITS_JS = f"() => ({_OVERFLOW_JS[6:]}) <= 0"
# The controls shown on a phone that are smaller than a finger: buttons, fields, menu
# entries and tabs under 44 px tall, checkboxes and radio buttons under 24 px (their
# label is part of the target). Links inside running text are not targets of their own.
_SMALL_TARGETS_JS = """() => {
  const small = [];
  const check = (selector, least) => {
    document.querySelectorAll(selector).forEach((el) => {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) { return; }  // not shown
      if (getComputedStyle(el).visibility === "hidden") { return; }
      if (el.closest(".visually-hidden, .visually-hidden-focusable")) { return; }
      if (box.height < least) {
        const name = (el.innerText || el.value || el.getAttribute("aria-label") || el.id || "")
          .trim().replace(/\\s+/g, " ").slice(0, 40);
        small.push(`${el.tagName.toLowerCase()} "${name}" ${Math.round(box.height)} px tall`);
      }
    });
  };
  check(".btn, .form-control, .form-select, .nav-link, .navbar-toggler, summary.btn", 44);
  check(".form-check-input", 24);
  return small;
}"""

PUBLIC = ["coast-dawn.png", "blue-bay.png", "dune-dusk.png"]
PRIVATE = ["night-sky.png", "hill-amber.png"]

# Runs axe on the whole document; returns each violation with the elements that fail it.
_AXE_RUN_JS = """
async (tags) => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({
      target: n.target.join(" "),
      summary: (n.failureSummary || "").replace(/\\s+/g, " ").trim(),
    })),
  }));
}
"""


@pytest.fixture(scope="module")
def a11y_server(tmp_path_factory: pytest.TempPathFactory, inbox: Inbox) -> Iterator[LiveServer]:
    # JOB_THRESHOLD: a bulk delete of two pictures runs as a job, so its page is shown too.
    env = {**inbox.mail_settings(), "JOB_THRESHOLD": "1"}
    with live_server(tmp_path_factory.mktemp("e2e-a11y"), env) as running:
        yield running


class Audit:
    """Runs axe on the page a tab shows, in both themes, and gathers what fails."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.pages: list[str] = []

    def __call__(self, tab: Tab, what: str) -> None:
        page = tab.page
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.add_script_tag(path=str(AXE))
        for theme in THEMES:
            # The page follows the system's scheme (theme.js listens to its change).
            page.emulate_media(color_scheme=theme)
            expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
            for violation in page.evaluate(_AXE_RUN_JS, WCAG_A_AA):
                nodes = "\n".join(
                    f"    {n['target']}: {n['summary']}" for n in violation["nodes"][:8]
                )
                more = len(violation["nodes"]) - 8
                self.failures.append(
                    f"{what} ({urlsplit(page.url).path}, {theme} theme): "
                    f"{violation['id']} [{violation['impact']}] {violation['help']}\n{nodes}"
                    + (f"\n    … and {more} more" if more > 0 else "")
                )
        self._fits_a_phone(page, what)
        self.pages.append(what)

    def _fits_a_phone(self, page, what: str) -> None:
        """The same page at a phone's width scrolls only up and down. The window is
        narrowed in place (as a phone turned or a window resized), and the page may take
        a moment to lay itself out again (the gallery's rows are set by a script)."""
        size = page.viewport_size
        page.set_viewport_size(PHONE)
        try:
            page.wait_for_function(_FITS_JS, timeout=3000)
        except PlaywrightTimeout:
            overflow = page.evaluate(_OVERFLOW_JS)
            self.failures.append(
                f"{what} ({urlsplit(page.url).path}): scrolls sideways by {overflow}px "
                f"at {PHONE['width']} px"
            )
        else:
            for target in page.evaluate(_SMALL_TARGETS_JS):
                self.failures.append(
                    f"{what} ({urlsplit(page.url).path}): a tap target too small at "
                    f"{PHONE['width']} px: {target}"
                )
        finally:
            page.set_viewport_size(size)


def a11y_tab(open_tab, server: LiveServer) -> Tab:
    # bypass_csp: the app's Content-Security-Policy allows only its own scripts, so it
    # blocks the injected axe-core (a script tag by path or by content alike). Only this
    # test's tabs lift it, so that the tool can run; the pages are otherwise unchanged.
    # reduced_motion: Bootstrap then drops its colour transitions, so that a contrast is
    # never measured halfway through a switch of theme.
    return open_tab(server, bypass_csp=True, reduced_motion="reduce")


def _share(tab: Tab, **fields: str) -> str:
    """Make a share link with the form of the page shown; return its path."""
    page = tab.page
    page.locator("#share-box summary").click()
    for name, value in fields.items():
        page.fill(f"#share-{name}", value)
    with tab.navigation():
        page.locator("#share-form").get_by_role("button", name="Create link").click()
    return urlsplit(page.locator("#new-link").input_value()).path


def test_every_page_passes_axe_in_both_themes_and_fits_a_phone(
    open_tab, a11y_server, inbox, tmp_path
):
    audit = Audit()
    server = a11y_server

    # --- a visitor ---------------------------------------------------------------------
    visitor = a11y_tab(open_tab, server)
    visitor.goto("/")
    audit(visitor, "home")
    visitor.goto("/signin")
    audit(visitor, "sign-up form")
    fill_signup(visitor, "no spaces allowed", confirm="not-the-same-1")
    expect(visitor.page.locator(".invalid-feedback").first).to_be_visible()
    audit(visitor, "sign-up form with errors")
    visitor.goto("/login")
    audit(visitor, "login form")
    fill_login(visitor, "nobody", "wrong-password-1")
    expect(visitor.page.locator("main .alert-danger")).to_be_visible()
    audit(visitor, "login form with an error")
    visitor.goto("/forgot")
    audit(visitor, "forgotten password form")
    visitor.expect_http_error(404, "/no/such/page")
    visitor.goto("/no/such/page", status=404)
    audit(visitor, "404 page")

    # --- the owner: My Files with pictures, the viewer, image page, albums, links -------
    owner = a11y_tab(open_tab, server)
    page = owner.page
    owner_name = sign_up(owner)
    audit(owner, "My Files, empty, after sign-up")
    paths = [write_landscape(tmp_path, n, seed) for seed, n in enumerate(PUBLIC + PRIVATE)]
    expect_uploaded(owner, choose_and_upload(owner, paths[: len(PUBLIC)], "public"))
    expect_uploaded(owner, choose_and_upload(owner, paths[len(PUBLIC) :], "private"))
    audit(owner, "My Files with upload results")
    refresh_gallery(owner)
    expect(page.locator(".month-header").first).to_be_visible()
    audit(owner, "My Files with pictures")

    first = image_id(owner, "public", PUBLIC[0])
    page.locator(f'#public-images a.thumb-link[href="/image/{first}"]').click()
    expect(page.locator("#viewer")).to_be_visible()
    expect(page.locator("#viewer-image")).to_have_js_property("complete", True)
    owner.check()
    audit(owner, "viewer")
    page.get_by_role("button", name="Details").click()
    expect(page.locator("#viewer-details")).to_be_visible()
    audit(owner, "viewer with details")
    page.keyboard.press("Escape")
    expect(page.locator("#viewer")).to_be_hidden()
    # Closing goes back in the history (the viewer's address was the picture's): let that
    # step end before the next navigation, which it would otherwise abort.
    expect(page).to_have_url(owner.url("/myfiles"))
    owner.check()

    owner.goto("/gallery")
    audit(owner, "public gallery")
    owner.goto(f"/image/{first}")
    audit(owner, "image page")
    page.fill("#comment-body", "The light on the water!")
    with owner.navigation():
        page.locator("#comment-form").get_by_role("button", name="Post comment").click()
    audit(owner, "image page with a comment")
    image_link = _share(owner, password=LINK_PASSWORD)
    audit(owner, "image page with a new share link")
    owner.goto(f"/image/{first}")
    once_link = _share(owner, **{"max-views": "1"})

    owner.goto("/albums")
    audit(owner, "albums, none yet")
    page.fill("#album-title", "Summer by the sea")
    page.fill("#album-description", "Rocks, waves and a lighthouse")
    with owner.navigation():
        page.get_by_role("button", name="Make album").click()
    audit(owner, "empty album")
    owner.goto(f"/image/{first}/albums")
    audit(owner, "an image's albums")
    with owner.navigation():
        page.locator("#add-to-album-form").get_by_role("button", name="Add").click()
    with owner.navigation():
        page.locator("#holding-albums a").click()
    audit(owner, "album")
    album_link = _share(owner)
    owner.goto("/albums")
    audit(owner, "albums")
    owner.goto("/shared-links")
    audit(owner, "shared links")

    owner.goto("/account")
    audit(owner, "account")
    page.fill("#token-name", "ShareX on my laptop")
    with owner.navigation():
        page.locator("#token-form").get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_be_visible()
    audit(owner, "account with a new token")
    owner.goto("/api/docs")
    audit(owner, "API reference")

    # The trash, and the pages that confirm without JavaScript (form.submit() skips
    # the script's own confirmation, as a browser without JavaScript would).
    owner.goto("/myfiles")
    for name in PRIVATE:  # ticked as the form sees them: the selection is not under test
        box = page.locator("#private-images figure", has_text=name).locator(".select-image")
        box.evaluate("(box) => { box.checked = true; }")
    with owner.navigation():
        page.evaluate("() => document.getElementById('bulk-delete-form').submit()")
    audit(owner, "confirm deleting the selected pictures")
    with owner.navigation(re.compile(r"/jobs/\d+$")):
        page.locator("main form").get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.locator(".job")).to_have_attribute("data-state", "done", timeout=15_000)
    audit(owner, "background job")
    owner.goto("/trash")
    audit(owner, "trash")
    with owner.navigation():
        page.evaluate("() => document.getElementById('empty-trash').form.submit()")
    audit(owner, "confirm emptying the trash")

    # --- a visitor opens the links ----------------------------------------------------
    visitor.goto(image_link)
    audit(visitor, "shared link's password form")
    visitor.page.fill("#share-password", "wrong-password-1")
    visitor.expect_http_error(403, re.escape(image_link))
    with visitor.navigation():
        visitor.page.get_by_role("button", name="Open").click()
    audit(visitor, "shared link's password form with an error")
    visitor.page.fill("#share-password", LINK_PASSWORD)
    with visitor.navigation():
        visitor.page.get_by_role("button", name="Open").click()
    audit(visitor, "shared image")
    visitor.goto(album_link)
    audit(visitor, "shared album")
    with visitor.navigation():
        visitor.page.locator("#shared-album-images a.filename").first.click()
    audit(visitor, "image of a shared album")
    visitor.goto(once_link)  # its one view; another browser then finds it gone
    latecomer = a11y_tab(open_tab, server)
    latecomer.expect_http_error(410, re.escape(once_link))
    latecomer.goto(once_link, status=410)
    audit(latecomer, "410 page of a link viewed as often as allowed")

    # --- a person with two-factor login -------------------------------------------------
    second = a11y_tab(open_tab, server)
    second_name = sign_up(second)
    second.goto("/account/two-factor")
    audit(second, "two-factor setup")
    totp = pyotp.TOTP(second.page.locator("#totp-secret").inner_text())
    second.page.fill("#enable-code", totp.now())
    with second.navigation():
        second.page.get_by_role("button", name="Turn two-factor login on").click()
    audit(second, "two-factor recovery codes")
    log_out(second)
    second.goto("/login")
    fill_login(second, second_name, PASSWORD)
    audit(second, "two-factor code form")

    # --- the password reset by mail -------------------------------------------------------
    visitor.goto("/forgot")
    visitor.page.fill("#identifier", owner_name)
    sent = len(inbox.bodies)
    with visitor.navigation():
        visitor.page.get_by_role("button", name="Send me a link").click()
    audit(visitor, "reset link sent")
    visitor.goto(inbox.link_path("/reset/[A-Za-z0-9_-]{43}", sent))
    audit(visitor, "new password form of a reset link")
    visitor.expect_http_error(410, "/reset/x+")
    visitor.goto("/reset/" + "x" * 43, status=410)
    audit(visitor, "reset link refused")

    # --- the admin ------------------------------------------------------------------------
    third = a11y_tab(open_tab, server)
    third_name = sign_up(third)
    admin = a11y_tab(open_tab, server)
    log_in(admin, make_admin(server))
    admin.goto("/admin")
    audit(admin, "admin: users")
    row = admin.page.locator("#users tbody tr").filter(
        has=admin.page.get_by_role("link", name=owner_name, exact=True)
    )
    with admin.navigation():
        row.get_by_role("link", name=owner_name, exact=True).click()
    audit(admin, "admin: a user")
    with admin.navigation():
        admin.page.get_by_role("link", name=f"Delete {owner_name}").click()
    audit(admin, "admin: confirm deleting a user")
    admin.goto(f"/admin/images/{first}/delete-for-good")
    audit(admin, "admin: confirm deleting an image for good")
    for path, what in [
        ("/admin/invitations", "admin: invitations"),
        ("/admin/audit", "admin: audit log"),
        ("/admin/jobs", "admin: jobs"),
        ("/admin/reset", "admin: reset"),
    ]:
        admin.goto(path)
        audit(admin, what)
    admin.goto("/admin/invitations")
    admin.page.fill("#invitation-email", "friend@example.org")
    with admin.navigation():
        admin.page.locator("#invitation-form").get_by_role("button").click()
    audit(admin, "admin: a new invitation")
    admin.goto("/admin")
    with admin.navigation():
        admin.page.get_by_role("link", name=third_name, exact=True).click()
    with admin.navigation():
        admin.page.locator("#temporary-password-form").get_by_role("button").click()
    audit(admin, "admin: a temporary password")
    temporary = admin.page.locator("#temporary-password").inner_text()
    log_out(third)
    third.goto("/login")
    fill_login(third, third_name, temporary)
    expect(third.page).to_have_url(third.url("/account/new-password"))
    audit(third, "new password after a temporary one")

    # --- leaving --------------------------------------------------------------------------
    link = owner.serve_other_site(
        "http://elsewhere.test",
        "/offer",
        f'<!doctype html><title>Offer</title><a id="go" href="{owner.url("/logout")}">Win</a>',
    )
    page.goto(link)
    with owner.navigation(owner.url("/logout")):
        page.click("#go")
    audit(owner, "log out?")
    with owner.navigation(owner.url("/login")):
        page.locator("#logout-form").get_by_role("button", name="Log out").click()
    audit(owner, "login after logging out")

    assert not audit.failures, (
        f"{len(audit.failures)} accessibility or phone-width failure(s) "
        f"on {len(audit.pages)} pages:\n\n" + "\n\n".join(audit.failures)
    )
