"""The order of an album: by date (newest or oldest first) or by hand, moved on the album
page (without JS) or sent whole through the API; share pages follow it; a bad request
changes nothing."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.helpers import flashes, signed_in
from tests.test_albums import add, make_album, owner_with_images
from tests.test_api_albums import token_for, upload_one
from web import migrate
from web.accounts import tokens
from web.extensions import db
from web.models import Album, AlbumImage, User


def shown(client, url: str) -> list[int]:
    """The image ids a page shows, in order."""
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    return [int(i) for i in re.findall(r'data-image-id="(\d+)"', page.get_data(as_text=True))]


def stored(app, album_id: int) -> tuple[str, list[tuple[int, int]]]:
    """The album's order setting and its (image id, position) rows."""
    with app.app_context():
        order = db.session.scalar(select(Album.sort_order).where(Album.id == album_id))
        rows = db.session.execute(
            select(AlbumImage.image_id, AlbumImage.position)
            .where(AlbumImage.album_id == album_id)
            .order_by(AlbumImage.image_id)
        )
        return order, [tuple(row) for row in rows]


def move(client, album_id: int, image_id: int, to: str, **extra: str):
    return client.post(
        f"/albums/{album_id}/move", data={"image_id": str(image_id), "to": to, **extra}
    )


def test_the_order_setting_by_date_and_by_hand(app):
    owner, (a, b, c) = owner_with_images(app, 3)
    album_id = make_album(owner)
    add(owner, album_id, b, a)
    add(owner, album_id, c)  # added last: at the end by hand
    page = f"/albums/{album_id}"
    assert shown(owner, page) == [c, b, a]  # newest first by default
    for order, expected, label in [
        ("oldest", [a, b, c], "by date (oldest first)"),
        ("manual", [b, a, c], "by hand"),
        ("newest", [c, b, a], "by date (newest first)"),
    ]:
        answer = owner.post(f"{page}/order", data={"order": order})
        assert answer.status_code == 303
        assert f"The album is now ordered {label}." in flashes(owner.get(page))
        assert shown(owner, page) == expected
    refused = owner.post(f"{page}/order", data={"order": "random"})
    assert refused.status_code == 400
    assert "Choose one of the orders: by date (newest first)" in refused.get_data(as_text=True)
    assert stored(app, album_id)[0] == "newest"


def test_moving_by_hand_without_js(app):
    owner, (a, b, c) = owner_with_images(app, 3)
    album_id = make_album(owner)
    add(owner, album_id, a, b, c)
    page = f"/albums/{album_id}"
    html = owner.get(page).get_data(as_text=True)
    assert re.search(r'class="btn btn-sm btn-outline-secondary move-earlier"[^>]*disabled', html)
    # From the order by date, a move starts from what was shown and switches to by hand.
    moved = move(owner, album_id, a, "earlier")
    assert moved.status_code == 303
    assert moved.headers["Location"] == f"{page}#album-images-{a}"
    assert shown(owner, page) == [c, a, b] and stored(app, album_id)[0] == "manual"
    move(owner, album_id, c, "later")
    assert shown(owner, page) == [a, c, b]
    move(owner, album_id, b, "front")
    assert shown(owner, page) == [b, a, c]
    move(owner, album_id, b, "earlier")  # already first: stays
    move(owner, album_id, c, "later")  # already last: stays
    assert shown(owner, page) == [b, a, c]
    assert [p for _, p in sorted(stored(app, album_id)[1], key=lambda r: r[1])] == [1, 2, 3]


def test_bad_moves_change_nothing(app):
    owner, (a, b) = owner_with_images(app, 2)
    album_id = make_album(owner)
    add(owner, album_id, a)
    before = stored(app, album_id)
    refused = move(owner, album_id, a, "sideways")
    assert refused.status_code == 400
    assert "Move an image earlier, later or to the front." in refused.get_data(as_text=True)
    missing = move(owner, album_id, b, "front")  # the owner's, but not in the album
    assert missing.status_code == 404
    assert "That image is not in the album." in missing.get_data(as_text=True)
    assert move(owner, album_id, 10**6, "front").status_code == 404
    assert owner.post(f"/albums/{album_id}/move", data={"to": "front"}).status_code == 404
    stranger = signed_in(app, "stranger")
    assert move(stranger, album_id, a, "front").status_code == 404
    assert stranger.post(f"/albums/{album_id}/order", data={"order": "oldest"}).status_code == 404
    assert stored(app, album_id) == before


def test_pages_follow_the_order_by_hand(app, config):
    app.config["PAGE_SIZE"] = 2
    owner, (a, b, c) = owner_with_images(app, 3)
    album_id = make_album(owner)
    add(owner, album_id, a, b, c)
    owner.post(f"/albums/{album_id}/order", data={"order": "manual"})
    first = owner.get(f"/albums/{album_id}").get_data(as_text=True)
    link = re.search(r'href="(/albums/\d+\?before=(\d+))"', first)
    assert link and int(link[2]) == b
    assert shown(owner, link[1]) == [c]
    # Moving on the second page comes back to it (its anchor stays in the album).
    moved = move(owner, album_id, c, "earlier", before=str(b))
    assert moved.headers["Location"].startswith(f"/albums/{album_id}?before={b}")
    assert shown(owner, f"/albums/{album_id}") == [a, c]
    owner.post(f"/albums/{album_id}/remove", data={"image_id": str(c)})
    stale = owner.get(f"/albums/{album_id}?before={c}")
    assert stale.status_code == 400
    assert "The album changed since this page was shown" in stale.get_data(as_text=True)


def test_trashed_images_keep_their_place_and_share_pages_follow_the_order(app):
    owner, (a, b, c) = owner_with_images(app, 3)
    album_id = make_album(owner)
    add(owner, album_id, a, b, c)
    owner.post(f"/albums/{album_id}/order", data={"order": "oldest"})
    made = owner.post(f"/albums/{album_id}/share", data={"expires": "never"})
    url = re.search(r"/s/[\w-]+", made.get_data(as_text=True))[0]
    visitor = app.test_client()
    assert shown(visitor, url) == [a, b, c]
    gone = owner.post("/delete-selected", data={"image_id": str(b), "confirm": "yes"})
    assert gone.status_code == 303
    move(owner, album_id, c, "front")
    assert shown(visitor, url) == [c, a]
    assert shown(owner, f"/albums/{album_id}") == [c, a]


def test_new_images_go_to_the_end(app):
    owner, (a, b, c) = owner_with_images(app, 3)
    album_id = make_album(owner)
    add(owner, album_id, c)
    move(owner, album_id, c, "front")
    add(owner, album_id, a)
    add(owner, album_id, b)
    assert shown(owner, f"/albums/{album_id}") == [c, a, b]


def test_order_through_the_api(app, client):
    alice = token_for(app, "alice")
    ids = [upload_one(client, alice, f"{n}.png") for n in range(3)]
    made = client.post("/api/v1/albums", json={"title": "Trip", "order": "oldest"}, headers=alice)
    assert made.status_code == 201 and made.json["order"] == "oldest"
    album = f"/api/v1/albums/{made.json['id']}"
    client.post(f"{album}/images", json={"image_ids": ids}, headers=alice)
    listed = client.get(f"{album}/images", headers=alice).json["items"]
    assert [i["id"] for i in listed] == ids
    wanted = [ids[2], ids[0], ids[1]]
    put = client.put(f"{album}/order", json={"image_ids": wanted}, headers=alice)
    assert put.status_code == 200 and put.json["order"] == "manual"
    assert [i["id"] for i in client.get(f"{album}/images", headers=alice).json["items"]] == wanted
    assert client.get("/api/v1/albums", headers=alice).json["items"][0]["order"] == "manual"
    patched = client.patch(album, json={"order": "newest"}, headers=alice)
    assert patched.status_code == 200 and patched.json["order"] == "newest"
    assert client.patch(album, json={"order": "random"}, headers=alice).status_code == 400
    before = stored(app, made.json["id"])
    for bad in (
        [ids[0], ids[1]],  # one missing
        [ids[0], ids[1], ids[2], 10**6],  # an unknown image
        [ids[0], ids[1], ids[1]],  # a duplicate
        [ids[0], ids[1], ids[2], ids[2]],
        [],
    ):
        refused = client.put(f"{album}/order", json={"image_ids": bad}, headers=alice)
        assert refused.status_code == 400, bad
        assert "Send every image of the album exactly once" in refused.json["detail"]
    assert client.put(f"{album}/order", json={"ids": wanted}, headers=alice).status_code == 400
    bob = token_for(app, "bob")
    assert client.put(f"{album}/order", json={"image_ids": wanted}, headers=bob).status_code == 404
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "alice"))
        reader = {"Authorization": f"Bearer {tokens.create(user, 'r', 'read').secret}"}
    assert (
        client.put(f"{album}/order", json={"image_ids": wanted}, headers=reader).status_code == 403
    )
    assert stored(app, made.json["id"]) == before


def test_the_migration_numbers_existing_albums_newest_first(app):
    owner, (a, b, c) = owner_with_images(app, 3)
    album_id = make_album(owner)
    add(owner, album_id, b, c, a)
    with app.app_context():
        engine = db.engine
        db.session.close()
        migrate.downgrade(engine, "7d3a6e9b2c18")
        migrate.upgrade(engine)
    assert stored(app, album_id) == ("newest", [(a, 3), (b, 2), (c, 1)])


# --- dragging on the album page: the page's new order, posted by album_order.js ---------


def arrange(client, album_id: int, *image_ids: int, **extra: str):
    data = {"image_id": [str(i) for i in image_ids], **extra}
    return client.post(f"/albums/{album_id}/arrange", data=data)


def test_the_album_page_offers_dragging_with_its_own_script(app):
    owner, (a, b) = owner_with_images(app, 2)
    album_id = make_album(owner)
    add(owner, album_id, a)
    html = owner.get(f"/albums/{album_id}").get_data(as_text=True)
    assert 'id="album-arrange-form"' not in html  # one picture: nothing to drag
    add(owner, album_id, b)
    html = owner.get(f"/albums/{album_id}").get_data(as_text=True)
    assert f'action="/albums/{album_id}/arrange" id="album-arrange-form"' in html
    assert "Drag a picture to another place, or use its buttons." in html
    assert '<script src="/static/js/album_order.js"></script>' in html
    assert "move-earlier" in html  # the buttons stay


def test_a_dragged_order_is_saved(app):
    owner, (a, b, c) = owner_with_images(app, 3)
    album_id = make_album(owner)
    add(owner, album_id, a, b, c)
    page = f"/albums/{album_id}"
    assert shown(owner, page) == [c, b, a]
    answer = arrange(owner, album_id, a, c, b)
    assert answer.status_code == 303 and answer.headers["Location"] == page
    assert shown(owner, page) == [a, c, b]
    assert stored(app, album_id)[0] == "manual"


def test_dragging_on_a_later_page_keeps_the_other_pages(app, config):
    app.config["PAGE_SIZE"] = 2
    owner, (a, b, c, d) = owner_with_images(app, 4)
    album_id = make_album(owner)
    add(owner, album_id, a, b, c, d)
    owner.post(f"/albums/{album_id}/order", data={"order": "manual"})
    assert shown(owner, f"/albums/{album_id}?before={b}") == [c, d]
    answer = arrange(owner, album_id, d, c, before=str(b))
    assert answer.headers["Location"] == f"/albums/{album_id}?before={b}"
    assert shown(owner, f"/albums/{album_id}") == [a, b]
    assert shown(owner, f"/albums/{album_id}?before={b}") == [d, c]
    refused = arrange(owner, album_id, b, a, before=str(b))  # the first page's, as the second
    assert refused.status_code == 400
    assert shown(owner, f"/albums/{album_id}?before={b}") == [d, c]


def test_a_bad_dragged_order_changes_nothing(app):
    owner, (a, b, c, outside) = owner_with_images(app, 4)
    album_id = make_album(owner)
    add(owner, album_id, a, b, c)
    before = stored(app, album_id)
    message = "Send every image of the page exactly once, and no other."
    for ids in [(a, b), (a, b, c, c), (a, b, b), (a, b, outside), (a, b, c, 10**6), ()]:
        refused = arrange(owner, album_id, *ids)
        assert refused.status_code == 400, ids
        assert message in refused.get_data(as_text=True)
    odd = owner.post(f"/albums/{album_id}/arrange", data={"image_id": [str(a), "x", str(c)]})
    assert odd.status_code == 400
    assert stored(app, album_id) == before
    assert shown(owner, f"/albums/{album_id}") == [c, b, a]


def test_another_users_album_cannot_be_arranged(app):
    owner, (a, b) = owner_with_images(app, 2)
    album_id = make_album(owner)
    add(owner, album_id, a, b)
    before = stored(app, album_id)
    stranger = signed_in(app, "stranger")
    refused = arrange(stranger, album_id, a, b)
    assert refused.status_code == 404
    assert arrange(app.test_client(), album_id, a, b).status_code in (302, 303, 401)
    assert stored(app, album_id) == before


def test_arranging_needs_the_csrf_token(app):
    owner, (a, b) = owner_with_images(app, 2)
    album_id = make_album(owner)
    add(owner, album_id, a, b)
    before = stored(app, album_id)
    app.config["WTF_CSRF_ENABLED"] = True  # signed in and filled without it
    refused = arrange(owner, album_id, a, b)
    assert refused.status_code == 400
    assert "security token" in refused.get_data(as_text=True)
    assert stored(app, album_id) == before
    html = owner.get(f"/albums/{album_id}").get_data(as_text=True)
    form = html.split('id="album-arrange-form"', 1)[1]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
    assert arrange(owner, album_id, a, b, csrf_token=token).status_code == 303
    assert shown(owner, f"/albums/{album_id}") == [a, b]
