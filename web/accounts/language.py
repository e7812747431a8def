"""The language a person chooses for the pages, kept with their account."""

from __future__ import annotations

from flask_babel import gettext

from ..extensions import db
from ..i18n import LANGUAGES
from ..models import User
from ..rules import BUSY, RuleError, backend_failures

AUTOMATIC = ""  # the form's value for "follow the browser's language"


def set_language(user: User, choice: str) -> None:
    """Keep ``choice`` ("en", "de", or AUTOMATIC for the browser's) as ``user``'s language."""
    if choice != AUTOMATIC and choice not in LANGUAGES:
        raise RuleError(gettext("Choose one of the languages offered."))
    with backend_failures(BUSY):
        user.language = choice or None
        db.session.commit()
