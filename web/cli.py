"""Operator commands: ``flask --app web <command>``."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from . import imaging, jobs, migrate
from .accounts.passwords import create_account, set_temporary
from .accounts.registration import find_user, register
from .admin.actions import ensure_admin
from .extensions import db
from .images import renditions
from .images.naming import ensure_public_bucket
from .images.upload import upload
from .models import PUBLIC
from .operations import backup
from .operations import fsck as fsck_module
from .rules import RuleError

EXAMPLES = Path(__file__).resolve().parent.parent / "example_images"


def init_app(app: Flask) -> None:
    app.cli.add_command(upgrade_db)
    app.cli.add_command(make_migration)
    app.cli.add_command(fsck)
    app.cli.add_command(make_renditions)
    app.cli.add_command(load_examples)
    app.cli.add_command(create_admin)
    app.cli.add_command(set_password)
    app.cli.add_command(export_snapshot)
    app.cli.add_command(import_snapshot)
    app.cli.add_command(create_user)
    app.cli.add_command(worker)


@click.command("upgrade-db")
@with_appcontext
def upgrade_db() -> None:
    """Apply the database migrations and create the public bucket."""
    migrate.upgrade(db.engine)
    ensure_public_bucket()
    click.echo("database is up to date")


@click.command("make-migration")
@with_appcontext
@click.argument("message")
def make_migration(message: str) -> None:
    """(Developers) write a migration for the difference between the models and the database."""
    migrate.revision(db.engine, message)


def needs_schema(command: Callable[..., Any]) -> Callable[..., Any]:
    """Stop a command with one sentence, not a database traceback, when the database it
    finds has no schema yet or an older one (every command but upgrade-db needs it)."""

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        problem = schema_problem()
        if problem:
            raise click.ClickException(problem)
        return command(*args, **kwargs)

    return checked


def schema_problem() -> str | None:
    """Why the database cannot serve this version yet, in one sentence (None: it can).

    The usual cause is a command run with another DATA_DIR than the server's: it then
    finds (and creates) an empty database of its own, so the sentence names the database.
    """
    engine = db.engine
    url = engine.url
    embedded = url.get_backend_name() == "sqlite" and url.database
    where = url.database if embedded else url.render_as_string(hide_password=True)
    try:
        if migrate.is_current(engine):
            return None
        applied = migrate.applied(engine)
    except OperationalError as exc:
        return f"The database {where} does not answer: {exc.orig}."
    if applied:
        return (
            f"The database {where} has an older schema than this version: "
            "run `flask --app web upgrade-db` first."
        )
    same = "the same DATA_DIR" if embedded else "the same DATABASE_URL"
    return (
        f"The database {where} has no tables yet: run `flask --app web upgrade-db` to "
        f"create them, or give this command {same} as the server."
    )


@click.command("worker")
@with_appcontext
@needs_schema
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def worker(burst: bool) -> None:
    """Run the background jobs queued in Redis (REDIS_URL, queue JOB_QUEUE)."""
    if not current_app.config.get("REDIS_URL"):
        raise click.UsageError(
            "REDIS_URL is not set: without Redis, each web process runs its own jobs "
            "and no worker is needed."
        )
    click.echo(f"worker: running the jobs of queue {current_app.config['JOB_QUEUE']}")
    jobs.work(current_app._get_current_object(), burst=burst)  # type: ignore[attr-defined]


@click.command("fsck")
@with_appcontext
@needs_schema
@click.option("--dry-run", is_flag=True, help="Only report what would be repaired.")
@click.option("--grace-minutes", type=int, default=None, help="Leave newer leftovers alone.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def fsck(dry_run: bool, grace_minutes: int | None, as_json: bool) -> None:
    """Find and repair leftovers: orphan objects, unfinished uploads, deletes and moves."""
    grace = dt.timedelta(minutes=grace_minutes) if grace_minutes is not None else None
    report = fsck_module.run(dry_run=dry_run, grace=grace)
    if as_json:
        click.echo(json.dumps(report.__dict__, indent=2))
    else:
        click.echo(f"found {len(report.found)} problem(s)" + (" (dry run)" if dry_run else ""))
        for line in report.found:
            click.echo(f"  found: {line}")
        for line in report.done:
            click.echo(f"  repaired: {line}")
        for line in report.failed:
            click.echo(f"  FAILED: {line}")
    if report.failed:
        raise SystemExit(1)


@click.command("renditions")
@with_appcontext
@needs_schema
@click.option(
    "--missing",
    "which",
    flag_value="missing",
    default=True,
    help="Make only what is missing (the default).",
)
@click.option("--all", "which", flag_value="all", help="Make every preview and thumbnail again.")
def make_renditions(which: str) -> None:
    """Make the previews (and missing thumbnails) of images uploaded before, or of
    images whose preview a stopped process never made."""
    everything = which == "all"
    items = renditions.images_needing(everything)
    made = renditions.run_all(_progress_bar("images", items), everything)
    problems = [problem for problem in made if problem]
    for line in problems:
        click.echo(f"  FAILED: {line}")
    click.echo(f"made the renditions of {len(items) - len(problems)} of {len(items)} image(s)")
    if problems:
        raise SystemExit(1)


def _progress_bar(label: str, items: list):
    """Show a progress bar on standard error while ``items`` are worked through."""
    with click.progressbar(items, label=f"{label:8}", file=sys.stderr) as bar:
        yield from bar


@click.command("export")
@with_appcontext
@needs_schema
@click.argument("dest", type=click.Path(path_type=Path))
def export_snapshot(dest: Path) -> None:
    """Write every row and every object, with a manifest of SHA-256s, to DEST (a new
    directory, or a file ending in .tar); the app may keep serving meanwhile."""
    try:
        summary = backup.export(dest, progress=_progress_bar)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(_summary("exported to", dest, summary))


@click.command("import")
@with_appcontext
@needs_schema
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Delete the rows the target holds first.")
def import_snapshot(src: Path, force: bool) -> None:
    """Load a snapshot made by `export` (a directory or a .tar) into this repository,
    on whichever backend it is configured; it must be empty unless --force."""
    try:
        summary = backup.load(src, force=force, progress=_progress_bar)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    ensure_public_bucket()
    click.echo(_summary("imported from", src, summary))


def _summary(done: str, where: Path, summary: backup.Summary) -> str:
    counts = ", ".join(f"{n} {name}" for name, n in summary.rows.items() if n)
    text = f"{done} {where}: {counts or 'no rows'}; {summary.objects} objects"
    if summary.left_out:
        text += (
            f"; left out {len(summary.left_out)} image(s) deleted or moved while exporting "
            f"(ids {', '.join(map(str, summary.left_out))})"
        )
    return text


@click.command("load-examples")
@with_appcontext
@needs_schema
@click.option("--username", default="demo", show_default=True)
@click.option(
    "--folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=EXAMPLES,
    show_default=True,
)
def load_examples(username: str, folder: Path) -> None:
    """Load the sample images as public images of a demo user (created if missing)."""
    user = find_user(username)
    if user is None:
        password = secrets.token_urlsafe(18)
        user = register("Demo user", username, "demo@example.invalid", password)
        click.echo(f"created user {username} with password {password}")
    loaded = 0
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in imaging.SUFFIXES:
            continue
        with path.open("rb") as handle:
            try:
                upload(user, handle, path.name, PUBLIC)
                loaded += 1
            except RuleError as exc:
                click.echo(f"skipped {path.name}: {exc}")
    click.echo(f"loaded {loaded} image(s) into {current_app.config['PUBLIC_BUCKET']}")


@click.command("create-admin")
@with_appcontext
@needs_schema
@click.argument("username", required=False)
@click.option(
    "--from-env",
    is_flag=True,
    help="Read ADMIN_USERNAME and ADMIN_PASSWORD (container start-up); safe to repeat.",
)
@click.option("--name", default="", help="Display name of a new account (default: the username).")
@click.option("--email", envvar="ADMIN_EMAIL", default="", help="Email of a new account.")
def create_admin(username: str | None, from_env: bool, name: str, email: str) -> None:
    """Make USERNAME an admin, creating the account when it does not exist.

    A new account's password comes from ADMIN_PASSWORD or is asked for (twice), and
    must pass the sign-up rules. An existing account is promoted; its password is kept.
    """
    if from_env:
        if username:
            raise click.UsageError("give either USERNAME or --from-env, not both")
        username = os.environ.get("ADMIN_USERNAME", "").strip()
        if not username:
            raise click.ClickException("ADMIN_USERNAME is not set")
    elif not username:
        raise click.UsageError("give the USERNAME of the admin, or --from-env")

    def password() -> str:
        supplied = os.environ.get("ADMIN_PASSWORD")
        if supplied:
            return supplied
        if from_env:
            raise click.ClickException("ADMIN_PASSWORD is not set")
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)

    try:
        click.echo(ensure_admin(username, password, name, email))
    except RuleError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("set-password")
@with_appcontext
@needs_schema
@click.argument("username")
def set_password(username: str) -> None:
    """Give USERNAME a temporary password (printed once): every session of theirs ends,
    and they choose a new password when they next log in."""
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"There is no user {username}.")
    temporary = set_temporary(None, user)
    click.echo(
        f"Temporary password of {user.username}: {temporary}\n"
        "They must choose a new password when they next log in."
    )


@click.command("create-user")
@with_appcontext
@needs_schema
@click.argument("username")
@click.argument("email")
@click.option("--name", default="", help="Display name (default: the username).")
def create_user(username: str, email: str, name: str) -> None:
    """Make an account for USERNAME (whatever REGISTRATION says) with a temporary password,
    printed once: they choose their own when they first log in."""
    try:
        user, temporary = create_account(None, username, email, name)
    except RuleError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Created {user.username}. Temporary password: {temporary}\n"
        "They must choose a new password when they first log in."
    )
