"""Fixtures of the end-to-end tests: Debian's Chromium, live servers and guarded tabs.

Two servers, each started once per run: the embedded default (SQLite + files) for every
journey, and MySQL/MariaDB + S3 (SeaweedFS) for the main journey (test_mysql_s3.py);
test_screenshots.py starts a third, empty one of its own. Every tab records
requests to other hosts, console errors and broken images; its fixture fails the test
at teardown when it saw any.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from support import mysql
from support.processes import free_port
from support.s3 import s3_server

from .helpers import Inbox, Tab
from .live_server import LiveServer, live_server

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 800}
ACTION_TIMEOUT = 5_000  # ms, clicks, fills, expect(...)
NAVIGATION_TIMEOUT = 10_000  # ms, a page load (the first sign-up loads zxcvbn's lists)

expect.set_options(timeout=ACTION_TIMEOUT)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install chromium "
            "(make test does it via .ci/system-deps.sh)",
            pytrace=False,
        )
    return {"executable_path": CHROMIUM, "headless": True, "args": LAUNCH_ARGS}


@pytest.fixture(scope="session")
def browser_context_args() -> dict:
    return {"viewport": VIEWPORT, "locale": "en-GB", "service_workers": "block"}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The embedded default: SQLite and a filesystem object store in a fresh DATA_DIR."""
    with live_server(tmp_path_factory.mktemp("e2e-embedded")) as running:
        yield running


@pytest.fixture(scope="session")
def mysql_s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The same app on a fresh MySQL/MariaDB database and a private SeaweedFS S3 server."""
    with contextlib.ExitStack() as stack:
        base_url = stack.enter_context(mysql.mysql_server())
        database_url = mysql.create_database(base_url)
        stack.callback(mysql.drop_database, database_url)
        s3 = stack.enter_context(s3_server())
        env = {
            "DATABASE_URL": database_url,
            "S3_ENDPOINT": s3.endpoint,
            "S3_ACCESS_KEY": s3.access_key,
            "S3_SECRET_KEY": s3.secret_key,
        }
        yield stack.enter_context(live_server(tmp_path_factory.mktemp("e2e-mysql-s3"), env))


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    """A local SMTP server for a module's own server (``inbox.mail_settings()``)."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def open_tab(new_context: Callable[..., object]) -> Iterator[Callable[..., Tab]]:
    """Open a tab in a new browser context (a new person) on a server; keyword arguments
    are options of the context (Playwright's ``browser.new_context``).

    At teardown, every tab opened must have seen no request to another host, no console
    or page error and no broken image.
    """
    tabs: list[Tab] = []

    def _open(on: LiveServer, **options: object) -> Tab:
        context = new_context(base_url=on.url, **options)
        context.set_default_timeout(ACTION_TIMEOUT)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT)
        tab = Tab(context.new_page(), on)
        tabs.append(tab)
        return tab

    yield _open
    problems = [f"tab {i + 1}: {p}" for i, tab in enumerate(tabs) for p in tab.problems()]
    assert not problems, "\n".join(problems)


@pytest.fixture
def tab(open_tab: Callable[[LiveServer], Tab], server: LiveServer) -> Tab:
    """A guarded tab on the embedded server."""
    return open_tab(server)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test carries the ``e2e`` marker, so ``make test-quick`` leaves them out.

    The tests of a module here run together and in the order of the file. Pytest puts the
    tests that use the browser apart from those that don't, which split test_scale_out.py
    in two and started its whole stack (MariaDB, SeaweedFS, Redis, two instances, nginx)
    twice, and ran its journey, which kills an instance, before the other tests there."""
    folder = os.path.dirname(__file__)
    first: dict[str, int] = {}
    keys: dict[int, tuple[int, int]] = {}
    for n, item in enumerate(items):
        if str(item.path).startswith(folder):
            item.add_marker(pytest.mark.e2e)
            keys[id(item)] = (first.setdefault(str(item.path), n), item.location[1] or 0)
        else:
            keys[id(item)] = (n, 0)
    items.sort(key=lambda item: keys[id(item)])
