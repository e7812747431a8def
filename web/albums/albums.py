"""Albums: a user's own collections of their own images, private to them.

An album has a title (1 to 100 characters), an optional description (at most 2000) and a
cover chosen among its images (by default its newest). Only its owner sees it: to
everyone else, admins included, it does not exist (404). Only the owner's own images can
be added; an image can be in several albums. Deleting an album removes its entries and
never an image; an image that is deleted leaves every album (ON DELETE CASCADE), and one
in the trash or being deleted is not shown.

An album's pages follow its order: by date, newest first (the default) or oldest first,
or by hand. Every entry has a position (1, 2, 3...) for the order by hand; an image added
goes to the end. Moving an image by hand (earlier, later, to the front) switches an album
ordered by date to the order by hand, starting from the order it showed. A new order sent
whole must name exactly the album's shown images, each once, or nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..i18n import N_
from ..models import VISIBLE_STATES, Album, AlbumImage, Image, User
from ..paging import NewestFirst, newest_first
from ..rules import BUSY, NotFound, RuleError, backend_failures
from ..viewers import signed_in

MAX_TITLE = 100
MAX_DESCRIPTION = 2000
MAX_ALBUMS = 1000  # per user
MAX_BATCH = 1000  # images added or removed at once
NO_SUCH_ALBUM = N_("No such album.")
NOT_A_COVER = N_("The cover must be one of the images in the album.")
NEWEST, OLDEST, MANUAL = "newest", "oldest", "manual"
ORDERS = {
    NEWEST: N_("By date (newest first)"),
    OLDEST: N_("By date (oldest first)"),
    MANUAL: N_("By hand"),
}
UNKNOWN_ORDER = N_(
    "Choose one of the orders: by date (newest first), by date (oldest first), by hand."
)
MOVES = ("earlier", "later", "front")
NOT_IN_ALBUM = N_("That image is not in the album.")
NOT_THE_IMAGES = N_("Send every image of the album exactly once, and no other.")
STALE_PAGE = N_("The album changed since this page was shown; open it again.")
NOT_THE_PAGE = N_("Send every image of the page exactly once, and no other.")


@dataclass
class Summary:
    """An album as the list shows it: the album, how many images, and its cover."""

    album: Album
    count: int
    cover: Image | None


def check_text(title: str, description: str) -> tuple[str, str | None]:
    """A title and description from a form; RuleError (nothing changed) when not valid."""
    title = " ".join((title or "").split())
    description = (description or "").strip()
    if not _storable(title) or not _storable(description):
        raise RuleError(N_("The title and description must be text without control characters."))
    if not title:
        raise RuleError(N_("Give the album a title."))
    if len(title) > MAX_TITLE:
        raise RuleError(gettext("The title can have at most %(num)s characters.", num=MAX_TITLE))
    if len(description) > MAX_DESCRIPTION:
        raise RuleError(
            gettext("The description can have at most %(num)s characters.", num=MAX_DESCRIPTION)
        )
    return title, description or None


def _storable(text: str) -> bool:
    """Text every database keeps as it is: UTF-8 without control characters (but lines)."""
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate, which JSON allows
        return False
    return all(ch.isprintable() or ch in "\n\r\t" for ch in text)


def create(user: User, title: str, description: str = "", order: str = NEWEST) -> Album:
    title, text = check_text(title, description)
    order = check_order(order)
    session = db.session
    with backend_failures(BUSY):
        session.scalar(select(User.id).where(User.id == user.id).with_for_update())
        count = session.scalar(select(func.count()).where(Album.owner_id == user.id)) or 0
        if count >= MAX_ALBUMS:
            session.rollback()
            raise RuleError(gettext("You can have at most %(num)s albums.", num=MAX_ALBUMS))
        album = Album(owner_id=user.id, title=title, description=text, sort_order=order)
        session.add(album)
        session.commit()
    return album


def get_album(album_id: int, viewer: object) -> Album:
    """The album if ``viewer`` owns it; NotFound otherwise (existence is not revealed)."""
    with backend_failures(BUSY):
        album = db.session.get(Album, album_id)
    if album is None or not signed_in(viewer) or album.owner_id != viewer.id:  # type: ignore[attr-defined]
        raise NotFound(NO_SUCH_ALBUM)
    return album


def _visible_images():
    return (
        select(Image)
        .join(AlbumImage, AlbumImage.image_id == Image.id)
        .where(Image.state.in_(VISIBLE_STATES))
    )


def page(album: Album, before: int | None, limit: int) -> NewestFirst:
    """One page of the album's images in its order: those after the image ``before``
    (the ``next_before`` of the page shown before it), or the first page."""
    stmt = _visible_images().where(AlbumImage.album_id == album.id)
    with backend_failures(BUSY):
        if album.sort_order not in (MANUAL, OLDEST):
            return newest_first(stmt, Image.id, before, limit)
        if album.sort_order == OLDEST:
            if before is not None:
                stmt = stmt.where(Image.id > before)
            stmt = stmt.order_by(Image.id)
        else:
            if before is not None:
                place = db.session.scalar(
                    select(AlbumImage.position).where(
                        AlbumImage.album_id == album.id, AlbumImage.image_id == before
                    )
                )
                if place is None:  # taken out since: where the next page starts is lost
                    raise RuleError(STALE_PAGE)
                stmt = stmt.where(
                    or_(
                        AlbumImage.position > place,
                        and_(AlbumImage.position == place, Image.id > before),
                    )
                )
            stmt = stmt.order_by(AlbumImage.position, Image.id)
        rows = list(db.session.scalars(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return NewestFirst(rows, rows[-1].id if more else None)


def cover(album: Album) -> Image | None:
    """The chosen cover while it is in the album, else the album's newest image."""
    stmt = _visible_images().where(AlbumImage.album_id == album.id)
    if album.cover_image_id is not None:
        chosen = db.session.scalar(stmt.where(Image.id == album.cover_image_id))
        if chosen is not None:
            return chosen
    return db.session.scalar(stmt.order_by(Image.id.desc()).limit(1))


def albums_of(user: User) -> list[Summary]:
    """The user's albums, newest first, each with its count and cover."""
    with backend_failures(BUSY):
        rows = list(
            db.session.scalars(
                select(Album).where(Album.owner_id == user.id).order_by(Album.id.desc())
            )
        )
        counts = dict(
            db.session.execute(
                select(AlbumImage.album_id, func.count())
                .join(Image, Image.id == AlbumImage.image_id)
                .where(AlbumImage.album_id.in_([a.id for a in rows]))
                .where(Image.state.in_(VISIBLE_STATES))
                .group_by(AlbumImage.album_id)
            ).all()
        )
        return [Summary(a, counts.get(a.id, 0), cover(a)) for a in rows]


def image_count(album: Album) -> int:
    """How many of the album's images are shown."""
    stmt = _visible_images().where(AlbumImage.album_id == album.id)
    with backend_failures(BUSY):
        return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def check_order(order: str) -> str:
    """One of ``ORDERS``; RuleError otherwise."""
    if order not in ORDERS:
        raise RuleError(UNKNOWN_ORDER)
    return order


def set_order(album: Album, order: str) -> Album:
    """Order the album by date (newest or oldest first) or by hand."""
    album.sort_order = check_order(order)
    with backend_failures(BUSY):
        db.session.commit()
    return album


def update(
    album: Album, title: str, description: str, cover_id: int | None, order: str | None = None
) -> Album:
    """Change the title, description, cover (one of the album's images, or None) and,
    when given, the order."""
    title, text = check_text(title, description)
    order = check_order(order) if order is not None else album.sort_order
    if (
        cover_id is not None
        and db.session.scalar(
            _visible_images().where(AlbumImage.album_id == album.id, Image.id == cover_id)
        )
        is None
    ):
        raise RuleError(NOT_A_COVER)
    with backend_failures(BUSY):
        album.title, album.description, album.cover_image_id = title, text, cover_id
        album.sort_order = order
        db.session.commit()
    return album


def _entries(album: Album) -> dict[int, int]:
    """Every image id of the album (shown or not) with its position, in its order by hand;
    the album's row is locked until the commit so that two reorders do not interleave."""
    db.session.scalar(select(Album.id).where(Album.id == album.id).with_for_update())
    rows = db.session.execute(
        select(AlbumImage.image_id, AlbumImage.position)
        .where(AlbumImage.album_id == album.id)
        .order_by(AlbumImage.position, AlbumImage.image_id)
    )
    return {image_id: place for image_id, place in rows}


def _shown_order(album: Album, entries: dict[int, int]) -> list[int]:
    """The album's shown images in the order its pages show them."""
    shown = set(
        db.session.scalars(
            _visible_images().where(AlbumImage.album_id == album.id).with_only_columns(Image.id)
        )
    )
    if album.sort_order == MANUAL:
        return [i for i in entries if i in shown]
    return sorted(shown, reverse=album.sort_order != OLDEST)


def _renumber(album: Album, shown: list[int], entries: dict[int, int]) -> None:
    """Put ``shown`` first, then the entries not shown in their order, at positions 1, 2,
    3... (writing only those that change); the album is ordered by hand from then on."""
    placed = set(shown)
    order = shown + [i for i in entries if i not in placed]
    for place, image_id in enumerate(order, 1):
        if entries[image_id] != place:
            db.session.execute(
                sql_update(AlbumImage)
                .where(AlbumImage.album_id == album.id, AlbumImage.image_id == image_id)
                .values(position=place)
            )
    album.sort_order = MANUAL
    db.session.commit()


def reorder(album: Album, image_ids: list[int]) -> Album:
    """Put the album's shown images in the order of ``image_ids``, which must name each of
    them exactly once (RuleError and nothing changed otherwise); the album is then ordered
    by hand. Images not shown (in the trash) keep their order after them."""
    with backend_failures(BUSY):
        entries = _entries(album)
        shown = _shown_order(album, entries)
        if len(image_ids) != len(shown) or set(image_ids) != set(shown):
            db.session.rollback()
            raise RuleError(NOT_THE_IMAGES)
        _renumber(album, list(image_ids), entries)
    return album


def arrange_page(album: Album, before: int | None, limit: int, image_ids: list[int]) -> Album:
    """Put the images of one page of the album (the page after ``before``, of ``limit``
    images, as ``page`` shows it) in the order of ``image_ids``, which must name each of
    them exactly once (RuleError and nothing changed otherwise): they take the places
    the page's images had, the other pages keep theirs, and the album is ordered by hand
    from then on (``reorder``)."""
    with backend_failures(BUSY):
        shown = _shown_order(album, _entries(album))
    try:
        on_page = [image.id for image in page(album, before, limit).items]
    except RuleError:
        db.session.rollback()
        raise
    if len(image_ids) != len(on_page) or set(image_ids) != set(on_page):
        db.session.rollback()
        raise RuleError(NOT_THE_PAGE)
    places = sorted(shown.index(image_id) for image_id in on_page)
    for place, image_id in zip(places, image_ids, strict=True):
        shown[place] = image_id
    return reorder(album, shown)


def move(album: Album, image_id: int, where: str) -> Album:
    """Move one shown image ``earlier`` or ``later`` by one place, or to the ``front``, in
    the order shown; an album ordered by date is ordered by hand from then on."""
    if where not in MOVES:
        raise RuleError(N_("Move an image earlier, later or to the front."))
    with backend_failures(BUSY):
        entries = _entries(album)
        shown = _shown_order(album, entries)
        if image_id not in shown:
            db.session.rollback()
            raise NotFound(NOT_IN_ALBUM)
        at = shown.index(image_id)
        to = {"earlier": max(at - 1, 0), "later": min(at + 1, len(shown) - 1), "front": 0}[where]
        shown.insert(to, shown.pop(at))
        _renumber(album, shown, entries)
    return album


def delete_album(album: Album) -> None:
    """Delete the album and its entries; its images stay."""
    with backend_failures(BUSY):
        db.session.execute(delete(AlbumImage).where(AlbumImage.album_id == album.id))
        db.session.execute(delete(Album).where(Album.id == album.id))
        db.session.commit()


def add_images(album: Album, image_ids: list[int]) -> int:
    """Add the owner's own visible images among ``image_ids``; others' are not found.
    Returns how many were added (those already in the album count once)."""
    ids = list(dict.fromkeys(image_ids))[:MAX_BATCH]
    with backend_failures(BUSY):
        own = set(
            db.session.scalars(
                select(Image.id).where(
                    Image.id.in_(ids),
                    Image.owner_id == album.owner_id,
                    Image.state.in_(VISIBLE_STATES),
                )
            )
        )
        if len(own) != len(ids):
            raise NotFound(N_("Only your own images can be added to your albums."))
        present = set(
            db.session.scalars(
                select(AlbumImage.image_id).where(
                    AlbumImage.album_id == album.id, AlbumImage.image_id.in_(ids)
                )
            )
        )
        new = [i for i in ids if i not in present]
        last = db.session.scalar(
            select(func.max(AlbumImage.position)).where(AlbumImage.album_id == album.id)
        )
        db.session.add_all(
            AlbumImage(album_id=album.id, image_id=i, position=(last or 0) + place)
            for place, i in enumerate(new, 1)
        )
        try:
            db.session.commit()
        except IntegrityError:  # the same image added at once by another request
            db.session.rollback()
            raise RuleError(
                N_("The album changed meanwhile; nothing was added. Try again.")
            ) from None
    return len(new)


def remove_images(album: Album, image_ids: list[int]) -> int:
    """Take images out of the album (the images stay); returns how many were in it."""
    with backend_failures(BUSY):
        result = db.session.execute(
            delete(AlbumImage).where(
                AlbumImage.album_id == album.id, AlbumImage.image_id.in_(image_ids[:MAX_BATCH])
            )
        )
        db.session.commit()
    return result.rowcount  # type: ignore[attr-defined]


def titles(user: User) -> list[Album]:
    """The user's albums by title (for the gallery's "add selected to album")."""
    with backend_failures(BUSY):
        return list(
            db.session.scalars(
                select(Album).where(Album.owner_id == user.id).order_by(Album.title, Album.id)
            )
        )


def albums_holding(user: User, image: Image) -> tuple[list[Album], list[Album]]:
    """The user's albums that hold ``image``, and those that do not (for the image page)."""
    mine = titles(user)
    with backend_failures(BUSY):
        holding = set(
            db.session.scalars(select(AlbumImage.album_id).where(AlbumImage.image_id == image.id))
        )
    return [a for a in mine if a.id in holding], [a for a in mine if a.id not in holding]
