"""Operator commands and the deployment files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from sqlalchemy import inspect

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
