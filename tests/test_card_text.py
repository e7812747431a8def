"""A gallery card's links and texts are worked out once per card in Python (routes.Card)
rather than by a ``url_for``, ``_()`` or Babel call each in the template; what they give
is what those calls give: sizes as Babel's ``format_decimal(value, "0.0")`` writes them,
dates as Flask-Babel's ``format_date`` and ``format_time``, links as ``url_for``, and the
card itself as the template wrote it before (German included)."""

from __future__ import annotations

import datetime as dt
import random
import re

import flask_babel
from babel.numbers import format_decimal

from tests.helpers import last_image_id, say, signed_in, upload
from web import i18n
from web.images import routes
from web.sizes import filesize

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


def _babel_size(size: int) -> str:
    """What the filter wrote before: Babel's number, in the request's language."""
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{format_decimal(value, '0.0', locale=i18n.language())} {unit}"


def test_sizes_are_written_as_babel_writes_them(app):
    rng = random.Random(7)
    sizes = [1024, 1075, 1126, 1280, 1331, 2406, 1024**2 * 5 // 2, 1024**3 - 1, 1024**3]
    sizes += [1024 * 1024**3 + 1, 7 * 1024**4]  # beyond a terabyte: still GB
    sizes += [rng.randrange(1024, 50 * 1024**3) for _ in range(3000)]
    for headers, point in (({}, "."), (GERMAN, ",")):
        with app.test_request_context(headers=headers):
            for size in sizes:
                assert filesize(size) == _babel_size(size), size
            assert filesize(1280) == f"1{point}2 KB"  # half to even, as Babel rounds
            assert filesize(1331) == f"1{point}3 KB"


def test_dates_are_written_as_flask_babel_writes_them(app):
    rng = random.Random(11)
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    moments = [start + dt.timedelta(seconds=rng.randrange(10**9)) for _ in range(500)]
    moments += [m.replace(tzinfo=None) for m in moments[:50]]  # naive: UTC
    moments += [m.astimezone(dt.timezone(dt.timedelta(hours=-5))) for m in moments[:50]]
    with app.test_request_context(headers=GERMAN):
        for moment in moments:
            babel = (
                f"{flask_babel.format_date(moment, 'medium')}, "
                f"{flask_babel.format_time(moment, 'short')} UTC"
            )
            assert i18n.date_time(moment) == babel, moment
            assert i18n.date_time(moment, "de") == babel
        assert i18n.date_time(dt.datetime(2026, 3, 7, 23, 5, tzinfo=dt.UTC)) == (
            "07.03.2026, 23:05 UTC"
        )


def test_image_links_are_those_of_url_for(app):
    with app.test_request_context("/myfiles"):
        from flask import url_for

        for endpoint, args in (
            ("gallery.image_page", {}),
            ("gallery.image_page", {"sort": "name", "q": "a 1&2/ü"}),
            ("gallery.image_thumb", {}),
            ("gallery.image_file", {}),
        ):
            link = routes._id_urls(endpoint, **args)
            for image_id in (1, 2, 9, 10, 12, 21, 1000, 123456789):
                assert link(image_id) == url_for(endpoint, image_id=image_id, **args)
    with app.test_request_context("/myfiles", base_url="http://localhost/12"):
        link = routes._id_urls("gallery.image_thumb")
        assert link(12) == "/12/image/12/thumb" == url_for("gallery.image_thumb", image_id=12)


def _card(html: str, image_id: int) -> str:
    found = re.search(
        rf'<li class="gallery-item" data-image-id="{image_id}">.*?</li>', html, re.DOTALL
    )
    assert found, image_id
    return found.group(0)


def test_a_card_in_german_reads_as_before(app):
    alice = signed_in(app, "alice")
    upload(alice, "a&b.png", visibility="public")
    image_id = last_image_id(app)
    say(alice, image_id, "Schön")
    html = alice.get("/myfiles?sort=name&q=a", headers=GERMAN).get_data(as_text=True)
    card = _card(html, image_id)
    page = f"/image/{image_id}?sort=name&amp;q=a"
    assert card.count(f'href="{page}"') == 2
    assert f'<img src="/image/{image_id}/thumb" alt="a&amp;b.png"' in card
    assert f'data-viewer-src="/image/{image_id}/preview"' in card
    assert f'data-viewer-original="/image/{image_id}/file"' in card
    assert 'data-viewer-visibility="öffentlich"' in card
    assert re.search(r'data-viewer-date="\d\d\.\d\d\.\d{4}, \d\d:\d\d UTC"', card)
    assert re.search(r'data-viewer-size="\d+ Bytes"', card)
    assert re.search(r"alice · \d+ Bytes</small>", card)
    assert f'id="comment-count-{image_id}">1 Kommentar</small>' in card
    assert 'aria-label="a&amp;b.png löschen">Löschen</button>' in card
    assert ">Auswählen<span" in card
    assert '<form method="post" action="/delete" class="mt-1 delete-form">' in card
    assert re.search(r'name="csrf_token" value="[^"]+"', card)
