"""The errors every service raises when a rule refuses a request, and the guards that
turn database and object-store failures into them.

``str(exc)`` of a RuleError is the sentence the user reads; ``status`` is the HTTP
status the error pages answer with. Nothing here knows a feature.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask_babel import gettext
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from .extensions import db
from .i18n import N_
from .storage import StorageError

log = logging.getLogger(__name__)

TRY_AGAIN = N_("The image store is not answering right now. Nothing was changed; please try again.")
BUSY = N_("The database is busy right now. Nothing was changed; please try again.")


class RuleError(Exception):
    """A rule of the repository refused the request; ``str(exc)`` is the user's message,
    in the request's language: a message marked ``N_("...")`` where it is raised is
    translated here, when it is shown (one formatted with ``gettext`` is already)."""

    status = 400

    def __str__(self) -> str:
        return gettext(super().__str__())


class NameTaken(RuleError):
    status = 409


class NotFound(RuleError):
    status = 404


class Forbidden(RuleError):
    status = 403


class Unavailable(RuleError):
    """The database or the object store failed; nothing was changed; try again."""

    status = 503


@contextmanager
def backend_failures(message: str = TRY_AGAIN) -> Iterator[None]:
    """A database or object-store failure inside becomes Unavailable(``message``)."""
    try:
        yield
    except StorageError as exc:
        log.warning("object store failure: %s", exc)
        raise Unavailable(message) from exc
    except OperationalError as exc:
        log.warning("database failure: %s", exc)
        db.session.rollback()
        raise Unavailable(message) from exc


@contextmanager
def claiming_name(taken: str, busy: str = TRY_AGAIN) -> Iterator[None]:
    """Around a commit that claims a name: the unique constraint refuses a taken name
    (NameTaken with ``taken``, nothing changed); a database failure is Unavailable."""
    try:
        with backend_failures(busy):
            yield
    except IntegrityError:
        db.session.rollback()
        raise NameTaken(taken) from None


@contextmanager
def finished_by_fsck(what: str, message: str) -> Iterator[None]:
    """A step after which a failure leaves a state that fsck finishes: roll back, log,
    and tell the user (503) that the rest happens by itself."""
    try:
        yield
    except (StorageError, SQLAlchemyError) as exc:
        db.session.rollback()
        log.warning("%s stopped half-way (fsck will finish): %s", what, exc)
        raise Unavailable(message) from exc
