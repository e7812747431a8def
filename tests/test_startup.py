"""The admin from the environment at every server start (gunicorn's ``on_starting``)."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.gunicorn import Gunicorn
from tests.helpers import PASSWORD, audit_rows, login_status, make_user, users_by_name
from web import gunicorn_conf
from web.config import SETTINGS

ADMIN_VARIABLES = ("ADMIN_USERNAME", "ADMIN_PASSWORD", "ADMIN_EMAIL")


class Arbiter:
    """What the hook uses of gunicorn's arbiter: its log."""

    log = logging.getLogger("test.gunicorn")


def server_env(config, **extra: str) -> dict[str, str]:
    """The environment of a server on this test's database and store."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SETTINGS and k not in ADMIN_VARIABLES and not k.startswith("GUNICORN_")
    }
    for name, value in config.items():
        if name in SETTINGS and value is not None:
            env[name] = str(value).lower() if isinstance(value, bool) else str(value)
    env.update(extra)
    return env


@pytest.fixture
def start_env(config, monkeypatch):
    """Put this test's settings in the environment, as an operator starting gunicorn does."""

    def put(**admin: str) -> None:
        for name, value in server_env(config, **admin).items():
            monkeypatch.setenv(name, value)
        for name in ADMIN_VARIABLES:
            if name not in admin:
                monkeypatch.delenv(name, raising=False)

    return put


def test_a_gunicorn_start_makes_the_admin(app, config, tmp_path):
    env = server_env(config, ADMIN_USERNAME="boss", ADMIN_PASSWORD=PASSWORD, GUNICORN_WORKERS="1")
    with Gunicorn(env, tmp_path, label="admin-start") as server:
        log = server.log_tail()
    assert "ADMIN_USERNAME: created admin boss" in log
    assert users_by_name(app) == {"boss": (True, "active")}
    assert login_status(app, "boss") == 302


def test_a_gunicorn_start_stops_with_one_line_on_a_weak_password(app, config, tmp_path):
    env = server_env(config, ADMIN_USERNAME="boss", ADMIN_PASSWORD="weak", GUNICORN_WORKERS="1")
    with pytest.raises(RuntimeError) as failed:
        Gunicorn(env, tmp_path, label="admin-weak", attempts=1).start()
    assert (
        "Error: ADMIN_USERNAME: the admin could not be made: Password refused: "
        "Use at least 10 characters." in str(failed.value)
    )
    assert "Traceback" not in str(failed.value)
    assert users_by_name(app) == {}


def test_the_hook_is_idempotent_and_promotes_an_existing_account(app, start_env):
    start_env(ADMIN_USERNAME="boss", ADMIN_PASSWORD=PASSWORD, ADMIN_EMAIL="boss@example.org")
    gunicorn_conf.on_starting(Arbiter())
    gunicorn_conf.on_starting(Arbiter())  # the next start: nothing changes
    assert users_by_name(app) == {"boss": (True, "active")}
    assert audit_rows(app) == [("(command line)", "create admin", "boss")]
    make_user(app, "plain")
    start_env(ADMIN_USERNAME="plain", ADMIN_PASSWORD="weak")  # kept: plain exists
    gunicorn_conf.on_starting(Arbiter())
    assert users_by_name(app)["plain"] == (True, "active")
    assert login_status(app, "plain") == 302  # the password was not changed


def test_the_hook_does_nothing_without_admin_username(app, start_env):
    start_env(ADMIN_PASSWORD=PASSWORD)
    gunicorn_conf.on_starting(Arbiter())
    assert users_by_name(app) == {}


@pytest.mark.parametrize(
    ("admin", "reason"),
    [
        ({"ADMIN_PASSWORD": "password123"}, "Password refused: "),
        ({}, "ADMIN_PASSWORD is not set"),
        ({"ADMIN_PASSWORD": "boss-Harbor-lantern-9"}, "must not contain your username"),
    ],
)
def test_the_hook_refuses_in_one_line(app, start_env, admin, reason):
    start_env(ADMIN_USERNAME="boss", **admin)
    with pytest.raises(RuntimeError) as failed:
        gunicorn_conf.on_starting(Arbiter())
    message = str(failed.value)
    assert message.startswith("ADMIN_USERNAME: the admin could not be made: ")
    assert reason in message
    assert "\n" not in message
    assert users_by_name(app) == {}


def test_servers_starting_at_once_make_one_admin(app, start_env):
    """Several instances on one database start together: each start succeeds, and there
    is one account, an admin."""
    start_env(ADMIN_USERNAME="boss", ADMIN_PASSWORD=PASSWORD)
    with ThreadPoolExecutor(3) as pool:
        for future in [pool.submit(gunicorn_conf.on_starting, Arbiter()) for _ in range(3)]:
            future.result()
    assert users_by_name(app) == {"boss": (True, "active")}
    assert login_status(app, "boss") == 302


def test_the_hook_names_a_database_without_the_schema(tmp_path, monkeypatch):
    """gunicorn started before `upgrade-db` (or on another DATA_DIR): one line says so."""
    for name in [*SETTINGS, *ADMIN_VARIABLES]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADMIN_USERNAME", "boss")
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD)
    with pytest.raises(RuntimeError) as failed:
        gunicorn_conf.on_starting(Arbiter())
    assert str(failed.value) == (
        "ADMIN_USERNAME: the admin could not be made: The database "
        f"{tmp_path / 'imgrepo.sqlite3'} has no tables yet: run `flask --app web upgrade-db` "
        "to create them, or give this command the same DATA_DIR as the server."
    )


@pytest.mark.parametrize(("redis", "said"), [(None, True), ("redis://127.0.0.1:6379/0", False)])
def test_several_workers_without_redis_say_limits_are_per_process(monkeypatch, caplog, redis, said):
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    monkeypatch.setattr(gunicorn_conf, "workers", 2)
    if redis:
        monkeypatch.setenv("REDIS_URL", redis)
    else:
        monkeypatch.delenv("REDIS_URL", raising=False)
    with caplog.at_level(logging.INFO, logger="test.gunicorn"):
        gunicorn_conf.on_starting(Arbiter())
    line = "REDIS_URL is not set: login and API limits are counted in each of the 2 worker"
    assert any(line in r.getMessage() for r in caplog.records) is said


def test_store_reads_leave_a_thread_for_pages():
    reads = dict(item.split("=", 1) for item in gunicorn_conf.raw_env)["STORE_READS_PER_WORKER"]
    expected = os.environ.get("STORE_READS_PER_WORKER", str(max(1, gunicorn_conf.threads - 1)))
    assert reads == expected
