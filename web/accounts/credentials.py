"""The username and password rules of sign-up (and of every other way an account is
made): one list of reserved names, one password-strength check."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext

# Patterns that validate a whole value are used with ``fullmatch``: ``$`` would also
# match before a trailing newline and let "alice\n" pass as a second "alice".
USERNAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9]{2,29}")
# Names that would clash with system names, routes or buckets. One list, one place.
RESERVED_USERNAMES = frozenset(
    [
        "admin",
        "administrator",
        "root",
        "api",
        "static",
        "login",
        "logout",
        "signin",
        "signup",
        "register",
        "myfiles",
        "delete",
        "health",
        "account",
        "gallery",
        "favicon",
        "image",
        "images",
        "thumbnails",
        "thumbs",
        "upload",
        "uploads",
        "public",
        "private",
        "user",
        "users",
        "system",
        "support",
        "help",
        "about",
        "settings",
        "account",
        "null",
        "none",
        "undefined",
        "www",
        "mail",
        "minio",
    ]
)


def clean_username(raw: str | None) -> str:
    """A username as typed in the sign-up or login form, without surrounding whitespace.

    Both forms remove spaces, tabs and line breaks around the name (people paste names
    with a trailing space or newline) and nothing else: what remains must match the
    rules exactly, so "alice\n" signs in as alice and cannot sign up as a second alice.
    Services take the cleaned name and refuse any other whitespace. Passwords are never
    cleaned: they are checked exactly as typed.
    """
    return (raw or "").strip()


def bucket_for(username: str) -> str:
    return current_app.config["USER_BUCKET_PREFIX"] + username.lower()


def username_problem(username: str) -> str | None:
    """Why ``username`` cannot be used, or None when it can."""
    if not USERNAME_RE.fullmatch(username):
        return gettext("Usernames are 3–30 letters or digits and start with a letter.")
    key = username.lower()
    if key in RESERVED_USERNAMES or key == current_app.config["PUBLIC_BUCKET"].lower():
        return gettext("This username is reserved; please choose another.")
    if len(bucket_for(username)) > 63:
        return gettext(
            "This username is too long for a storage bucket; please choose a shorter one."
        )
    return None


def password_problem(password: str, username: str, email: str) -> str | None:
    """Why ``password`` is too weak, or None when it is strong enough."""
    if len(password) < 10:
        return gettext("Use at least 10 characters.")
    lowered = password.lower()
    for label, value in (("username", username), ("email address", email)):
        value = (value or "").strip().lower()
        local = value.split("@", 1)[0]
        if (value and (value in lowered or lowered in value)) or (
            label == "email address" and len(local) >= 3 and local in lowered
        ):
            if label == "username":
                return gettext("The password must not contain your username.")
            return gettext("The password must not contain your email address.")
    from zxcvbn import zxcvbn  # imported here: it loads its word lists on first use

    # zxcvbn judges at most 72 characters; a longer password is judged by its start
    # (and is never weaker for what follows).
    result = zxcvbn(password[:72], user_inputs=[username or "", email or ""])
    if result["score"] < 3:
        feedback = result.get("feedback") or {}
        hint = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
        guessable = gettext("This password is too easy to guess.")
        return guessable + (f" {hint}" if hint else "")
    return None
