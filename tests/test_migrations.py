"""Migrations under concurrency: instances starting at once all start; one migrates
while the others wait for the lock, and none fails."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from support import mysql
from web import migrate

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = 4
UPGRADE = (
    "import sys; from sqlalchemy import create_engine; from web import migrate; "
    "migrate.upgrade(create_engine(sys.argv[1]))"
)


@pytest.fixture(params=["sqlite", "mysql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any table, on each kind of server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url = mysql.create_database(request.getfixturevalue("mysql_base_url"))
    try:
        yield url
    finally:
        mysql.drop_database(url)


def test_instances_migrating_at_once_all_succeed(empty_database: str) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE, empty_database],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(INSTANCES)
    ]
    outcomes = [(p.wait(timeout=120), p.stdout.read() if p.stdout else "") for p in processes]
    assert [code for code, _ in outcomes] == [0] * INSTANCES, outcomes
    engine = create_engine(empty_database)
    try:
        assert migrate.is_current(engine)
    finally:
        engine.dispose()


def test_a_migration_that_waits_too_long_says_so(tmp_path: Path, monkeypatch) -> None:
    """When another instance keeps the lock past the wait, the error names the reason."""
    engine = create_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    monkeypatch.setattr(migrate, "MIGRATION_LOCK_WAIT", 0)
    try:
        with migrate.named_lock(engine, "migrate") as held:
            assert held
            with pytest.raises(migrate.MigrationBusy, match="another instance has been migrating"):
                migrate.upgrade(engine)
        migrate.upgrade(engine)
        assert migrate.is_current(engine)
    finally:
        engine.dispose()
