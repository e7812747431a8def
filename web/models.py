"""Database models (SQLAlchemy 2.0 typed mappings).

Names are claimed by unique constraints, never by "check then insert":
``users.username_key`` holds the lowercased username, and ``images`` is unique on
(``scope``, ``filename``) where ``scope`` is 0 for the public area and the owner's id
for private images. The same index serves the galleries, which are keyed by scope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

PUBLIC, PRIVATE = "public", "private"
WEB_IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp"}
)
VISIBILITIES = (PUBLIC, PRIVATE)
PUBLIC_SCOPE = 0

# Image states: a row is claimed as PENDING before its objects are written, shown only
# when READY, MOVING while a rename/visibility change copies its objects, and DELETING
# from the moment a delete starts until its objects are gone. `fsck` finishes or undoes
# whatever a crash left behind. TRASHED images wait in their owner's trash (hidden from
# everyone, their name free; see web/images/trash.py), from ``updated_at`` on.
PENDING, READY, MOVING, DELETING = "pending", "ready", "moving", "deleting"
TRASHED = "trashed"
VISIBLE_STATES = (READY, MOVING)

# User states: DELETING users cannot log in; fsck finishes their removal.
ACTIVE = "active"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite and MySQL keep naive values)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


# Filenames and keys compare byte for byte on MySQL too, as they do on SQLite and in
# the object store ("A.jpg" and "a.jpg" are two names).
BinaryString = String(255).with_variant(String(255, collation="utf8mb4_bin"), "mysql", "mariadb")
KeyString = String(400).with_variant(String(400, collation="utf8mb4_bin"), "mysql", "mariadb")


class Base(DeclarativeBase):
    pass


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    bucket: Mapped[str] = mapped_column(String(63), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(8), default=ACTIVE)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How many visible images the user has and their bytes, kept in the transactions
    # that show or hide an image, so that a page never counts a large gallery.
    image_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bytes_used: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The storage quota an admin set for this user: a number of MB, or unlimited; with
    # neither, DEFAULT_QUOTA_MB applies (see images/quotas.py).
    quota_mb: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    quota_unlimited: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Two-factor login (accounts/two_factor.py): the TOTP secret, encrypted with a key
    # derived from SECRET_KEY (set while enabling, before the first code confirms it), and
    # the last time step a code was accepted for, so that no code works twice.
    totp_secret: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    # Set with a temporary password: the next login must choose a new password first.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # The language chosen on the Account page ("en", "de"); None follows the browser.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)

    images: Mapped[list[Image]] = relationship(back_populates="owner", lazy="raise")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login: a user being deleted is logged out
        return self.state == ACTIVE


class Image(Base):
    __tablename__ = "images"
    __table_args__ = (
        UniqueConstraint("scope", "filename", name="uq_images_scope_filename"),
        Index("ix_images_scope_id", "scope", "id"),
        Index("ix_images_scope_size", "scope", "size", "id"),
        Index("ix_images_owner_id", "owner_id", "id"),
        Index("ix_images_state_updated", "state", "updated_at"),
        Index("ix_images_owner_sha256", "owner_id", "sha256"),
        Index("ix_images_location", "bucket", "object_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(BinaryString)
    visibility: Mapped[str] = mapped_column(String(7))
    scope: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(8), default=PENDING)
    # Where the bytes are now. During a move these still name the old place.
    bucket: Mapped[str] = mapped_column(String(63))
    object_key: Mapped[str] = mapped_column(KeyString)
    thumb_key: Mapped[str | None] = mapped_column(KeyString, nullable=True)
    content_type: Mapped[str] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    thumb_width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    thumb_height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The preview's format, which its key follows (images/naming.py): webp or avif.
    preview_format: Mapped[str] = mapped_column(String(4), default="webp", server_default="webp")
    sha256: Mapped[str] = mapped_column(String(64))
    camera: Mapped[str | None] = mapped_column(String(200), nullable=True)
    taken_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    has_gps: Mapped[bool] = mapped_column(Boolean, default=False)
    gps: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship(back_populates="images", lazy="joined")

    @property
    def is_public(self) -> bool:
        return self.visibility == PUBLIC

    @property
    def shown_by_browsers(self) -> bool:
        """Browsers display JPEG, PNG, GIF, WebP, AVIF and BMP; not TIFF or HEIC."""
        return self.content_type in WEB_IMAGE_TYPES

    @property
    def is_image(self) -> bool:
        """False for files stored under ALLOW_ANY_FILE, which are never rendered inline."""
        return self.content_type.startswith("image/") and self.thumb_key is not None


def scope_for(visibility: str, owner_id: int) -> int:
    """The uniqueness scope of a name: the public area, or the owner's private area."""
    return PUBLIC_SCOPE if visibility == PUBLIC else owner_id


GramString = String(3).with_variant(String(3, collation="utf8mb4_bin"), "mysql", "mariadb")


class NameTrigram(Base):
    """Every three-character part of an image's name as the database's ``lower()`` folds
    it, one row each: the index that a gallery's search by name uses (images/names.py
    writes it in the transaction that sets the name). Derived data: a snapshot leaves
    it out and its import builds it again."""

    __tablename__ = "name_trigrams"
    __table_args__ = (Index("ix_name_trigrams_image_id", "image_id"),)

    gram: Mapped[str] = mapped_column(GramString, primary_key=True)
    image_id: Mapped[int] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )


class Comment(Base):
    """A comment on a public image. It goes with its image (ON DELETE CASCADE) and with
    its author (``repository._before_user_row_removed``, and the cascade behind it)."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_image_id", "image_id", "id"),
        Index("ix_comments_author_id", "author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")


class AuditEntry(Base):
    """One admin action: who (id, and a copy of the name that outlives the account),
    what, on which target, when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor_id", "actor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    actor_username: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserSession(Base):
    """A signed-in browser. The cookie carries a random token; the row holds its hash.

    Logging out deletes the row, so a copy of the cookie is worthless afterwards;
    removing a user removes all their sessions (ON DELETE CASCADE).
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# Personal access tokens: READ reads what the user may see; READ_WRITE also changes it.
TOKEN_READ, TOKEN_READ_WRITE = "read", "read-write"
TOKEN_SCOPES = (TOKEN_READ, TOKEN_READ_WRITE)


class ApiToken(Base):
    """A personal access token of the API. Only the SHA-256 of the random secret is kept;
    ``prefix`` (the first characters of the secret) tells the tokens apart in a list.
    Tokens go with their user (ON DELETE CASCADE)."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def can_write(self) -> bool:
        return self.scope == TOKEN_READ_WRITE


class ShareLink(Base):
    """A link that shows one image or one album to anyone who holds it (``/s/<token>``).

    Only the SHA-256 of the random token is kept, and the password's hash when it has
    one. Revoking deletes the row, so a revoked link is as unknown as one that never
    existed. Links go with their image or album and their owner (ON DELETE CASCADE).
    """

    __tablename__ = "share_links"
    __table_args__ = (Index("ix_share_links_owner_id", "owner_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # What the link shows: one image, or one album (exactly one of the two is set).
    image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), index=True, nullable=True
    )
    album_id: Mapped[int | None] = mapped_column(
        ForeignKey("albums.id", ondelete="CASCADE"), index=True, nullable=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    allow_download: Mapped[bool] = mapped_column(Boolean, default=True)
    max_views: Mapped[int | None] = mapped_column(Integer, nullable=True)
    views: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    owner: Mapped[User] = relationship(lazy="joined")
    image: Mapped[Image | None] = relationship(lazy="joined")
    album: Mapped[Album | None] = relationship(lazy="joined")

    @property
    def target_name(self) -> str:
        """What the link shows, as a list names it: the image's name or the album's title."""
        if self.image is not None:
            return self.image.filename
        return self.album.title if self.album is not None else ""


class Album(Base):
    """A user's album: a title, a description and a cover, over images of the owner's.

    Private to its owner. Deleting it deletes its entries, never their images; an image
    leaves every album when its row goes (ON DELETE CASCADE).
    """

    __tablename__ = "albums"
    __table_args__ = (Index("ix_albums_owner_id", "owner_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The image shown for the album; None: its newest image.
    cover_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How its pages are ordered: "newest" or "oldest" (by date), or "manual" (by hand:
    # by the entries' positions).
    sort_order: Mapped[str] = mapped_column(String(8), default="newest", server_default="newest")


class AlbumImage(Base):
    """One image in one album (an image can be in several), at a position in the album's
    order by hand (1, 2, 3...; a new image goes to the end)."""

    __tablename__ = "album_images"
    __table_args__ = (
        Index("ix_album_images_image_id", "image_id"),
        Index("ix_album_images_position", "album_id", "position", "image_id"),
    )

    album_id: Mapped[int] = mapped_column(
        ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True
    )
    image_id: Mapped[int] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RecoveryCode(Base):
    """One single-use recovery code of a user's two-factor login: only its SHA-256 is
    kept; using it deletes the row. They go with their user (ON DELETE CASCADE)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))


class Invitation(Base):
    """An invitation to sign up while REGISTRATION is ``invite``: a link holding a random
    token (only its SHA-256 is kept), optionally for one email address, valid until
    ``expires_at`` (None: until revoked) for ``max_uses`` sign-ups."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    redemptions: Mapped[list[InvitationUse]] = relationship(
        lazy="selectin", order_by="InvitationUse.id"
    )


class InvitationUse(Base):
    """One sign-up made with an invitation: who (a copy of the name outlives the account)
    and when."""

    __tablename__ = "invitation_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    username: Mapped[str] = mapped_column(String(30))
    used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PasswordReset(Base):
    """A password-reset link sent by mail: only the SHA-256 of its token is kept. It is
    used once, ends at ``expires_at``, and a newer link for the same user supersedes it."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(lazy="joined")


# Background job states (web/jobs.py): QUEUED until a runner claims it, RUNNING while its
# heartbeat moves, then DONE or FAILED with a message for the admin.
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Job(Base):
    """A long piece of work done outside the request that asked for it (web/jobs.py):
    which task with which arguments, who started it, how far it got and how it ended."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_heartbeat", "state", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    arguments: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    started_by: Mapped[str] = mapped_column(String(30))  # the name, kept after a removal
    state: Mapped[str] = mapped_column(String(8), default=QUEUED)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Moved by the runner while it works; one older than jobs.STALE_AFTER means the
    # process running it died, and maintenance hands the job to a runner again.
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
