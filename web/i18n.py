"""Languages: which one a request is served in, and the catalogues that translate it.

English is the language of the source; every other language is a catalogue
``web/translations/<code>/LC_MESSAGES/messages.po``, written by hand. The ``.po`` files
are compiled in memory the first time a process needs them, so no ``.mo`` file is built
or committed. A request's language is, in this order: the signed-in person's choice on
the Account page, the browser's ``Accept-Language``, English.

Scripts get their strings from the same catalogue: a script marks a string with
``gettext("...")`` (web/static/js/i18n.js), and every page in another language than
English carries the translations of the scripts' strings in a JSON data block.
"""

from __future__ import annotations

import functools
import io
from datetime import UTC, datetime
from datetime import date as day
from datetime import time as clock
from pathlib import Path

import flask_login
from babel import dates
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import get_decimal_symbol
from babel.support import NullTranslations, Translations
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, Domain, format_date, get_locale, gettext
from sqlalchemy.exc import SQLAlchemyError

DEFAULT = "en"
# The languages a person can choose, each named in its own language.
LANGUAGES = {"en": "English", "de": "Deutsch"}
TRANSLATIONS = Path(__file__).parent / "translations"
SCRIPTS = Path(__file__).parent / "static" / "js"


def N_(text: str) -> str:
    """Mark a string for the catalogue; it is translated later, where it is shown."""
    return text


@functools.cache
def catalogue(language: str) -> NullTranslations:
    """The translations of one language, compiled in memory from its ``.po`` file."""
    po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not po.is_file():
        return NullTranslations()
    with po.open("rb") as handle:
        messages = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, messages, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled)


@functools.cache
def script_strings() -> tuple[str, ...]:
    """The strings the scripts mark with ``gettext("...")``, found as Babel extracts them."""
    found = extract_from_dir(
        str(SCRIPTS), method_map=[("*.js", "javascript")], keywords={"gettext": None}
    )
    return tuple(sorted({message for _file, _line, message, _comments, _ctx in found}))


def chosen_language() -> str | None:
    """The language the signed-in person picked on the Account page, if any."""
    # With the database down, only a person already loaded: the error page must render.
    person = g.get("_login_user") if g.get("database_down") else flask_login.current_user
    try:
        choice = getattr(person, "language", None) if person else None
    except SQLAlchemyError:  # the account could not be read: the browser's language then
        choice = None
    return choice if choice in LANGUAGES else None


def select_language() -> str:
    """The language of this request: the person's choice, else the browser's, else English
    (always English for the API)."""
    if not has_request_context() or request.path.startswith("/api/v1/"):
        return DEFAULT  # the API speaks English, whatever the caller's browser or account
    return chosen_language() or request.accept_languages.best_match(LANGUAGES, DEFAULT)


def language() -> str:
    """The language the current request is served in ("en" outside a request)."""
    locale = get_locale()
    return locale.language if locale else DEFAULT


@functools.cache
def decimal_symbol(code: str) -> str:
    """The decimal point of a language: "." or ","."""
    return get_decimal_symbol(code)


def date(moment: datetime | None) -> str:
    """A day: 2026-11-25 in English (as always), the language's own way otherwise."""
    if moment is None:
        return gettext("never")
    if language() == DEFAULT:
        return moment.strftime("%Y-%m-%d")
    return format_date(moment, "medium")


def date_time(moment: datetime | None, language_code: str | None = None) -> str:
    """A day and time in UTC: 2026-11-25 16:39 UTC, or 25.11.2026, 16:39 UTC (in
    ``language_code``, by default the request's).

    Babel's formatting costs tens of microseconds a call, and a gallery page shows a date
    on each of its cards: the day and the time of day are formatted once per language
    (as Flask-Babel's ``format_date(moment, "medium")`` and ``format_time(moment,
    "short")`` write them in UTC, the only time zone the pages use) and kept."""
    if moment is None:
        return gettext("never")
    code = language_code or language()
    if code == DEFAULT:
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    utc = moment.astimezone(UTC) if moment.tzinfo else moment  # a naive time is UTC
    return f"{_day(code, utc.date())}, {_time_of_day(code, utc.hour, utc.minute)} UTC"


@functools.lru_cache(maxsize=4096)
def _day(code: str, when: day) -> str:
    return dates.format_date(when, "medium", locale=code)


@functools.lru_cache(maxsize=2 * 24 * 60)
def _time_of_day(code: str, hour: int, minute: int) -> str:
    return dates.format_time(clock(hour, minute), "short", locale=code)


class _Catalogues(Domain):
    """Flask-Babel's domain, reading the catalogues compiled in memory."""

    def get_translations(self) -> NullTranslations:
        return catalogue(language())


class _Babel(Babel):
    @functools.cached_property
    def domain_instance(self) -> Domain:
        return _Catalogues()


def init_app(app: Flask) -> None:
    _Babel(app, locale_selector=select_language, default_timezone="UTC")
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.add_template_filter(date, "date")
    app.add_template_filter(date_time, "date_time")

    @app.context_processor
    def _languages() -> dict[str, object]:
        current = language()
        strings = {}
        if current != DEFAULT:
            translations = catalogue(current)
            strings = {text: translations.gettext(text) for text in script_strings()}
        return {"page_language": current, "languages": LANGUAGES, "script_strings": strings}
