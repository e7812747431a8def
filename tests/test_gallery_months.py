"""Galleries in date order are grouped by month, a header above each month's first
picture; in name (or size) order there are no month headers."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import update

from tests.helpers import signed_in, upload
from web.extensions import db
from web.models import Image


def _dated(app, client, dates: dict[str, dt.datetime]) -> None:
    for name in dates:
        assert upload(client, name).status_code == 303
    with app.app_context():
        for name, when in dates.items():
            db.session.execute(update(Image).where(Image.filename == name).values(created_at=when))
        db.session.commit()


def _headers_and_names(html: str) -> list[str]:
    section = re.search(r'<section[^>]*id="public-images".*?</section>', html, re.S).group(0)
    found = re.findall(r'<h3 class="h6 mb-0">([^<]*)</h3>|alt="([^"]*)"', section)
    return [header or name for header, name in found]


def test_date_order_groups_by_month_and_name_order_does_not(app):
    client = signed_in(app, "alice")
    _dated(
        app,
        client,
        {
            "a-october.png": dt.datetime(2026, 10, 3, 12, 0, tzinfo=dt.UTC),
            "b-november.png": dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC),
            "c-november.png": dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
        },
    )
    for page in ("/myfiles", "/gallery"):
        html = client.get(page).get_data(as_text=True)
        assert _headers_and_names(html) == [
            "November 2026",
            "c-november.png",
            "b-november.png",
            "October 2026",
            "a-october.png",
        ], page
        assert html.count('class="month-header"') == 2
    for sort in ("name", "size"):
        html = client.get(f"/gallery?sort={sort}").get_data(as_text=True)
        assert 'class="month-header"' not in html
        assert len(_headers_and_names(html)) == 3


def test_month_names_follow_the_language(app):
    client = signed_in(app, "bernd")
    _dated(app, client, {"bild.png": dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)})
    html = client.get("/gallery", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert _headers_and_names(html)[0] == "März 2026"
