"""Share links: one image or one album shown to anyone who holds its link, for as long
as its owner decides, and nothing else of theirs.

A link is ``/s/<token>``, the token 32 random bytes (256 bits) in URL-safe base64; only
its SHA-256 is stored (a fast hash is right for a random secret of that size), so the
full link is shown once, when it is made. A link may expire (1 hour, 1 day, 7 days,
30 days or never), have a password (stored hashed, as account passwords are), refuse
the original's download, and allow a number of views.

- An unknown token, a revoked link (its row is deleted) and a link whose image or album
  is gone answer 404 alike; an expired link or one viewed as often as allowed answers 410.
- A view is one browser opening the link (after its password): reloading it and moving
  between an album's pages count once. That browser may then load the image's bytes, or
  the album's images and their pages, for as long as the link lives; the session
  remembers which links it opened, so a last allowed view still shows its pictures. An
  album's link shows the images the album holds when they are asked for: one taken out
  of the album is no longer shown.
- Nothing about a link is cached in a process: every request reads its row, so a
  revoked link stops working at once on every instance.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..i18n import N_
from ..images.access import NO_SUCH_IMAGE, is_owner
from ..models import VISIBLE_STATES, Album, AlbumImage, Image, ShareLink, User, utcnow
from ..rules import BUSY, NotFound, RuleError, backend_failures
from ..viewers import is_admin

TOKEN_BYTES = 32
TOKEN_LENGTH = 43  # characters of 32 bytes in URL-safe base64 without padding
TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
MAX_LINKS = 500  # per user; the "Shared links" page lists them all
MAX_VIEWS = 1_000_000
MAX_PASSWORD = 200
# The expiries a link may have, by the names the forms send; None is "never".
EXPIRIES: dict[str, dt.timedelta | None] = {
    "1h": dt.timedelta(hours=1),
    "1d": dt.timedelta(days=1),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
    "never": None,
}
EXPIRY_LABELS = {
    "1h": N_("1 hour"),
    "1d": N_("1 day"),
    "7d": N_("7 days"),
    "30d": N_("30 days"),
    "never": N_("Never"),
}
DEFAULT_EXPIRY = "7d"

NO_SUCH_LINK = N_("There is nothing at this address.")
EXPIRED = N_("This link has expired. Ask the person who sent it for a new one.")
EXHAUSTED = N_("This link has been opened as many times as its owner allowed.")
WRONG_PASSWORD = "Wrong password."  # noqa: S105 - a message, not a secret
NO_DOWNLOAD = N_("The owner of this link does not allow downloading the original.")


class Gone(RuleError):
    """The link existed and is over: expired, or viewed as often as allowed."""

    status = 410


@dataclass
class NewLink:
    """A link just made: the row, and the token that is never shown again."""

    link: ShareLink
    token: str


@dataclass
class Options:
    """What a link allows, checked."""

    expires_in: dt.timedelta | None
    password: str | None
    allow_download: bool
    max_views: int | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_options(expiry: str, password: str, allow_download: bool, max_views: str) -> Options:
    """The options of a link from a form; RuleError (nothing made) when one is not valid."""
    if expiry not in EXPIRIES:
        raise RuleError(N_("Choose when the link expires from the list."))
    if not password.isprintable() or not _encodable(password):
        raise RuleError(N_("The password must be text without control characters."))
    if len(password) > MAX_PASSWORD:
        raise RuleError(
            gettext("The password can have at most %(num)s characters.", num=MAX_PASSWORD)
        )
    views = None
    if max_views.strip():
        text = max_views.strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text[:8]) <= MAX_VIEWS:
            raise RuleError(
                gettext(
                    "The number of views must be a whole number from 1 to %(num)s.", num=MAX_VIEWS
                )
            )
        views = int(text)
    return Options(EXPIRIES[expiry], password or None, allow_download, views)


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate, which JSON allows
        return False
    return True


def create(user: User, image: Image, options: Options) -> NewLink:
    """Make a link to ``image``, which must be ``user``'s own (others' are not found)."""
    if not is_owner(user, image) or image.state not in VISIBLE_STATES:
        raise NotFound(NO_SUCH_IMAGE)
    return _create(user, options, image_id=image.id)


def create_for_album(user: User, album: Album, options: Options) -> NewLink:
    """Make a link to ``album``, which must be ``user``'s own."""
    if album.owner_id != user.id:
        raise NotFound(N_("No such album."))
    return _create(user, options, album_id=album.id)


def _create(
    user: User, options: Options, image_id: int | None = None, album_id: int | None = None
) -> NewLink:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    session = db.session
    with backend_failures(BUSY):
        # The user's row is locked while counting, so two requests cannot both take the last.
        session.scalar(select(User.id).where(User.id == user.id).with_for_update())
        count = session.scalar(select(func.count()).where(ShareLink.owner_id == user.id)) or 0
        if count >= MAX_LINKS:
            session.rollback()
            raise RuleError(
                f"You can have at most {MAX_LINKS} shared links. Revoke some you no longer need."
            )
        link = ShareLink(
            owner_id=user.id,
            image_id=image_id,
            album_id=album_id,
            token_hash=hash_token(token),
            password_hash=generate_password_hash(options.password) if options.password else None,
            allow_download=options.allow_download,
            max_views=options.max_views,
            created_at=now,
            expires_at=now + options.expires_in if options.expires_in else None,
        )
        session.add(link)
        session.commit()
    return NewLink(link, token)


def find(token: str) -> ShareLink:
    """The live link of ``token``: NotFound when unknown, revoked or its image is gone;
    Gone when it has expired. Views are not counted here."""
    if len(token) != TOKEN_LENGTH or not TOKEN_CHARACTERS.issuperset(token):
        raise NotFound(NO_SUCH_LINK)  # not a token: no query
    with backend_failures(BUSY):
        link = db.session.scalar(select(ShareLink).where(ShareLink.token_hash == hash_token(token)))
    if link is None or not link.owner.is_active:
        raise NotFound(NO_SUCH_LINK)
    if link.image is not None and link.image.state not in VISIBLE_STATES:
        raise NotFound(NO_SUCH_LINK)
    if link.image is None and link.album is None:
        raise NotFound(NO_SUCH_LINK)
    if link.expires_at is not None and link.expires_at <= utcnow():
        raise Gone(EXPIRED)
    return link


def count_view(link: ShareLink) -> None:
    """Count one view of ``link``; Gone when it has had all its views. The count and
    the check are one statement, so two visitors cannot both take the last view."""
    with backend_failures(BUSY):
        result = db.session.execute(
            update(ShareLink)
            .where(
                ShareLink.id == link.id,
                (ShareLink.max_views.is_(None)) | (ShareLink.views < ShareLink.max_views),
            )
            .values(views=ShareLink.views + 1)
        )
        db.session.commit()
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise Gone(EXHAUSTED)


def is_exhausted(link: ShareLink) -> bool:
    return link.max_views is not None and link.views >= link.max_views


def check_password(link: ShareLink, password: str) -> bool:
    """Whether ``password`` opens ``link`` (a link without one needs none)."""
    if link.password_hash is None:
        return True
    return bool(password) and check_password_hash(link.password_hash, password[:MAX_PASSWORD])


def links_for(viewer: User) -> list[ShareLink]:
    """The links a viewer manages, newest first: their own, or everyone's for an admin
    (the newest 500)."""
    query = select(ShareLink).order_by(ShareLink.id.desc()).limit(MAX_LINKS)
    if not is_admin(viewer):
        query = query.where(ShareLink.owner_id == viewer.id)
    with backend_failures(BUSY):
        return list(db.session.scalars(query))


def revoke(viewer: User, link_id: int) -> ShareLink:
    """Revoke a link (its owner, or an admin): it answers 404 from now on, everywhere."""
    link = db.session.get(ShareLink, link_id)
    if link is None or not (link.owner_id == viewer.id or is_admin(viewer)):
        raise NotFound(N_("No such link."))
    with backend_failures(BUSY):
        db.session.execute(delete(ShareLink).where(ShareLink.id == link.id))
        db.session.commit()
    return link


def album_image(link: ShareLink, image_id: int) -> Image:
    """An image of the album ``link`` shows, while the album holds it (NotFound else)."""
    if link.album_id is None:
        raise NotFound(NO_SUCH_IMAGE)
    with backend_failures(BUSY):
        image = db.session.scalar(
            select(Image)
            .join(AlbumImage, AlbumImage.image_id == Image.id)
            .where(
                AlbumImage.album_id == link.album_id,
                Image.id == image_id,
                Image.state.in_(VISIBLE_STATES),
            )
        )
    if image is None:
        raise NotFound(NO_SUCH_IMAGE)
    return image
