"""The index of names behind a gallery's search: it finds exactly what the LIKE over the
names finds, on each backend, and follows every name an image takes."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from tests.helpers import image_bytes, last_image_id, make_user, signed_in, upload
from tests.test_pagination import add_rows, walk
from web import migrate
from web.extensions import db
from web.images import listing
from web.images.moves import move_image
from web.images.names import index_all, trigrams
from web.images.removal import delete_image
from web.images.trash import move_to_trash, restore
from web.models import Image, NameTrigram, User
from web.operations import fsck

NAMES = [
    "Holiday-Beach.png",
    "beach2.jpg",
    "Éclair au café.jpg",
    "éclair-small.png",
    "STRASSE.png",
    "straße.png",
    "ΑΘΗΝΑ.png",
    "αθηνα-night.png",
    "100%_real.png",
    "under_score.png",
    "back\\slash.png",
    "a\\b%c_d.png",
    "naïve ïcon.png",
    "x.png",
    "snow 🌨 day.png",
]
QUERIES = [
    "BEACH",
    "bea",
    "ea",
    "b",
    "É",
    "é",
    "éclair",
    "ÉCLAIR",
    "CAFÉ",
    "ssE",
    "straß",
    "ΑΘΗ",
    "αθη",
    "%",
    "%_r",
    "_",
    "e_s",
    "\\",
    "k\\s",
    "\\b%c_",
    "ïco",
    "🌨 d",
    "png",
    "nothing",
    "  beach  ",
]


@pytest.fixture
def owner(app):
    return make_user(app, "alice")


def scanned(query: str, sort: str) -> list[str]:
    """The names a search finds without the index (the walk over the gallery)."""
    original = listing._search
    listing._search = lambda q: listing.Search(q.lower(), None)
    try:
        return [i.filename for i in listing.list_images(0, sort, query, None, 100).images]
    finally:
        listing._search = original


def test_the_index_finds_what_the_scan_finds(app, owner):
    add_rows(app, owner.id, [(name, len(name)) for name in NAMES])
    used = 0
    with app.app_context():
        for query in QUERIES:
            for sort in ("date", "name", "size"):
                found = [i.filename for i in listing.list_images(0, sort, query).images]
                assert found == scanned(query, sort), (query, sort)
            used += listing._search(query.strip()).gram is not None
    assert used >= 10  # most queries went through the index
    assert sorted(walk(app, query="BEACH")[0]) == ["Holiday-Beach.png", "beach2.jpg"]
    assert walk(app, query="\\b%c_")[0] == ["a\\b%c_d.png"]
    assert walk(app, query="ΑΘΗ")[0]  # found on both backends (ΑΘΗΝΑ.png at least)


def test_a_long_query_and_a_common_one(app, owner):
    add_rows(app, owner.id, [(f"img-{n:04}.png", n) for n in range(60)])
    with app.app_context():
        assert listing._search("img").gram is not None  # 60 images: rare enough here
        long = "img-0042.png" * 8
        assert listing.list_images(0, "date", long).images == []
        assert [i.filename for i in listing.list_images(0, "date", "IMG-0042").images] == [
            "img-0042.png"
        ]
    pages = walk(app, query="img-", limit=25)
    assert [len(p) for p in pages] == [25, 25, 10]


def grams_of(app, image_id: int) -> set[str]:
    with app.app_context():
        return set(
            db.session.scalars(select(NameTrigram.gram).where(NameTrigram.image_id == image_id))
        )


def expected(app, image_id: int) -> set[str]:
    with app.app_context():
        name = db.session.scalar(select(func.lower(Image.filename)).where(Image.id == image_id))
        return trigrams(name)


def found(app, query: str) -> list[str]:
    return [n for page in walk(app, query=query) for n in page]


def test_every_name_an_image_takes_is_indexed(app):
    alice = signed_in(app, "alice")
    assert upload(alice, "Sunset Harbour.png", image_bytes()).status_code == 303
    image_id = last_image_id(app)
    assert grams_of(app, image_id) == expected(app, image_id) >= {"sun", "har", "r.p"}
    assert found(app, "HARBOUR") == ["Sunset Harbour.png"]

    with app.app_context():
        viewer = db.session.scalar(select(User).where(User.username == "alice"))
        move_image(viewer, db.session.get(Image, image_id), filename="Lighthouse.png")
    assert grams_of(app, image_id) == expected(app, image_id)
    assert "har" not in grams_of(app, image_id)
    assert found(app, "harbour") == [] and found(app, "lighthouse") == ["Lighthouse.png"]

    with app.app_context():
        viewer = db.session.scalar(select(User).where(User.username == "alice"))
        move_to_trash(viewer, db.session.get(Image, image_id))
    assert found(app, "lighthouse") == []  # in the trash: out of the gallery
    with app.app_context():
        viewer = db.session.scalar(select(User).where(User.username == "alice"))
        restore(viewer, image_id, filename="Old Mill.png")
    assert grams_of(app, image_id) == expected(app, image_id)
    assert found(app, "lighthouse") == [] and found(app, "old mi") == ["Old Mill.png"]

    with app.app_context():
        viewer = db.session.scalar(select(User).where(User.username == "alice"))
        delete_image(viewer, db.session.get(Image, image_id))
    assert grams_of(app, image_id) == set()
    assert found(app, "old mi") == []


def test_a_rename_that_fails_gives_the_old_name_its_index_back(app, monkeypatch):
    alice = signed_in(app, "alice")
    assert upload(alice, "Meadow.png", image_bytes()).status_code == 303
    image_id = last_image_id(app)
    from web.images import moves

    def broken(image):
        raise OSError("the store is down")

    monkeypatch.setattr(moves, "finish_move", broken)
    with app.app_context():
        viewer = db.session.scalar(select(User).where(User.username == "alice"))
        with pytest.raises(moves.Unavailable):
            move_image(viewer, db.session.get(Image, image_id), filename="Forest.png")
    assert grams_of(app, image_id) == expected(app, image_id) >= {"mea"}
    assert found(app, "meadow") == ["Meadow.png"] and found(app, "forest") == []


def test_the_migration_indexes_the_names_already_there(app, owner):
    add_rows(app, owner.id, [("Grey Heron.png", 1), ("Kingfisher.jpg", 2)])
    with app.app_context():
        engine = db.engine
        db.session.close()
        migrate.downgrade(engine, "9b3d6f2a8c41")
        migrate.upgrade(engine)
        ids = db.session.scalars(select(Image.id)).all()
        rows = db.session.execute(select(NameTrigram.image_id, NameTrigram.gram)).all()
    assert len(ids) == 2
    for image_id in ids:
        assert {g for i, g in rows if i == image_id} == expected(app, image_id)
    assert found(app, "HERON") == ["Grey Heron.png"]


def test_building_the_index_again_changes_nothing(app, owner):
    add_rows(app, owner.id, [(name, 1) for name in NAMES])
    with app.app_context():
        before = db.session.execute(select(NameTrigram.image_id, NameTrigram.gram)).all()
        assert index_all(db.session) == len(NAMES)
        db.session.commit()
        after = db.session.execute(select(NameTrigram.image_id, NameTrigram.gram)).all()
    assert sorted(before) == sorted(after) and len(after) > 100


def test_fsck_indexes_a_name_missing_from_the_index(app):
    """As a row written by a version from before the index would be, during an upgrade."""
    alice = signed_in(app, "alice")
    assert upload(alice, "Otter.png", image_bytes()).status_code == 303
    image_id = last_image_id(app)
    with app.app_context():
        db.session.execute(delete(NameTrigram).where(NameTrigram.image_id == image_id))
        db.session.commit()
        assert fsck.run(dry_run=True).found == [
            f"image {image_id} (Otter.png) is missing from the index of names"
        ]
    assert found(app, "otter") == []
    with app.app_context():
        report = fsck.run()
        assert report.done == [f"index the name of image {image_id}"] and not report.failed
        assert fsck.run().found == []
    assert grams_of(app, image_id) == expected(app, image_id)
    assert found(app, "otter") == ["Otter.png"]


def test_previous_and_next_follow_a_search_through_the_index(app, owner):
    add_rows(app, owner.id, [("sea-1.png", 1), ("lake.png", 2), ("sea-2.png", 3), ("sea-3.png", 4)])
    with app.app_context():
        ids = dict(db.session.execute(select(Image.filename, Image.id)).all())
        middle = db.session.get(Image, ids["sea-2.png"])
        assert listing._search("SEA-").gram is not None
        assert listing.neighbours(middle, "name", "SEA-") == (ids["sea-1.png"], ids["sea-3.png"])
        assert listing.neighbours(middle, "size", "a-") == (ids["sea-3.png"], ids["sea-1.png"])
        assert listing.neighbours(middle, "date", "") == (ids["sea-3.png"], ids["lake.png"])
