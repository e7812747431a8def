"""Fixtures: the app on both backends, a client, logged-in users.

Every test that takes ``app`` (or anything built on it) runs twice: on the embedded
default (SQLite + files) and on MySQL/MariaDB + S3 (SeaweedFS). The real servers start
once per run; a server that cannot start fails the run, it never skips. The plain helpers
(factories, readers of pages and rows) are in tests/helpers.py.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from werkzeug import security

from support import mysql
from support.s3 import S3Server, s3_server
from tests.helpers import Auth, backend_config, build_app, teardown_app
from web import migrate, models
from web.accounts import registration
from web.albums import links

BACKENDS = ["sqlite-files", "mysql-s3"]

# Passwords of test users are hashed with few rounds: the app's scrypt costs 0.1-0.3 s a
# hash on this machine and a test makes and checks several, minutes over the whole run.
# Tests about the hashing itself carry ``@pytest.mark.real_password_hashing``.
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1000"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_password_hashing: the test sees passwords hashed as the app does"
    )


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest) -> Iterator[None]:
    """Hash passwords with few rounds, unless the test is about the hashing. The hash that
    unknown users' logins are checked against is kept per process, so it is made anew.

    A private MonkeyPatch, not the ``monkeypatch`` fixture: an autouse fixture that took
    it would make the test's own patches (a dead object store…) outlive the app's
    teardown, which needs the real ones."""
    with pytest.MonkeyPatch.context() as patch:
        if not request.node.get_closest_marker("real_password_hashing"):
            cheap = functools.partial(security.generate_password_hash, method=CHEAP_PASSWORD_HASH)
            for module in (models, registration, links):
                patch.setattr(module, "generate_password_hash", cheap)
        registration._dummy_hash.cache_clear()
        yield
        registration._dummy_hash.cache_clear()


# --- real services, once per run ----------------------------------------------------


@pytest.fixture(scope="session")
def mysql_base_url() -> Iterator[str]:
    """The MySQL/MariaDB server of this run (its URL without a database)."""
    with mysql.mysql_server() as base_url:
        yield base_url


@pytest.fixture(scope="session")
def mysql_database(mysql_base_url: str) -> Iterator[str]:
    """A fresh MySQL/MariaDB database with the schema from the migrations."""
    url = mysql.create_database(mysql_base_url)
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        yield url
    finally:
        engine.dispose()
        mysql.drop_database(url)


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """The S3 server of this run; its buckets share one SeaweedFS collection, so that a
    test's new buckets take writes at once (support/s3.py, ``_one_collection``)."""
    with s3_server(one_collection=True) as server:
        yield server


# --- the application on each backend ------------------------------------------------


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def config(request: pytest.FixtureRequest, backend: str, tmp_path) -> dict[str, Any]:
    """Per-test settings; a test may change them before it first asks for ``app``."""
    return backend_config(request, backend, tmp_path)


@pytest.fixture
def app(config: dict[str, Any]) -> Iterator[Flask]:
    application = build_app(config)
    yield application
    teardown_app(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- logged-in users and a second browser -------------------------------------------


@pytest.fixture
def auth(client: FlaskClient, app: Flask) -> Auth:
    return Auth(client, app)


@pytest.fixture
def other_client(app: Flask) -> FlaskClient:
    """A second browser: another user's session."""
    return app.test_client()


# --- what ran, said at the end of the run ----------------------------------------------


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say how many tests passed on each backend and in the browser, so that a CI log
    shows the MySQL + S3 and end-to-end tests ran rather than being skipped."""
    groups: dict[str, dict[str, int]] = {}
    e2e_passed: list[str] = []
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            nodeid = report.nodeid
            if "/e2e/" in nodeid:
                group = "end-to-end (Chromium)"
                if outcome == "passed":
                    e2e_passed.append(nodeid.split("::", 1)[1])
            elif "[mysql-s3" in nodeid:
                group = "MySQL/MariaDB + S3 (SeaweedFS)"
            elif "[sqlite-files" in nodeid:
                group = "SQLite + files"
            else:
                group = "backend-independent"
            counts = groups.setdefault(group, {})
            counts[outcome] = counts.get(outcome, 0) + 1
    if not groups:
        return
    terminalreporter.section("tests by backend")
    for group, counts in groups.items():
        text = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        terminalreporter.write_line(f"{group}: {text}")
    for name in e2e_passed:
        terminalreporter.write_line(f"  passed in the browser: {name}")
