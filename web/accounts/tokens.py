"""Personal access tokens of the API: made on the account page, used as
``Authorization: Bearer <token>``, revoked by their owner or an admin.

A token is ``imgrepo_`` and 43 characters of a 256-bit random secret. Only its SHA-256 is
stored (a fast hash is right for a random secret of that size: nothing to guess); the
full token is shown once, when it is made. A token acts as its user, never more, and
stops working at once when it is revoked, when it expires or when its user is closed
or removed. Making and revoking tokens is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import delete, func, select, update

from ..audit import CREATE_TOKEN, REVOKE_TOKEN, record
from ..extensions import db
from ..i18n import N_
from ..models import ACTIVE, TOKEN_SCOPES, ApiToken, User, utcnow
from ..rules import BUSY, NotFound, RuleError, backend_failures
from ..viewers import is_admin

PREFIX = "imgrepo_"
SHOWN_PREFIX = 16  # characters of the token a list shows: "imgrepo_" and 8 of the secret
MAX_TOKENS = 50
MAX_NAME = 100
# The expiries the account page offers, in days; None is "never".
EXPIRY_DAYS = (7, 30, 90, 365)
LAST_USE_PRECISION = dt.timedelta(minutes=1)  # "last used" is written at most this often

NO_SUCH_TOKEN = "No such token."  # noqa: S105 - a message, not a secret


@dataclass
class NewToken:
    """A token just made: the row, and the secret that is never shown again."""

    token: ApiToken
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(secret: str) -> bool:
    """Whether ``secret`` has the shape of a token (a cheap check before any query)."""
    return secret.startswith(PREFIX) and 0 < len(secret) <= 200


def check_request(name: str, scope: str, expires_in_days: str) -> tuple[str, str, int | None]:
    """The name, scope and expiry (days or None) of a token request; RuleError when not valid."""
    name = " ".join((name or "").split())
    if not name:
        raise RuleError(N_("Give the token a name, so that you can tell it from the others."))
    if len(name) > MAX_NAME:
        raise RuleError(
            gettext("The token name can have at most %(num)s characters.", num=MAX_NAME)
        )
    if scope not in TOKEN_SCOPES:
        raise RuleError(N_("Choose what the token may do: read, or read and write."))
    if expires_in_days in ("", "never"):
        return name, scope, None
    if expires_in_days not in {str(days) for days in EXPIRY_DAYS}:
        raise RuleError(N_("Choose when the token expires from the list."))
    return name, scope, int(expires_in_days)


def create(user: User, name: str, scope: str, expires_in_days: str = "") -> NewToken:
    """Make a token for ``user`` (at most MAX_TOKENS each); the secret is in the result only."""
    name, scope, days = check_request(name, scope, expires_in_days)
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    session = db.session
    with backend_failures(BUSY):
        # The user's row is locked while counting, so two requests cannot both take the 50th.
        session.scalar(select(User.id).where(User.id == user.id).with_for_update())
        if _count(user.id) >= MAX_TOKENS:
            session.rollback()
            raise RuleError(
                gettext(
                    "You already have %(num)s tokens, the most allowed. "
                    "Revoke one you no longer use first.",
                    num=MAX_TOKENS,
                )
            )
        token = ApiToken(
            user_id=user.id,
            name=name,
            prefix=secret[:SHOWN_PREFIX],
            token_hash=hash_secret(secret),
            scope=scope,
            created_at=now,
            expires_at=now + dt.timedelta(days=days) if days else None,
        )
        session.add(token)
        session.flush()
        record(user, CREATE_TOKEN, describe(token, user))
        session.commit()
    return NewToken(token, secret)


def _count(user_id: int) -> int:
    count = select(func.count(ApiToken.id)).where(ApiToken.user_id == user_id)
    return int(db.session.scalar(count) or 0)


def describe(token: ApiToken, owner: User) -> str:
    """How the audit log names a token."""
    name = f"“{token.name}” ({token.prefix}…, id {token.id})"
    return f"{token.scope} token {name} of {owner.username}"


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (at most MAX_TOKENS)."""
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke(actor: User, token_id: int) -> ApiToken:
    """Revoke a token: its owner may, and so may an admin (anyone's). Others get NotFound."""
    session = db.session
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and not is_admin(actor)):
        raise NotFound(NO_SUCH_TOKEN)
    with backend_failures(BUSY):
        gone = session.execute(delete(ApiToken).where(ApiToken.id == token.id)).rowcount
        if gone != 1:
            session.rollback()
            raise NotFound(NO_SUCH_TOKEN)
        record(actor, REVOKE_TOKEN, describe(token, token.user))
        session.commit()
    return token


def authenticate(secret: str) -> ApiToken | None:
    """The live token with this secret, with its active user; None when it is unknown,
    revoked, expired, or its user is closed. Notes the time of use (once a minute)."""
    if not looks_like_token(secret):
        return None
    digest = hash_secret(secret)
    now = utcnow()
    token = db.session.scalar(
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest, User.state == ACTIVE)
    )
    # The lookup is by the hash; compare again in constant time all the same.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION:
        with backend_failures(BUSY):
            db.session.execute(
                update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
            )
            db.session.commit()
        token.last_used_at = now
    return token


def sharex_uploader(upload_url: str, secret: str, name: str) -> dict:
    """A ShareX custom uploader (.sxcu) that posts to ``upload_url`` with this token.

    Uploads are public, as on the upload page; the link ShareX copies is the image page.
    """
    return {
        "Version": "16.1.0",
        "Name": f"Image Repository ({name})",
        "DestinationType": "ImageUploader, FileUploader",
        "RequestMethod": "POST",
        "RequestURL": upload_url,
        "Headers": {"Authorization": f"Bearer {secret}"},
        "Body": "MultipartFormData",
        "Arguments": {"visibility": "public"},
        "FileFormName": "file",
        "URL": "{json:items[0].urls.page}",
        "ThumbnailURL": "{json:items[0].urls.thumbnail}",
        "ErrorMessage": "{json:detail}",
    }
