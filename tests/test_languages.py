"""Languages: English unless the browser asks for German (Accept-Language) or the person
chose it; dates and sizes written as the language writes them."""

from __future__ import annotations

import datetime as dt

import pytest

from web import i18n

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def page(client, path, **headers):
    return client.get(path, headers=headers).get_data(as_text=True)


@pytest.mark.parametrize("header", [None, "en", "en-GB,en;q=0.9", "fr-FR", "*"])
def test_english_unless_german_is_asked_for(app, client, header):
    html = page(client, "/login", **({"Accept-Language": header} if header else {}))
    assert '<html lang="en">' in html
    assert ">Log in</a>" in html and ">Sign up</a>" in html
    assert 'id="script-strings"' not in html  # English needs no strings for the scripts


@pytest.mark.parametrize("header", ["de", "de-DE,de;q=0.9,en;q=0.5", "fr;q=0.9, de;q=0.8"])
def test_german_when_the_browser_asks_for_it(app, client, header):
    html = page(client, "/login", **{"Accept-Language": header})
    assert '<html lang="de">' in html
    assert ">Anmelden</a>" in html and ">Registrieren</a>" in html
    assert ">Log in</a>" not in html


def test_english_wins_when_the_browser_prefers_it(app, client):
    html = page(client, "/login", **{"Accept-Language": "en;q=0.9, de;q=0.8"})
    assert '<html lang="en">' in html


def test_error_pages_speak_german(app, client):
    response = client.get("/no/such/page", headers=GERMAN)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Nicht gefunden" in html and "Unter dieser Adresse gibt es nichts." in html
    assert "Fehler 404" in html and "Zurück zur Startseite" in html
    assert "Not Found" not in html and "nothing at this address" not in html


def test_sizes_and_dates_in_german(app):
    moment = dt.datetime(2026, 3, 7, 16, 5)
    with app.test_request_context(headers=GERMAN):
        size = app.jinja_env.filters["filesize"]
        assert size(1536) == "1,5 KB"
        assert size(5 * 1024**3 // 2) == "2,5 GB"
        assert size(12) == "12 Bytes"
        assert i18n.date(moment) == "07.03.2026"
        assert i18n.date_time(moment) == "07.03.2026, 16:05 UTC"
        assert i18n.date(None) == "nie"
    with app.test_request_context():
        size = app.jinja_env.filters["filesize"]
        assert (size(1536), size(12)) == ("1.5 KB", "12 bytes")
        assert i18n.date(moment) == "2026-03-07"
        assert i18n.date_time(moment) == "2026-03-07 16:05 UTC"
    assert i18n.date(moment) == "2026-03-07"  # outside a request: English
