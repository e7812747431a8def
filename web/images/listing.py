"""Gallery pages: one scope's images, searched by name and sorted by date, name or size,
a page at a time (keyset pagination, so a deep page costs what the first one does)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, func, literal, or_, select, union_all
from sqlalchemy.orm import lazyload, load_only

from ..extensions import db
from ..models import (
    PRIVATE,
    PUBLIC,
    VISIBLE_STATES,
    Comment,
    Image,
    NameTrigram,
    User,
    scope_for,
)
from ..paging import decode_cursor, encode_cursor
from .names import trigrams

SORTS = {
    # name -> (column, descending, the index that serves it, the type of its cursor value)
    "date": (Image.id, True, "ix_images_scope_id", int),
    "name": (Image.filename, False, "uq_images_scope_filename", str),
    "size": (Image.size, True, "ix_images_scope_size", int),
}


@dataclass
class Page:
    images: list[Image]
    next_cursor: str | None
    sort: str
    query: str
    # How many comments each public image of the page has (those without any are left out).
    comment_counts: dict[int, int] = field(default_factory=dict)
    # The owner's username of each image, by the image's id (read with the page for cards).
    owners: dict[int, str] = field(default_factory=dict)


def list_images(
    scope: int | tuple[int, ...],
    sort: str = "date",
    query: str = "",
    cursor: str | None = None,
    limit: int = 48,
) -> Page:
    """One page of a gallery (keyset pagination), straight from the database. ``scope``
    may name several scopes (the API lists the public ones and the caller's private ones)."""
    return list_pages([(scope, cursor)], sort, query, limit)[0]


# What a gallery's cards show of an image (``list_pages(cards=True)``), and of its owner
# only the username, read as a column of the same row: a page reads about a hundred rows,
# every column fewer is one less for the driver to decode (PyMySQL does it in Python),
# and a User loaded for each row (an owner's row has many columns) cost the page about
# 2 ms more in the ORM.
CARD_COLUMNS = (
    Image.id,
    Image.owner_id,
    Image.filename,
    Image.visibility,
    Image.scope,
    Image.state,
    Image.thumb_key,
    Image.content_type,
    Image.size,
    Image.width,
    Image.height,
    Image.thumb_width,
    Image.thumb_height,
    Image.created_at,
)


def list_pages(
    wanted: list[tuple[int | tuple[int, ...], str | None]],
    sort: str = "date",
    query: str = "",
    limit: int = 48,
    cards: bool = False,
) -> list[Page]:
    """A page of each of several galleries (``wanted``: their scopes and cursors), in the
    same sort and search, with their comment counts: one database round trip for them all
    (/myfiles shows the public gallery and the user's own). Each page's ids come from its
    own index walk (at most ``limit`` + 1 rows, however large the gallery); the images are
    then read by id. ``cards``: only what a gallery's cards show (``CARD_COLUMNS``) is
    read; any other column of those images would be read on first use, a query each."""
    sort = sort if sort in SORTS else "date"
    column, descending, _index, _kind = SORTS[sort]
    query = (query or "").strip()[:100]
    search = _search(query)
    parts = [
        _page_ids(scope, sort, search, cursor, limit).add_columns(literal(n).label("part"))
        for n, (scope, cursor) in enumerate(wanted)
    ]
    # Each part keeps its ORDER BY and LIMIT inside a subquery (SQLite allows neither on
    # the members of a UNION).
    chosen = union_all(*[part.subquery().select() for part in parts]).subquery()
    comments = (
        select(func.count(Comment.id))
        .where(Comment.image_id == Image.id)
        .correlate(Image)
        .scalar_subquery()
    )
    stmt = (
        select(Image, chosen.c.part, comments, User.username if cards else literal(""))
        .join(chosen, chosen.c.id == Image.id)
        .order_by(chosen.c.part, *_order(column, descending))
    )
    if cards:  # the owner's name as a column, not the owner (loaded with every image)
        stmt = stmt.join(User, User.id == Image.owner_id).options(
            load_only(*CARD_COLUMNS), lazyload(Image.owner)
        )
    found: list[list[Image]] = [[] for _ in wanted]
    counts: list[dict[int, int]] = [{} for _ in wanted]
    owners: dict[int, str] = {}
    for image, part, count, owner in db.session.execute(stmt):
        found[part].append(image)
        if cards:
            owners[image.id] = owner
        if count and image.visibility == PUBLIC:
            counts[part][image.id] = int(count)
    pages = []
    for rows, page_counts in zip(found, counts, strict=True):
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = encode_cursor(getattr(last, column.key), last.id)
        pages.append(Page(rows, next_cursor, sort, query, page_counts, owners))
    return pages


def _page_ids(
    scope: int | tuple[int, ...], sort: str, search: Search, cursor: str | None, limit: int
) -> Select:
    """The ids of one gallery page and the next page's first, in order (keyset)."""
    column, descending, index, kind = SORTS[sort]
    scopes = (scope,) if isinstance(scope, int) else scope
    # Within one scope a name is unique (uq_images_scope_filename), so the name alone
    # orders the page, and the index on (scope, filename) gives that order as it is.
    # With the id as a tie-break, MariaDB sorted the whole gallery (a unique index
    # does not carry the id in its order): 100 ms at 100,000 images instead of 2.
    unique = column is Image.filename and len(scopes) == 1
    stmt = _visible(scopes, search)
    if search.gram is None:
        # MySQL/MariaDB otherwise use only the scope part of the index for a page deep in
        # a large gallery and walk every row before the cursor (measured: 80 ms at 100k).
        for dialect in ("mysql", "mariadb"):
            stmt = stmt.with_hint(Image, f"FORCE INDEX ({index})", dialect)
    after = decode_cursor(cursor, kind)
    if after is not None:
        value, last_id = after
        if column is Image.id:
            stmt = stmt.where(Image.id < last_id)
        elif unique:
            stmt = stmt.where(column > value)
        elif descending:
            stmt = stmt.where(or_(column < value, and_(column == value, Image.id < last_id)))
        else:
            stmt = stmt.where(or_(column > value, and_(column == value, Image.id > last_id)))
    order = [column.asc()] if unique else _order(column, descending)
    return stmt.order_by(*order).limit(limit + 1)


def _visible(scopes: tuple[int, ...], search: Search) -> Select:
    """The ids of the images the galleries ``scopes`` show that the search finds."""
    if search.gram is None:
        stmt = select(Image.id).where(Image.scope.in_(scopes), Image.state.in_(VISIBLE_STATES))
    else:
        # A search by a rare trigram reads its few images by id and sorts them: scope and
        # state as expressions that no index serves, or SQLite walks the gallery's index
        # in the page's order (or the state's) and looks each row up in the candidates.
        stmt = select(Image.id).where(
            (Image.scope + 0).in_(scopes), Image.state.concat("").in_(VISIBLE_STATES)
        )
    return _matching(stmt, search)


def _order(column, descending: bool) -> list:
    if column is Image.id:
        return [Image.id.desc()]
    return [column.desc(), Image.id.desc()] if descending else [column.asc(), Image.id.asc()]


def private_scope(user: User) -> int:
    return scope_for(PRIVATE, user.id)


@dataclass(frozen=True)
class Search:
    """A search by name: the folded query (empty: none), and the trigram whose images
    are the candidates, when one is rare enough (else the gallery is walked)."""

    folded: str = ""
    gram: str | None = None


# A trigram with fewer images than this makes them the candidates, read by id and sorted
# (about 2 µs each, measured; the walk reads about 1 µs a name); when every trigram of
# the query is at least this common, the query is likely to match many names and the
# walk in the page's order to end at the first full page. Each count stops here, so
# counting costs a common search about a millisecond.
RARE_GRAM = 5000
# At most this many of a long query's trigrams are counted to find the rarest (any of
# them is a correct filter: every name the LIKE finds has them all).
GRAMS_COUNTED = 12


def _search(query: str) -> Search:
    """What a search for ``query`` (stripped, at most 100 characters) reads: one round
    trip counts its trigrams' images (each count stops at ``RARE_GRAM``)."""
    folded = query.lower()
    grams = sorted(trigrams(folded))
    if not grams:
        return Search(folded)
    if len(grams) > GRAMS_COUNTED:  # an even spread of them
        step = len(grams) / GRAMS_COUNTED
        grams = [grams[int(i * step)] for i in range(GRAMS_COUNTED)]
    counts = [
        select(literal(n).label("n"), func.count().label("images")).select_from(
            select(literal(1).label("one"))
            .where(NameTrigram.gram == gram)
            .limit(RARE_GRAM)
            .subquery()
        )
        for n, gram in enumerate(grams)
    ]
    rows = db.session.execute(union_all(*counts)).all()
    n, images = min(rows, key=lambda row: (row[1], row[0]))
    return Search(folded, grams[n] if images < RARE_GRAM else None)


def _matching(stmt: Select, search: Search) -> Select:
    """``stmt`` narrowed to the filenames that contain the search's query (any case, as
    the database's ``lower()`` folds), if any; through its rare trigram's images if it
    has one, which every such name has (the LIKE stays the exact check)."""
    if not search.folded:
        return stmt
    if search.gram is not None:
        stmt = stmt.where(
            Image.id.in_(select(NameTrigram.image_id).where(NameTrigram.gram == search.gram))
        )
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", search.folded) + "%"
    return stmt.where(func.lower(Image.filename).like(pattern, escape="\\"))


def neighbours(image: Image, sort: str = "date", query: str = "") -> tuple[int | None, int | None]:
    """The ids of the images before and after ``image`` in its gallery (its scope: the
    public gallery, or its owner's private images) as the gallery lists it in ``sort``
    and search ``query`` (newest first by default), for the image page's previous and
    next links; None at either end."""
    sort = sort if sort in SORTS else "date"
    column, descending, _index, _kind = SORTS[sort]
    visible = _visible((image.scope,), _search((query or "").strip()[:100]))
    value = getattr(image, column.key)
    if column is Image.id:
        higher, lower = Image.id > image.id, Image.id < image.id
    else:
        same = column == value
        higher = or_(column > value, and_(same, Image.id > image.id))
        lower = or_(column < value, and_(same, Image.id < image.id))
    keys = [Image.id] if column is Image.id else [column, Image.id]
    above = db.session.scalar(visible.where(higher).order_by(*[k.asc() for k in keys]).limit(1))
    below = db.session.scalar(visible.where(lower).order_by(*[k.desc() for k in keys]).limit(1))
    return (above, below) if descending else (below, above)
