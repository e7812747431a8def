"""Changing what identifies an account: its password (the current one first, the
sign-up strength rules for the new one), its name and its email (a new email needs the
password). A password change ends every other session of the user and is written to the
audit log. Admins (and the command line) can give a user a temporary password instead:
it ends every session of the user, and the user must choose a new password right after
logging in with it."""

from __future__ import annotations

import secrets

from email_validator import EmailNotValidError, validate_email

from .. import audit
from ..extensions import db
from ..i18n import N_
from ..models import User
from ..rules import RuleError
from . import registration, sessions
from .credentials import password_problem

CHANGE_PASSWORD, CHANGE_EMAIL = "change password", "change email"
SET_TEMPORARY, CREATE_USER = "temporary password", "create user"
# Letters and digits no one confuses when reading them aloud or copying them by hand.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
WRONG_CURRENT = N_("Your current password is not right.")
PASSWORDS_DIFFER = N_("The new passwords do not match.")
NOT_A_NEW_ONE = N_("The new password must differ from the current one.")


class WrongPassword(RuleError):
    """The current password given does not match (counted by the rate limit)."""


def change_password(
    user: User, current: str, new: str, confirm: str, keep_session: str | None
) -> None:
    """Set ``new`` as the password of ``user`` after checking ``current``; every session
    but ``keep_session`` (the one asking) ends."""
    if not user.check_password(current):
        raise WrongPassword(WRONG_CURRENT)
    check_new_password(user, new, confirm)
    if user.check_password(new):
        raise RuleError(NOT_A_NEW_ONE)
    user.set_password(new)
    sessions.end_others(user.id, keep_session)
    audit.record(user, CHANGE_PASSWORD, user.username)
    db.session.commit()


def check_new_password(user: User, new: str, confirm: str) -> None:
    """The rules of sign-up for a new password, and the confirmation typed twice."""
    if len(new) > 200:
        raise RuleError(N_("Use at most 200 characters."))
    problem = password_problem(new, user.username, user.email)
    if problem:
        raise RuleError(problem)
    if new != confirm:
        raise RuleError(PASSWORDS_DIFFER)


def change_profile(user: User, name: str, email: str, password: str) -> bool:
    """Set the display name and email of ``user``; a new email needs the password.
    Returns whether anything changed."""
    name, email = name.strip(), email.strip()
    if not name:
        raise RuleError(N_("Enter your name."))
    if len(name) > 100:
        raise RuleError(N_("Names are at most 100 characters."))
    check_email(email)
    email_changed = email != user.email
    if email_changed and not user.check_password(password):
        raise WrongPassword(N_("To change your email, enter your current password."))
    if name == user.name and not email_changed:
        return False
    user.name = name
    if email_changed:
        audit.record(user, CHANGE_EMAIL, f"{user.username}: {user.email} → {email}")
        user.email = email
    db.session.commit()
    return True


def check_email(email: str) -> None:
    if not email or len(email) > 254:
        raise RuleError(N_("Enter a valid email address."))
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise RuleError(N_("Enter a valid email address.")) from None


def create_account(actor: User | None, username: str, email: str, name: str) -> tuple[User, str]:
    """An account made by an admin (``actor``; None is the command line), whatever
    REGISTRATION says, with a temporary password returned to be shown once."""
    email, name = email.strip(), name.strip() or username.strip()
    check_email(email)
    if len(name) > 100:
        raise RuleError(N_("Names are at most 100 characters."))
    user = registration.register(name, username.strip(), email, secrets.token_urlsafe(24))
    audit.record(actor, CREATE_USER, user.username)
    return user, set_temporary(actor, user)


def set_temporary(actor: User | None, user: User) -> str:
    """Give ``user`` a new random password and return it (shown once, never stored in
    clear): every session of the user ends, and the next login must choose a new
    password. ``actor`` None is the command line."""
    if actor is not None and actor.id == user.id:
        raise RuleError(N_("Change your own password on your Account page."))
    temporary = "-".join(
        "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4)
    )
    user.set_password(temporary)
    user.must_change_password = True
    sessions.end_others(user.id, None)
    audit.record(actor, SET_TEMPORARY, user.username)
    db.session.commit()
    return temporary


def choose_after_temporary(user: User, new: str, confirm: str) -> None:
    """The password a user chooses after logging in with a temporary one (which they
    just typed, so it is not asked again); their sessions elsewhere ended already."""
    check_new_password(user, new, confirm)
    if user.check_password(new):
        raise RuleError(NOT_A_NEW_ONE)
    store_chosen(user, new, CHANGE_PASSWORD)
    db.session.commit()


def store_chosen(user: User, new: str, action: str) -> None:
    """Keep the password the user chose (a temporary one is over) and audit it as
    ``action``; the caller commits."""
    user.set_password(new)
    user.must_change_password = False
    audit.record(user, action, user.username)
