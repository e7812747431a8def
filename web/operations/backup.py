"""Export the whole repository to a directory or a .tar, and import it into an empty one
on any backend (SQLite + files to MySQL + S3 and back).

A snapshot holds every row of every table (users, images, comments, audit log, tokens,
sessions, share links: whatever the schema has; not the index of names, which the import
builds again) as JSON lines, every object the image rows name (originals and
thumbnails), and ``manifest.json`` with the schema revision, the row counts, and each
object's bucket, key, size and SHA-256.

Consistency while the app serves: the rows are read in one transaction (a consistent
snapshot on MySQL/MariaDB, a WAL read transaction on SQLite), so they are all of one
moment. The objects are read afterwards; they never change under a key, but an image
deleted or moved to the other visibility after that moment has lost its object by the
time it is read: such an image is left out with the rows that depend on it (its comments,
its share links), and the manifest lists it under ``left_out``. Anything uploaded after
the moment is not in the snapshot.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Connection, Table, select, text

from ..extensions import db, storage
from ..images.names import index_all
from ..models import Base, NameTrigram
from ..storage import ObjectMissing

FORMAT = 1
MANIFEST = "manifest.json"
CONTENT_TYPE = "application/octet-stream"

# progress(label, items) -> the same items, shown as they pass (a progress bar, or nothing)
Progress = Callable[[str, list], Iterable]


class BackupError(Exception):
    """The snapshot cannot be written or loaded; the message says why."""


def _quiet(label: str, items: list) -> Iterable:
    return items


@dataclass
class Summary:
    rows: dict[str, int]
    objects: int
    left_out: list[int]


# --- export ---------------------------------------------------------------------------


def export(dest: Path, progress: Progress = _quiet) -> Summary:
    """Write a snapshot to ``dest``: a new or empty directory, or a file ending in .tar."""
    as_tar = dest.suffix == ".tar"
    if as_tar:
        if dest.exists():
            raise BackupError(f"{dest} exists already: choose a new file name")
        with _scratch_dir(dest.parent) as work:
            summary = _export_to(work, progress)
            with tarfile.open(dest, "w") as archive:
                archive.add(work, arcname=".")
        return summary
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} is not an empty directory: choose a new one")
    dest.mkdir(parents=True, exist_ok=True)
    return _export_to(dest, progress)


def _saved_tables() -> list[Table]:
    """The tables a snapshot holds: all but the index of names, which is derived from
    the images (and folded as the importing database folds, which may differ)."""
    return [t for t in Base.metadata.sorted_tables if t.name != NameTrigram.__tablename__]


def _export_to(folder: Path, progress: Progress) -> Summary:
    tables = _saved_tables()
    with db.engine.connect() as conn:
        _begin_snapshot(conn)
        revision = _revision(conn)
        rows = {t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in tables}
        conn.rollback()
    images = rows.get("images", [])
    (folder / "objects").mkdir()
    entries: list[dict[str, Any]] = []
    gone: set[int] = set()
    for image in progress("objects", images):
        for kind in ("object_key", "thumb_key"):
            key = image.get(kind)
            if not key:
                continue
            try:
                entry = _save_object(folder, len(entries), image["bucket"], key)
            except ObjectMissing:
                if kind == "object_key":
                    gone.add(image["id"])
                continue
            entries.append(entry)
    if gone:
        _leave_out(rows, gone)
        entries = [e for e in entries if not _orphaned(e, rows)]
    (folder / "tables").mkdir()
    for table in progress("tables", tables):
        with (folder / "tables" / f"{table.name}.jsonl").open("w", encoding="utf-8") as out:
            for row in rows[table.name]:
                out.write(json.dumps({k: _encode(v) for k, v in row.items()}) + "\n")
    config = current_app.config
    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "schema_revision": revision,
        "public_bucket": config["PUBLIC_BUCKET"],
        "user_bucket_prefix": config["USER_BUCKET_PREFIX"],
        "rows": {name: len(values) for name, values in rows.items()},
        "objects": entries,
        "left_out": sorted(gone),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return Summary(manifest["rows"], len(entries), sorted(gone))


def _begin_snapshot(conn: Connection) -> None:
    if conn.dialect.name == "mysql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


def _revision(conn: Connection) -> str | None:
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _save_object(folder: Path, number: int, bucket: str, key: str) -> dict[str, Any]:
    name = f"objects/{number:08d}"
    digest = hashlib.sha256()
    size = 0
    with (folder / name).open("wb") as out:
        for chunk in storage.store.open(bucket, key):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return {"bucket": bucket, "key": key, "file": name, "size": size, "sha256": digest.hexdigest()}


def _leave_out(rows: dict[str, list[dict]], image_ids: set[int]) -> None:
    """Drop the images whose original vanished, and every row that points at them."""
    rows["images"] = [r for r in rows["images"] if r["id"] not in image_ids]
    for table in _saved_tables():
        for fk in table.foreign_keys:
            if fk.column.table.name == "images" and fk.column.name == "id":
                column = fk.parent.name
                rows[table.name] = [r for r in rows[table.name] if r[column] not in image_ids]


def _orphaned(entry: dict, rows: dict[str, list[dict]]) -> bool:
    """Whether an object's image was left out (no remaining row names it)."""
    named = {(r["bucket"], r["object_key"]) for r in rows["images"]}
    named |= {(r["bucket"], r["thumb_key"]) for r in rows["images"] if r.get("thumb_key")}
    return (entry["bucket"], entry["key"]) not in named


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$datetime" in value:
            return dt.datetime.fromisoformat(value["$datetime"])
        if "$bytes" in value:
            return base64.b64decode(value["$bytes"])
    return value


# --- import ---------------------------------------------------------------------------


def load(src: Path, force: bool = False, progress: Progress = _quiet) -> Summary:
    """Load a snapshot from ``src`` (a directory or a .tar) into this repository, which
    must be empty unless ``force`` (then its rows are deleted first)."""
    if not src.exists():
        raise BackupError(f"{src} does not exist")
    if src.is_dir():
        return _load_from(src, force, progress)
    with _scratch_dir(src.parent) as work:
        try:
            with tarfile.open(src) as archive:
                archive.extractall(work, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise BackupError(f"{src} is not a snapshot archive: {exc}") from None
        return _load_from(work, force, progress)


def _load_from(folder: Path, force: bool, progress: Progress) -> Summary:
    manifest = _read_manifest(folder)
    tables = Base.metadata.sorted_tables
    with db.engine.begin() as conn:
        if manifest["schema_revision"] != _revision(conn):
            raise BackupError(
                f"the snapshot has schema {manifest['schema_revision']}, this version "
                f"{_revision(conn)}: import it with the version that made it"
            )
        filled = [t.name for t in tables if conn.execute(select(t).limit(1)).first()]
        if filled and not force:
            raise BackupError(
                "the target repository is not empty (rows in "
                + ", ".join(filled)
                + "): import into an empty one, or pass --force to delete its rows first"
            )
    for entry in progress("checking", manifest["objects"]):
        path = folder / entry["file"]
        named = re.fullmatch(r"objects/\d{8}", str(entry.get("file", "")))
        if not named or not path.is_file() or _sha256(path) != entry["sha256"]:
            raise BackupError(f"{entry['file']} does not match its SHA-256 in the manifest")
    with db.engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
    # Objects before rows: an import that stops half-way leaves objects no row names
    # (fsck removes them), never a row without its object.
    rename = _bucket_renamer(manifest)
    store = storage.store
    for entry in progress("objects", manifest["objects"]):
        path = folder / entry["file"]
        bucket = rename(entry["bucket"])
        store.ensure_bucket(bucket)
        store.put_file(bucket, entry["key"], str(path), CONTENT_TYPE)
    with db.engine.begin() as conn:
        for table in progress("tables", _saved_tables()):
            _insert_rows(conn, table, folder / "tables" / f"{table.name}.jsonl", rename)
        index_all(conn)
    return Summary(manifest["rows"], len(manifest["objects"]), manifest["left_out"])


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        raise BackupError(f"{folder} holds no readable {MANIFEST}: is it a snapshot?") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown snapshot format {manifest.get('format')!r}")
    return manifest


def _bucket_renamer(manifest: dict[str, Any]) -> Callable[[str], str]:
    """Buckets of the snapshot as this repository names them (its PUBLIC_BUCKET and
    USER_BUCKET_PREFIX may differ from the source's)."""
    config = current_app.config
    public, prefix = manifest["public_bucket"], manifest["user_bucket_prefix"]

    def rename(bucket: str) -> str:
        if bucket == public:
            return config["PUBLIC_BUCKET"]
        if bucket.startswith(prefix):
            return config["USER_BUCKET_PREFIX"] + bucket[len(prefix) :]
        return bucket

    return rename


def _insert_rows(conn: Connection, table: Table, path: Path, rename: Callable) -> None:
    if not path.exists():
        return
    batch: list[dict[str, Any]] = []
    for row in _lines(path):
        values = {k: _decode(v) for k, v in row.items() if k in table.c}
        if "bucket" in values and values["bucket"]:
            values["bucket"] = rename(values["bucket"])
        batch.append(values)
        if len(batch) >= 500:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _scratch_dir(near: Path) -> Iterator[Path]:
    """A temporary directory beside ``near`` (same disk as the snapshot), removed after."""
    near.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".imgrepo-snapshot-", dir=near))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
