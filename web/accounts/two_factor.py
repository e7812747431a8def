"""Two-factor login: a TOTP secret per user (RFC 6238, 30-second codes of 6 digits, as
authenticator apps make them) and ten single-use recovery codes.

The secret is kept encrypted (Fernet) with a key derived from SECRET_KEY by HKDF, so a
copy of the database alone does not give the codes. Rotating SECRET_KEY makes every
stored secret unreadable: those users then log in with a recovery code (kept as a
SHA-256 hash, which does not depend on the key) and enable two-factor login again, or an
admin resets it. A code is accepted once: the time step it was made for is kept, and a
code of that step or an earlier one is refused. Codes of the step before and after the
current one are accepted too (clocks drift).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete, func, select, update

from ..audit import record
from ..extensions import db
from ..i18n import N_
from ..models import ACTIVE, RecoveryCode, User
from ..rules import BUSY, RuleError, backend_failures

ISSUER = "Image Repository"
RECOVERY_CODES = 10
STEP = 30  # seconds per code
ENABLE_2FA, DISABLE_2FA, RESET_2FA = "enable 2fa", "disable 2fa", "reset 2fa"
WRONG_CODE = N_("That code is not right. Type the 6 digits your app shows now, or a recovery code.")
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are read and typed


class WrongCode(RuleError):
    """A wrong code: counted as a failed login by the views' rate limits."""


@dataclass(frozen=True)
class Setup:
    """What the account page shows while enabling: the secret, and a QR code of it."""

    secret: str
    uri: str
    qr_data_uri: str  # a PNG made here, as a data: address (no outside service)


def _fernet() -> Fernet:
    secret_key = str(current_app.config["SECRET_KEY"]).encode()
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"image-repository totp secrets"
    ).derive(secret_key)
    return Fernet(base64.urlsafe_b64encode(key))


def _encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def _decrypt(stored: str | None) -> str | None:
    """The secret, or None when there is none or SECRET_KEY changed since it was stored."""
    if not stored:
        return None
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        return None


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def is_enabled(user: User) -> bool:
    return bool(user.totp_enabled)


def pending_user(user_id: object) -> User | None:
    """The active account a login's second step is for (None: gone or closed)."""
    if not isinstance(user_id, int):
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.state == ACTIVE else None


def begin(user: User) -> Setup:
    """Start enabling (or show again the secret being enabled): a new secret is kept,
    encrypted, until a code made with it confirms it."""
    if user.totp_enabled:
        raise RuleError(N_("Two-factor login is already on."))
    secret = _decrypt(user.totp_secret)
    if secret is None:
        secret = pyotp.random_base32()
        with backend_failures(BUSY):
            db.session.execute(
                update(User).where(User.id == user.id).values(totp_secret=_encrypt(secret))
            )
            db.session.commit()
        user.totp_secret = _encrypt(secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").png_data_uri(scale=5, border=2)
    return Setup(secret, uri, qr)


def _step_of(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step ``code`` was made for (now, or one step either side), else None."""
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((now or time.time()) // STEP)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def _accept_step(user_id: int, step: int) -> bool:
    """Record ``step`` as used; False when it (or a later one) was used already."""
    used = db.session.execute(
        update(User)
        .where(User.id == user_id)
        .where((User.totp_last_step.is_(None)) | (User.totp_last_step < step))
        .values(totp_last_step=step)
    ).rowcount
    return used == 1


def enable(user: User, code: str) -> list[str]:
    """Confirm the secret with a current code: two-factor login is on. Returns the ten
    recovery codes, which are shown once (only their hashes are kept)."""
    if user.totp_enabled:
        raise RuleError(N_("Two-factor login is already on."))
    secret = _decrypt(user.totp_secret)
    if secret is None:
        raise RuleError(N_("Start again: scan the new code below with your app."))
    step = _step_of(secret, _normalize(code))
    if step is None:
        raise WrongCode(WRONG_CODE)
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    with backend_failures(BUSY):
        if not _accept_step(user.id, step):  # used by a request at the same moment
            db.session.rollback()
            raise WrongCode(WRONG_CODE)
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
        db.session.execute(update(User).where(User.id == user.id).values(totp_enabled=True))
        record(user, ENABLE_2FA, f"two-factor login of {user.username}")
        db.session.commit()
    user.totp_enabled = True
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def _recovery_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(10))


def check_code(user: User, code: str) -> bool:
    """The second step of a login: a current TOTP code (once) or an unused recovery code
    (which is then used up). Commits what it uses."""
    typed = _normalize(code)
    secret = _decrypt(user.totp_secret)
    with backend_failures(BUSY):
        if secret is not None:
            step = _step_of(secret, typed)
            if step is not None:
                accepted = _accept_step(user.id, step)
                db.session.commit()
                return accepted
        if len(typed) != 10:
            return False
        used = db.session.execute(
            delete(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(typed)
            )
        ).rowcount
        db.session.commit()
        return used == 1


def recovery_codes_left(user: User) -> int:
    count = select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id)
    return int(db.session.scalar(count) or 0)


def _turn_off(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(totp_enabled=False, totp_secret=None, totp_last_step=None)
    )


def disable(user: User, password: str, code: str) -> None:
    """Turn two-factor login off: the password and a code (or a recovery code) are needed."""
    if not user.totp_enabled:
        raise RuleError(N_("Two-factor login is off already."))
    if not user.check_password(password or ""):
        raise WrongCode("The password is not right. Nothing was changed.")
    if not check_code(user, code or ""):
        raise WrongCode(WRONG_CODE)
    with backend_failures(BUSY):
        _turn_off(user)
        record(user, DISABLE_2FA, f"two-factor login of {user.username}")
        db.session.commit()
    user.totp_enabled, user.totp_secret = False, None


def reset(admin: User, person: User) -> bool:
    """An admin turns off ``person``'s two-factor login (a lost phone and lost recovery
    codes); False when it was off."""
    if not person.totp_enabled and person.totp_secret is None:
        return False
    with backend_failures(BUSY):
        _turn_off(person)
        record(admin, RESET_2FA, f"two-factor login of {person.username}")
        db.session.commit()
    person.totp_enabled, person.totp_secret = False, None
    return True


def required_first(user: User) -> bool:
    """Whether ``user`` must enable two-factor login before using the admin panel
    (REQUIRE_2FA_FOR_ADMINS)."""
    return (
        bool(current_app.config.get("REQUIRE_2FA_FOR_ADMINS"))
        and bool(user.is_admin)
        and not user.totp_enabled
    )
