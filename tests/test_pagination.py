"""Search, sort and keyset pagination of the galleries, straight from the database."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import insert, text

from tests.helpers import make_user
from web.extensions import db
from web.images import listing
from web.images.names import index_all
from web.models import PRIVATE, PUBLIC_SCOPE, READY, Image, scope_for, utcnow


def add_rows(app, owner_id: int, names_and_sizes: list[tuple[str, int]]) -> None:
    """Gallery rows inserted in bulk (the listing reads only the database)."""
    with app.app_context():
        now = utcnow()
        db.session.execute(
            insert(Image),
            [
                {
                    "owner_id": owner_id,
                    "filename": name,
                    "visibility": "public",
                    "scope": PUBLIC_SCOPE,
                    "state": READY,
                    "bucket": app.config["PUBLIC_BUCKET"],
                    "object_key": name,
                    "thumb_key": None,
                    "content_type": "image/png",
                    "format": "PNG",
                    "size": size,
                    "sha256": "0" * 64,
                    "has_gps": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for name, size in names_and_sizes
            ],
        )
        index_all(db.session)
        db.session.commit()


def walk(app, sort="date", query="", limit=48) -> list[list[str]]:
    """Every page of the public gallery, following the cursors."""
    pages, cursor = [], None
    with app.app_context():
        while True:
            page = listing.list_images(PUBLIC_SCOPE, sort, query, cursor, limit)
            pages.append([i.filename for i in page.images])
            cursor = page.next_cursor
            if cursor is None:
                return pages


def private_scope_of(user) -> int:
    return scope_for(PRIVATE, user.id)


@pytest.fixture
def owner(app):
    return make_user(app, "alice")


def test_pages_of_48_newest_first_with_exact_boundaries(app, owner):
    add_rows(app, owner.id, [(f"img{n:03}.png", n) for n in range(97)])
    pages = walk(app)
    assert [len(p) for p in pages] == [48, 48, 1]
    assert pages[0][0] == "img096.png" and pages[-1] == ["img000.png"]
    flat = [n for p in pages for n in p]
    assert flat == [f"img{n:03}.png" for n in range(96, -1, -1)]


def test_exactly_one_full_page_has_no_next_link(app, owner):
    add_rows(app, owner.id, [(f"img{n:03}.png", n) for n in range(48)])
    assert [len(p) for p in walk(app)] == [48]


def test_empty_gallery_is_one_empty_page(app, owner):
    assert walk(app) == [[]]


def test_sort_by_name_and_by_size_with_ties(app, owner):
    names = [("b.png", 10), ("a.png", 10), ("c.png", 30), ("B.png", 20), ("d.png", 10)]
    add_rows(app, owner.id, names)
    assert walk(app, "name", limit=2) == [["B.png", "a.png"], ["b.png", "c.png"], ["d.png"]]
    by_size = [n for p in walk(app, "size", limit=2) for n in p]
    assert by_size[:2] == ["c.png", "B.png"]
    assert sorted(by_size[2:]) == ["a.png", "b.png", "d.png"] and len(by_size) == 5


def test_a_name_page_reads_the_index_in_order_without_sorting(app, owner, backend):
    """A name is unique in its gallery, so the index on (scope, filename) gives a page
    in order: the database reads a page's rows and stops, however large the gallery
    (MariaDB sorted the whole gallery while the id was a tie-break)."""
    add_rows(app, owner.id, [(f"n{n:03}.png", n) for n in range(60)])
    with app.app_context():
        stmt = listing._page_ids(PUBLIC_SCOPE, "name", listing.Search(), None, 48)
        sql = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        if backend == "mysql-s3":
            plan = db.session.execute(text(f"EXPLAIN {sql}")).mappings().all()
            assert [row["key"] for row in plan] == ["uq_images_scope_filename"]
            assert "filesort" not in (plan[0]["Extra"] or "")
        else:
            plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
            assert not any("TEMP B-TREE" in row[-1] for row in plan), plan
    assert [n for p in walk(app, "name", limit=7) for n in p] == [f"n{n:03}.png" for n in range(60)]


def test_a_name_sort_over_two_galleries_keeps_the_same_names_apart(app, owner):
    """The API lists the public gallery with the caller's private one: a name may be in
    both, and then the id orders them, page boundary or not."""
    add_rows(app, owner.id, [("same.png", 1), ("z.png", 2)])
    private = private_scope_of(owner)
    with app.app_context():
        now = utcnow()
        db.session.execute(
            insert(Image),
            [
                {
                    "owner_id": owner.id,
                    "filename": "same.png",
                    "visibility": "private",
                    "scope": private,
                    "state": READY,
                    "bucket": "b",
                    "object_key": "same.png",
                    "content_type": "image/png",
                    "format": "PNG",
                    "size": 3,
                    "sha256": "0" * 64,
                    "has_gps": False,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        db.session.commit()
        seen, cursor = [], None
        while True:
            page = listing.list_images((PUBLIC_SCOPE, private), "name", "", cursor, 1)
            seen += [(i.filename, i.scope) for i in page.images]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == [("same.png", PUBLIC_SCOPE), ("same.png", private), ("z.png", PUBLIC_SCOPE)]


def test_search_is_a_case_insensitive_substring(app, owner):
    add_rows(
        app,
        owner.id,
        [
            ("Holiday-Beach.png", 1),
            ("beach2.jpg", 1),
            ("city.png", 1),
            ("100%_real.png", 1),
            ("under_score.png", 1),
        ],
    )
    assert sorted(walk(app, query="BEACH")[0]) == ["Holiday-Beach.png", "beach2.jpg"]
    assert walk(app, query="%")[0] == ["100%_real.png"]
    assert sorted(walk(app, query="_")[0]) == ["100%_real.png", "under_score.png"]
    assert walk(app, query="nothing")[0] == []


def test_gallery_page_links_to_the_next_page_and_keeps_search_and_sort(app, owner, client):
    add_rows(app, owner.id, [(f"sea{n:03}.png", n) for n in range(60)])
    client.post("/login", data={"username": "alice", "password": "Quiet-harbor-lantern-42"})
    first = client.get("/gallery?q=sea&sort=name").get_data(as_text=True)
    assert first.count('class="filename') == 48
    link = re.search(r'rel="next"\s+href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "q=sea" in link and "sort=name" in link
    second = client.get(link).get_data(as_text=True)
    assert second.count('class="filename') == 12
    assert "sea048.png" in second and "sea047.png" not in second


def test_a_damaged_page_link_is_a_clear_400(app, owner, client):
    client.post("/login", data={"username": "alice", "password": "Quiet-harbor-lantern-42"})
    response = client.get("/gallery?public_after=not-a-cursor!!")
    assert response.status_code == 400
    assert "This page link is not valid." in response.get_data(as_text=True)
