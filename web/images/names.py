"""The index of names that a gallery's search uses: every three-character part (trigram)
of each image's name, folded by the database's own ``lower()`` as the search's
``lower(filename) LIKE`` folds it (every letter on MySQL, ASCII letters on SQLite), so a
name the LIKE finds has every trigram of the folded query in the index.

Written by whoever sets a name, in the transaction that sets it (an upload's claim, a
rename, an undone rename, a restore from the trash, an import), so no name is ever
without its trigrams; the rows go with their image (ON DELETE CASCADE). The rows of a
DELETING holder of an old name are not written: no gallery lists it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from ..models import Image, NameTrigram

GRAM = 3
BATCH = 2000  # images read and written a statement when the whole index is built


def trigrams(folded: str) -> set[str]:
    """The distinct three-character parts of ``folded`` (none if it is shorter)."""
    return {folded[i : i + GRAM] for i in range(len(folded) - GRAM + 1)}


def index_names(db: Session | Connection, image_ids: Sequence[int], new: bool = False) -> None:
    """Write the trigrams of these images' names as they are now in ``db``'s transaction
    (their old ones go first, unless the rows are ``new``). The caller commits."""
    ids = list(image_ids)
    if not ids:
        return
    if not new:  # a new row has none: a deleted row's went with it (ON DELETE CASCADE)
        db.execute(delete(NameTrigram).where(NameTrigram.image_id.in_(ids)))
    folded = db.execute(select(Image.id, func.lower(Image.filename)).where(Image.id.in_(ids)))
    _insert(db, folded)


def index_all(db: Session | Connection) -> int:
    """Build the index of every image from scratch, ``BATCH`` images a statement (an
    import, or a repository from before the index); returns how many images."""
    db.execute(delete(NameTrigram))
    last, done = 0, 0
    while True:
        rows = db.execute(
            select(Image.id, func.lower(Image.filename))
            .where(Image.id > last)
            .order_by(Image.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return done
        _insert(db, rows)
        last, done = rows[-1][0], done + len(rows)


def _insert(db: Session | Connection, folded: Iterable) -> None:
    values = [
        {"gram": gram, "image_id": image_id}
        for image_id, name in folded
        for gram in trigrams(name or "")
    ]
    if values:
        db.execute(insert(NameTrigram), values)
