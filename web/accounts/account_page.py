"""The account page, rendered for the views that show it (the account views and the token
views): the user's usage, whether they are the last admin, and their API tokens."""

from __future__ import annotations

from typing import Any

from flask import render_template

from ..images import quotas
from ..models import User
from . import roles, tokens


def render(user: User, **extra: Any) -> str:
    """The account page of ``user``; ``extra`` carries a form's error or a new token."""
    standing = quotas.standing(user)
    extra.setdefault("error", None)
    return render_template(
        "account/index.html",
        count=standing.count,
        used=standing.used,
        standing=standing,
        last_admin=user.is_admin and roles.admin_count() <= 1,
        tokens=tokens.tokens_of(user),
        max_tokens=tokens.MAX_TOKENS,
        expiry_days=tokens.EXPIRY_DAYS,
        **extra,
    )
