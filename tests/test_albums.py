"""Albums: a user's own collections of their own images, private to them; deleting an
image takes it out of its albums, deleting an album keeps its images."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.helpers import PASSWORD, flashes, last_image_id, make_user, signed_in, upload
from web.extensions import db
from web.models import Album, AlbumImage, Image


def make_album(client, title: str = "Holidays", description: str = "") -> int:
    response = client.post("/albums", data={"title": title, "description": description})
    assert response.status_code == 303, response.get_data(as_text=True)
    found = re.fullmatch(r"/albums/(\d+)", response.headers["Location"])
    assert found
    return int(found[1])


def add(client, album_id: int, *image_ids: int):
    data = {"album_id": str(album_id), "image_id": [str(i) for i in image_ids]}
    return client.post("/albums/add", data=data)


def owner_with_images(app, count: int = 2, visibility: str = "private"):
    client = signed_in(app, "keeper")
    ids = []
    for n in range(count):
        assert upload(client, f"p{n}.png", None, visibility).status_code == 303
        ids.append(last_image_id(app))
    return client, ids


def album_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AlbumImage))


def test_make_fill_and_show_an_album(app):
    owner, (first, second) = owner_with_images(app)
    album_id = make_album(owner, "Holidays", "Sea and sand")
    assert add(owner, album_id, first, second).status_code == 303
    page = owner.get(f"/albums/{album_id}").get_data(as_text=True)
    assert "Holidays" in page and "Sea and sand" in page
    assert f"/image/{first}/thumb" in page and f"/image/{second}/thumb" in page
    listing = owner.get("/albums").get_data(as_text=True)
    assert "Holidays" in listing and "2 images" in listing
    assert f"/image/{second}/thumb" in listing  # the newest is the cover by default
    again = add(owner, album_id, first)
    assert "Added 0 images" in " ".join(flashes(owner.get(again.headers["Location"])))
    assert album_rows(app) == 2


def test_the_cover_is_chosen_among_the_albums_images(app):
    owner, (first, second) = owner_with_images(app)
    album_id = make_album(owner)
    add(owner, album_id, first, second)
    data = {"title": "Renamed", "description": "", "cover_image_id": str(first)}
    assert owner.post(f"/albums/{album_id}/edit", data=data).status_code == 303
    listing = owner.get("/albums").get_data(as_text=True)
    assert "Renamed" in listing and f"/image/{first}/thumb" in listing
    assert f"/image/{second}/thumb" not in listing
    for bad in ("999999", "abc"):
        data["cover_image_id"] = bad
        refused = owner.post(f"/albums/{album_id}/edit", data=data)
        assert refused.status_code == 400
        assert "The cover must be one of the images in the album." in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    "title, description, message",
    [
        ("", "", "Give the album a title."),
        ("   ", "", "Give the album a title."),
        ("t" * 101, "", "The title can have at most 100 characters."),
        ("Fine", "d" * 2001, "The description can have at most 2000 characters."),
        ("Bad\x01", "", "The title and description must be text without control characters."),
    ],
)
def test_bad_album_text_is_refused(app, title, description, message):
    owner = signed_in(app, "keeper")
    response = owner.post("/albums", data={"title": title, "description": description})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Album)) == 0


def test_albums_are_private_to_their_owner(app):
    owner, (first, _second) = owner_with_images(app)
    album_id = make_album(owner, "Secret trip")
    add(owner, album_id, first)
    stranger = signed_in(app, "stranger")
    for method, address, data in (
        ("get", f"/albums/{album_id}", None),
        ("post", f"/albums/{album_id}/edit", {"title": "Mine"}),
        ("post", f"/albums/{album_id}/delete", None),
        ("post", f"/albums/{album_id}/remove", {"image_id": str(first)}),
        ("post", "/albums/add", {"album_id": str(album_id), "image_id": str(first)}),
        ("get", f"/image/{first}/albums", None),
    ):
        response = getattr(stranger, method)(address, data=data)
        assert response.status_code == 404, address
    assert "Secret trip" not in stranger.get("/albums").get_data(as_text=True)
    assert app.test_client().get(f"/albums/{album_id}").status_code == 302  # to log in
    assert album_rows(app) == 1


def test_only_own_images_are_added(app):
    owner, (first, _second) = owner_with_images(app)
    other = signed_in(app, "other")
    assert upload(other, "theirs.png", None, "public").status_code == 303
    theirs = last_image_id(app)
    album_id = make_album(owner)
    refused = add(owner, album_id, first, theirs)
    assert refused.status_code == 404
    assert "Only your own images can be added" in refused.get_data(as_text=True)
    assert album_rows(app) == 0
    bad = owner.post("/albums/add", data={"album_id": str(album_id), "image_id": "x"})
    assert bad.status_code == 400 and "Select the images first." in bad.get_data(as_text=True)
    none = owner.post("/albums/add", data={"image_id": str(first)})
    assert none.status_code == 400 and "Choose an album." in none.get_data(as_text=True)


def test_taking_out_and_deleting_keep_the_images(app):
    owner, (first, second) = owner_with_images(app)
    album_id = make_album(owner)
    add(owner, album_id, first, second)
    out = owner.post(f"/albums/{album_id}/remove", data={"image_id": str(first)})
    assert out.status_code == 303
    assert album_rows(app) == 1
    assert owner.post(f"/albums/{album_id}/delete").status_code == 303
    assert owner.get(f"/albums/{album_id}").status_code == 404
    assert album_rows(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Image)) == 2
    assert owner.get(f"/image/{first}").status_code == 200


def test_deleting_an_image_takes_it_out_of_its_albums(app):
    owner, (first, second) = owner_with_images(app)
    one, two = make_album(owner, "One"), make_album(owner, "Two")
    add(owner, one, first, second)
    add(owner, two, first)
    owner.post("/delete", data={"filename": "p0.png", "visibility": "private"})
    assert f"/image/{first}/thumb" not in owner.get(f"/albums/{one}").get_data(as_text=True)
    assert "This album is empty." in owner.get(f"/albums/{two}").get_data(as_text=True)
    assert "1 image<" in owner.get("/albums").get_data(as_text=True)


def test_the_image_albums_page_adds_and_takes_out(app):
    owner, (first, _second) = owner_with_images(app)
    album_id = make_album(owner, "Picks")
    page = owner.get(f"/image/{first}/albums").get_data(as_text=True)
    assert 'id="in-no-album"' in page and "Picks" in page
    data = {"album_id": str(album_id), "image_id": str(first), "return_to_image": str(first)}
    added = owner.post("/albums/add", data=data)
    assert added.headers["Location"] == f"/image/{first}/albums"
    assert 'id="holding-albums"' in owner.get(f"/image/{first}/albums").get_data(as_text=True)
    assert f"/image/{first}/albums" in owner.get(f"/image/{first}").get_data(as_text=True)


def test_album_pages_are_paged(app, config):
    app.config["PAGE_SIZE"] = 2
    owner, ids = owner_with_images(app, 3)
    album_id = make_album(owner)
    add(owner, album_id, *ids)
    first_page = owner.get(f"/albums/{album_id}").get_data(as_text=True)
    found = re.search(r'href="(/albums/\d+\?before=\d+)"', first_page)
    assert found and f"/image/{ids[0]}/thumb" not in first_page
    second_page = owner.get(found[1]).get_data(as_text=True)
    assert f"/image/{ids[0]}/thumb" in second_page


def test_the_gallery_adds_the_selected_images_to_an_album(app):
    owner, (first, second) = owner_with_images(app)
    assert 'id="add-selected"' not in owner.get("/myfiles").get_data(as_text=True)
    album_id = make_album(owner, "Best")
    page = owner.get("/myfiles").get_data(as_text=True)
    assert 'id="add-selected"' in page and "Best" in page
    response = add(owner, album_id, first, second)  # what the gallery's button sends
    assert response.headers["Location"] == f"/albums/{album_id}"
    assert "Added 2 images" in " ".join(flashes(owner.get(response.headers["Location"])))


def test_admins_see_a_users_albums_on_their_admin_page_only(app):
    owner, (first, _second) = owner_with_images(app)
    album_id = make_album(owner, "Family")
    add(owner, album_id, first)
    make_user(app, "chief", is_admin=True)
    admin = app.test_client()
    assert admin.post("/login", data={"username": "chief", "password": PASSWORD}).status_code == 302
    with app.app_context():
        owner_id = db.session.scalar(select(Album.owner_id))
    page = admin.get(f"/admin/users/{owner_id}").get_data(as_text=True)
    assert 'id="user-albums"' in page and "Family" in page and "1 image" in page
    assert admin.get(f"/albums/{album_id}").status_code == 404  # the album itself stays private
