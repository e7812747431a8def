"""Languages: English unless the browser asks for German (Accept-Language) or the person
chose it; dates and sizes written as the language writes them."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select

from tests.helpers import last_image_id, make_user, say, signed_in_admin, upload, user_id
from web import i18n, jobs
from web.accounts import tokens
from web.extensions import db
from web.models import User

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


def choose(client, language):
    return client.post("/account/language", data={"language": language})


def test_the_account_setting_beats_the_browser(app, auth, client):
    auth.signup("alice")
    assert '<html lang="de">' in page(client, "/account", **GERMAN)  # nothing chosen yet
    response = choose(client, "en")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    html = page(client, "/account", **GERMAN)
    assert '<html lang="en">' in html and "Your language is saved." in html
    assert '<option value="en" lang="en" selected>English</option>' in html
    choose(client, "de")
    html = page(client, "/account")  # no Accept-Language at all
    assert '<html lang="de">' in html and "Ihre Sprache ist gespeichert." in html
    assert ">Sprache der Seiten</label>" in html
    choose(client, "")  # automatic: the browser's language again
    assert '<html lang="en">' in page(client, "/account")
    assert '<html lang="de">' in page(client, "/account", **GERMAN)


def test_a_language_not_offered_is_refused(app, auth, client):
    auth.signup("alice")
    response = client.post("/account/language", data={"language": "xx"}, headers=GERMAN)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Wählen Sie eine der angebotenen Sprachen." in html
    assert '<html lang="de">' in page(client, "/account", **GERMAN)


def test_the_setting_needs_a_login(app, client):
    response = choose(client, "de")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# Pages in German carry none of their English headings, buttons and sentences.
ENGLISH_LEFTOVERS = {
    "/myfiles": ["My Files", "Upload images", "Public images", "My private images", "Upload<"],
    "/account": ["Your account", "Change your password", "API tokens", "Delete my account"],
    "/trash": ["The trash is empty.", "Deleted images wait here"],
    "/gallery": ["Public gallery", "No public images yet."],
}


@pytest.mark.parametrize("path", sorted(ENGLISH_LEFTOVERS))
def test_german_pages_have_no_english_leftovers(app, auth, client, path):
    auth.signup("alice")
    choose(client, "de")
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="de">' in html
    for english in ENGLISH_LEFTOVERS[path] + ["Log out", "Shared links", "Skip to content"]:
        assert english not in html, english
    assert "Abmelden" in html and "Zum Inhalt springen" in html


def test_every_kind_of_page_renders_in_german(app):
    """An admin with an image, a comment and an album walks the pages in German: each
    renders, says lang="de" and keeps the English menu and headings out."""
    admin = signed_in_admin(app)
    choose(admin, "de")
    upload(admin, "berg.png")
    image_id = last_image_id(app)
    say(admin, image_id, "Schöner Berg")
    album = admin.post("/albums", data={"title": "Urlaub"}).headers["Location"]
    shared = admin.post(f"/image/{image_id}/share", data={"expires": "7d"})
    admin_id = user_id(app, "boss")
    for path in [
        "/",
        "/myfiles",
        "/gallery",
        "/trash",
        "/account",
        "/account/two-factor",
        "/albums",
        album,
        f"/image/{image_id}",
        f"/image/{image_id}/albums",
        "/shared-links",
        "/admin",
        f"/admin/users/{admin_id}",
        "/admin/audit",
        "/admin/reset",
        f"/admin/users/{admin_id}/delete",
        f"/admin/images/{image_id}/delete-for-good",
    ]:
        response = admin.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and '<html lang="de">' in html, path
        assert "Abmelden" in html and ">Log out<" not in html, path
    assert shared.status_code in (200, 303)
    assert "Schöner Berg" in admin.get(f"/image/{image_id}").get_data(as_text=True)
    assert ">Kommentare" in admin.get(f"/image/{image_id}").get_data(as_text=True)


def test_form_errors_come_from_the_catalogue_and_wtforms(app, client):
    html = client.post("/signin", data={}, headers=GERMAN).get_data(as_text=True)
    assert "Dieses Feld wird benötigt." in html  # WTForms' own German
    assert ">Passwort bestätigen</label>" in html
    html = client.post(
        "/login", data={"username": "nobody", "password": "x"}, headers=GERMAN
    ).get_data(as_text=True)
    assert "Benutzername oder Passwort ist falsch." in html


def test_a_job_speaks_the_language_of_whoever_started_it(app):
    """The Jobs tab, its flash and a job's name are German for a German admin; the result
    message is written in the starter's language and stays in it."""
    admin = signed_in_admin(app)
    choose(admin, "de")
    response = admin.post("/admin/jobs/renditions", data={"which": "missing"})
    assert response.status_code in (302, 303)
    jobs.wait(app)
    html = admin.get("/admin/jobs").get_data(as_text=True)
    assert "Die Vorschauen und Miniaturbilder werden im Hintergrund erstellt." in html
    assert "Hintergrundaufträge" in html and "Fehlende Vorschauen erstellen" in html
    assert "Vorschauen und Miniaturbilder neu erstellt" in html and "Auftrag " in html
    assert "Vorschauen und Miniaturbilder für 0 von 0 Bild(ern) erstellt." in html
    choose(admin, "en")
    html = admin.get("/admin/jobs").get_data(as_text=True)
    assert "Background jobs" in html and "Previews and thumbnails made again" in html
    assert "Vorschauen und Miniaturbilder für 0 von 0 Bild(ern) erstellt." in html


def test_a_refused_upload_says_why_in_german(app, auth, client):
    auth.signup("alice")
    choose(client, "de")
    for data, german in [
        (b"hello, this is text\n" * 5, "Diese Datei ist kein zulässiges Bild (JPEG, PNG"),
        (b"", "Die Datei ist leer."),
    ]:
        html = upload(client, "text.png", data).get_data(as_text=True)
        assert german in html, german
        assert "not an accepted image" not in html and "The file is empty" not in html


def test_the_api_answers_in_english_whatever_the_browser_asks(app, client):
    make_user(app, "alice")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "alice"))
        secret = tokens.create(user, "test", "read-write").secret
    response = client.post(
        "/api/v1/images",
        data={"file": [(io.BytesIO(b"text\n" * 20), "t.png")], "visibility": "public"},
        headers={"Authorization": f"Bearer {secret}", **GERMAN},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "This file is not an accepted image" in body
    assert "zulässiges Bild" not in body
