"""Albums: a user's own collections of their own images, private to them.

An album has a title (1 to 100 characters), an optional description (at most 2000) and a
cover chosen among its images (by default its newest). Only its owner sees it: to
everyone else, admins included, it does not exist (404). Only the owner's own images can
be added; an image can be in several albums. Deleting an album removes its entries and
never an image; an image that is deleted leaves every album (ON DELETE CASCADE), and one
in the trash or being deleted is not shown. Pages are newest image first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import VISIBLE_STATES, Album, AlbumImage, Image, User
from ..paging import NewestFirst, newest_first
from ..rules import BUSY, NotFound, RuleError, backend_failures
from ..viewers import signed_in

MAX_TITLE = 100
MAX_DESCRIPTION = 2000
MAX_ALBUMS = 1000  # per user
MAX_BATCH = 1000  # images added or removed at once
NO_SUCH_ALBUM = "No such album."
NOT_A_COVER = "The cover must be one of the images in the album."


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
        raise RuleError("The title and description must be text without control characters.")
    if not title:
        raise RuleError("Give the album a title.")
    if len(title) > MAX_TITLE:
        raise RuleError(f"The title can have at most {MAX_TITLE} characters.")
    if len(description) > MAX_DESCRIPTION:
        raise RuleError(f"The description can have at most {MAX_DESCRIPTION} characters.")
    return title, description or None


def _storable(text: str) -> bool:
    """Text every database keeps as it is: UTF-8 without control characters (but lines)."""
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate, which JSON allows
        return False
    return all(ch.isprintable() or ch in "\n\r\t" for ch in text)


def create(user: User, title: str, description: str = "") -> Album:
    title, text = check_text(title, description)
    session = db.session
    with backend_failures(BUSY):
        session.scalar(select(User.id).where(User.id == user.id).with_for_update())
        count = session.scalar(select(func.count()).where(Album.owner_id == user.id)) or 0
        if count >= MAX_ALBUMS:
            session.rollback()
            raise RuleError(f"You can have at most {MAX_ALBUMS} albums.")
        album = Album(owner_id=user.id, title=title, description=text)
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
    """One page of the album's images, newest first."""
    stmt = _visible_images().where(AlbumImage.album_id == album.id)
    with backend_failures(BUSY):
        return newest_first(stmt, Image.id, before, limit)


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


def update(album: Album, title: str, description: str, cover_id: int | None) -> Album:
    """Change the title, description and cover (one of the album's images, or None)."""
    title, text = check_text(title, description)
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
        db.session.commit()
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
            raise NotFound("Only your own images can be added to your albums.")
        present = set(
            db.session.scalars(
                select(AlbumImage.image_id).where(
                    AlbumImage.album_id == album.id, AlbumImage.image_id.in_(ids)
                )
            )
        )
        new = [i for i in ids if i not in present]
        db.session.add_all(AlbumImage(album_id=album.id, image_id=i) for i in new)
        try:
            db.session.commit()
        except IntegrityError:  # the same image added at once by another request
            db.session.rollback()
            raise RuleError("The album changed meanwhile; nothing was added. Try again.") from None
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
