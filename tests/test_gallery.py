"""The gallery contract of the original: /, /myfiles, /delete, and the naming rules."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.helpers import (
    flashes,
    image_bytes,
    image_rows,
    objects,
    settings,
    signed_in,
    stored_objects,
    upload,
)


def img_tags(response) -> list[str]:
    return re.findall(r"<img[^>]*>", response.get_data(as_text=True))


def alts(response) -> list[str]:
    return re.findall(r'<img[^>]*alt="([^"]*)"', response.get_data(as_text=True))


def section(response, section_id: str) -> str:
    html = response.get_data(as_text=True)
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def test_home_page_is_titled_image_repository(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "<title>Image Repository</title>" in response.get_data(as_text=True)


def test_post_to_home_is_not_allowed(client):
    response = client.post("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_myfiles_shows_the_upload_form(auth, client):
    auth.signup()
    html = client.get("/myfiles").get_data(as_text=True)
    assert 'name="file"' in html and 'type="file"' in html
    assert re.search(r'name="visibility"[^>]*value="public"[^>]* checked', html)
    assert re.search(r'name="visibility"[^>]*value="private"', html)
    assert 'enctype="multipart/form-data"' in html


def test_upload_public_and_private_and_see_both(app, auth, client):
    auth.signup("alice")
    photo = image_bytes("JPEG", (120, 80))
    first = upload(client, "holiday.jpg", photo, "public")
    assert first.status_code == 303
    assert first.headers["Location"] == "/myfiles"
    assert upload(client, "holiday.jpg", photo, "private").status_code == 303
    page = client.get("/myfiles")
    assert "holiday.jpg" in section(page, "public-images")
    assert "holiday.jpg" in section(page, "private-images")
    assert alts(page) == ["holiday.jpg", "holiday.jpg"]
    assert [(r[0], r[1], r[2]) for r in image_rows(app)] == [
        ("holiday.jpg", "public", "ready"),
        ("holiday.jpg", "private", "ready"),
    ]
    pub, prefix = app.config["PUBLIC_BUCKET"], app.config["USER_BUCKET_PREFIX"]
    assert {f"{pub}/holiday.jpg", f"{prefix}alice/holiday.jpg"} <= objects(app)


def test_upload_flashes_success_and_duplicate_content(auth, client):
    auth.signup("alice")
    photo = image_bytes("PNG")
    response = upload(client, "a.png", photo, "public")
    page = client.get(response.headers["Location"])
    assert "Uploaded “a.png” as a public image." in flashes(page)
    upload(client, "b.png", photo, "private")
    assert "Note: you already have this image as “a.png”." in flashes(client.get("/myfiles"))


def test_every_user_sees_public_images_but_only_their_own_private_ones(app, auth, client):
    auth.signup("alice")
    upload(client, "shared.png", visibility="public")
    upload(client, "secret.png", visibility="private")
    other = signed_in(app, "bob")
    html = other.get("/myfiles").get_data(as_text=True)
    assert "shared.png" in html
    assert "secret.png" not in html


def test_anonymous_upload_goes_to_login_and_stores_nothing(app, client):
    response = upload(client, "x.png")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert image_rows(app) == []


def test_public_name_is_unique_across_users(app, auth, client):
    auth.signup("alice")
    upload(client, "sunset.png", visibility="public")
    other = signed_in(app, "bob")
    before = objects(app)
    response = upload(other, "sunset.png", visibility="public")
    assert response.status_code == 409
    assert (
        "sunset.png: A public image named “sunset.png” already exists. "
        "Rename the file and try again." in flashes(response)
    )
    assert len(image_rows(app)) == 1
    assert objects(app) == before


def test_private_name_is_unique_per_user(app, auth, client):
    auth.signup("alice")
    assert upload(client, "me.png", visibility="private").status_code == 303
    response = upload(client, "me.png", visibility="private")
    assert response.status_code == 409
    assert any("You already have a private image named “me.png”" in m for m in flashes(response))
    assert len(image_rows(app)) == 1


def test_two_users_may_have_private_images_of_the_same_name(app, auth, client):
    auth.signup("alice")
    upload(client, "me.png", visibility="private")
    other = signed_in(app, "bob")
    assert upload(other, "me.png", visibility="private").status_code == 303
    assert len(image_rows(app)) == 2


def test_names_differ_by_case(app, auth, client):
    auth.signup("alice")
    assert upload(client, "Photo.png").status_code == 303
    assert upload(client, "photo.png").status_code == 303
    assert sorted(r[0] for r in image_rows(app)) == ["Photo.png", "photo.png"]


@pytest.mark.parametrize(
    ("fmt", "name", "content_type"),
    [
        ("JPEG", "a.jpg", "image/jpeg"),
        ("PNG", "b.png", "image/png"),
        ("PNG", "png-named.jpg", "image/png"),
        ("JPEG", "no-extension", "image/jpeg"),
    ],
)
def test_jpeg_and_png_are_accepted_by_content(app, auth, client, fmt, name, content_type):
    auth.signup()
    data = image_bytes(fmt, (50, 40))
    assert upload(client, name, data).status_code == 303
    page = client.get("/myfiles")
    image_id = re.search(r'href="/image/(\d+)"', page.get_data(as_text=True)).group(1)
    original = client.get(f"/image/{image_id}/file")
    assert original.status_code == 200
    assert original.headers["Content-Type"] == content_type
    assert original.data == data
    thumb = client.get(f"/image/{image_id}/thumb")
    assert thumb.headers["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(thumb.data)).format == "WEBP"


def test_text_named_jpg_is_refused_and_changes_nothing(app, auth, client):
    auth.signup()
    response = upload(client, "notes.jpg", b"just some text, not a picture\n" * 10)
    assert response.status_code == 400
    assert any("is not an accepted image" in m for m in flashes(response))
    assert image_rows(app) == []
    assert objects(app) == set()


def test_upload_without_a_file_is_refused(app, auth, client):
    auth.signup()
    response = client.post(
        "/myfiles", data={"visibility": "public"}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "Choose at least one file to upload." in response.get_data(as_text=True)


@pytest.mark.parametrize("visibility", ["", "secret", "PUBLIC"])
def test_upload_with_a_bad_visibility_is_refused(app, auth, client, visibility):
    auth.signup()
    response = upload(client, "a.png", visibility=visibility)
    assert response.status_code == 400
    assert "Choose public or private." in response.get_data(as_text=True)
    assert image_rows(app) == []


def test_several_files_in_one_post_are_all_uploaded(app, auth, client):
    auth.signup()
    data = {
        "file": [
            (io.BytesIO(image_bytes()), "one.png"),
            (io.BytesIO(b"nope"), "two.png"),
            (io.BytesIO(image_bytes("JPEG")), "three.jpg"),
        ],
        "visibility": "private",
    }
    response = client.post("/myfiles", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    assert sorted(r[0] for r in image_rows(app)) == ["one.png", "three.jpg"]
    messages = flashes(client.get("/myfiles"))
    assert any(m.startswith("two.png:") for m in messages)


# "Delete" moves to the trash (tests/test_trash.py); these tests are about deleting for
# good, which TRASH_DAYS=0 makes the delete do at once.
no_trash = settings("no_trash", TRASH_DAYS=0)


def test_delete_removes_the_row_and_the_objects(no_trash, app, auth, client):
    auth.signup("alice")
    upload(client, "gone.png", visibility="private")
    upload(client, "kept.png", visibility="public")
    response = client.post("/delete", data={"filename": "gone.png", "visibility": "private"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/myfiles"
    assert "Deleted “gone.png”." in flashes(client.get("/myfiles"))
    assert [r[0] for r in image_rows(app)] == ["kept.png"]
    pub = app.config["PUBLIC_BUCKET"]
    assert objects(app) == stored_objects(app, pub, "kept.png")


def test_delete_public_image(no_trash, app, auth, client):
    auth.signup()
    upload(client, "p.png", visibility="public")
    assert (
        client.post("/delete", data={"filename": "p.png", "visibility": "public"}).status_code
        == 303
    )
    assert image_rows(app) == [] and objects(app) == set()


def test_get_delete_is_not_allowed(auth, client):
    auth.signup()
    assert client.get("/delete").status_code == 405


def test_anonymous_delete_goes_to_login(app, client):
    response = client.post("/delete", data={"filename": "x.png", "visibility": "public"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_delete_of_an_unknown_name_is_404_and_changes_nothing(app, auth, client):
    auth.signup()
    upload(client, "a.png")
    response = client.post("/delete", data={"filename": "b.png", "visibility": "public"})
    assert response.status_code == 404
    assert "No such image." in response.get_data(as_text=True)
    assert len(image_rows(app)) == 1


@pytest.mark.parametrize(
    "data",
    [
        {"filename": "a.png", "visibility": "everyone"},
        {"filename": "a.png"},
        {"visibility": "public"},
    ],
)
def test_delete_with_bad_fields_is_400_and_changes_nothing(app, auth, client, data):
    auth.signup()
    upload(client, "a.png")
    response = client.post("/delete", data=data)
    assert response.status_code == 400
    assert len(image_rows(app)) == 1


def test_gallery_img_tags_show_thumbnails_with_size_and_lazy_loading(auth, client):
    auth.signup()
    upload(client, "big.jpg", image_bytes("JPEG", (1600, 1200)))
    [tag] = img_tags(client.get("/myfiles"))
    assert re.search(r'src="/image/\d+/thumb"', tag)
    assert 'width="400"' in tag and 'height="300"' in tag
    assert 'loading="lazy"' in tag


def test_empty_gallery_has_a_friendly_message(auth, client):
    auth.signup()
    html = client.get("/myfiles").get_data(as_text=True)
    assert "No public images yet — upload your first." in html
    assert "No private images yet — upload your first." in html


def test_usage_is_shown(auth, client):
    auth.signup()
    data = image_bytes("PNG")
    upload(client, "a.png", data)
    html = client.get("/myfiles").get_data(as_text=True)
    assert "You have 1 image using" in html
