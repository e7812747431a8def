"""Schema migrations with Alembic, run on the application's own engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from .locks import named_lock

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


MIGRATION_LOCK_WAIT = 600  # seconds another instance may take to migrate


class MigrationBusy(RuntimeError):
    """Another instance held the migration lock for longer than we wait."""


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (the latest by default).

    Instances starting at once take turns: one migrates while the others wait for the
    lock, then find nothing left to do.
    """
    config = alembic_config()
    with named_lock(engine, "migrate", MIGRATION_LOCK_WAIT) as got:
        if not got:
            raise MigrationBusy(
                f"another instance has been migrating for over {MIGRATION_LOCK_WAIT} s"
            )
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database schema back to ``revision`` ("base": no tables)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def is_current(engine: Engine) -> bool:
    """True when the database is at the latest migration."""
    return applied(engine) == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def applied(engine: Engine) -> set[str]:
    """The migrations the database is at; empty when it has no schema yet."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def revision(engine: Engine, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
