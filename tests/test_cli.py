"""Operator commands and the deployment files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from support import mysql
from tests.helpers import image_rows, objects
from web import create_app, migrate
from web.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def test_upgrade_db_creates_the_schema_and_public_bucket(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["upgrade-db"])
    assert result.exit_code == 0, result.output
    assert "database is up to date" in result.output
    with app.app_context():
        assert {"users", "images", "alembic_version"} <= set(inspect(db.engine).get_table_names())
        assert migrate.is_current(db.engine)
    assert (tmp_path / "objects" / "public").is_dir()


def test_models_and_migrations_agree(app):
    """Autogenerate finds nothing to add: the migrations build exactly the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from web.models import Base

    with app.app_context(), db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_load_examples_loads_the_sample_images_as_public_images(app):
    result = app.test_cli_runner().invoke(args=["load-examples"])
    assert result.exit_code == 0, result.output
    samples = sorted(
        p.name
        for p in (ROOT / "example_images").iterdir()
        if p.suffix in {".jpg", ".png", ".gif", ".webp"}
    )
    assert len(samples) >= 5
    rows = image_rows(app)
    assert sorted(r[0] for r in rows) == samples
    assert {r[1] for r in rows} == {"public"}
    pub = app.config["PUBLIC_BUCKET"]
    assert {f"{pub}/{name}" for name in samples} <= objects(app)
    again = app.test_cli_runner().invoke(args=["load-examples"])
    assert again.exit_code == 0
    assert "already exists" in again.output
    assert len(image_rows(app)) == len(samples)


def test_docker_compose_file_is_valid():
    assert shutil.which("docker-compose"), "make test installs docker-compose (.ci/system-deps.sh)"
    result = subprocess.run(
        ["sh", str(ROOT / "docker" / "check-compose.sh")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_go_down_and_up_again(app):
    with app.app_context():
        migrate.downgrade(db.engine, "base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(db.engine)
        assert migrate.is_current(db.engine)
        assert {"users", "images", "user_sessions"} <= set(inspect(db.engine).get_table_names())


# --- a database without the schema ------------------------------------------------------

NEED_NO_SCHEMA = {"upgrade-db", "make-migration"}


@pytest.fixture
def unmigrated_app(backend, config, request):
    """The app on a database that has no tables: a fresh DATA_DIR, or a new MySQL database."""
    if backend == "mysql-s3":
        url = make_url(request.getfixturevalue("mysql_database"))
        base = url.set(database="").render_as_string(hide_password=False)
        config["DATABASE_URL"] = mysql.create_database(base)
        request.addfinalizer(lambda: mysql.drop_database(config["DATABASE_URL"]))
    app = create_app(config)
    yield app
    with app.app_context():
        db.engine.dispose()


def every_command(app):
    """(name, arguments) of each operator command, with a value for each required one."""
    for name, command in sorted(app.cli.commands.items()):
        if name not in NEED_NO_SCHEMA:
            required = [p for p in command.params if p.required and not p.opts[0].startswith("-")]
            yield name, ["someone"] * len(required)


def test_every_command_names_a_database_without_the_schema(unmigrated_app, backend):
    app = unmigrated_app
    url = make_url(app.config["DATABASE_URL"])
    if backend == "sqlite-files":
        expected = (
            f"Error: The database {url.database} has no tables yet: run `flask --app web "
            "upgrade-db` to create them, or give this command the same DATA_DIR as the server."
        )
    else:
        expected = (
            f"Error: The database {url.render_as_string(hide_password=True)} has no tables "
            "yet: run `flask --app web upgrade-db` to create them, or give this command the "
            "same DATABASE_URL as the server."
        )
    commands = list(every_command(app))
    assert {"fsck", "load-examples", "create-admin"} <= {name for name, _ in commands}
    for name, arguments in commands:
        result = app.test_cli_runner().invoke(args=[name, *arguments])
        assert result.exit_code == 1, (name, result.output)
        assert result.output.strip() == expected, name
    with app.app_context():
        assert migrate.applied(db.engine) == set()  # nothing was written


def test_a_command_names_a_database_at_an_older_schema(app):
    with app.app_context():
        migrate.downgrade(db.engine, "-1")
        try:
            result = app.test_cli_runner().invoke(args=["fsck"])
        finally:  # the MySQL database is shared by the whole run
            migrate.upgrade(db.engine)
    assert result.exit_code == 1
    assert "has an older schema than this version: run `flask --app web upgrade-db` first." in (
        result.output
    )
    assert app.test_cli_runner().invoke(args=["fsck"]).exit_code == 0


def test_a_command_says_when_the_database_does_not_answer(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/x.db", "SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["fsck"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: The database {tmp_path}/missing/x.db does not answer: "
        "unable to open database file."
    )
