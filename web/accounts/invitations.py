"""Who may sign up: REGISTRATION is ``open`` (anyone, as the original), ``invite`` (only
with an invitation an admin made) or ``closed`` (no one; admins make accounts).

An invitation is a link ``/signin?invite=<token>``: 256 random bits of which only the
SHA-256 is kept, optionally for one email address, valid for some days (or until
revoked) and for a number of sign-ups. A use is claimed by a conditional UPDATE before
the account is made (two sign-ups cannot both take the last one) and given back when the
sign-up fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select, update

from .. import audit
from ..extensions import db
from ..i18n import N_
from ..models import Invitation, InvitationUse, User, utcnow
from ..rules import Forbidden, NotFound, RuleError
from . import registration

OPEN, INVITE, CLOSED = "open", "invite", "closed"
MODES = (OPEN, INVITE, CLOSED)
CREATE_INVITATION, REVOKE_INVITATION = "create invitation", "revoke invitation"
MAX_DAYS, MAX_USES = 365, 1000

SIGNUP_CLOSED = N_("Sign-up is closed. Ask an administrator of this site for an account.")
BY_INVITATION = (
    "Sign-up is by invitation only. Ask an administrator of this site for an invitation link."
)
NOT_VALID = N_("This invitation link is not valid. Ask an administrator for a new one.")
REVOKED = N_("This invitation was revoked. Ask an administrator for a new one.")
EXPIRED = N_("This invitation has expired. Ask an administrator for a new one.")
USED_UP = N_("This invitation has been used already. Ask an administrator for a new one.")
OTHER_EMAIL = N_("This invitation is for another email address.")


class SignupRefused(Forbidden):
    """Sign-up is not possible here: closed, or no valid invitation (the sentence says)."""


class OtherEmail(RuleError):
    """The invitation names another email address than the one given."""


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str  # shown once, in the link


def mode() -> str:
    return current_app.config["REGISTRATION"]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(actor: User, email: str, days: str, uses: str) -> NewInvitation:
    """An invitation for ``email`` (may be empty: anyone), valid ``days`` days (empty:
    until revoked) for ``uses`` sign-ups."""
    email = email.strip()
    if email:
        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError:
            raise RuleError(N_("Enter a valid email address, or leave it empty.")) from None
    expires = None
    if days.strip():
        number = _whole(days, 1, MAX_DAYS, f"Valid for: 1 to {MAX_DAYS} days, or empty.")
        expires = utcnow() + dt.timedelta(days=number)
    max_uses = _whole(uses or "1", 1, MAX_USES, f"Uses: a number from 1 to {MAX_USES}.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=_hash(token),
        email=email or None,
        max_uses=max_uses,
        uses=0,
        created_by=actor.username,
        expires_at=expires,
    )
    db.session.add(invitation)
    audit.record(actor, CREATE_INVITATION, email or f"anyone, {max_uses} use(s)")
    db.session.commit()
    return NewInvitation(invitation, token)


def _whole(value: str, low: int, high: int, message: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise RuleError(message)
    return int(text)


def revoke(actor: User, invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(N_("No such invitation."))
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        audit.record(actor, REVOKE_INVITATION, invitation.email or f"invitation {invitation.id}")
        db.session.commit()
    return invitation


def all_invitations() -> list[Invitation]:
    """Every invitation, newest first, with who used it and when."""
    return list(db.session.scalars(select(Invitation).order_by(Invitation.id.desc())))


def status(invitation: Invitation) -> str:
    """A word for the admin list: active, revoked, expired or used."""
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at is not None and invitation.expires_at <= utcnow():
        return "expired"
    if invitation.uses >= invitation.max_uses:
        return "used"
    return "active"


def check(token: str | None) -> Invitation | None:
    """Whether someone may sign up now: None in open mode, else the valid invitation of
    ``token``; SignupRefused says why not."""
    if mode() == OPEN:
        return None
    if mode() == CLOSED:
        raise SignupRefused(SIGNUP_CLOSED)
    if not token:
        raise SignupRefused(BY_INVITATION)
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == _hash(token[:100]))
    )
    if invitation is None:
        raise SignupRefused(NOT_VALID)
    problem = {"revoked": REVOKED, "expired": EXPIRED, "used": USED_UP}.get(status(invitation))
    if problem:
        raise SignupRefused(problem)
    return invitation


def sign_up(token: str | None, name: str, username: str, email: str, password: str) -> User:
    """Make the account if the registration mode allows it, using one use of the
    invitation (given back if the account cannot be made)."""
    invitation = check(token)
    if invitation is None:
        return registration.register(name, username, email, password)
    if invitation.email and invitation.email.lower() != email.strip().lower():
        raise OtherEmail(OTHER_EMAIL)
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.uses < Invitation.max_uses)
        .values(uses=Invitation.uses + 1)
    )
    db.session.commit()
    if claimed.rowcount != 1:
        raise SignupRefused(USED_UP)
    try:
        user = registration.register(name, username, email, password)
    except RuleError:
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id)
            .values(uses=Invitation.uses - 1)
        )
        db.session.commit()
        raise
    db.session.add(
        InvitationUse(invitation_id=invitation.id, user_id=user.id, username=user.username)
    )
    db.session.commit()
    return user
