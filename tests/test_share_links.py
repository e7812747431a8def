"""Share links to one image: anyone with the link sees that image and nothing else; links
expire, run out of views, ask for a password, may refuse downloads, and stop at once when
revoked. Expiry is checked on a clock the tests set, never by sleeping."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select, update

from tests.helpers import (
    PASSWORD,
    build_app,
    last_image_id,
    make_user,
    settings,
    signed_in,
    upload,
)
from web.albums import links
from web.extensions import db
from web.images import renditions
from web.images import upload as uploading
from web.models import ShareLink, User

limited = settings("limited", RATELIMIT_ENABLED=True)
with_csrf = settings("with_csrf", WTF_CSRF_ENABLED=True)
keep_gps = settings("keep_gps", KEEP_GPS=True)
previews = settings("previews", RENDITION_WORKERS=1)  # the tests' default makes none

TOKEN_PATH = re.compile(r'id="new-link" value="http://localhost(/s/([A-Za-z0-9_-]+))"')


def share(client, image_id: int, expires: str = "never", **fields: str) -> str:
    """Make a link to an image; return its path (/s/<token>)."""
    data = {"expires": expires, "allow_download": "yes", **fields}
    if data["allow_download"] == "":
        del data["allow_download"]
    response = client.post(f"/image/{image_id}/share", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)
    found = TOKEN_PATH.search(response.get_data(as_text=True))
    assert found, "the new link is shown"
    return found[1]


def owner_with_image(app, visibility: str = "private", data: bytes | None = None, name="a.png"):
    client = signed_in(app, f"owner{visibility}")
    assert upload(client, name, data, visibility).status_code == 303
    return client, last_image_id(app)


def gps_jpeg() -> bytes:
    exif = PILImage.Exif()
    exif[0x8825] = {1: "N", 2: (43.0, 39.0, 12.5), 3: "W", 4: (79.0, 23.0, 0.0)}
    out = io.BytesIO()
    PILImage.new("RGB", (80, 60), (10, 120, 200)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    with PILImage.open(io.BytesIO(data)) as im:
        return 0x8825 in im.getexif()


# --- what a visitor with a link sees -----------------------------------------------------


def test_anyone_with_the_link_sees_the_image_and_nothing_else(app):
    owner, image_id = owner_with_image(app)
    assert upload(owner, "other.png", None, "private").status_code == 303
    other_id = last_image_id(app)
    path = share(owner, image_id)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 22  # at least 128 bits in base64

    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200
    assert "a.png" in page.get_data(as_text=True)
    assert page.headers["X-Robots-Tag"].startswith("noindex")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "comment" not in page.get_data(as_text=True).lower()
    for part in ("thumb", "file"):
        served = visitor.get(f"{path}/{part}")
        assert served.status_code == 200
        assert served.headers["Cache-Control"] == "private, no-cache"
        assert served.headers["X-Robots-Tag"].startswith("noindex")

    # The same image by its id, the owner's other images and the galleries stay closed.
    assert visitor.get(f"/image/{image_id}").status_code in (302, 404)
    for address in (f"/image/{image_id}/file", f"/image/{other_id}/file", f"/image/{other_id}"):
        assert visitor.get(address).status_code in (302, 404), address
    assert visitor.get("/myfiles").status_code == 302
    for part in ("", "/thumb", "/file"):  # an image's link opens no other image by id
        assert visitor.get(f"{path}/i/{other_id}{part}").status_code == 404
        assert visitor.get(f"{path}/i/{image_id}{part}").status_code == 404
    stranger = signed_in(app, "stranger")
    assert stranger.get(f"/image/{image_id}").status_code == 404  # private elsewhere


def test_only_the_hash_of_the_token_is_stored(app):
    owner, image_id = owner_with_image(app)
    token = share(owner, image_id, password="open sesame 1").rsplit("/", 1)[1]
    with app.app_context():
        row = db.session.scalar(select(ShareLink))
        assert row.token_hash == links.hash_token(token)
        assert token not in row.token_hash
        assert "open sesame 1" not in (row.password_hash or "")


def test_unknown_and_malformed_tokens_are_not_found(app, client):
    owner, image_id = owner_with_image(app)
    real = share(owner, image_id)
    forged = "/s/" + ("A" * 43)
    for path in (forged, "/s/short", "/s/" + "é" * 43, real + "x", f"{forged}/file"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"{forged}/thumb").headers["X-Robots-Tag"].startswith("noindex")


def test_bytes_need_the_page_opened_first(app):
    owner, image_id = owner_with_image(app)
    path = share(owner, image_id)
    fresh = app.test_client()
    assert fresh.get(f"{path}/file").status_code == 404
    assert fresh.get(f"{path}/thumb").status_code == 404


# --- expiry, views, password, downloads ----------------------------------------------------


def test_an_expired_link_is_gone(app, monkeypatch):
    start = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(links, "utcnow", lambda: start)
    owner, image_id = owner_with_image(app)
    path = share(owner, image_id, expires="1h")
    visitor = app.test_client()
    monkeypatch.setattr(links, "utcnow", lambda: start + dt.timedelta(minutes=59))
    assert visitor.get(path).status_code == 200
    monkeypatch.setattr(links, "utcnow", lambda: start + dt.timedelta(hours=1))
    gone = visitor.get(path)
    assert gone.status_code == 410
    assert "This link has expired." in gone.get_data(as_text=True)
    assert visitor.get(f"{path}/file").status_code == 410


def test_a_link_without_expiry_still_works_years_later(app, monkeypatch):
    owner, image_id = owner_with_image(app)
    path = share(owner, image_id, expires="never")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3650)
    monkeypatch.setattr(links, "utcnow", lambda: later)
    assert app.test_client().get(path).status_code == 200


def test_views_run_out_but_the_last_viewer_still_sees_the_picture(app):
    owner, image_id = owner_with_image(app)
    path = share(owner, image_id, max_views="2")
    first, second, third = (app.test_client() for _ in range(3))
    assert first.get(path).status_code == 200
    assert second.get(path).status_code == 200
    gone = third.get(path)
    assert gone.status_code == 410
    assert "opened as many times as its owner allowed" in gone.get_data(as_text=True)
    assert second.get(f"{path}/file").status_code == 200
    assert third.get(f"{path}/file").status_code == 404
    listing = owner.get("/shared-links").get_data(as_text=True)
    assert "2 of 2" in listing


def test_a_password_protected_link(app):
    owner, image_id = owner_with_image(app)
    path = share(owner, image_id, password="open sesame 1")
    visitor = app.test_client()
    form = visitor.get(path)
    assert form.status_code == 200
    assert 'id="share-password-form"' in form.get_data(as_text=True)
    assert "a.png" not in form.get_data(as_text=True)
    assert visitor.get(f"{path}/file").status_code == 404
    wrong = visitor.post(path, data={"password": "guess"})
    assert wrong.status_code == 403
    assert "Wrong password." in wrong.get_data(as_text=True)
    assert visitor.post(path, data={}).status_code == 403
    right = visitor.post(path, data={"password": "open sesame 1"})
    assert right.status_code == 303
    assert visitor.get(path).status_code == 200
    assert visitor.get(f"{path}/file").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(ShareLink.views)) == 1  # the form is no view


def test_the_password_form_needs_its_csrf_token(with_csrf, app):
    make_user(app, "keeper")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "keeper"))
        image = uploading.upload(user, io.BytesIO(gps_jpeg()), "a.jpg", "private").image
        made = links.create(user, image, links.check_options("never", "pw-123456", True, ""))
    visitor = app.test_client()
    refused = visitor.post(f"/s/{made.token}", data={"password": "pw-123456"})
    assert refused.status_code == 400
    assert "security token" in refused.get_data(as_text=True)


def test_wrong_passwords_are_limited_per_link_and_address(limited, app):
    owner, image_id = owner_with_image(app)
    path = share(owner, image_id, password="open sesame 1")
    here, there = {"REMOTE_ADDR": "198.51.100.7"}, {"REMOTE_ADDR": "203.0.113.9"}
    visitor = app.test_client()
    for _ in range(5):
        assert visitor.post(path, data={"password": "x"}, environ_base=here).status_code == 403
    refused = visitor.post(path, data={"password": "open sesame 1"}, environ_base=here)
    assert refused.status_code == 429
    assert "try again in" in refused.get_data(as_text=True)
    elsewhere = app.test_client()
    opened = elsewhere.post(path, data={"password": "open sesame 1"}, environ_base=there)
    assert opened.status_code == 303


def test_a_link_may_refuse_the_download(app):
    owner, image_id = owner_with_image(app)
    path = share(owner, image_id, allow_download="")
    visitor = app.test_client()
    page = visitor.get(path).get_data(as_text=True)
    assert f"{path}/thumb" in page and f"{path}/file" not in page
    refused = visitor.get(f"{path}/file")
    assert refused.status_code == 403
    assert links.NO_DOWNLOAD in refused.get_data(as_text=True)
    assert visitor.get(f"{path}/thumb").status_code == 200


@pytest.mark.parametrize("visibility", ["private", "public"])
def test_gps_is_removed_from_originals_served_by_link(keep_gps, app, visibility):
    owner, image_id = owner_with_image(app, visibility, gps_jpeg(), "gps.jpg")
    assert has_gps(owner.get(f"/image/{image_id}/file").data)  # kept for the owner
    path = share(owner, image_id)
    visitor = app.test_client()
    assert visitor.get(path).status_code == 200
    served = visitor.get(f"{path}/file")
    assert served.status_code == 200
    assert not has_gps(served.data)
    assert int(served.headers["Content-Length"]) == len(served.data)


# --- the renditions a link's pages show: the thumbnail and the preview alike ------------


@pytest.mark.parametrize("part", ["thumb", "preview"])
def test_a_links_renditions_follow_the_links_rules(app, monkeypatch, part):
    start = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(links, "utcnow", lambda: start)
    owner, image_id = owner_with_image(app)
    path, ending = share(owner, image_id), share(owner, image_id, expires="1h")
    visitor = app.test_client()
    assert visitor.get(f"{path}/{part}").status_code == 404  # the page not opened yet
    for opened in (path, ending):
        assert visitor.get(opened).status_code == 200
    served = visitor.get(f"{path}/{part}")
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert served.headers["Cache-Control"] == "private, no-cache"
    assert served.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert served.headers["Referrer-Policy"] == "no-referrer"
    assert app.test_client().get(f"{path}/{part}").status_code == 404  # another browser
    assert visitor.get(f"{path}/i/{image_id}/{part}").status_code == 404  # not an album

    monkeypatch.setattr(links, "utcnow", lambda: start + dt.timedelta(hours=1))
    assert visitor.get(f"{ending}/{part}").status_code == 410
    with app.app_context():
        link_id = db.session.scalar(select(func.min(ShareLink.id)))
    assert owner.post(f"/shared-links/{link_id}/revoke").status_code == 200
    assert visitor.get(f"{path}/{part}").status_code == 404

    _owner, _album_id, (first, _second, outside), album = shared_album(app)
    assert visitor.get(f"{album}/i/{first}/{part}").status_code == 404  # not opened
    assert visitor.get(album).status_code == 200
    assert visitor.get(f"{album}/i/{first}/{part}").status_code == 200
    assert visitor.get(f"{album}/i/{outside}/{part}").status_code == 404
    assert visitor.get(f"{album}/{part}").status_code == 404  # an album has no single image


@pytest.mark.parametrize("allow_download", ["yes", ""])
def test_a_shared_page_shows_the_preview_and_the_original_only_when_allowed(app, allow_download):
    owner, image_id = owner_with_image(app)
    path = share(owner, image_id, allow_download=allow_download)
    html = app.test_client().get(path).get_data(as_text=True)
    [tag] = re.findall(r'<img class="img-fluid preview"[^>]*>', html)
    assert f'src="{path}/preview"' in tag
    assert f"{path}/thumb 64w, {path}/preview 64w" in tag
    assert f"{path}/file" not in tag
    assert (f'id="shared-original" href="{path}/file"' in html) == bool(allow_download)
    assert (f'href="{path}/file?download=1"' in html) == bool(allow_download)


def test_a_preview_served_by_link_has_no_gps(previews, keep_gps, app):
    owner, image_id = owner_with_image(app, "private", gps_jpeg(), "gps.jpg")
    path = share(owner, image_id, allow_download="")
    visitor = app.test_client()
    assert visitor.get(path).status_code == 200
    standing_in = visitor.get(f"{path}/preview")  # the thumbnail, if the preview is not made
    assert renditions.wait(app)
    served = visitor.get(f"{path}/preview")
    assert served.headers["ETag"].endswith('-p"')  # the preview itself
    for data in (standing_in.data, served.data):
        with PILImage.open(io.BytesIO(data)) as im:
            assert im.format == "WEBP"
            assert not im.getexif() and "exif" not in im.info and "xmp" not in im.info
    assert has_gps(owner.get(f"/image/{image_id}/file").data)  # the owner's original keeps it


# --- making links: bad input changes nothing --------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"expires": "2y"}, "Choose when the link expires from the list."),
        ({"max_views": "0"}, "The number of views must be a whole number from 1 to 1000000."),
        ({"max_views": "ten"}, "The number of views must be a whole number from 1 to 1000000."),
        ({"max_views": "99999999999"}, "The number of views must be a whole number"),
        ({"password": "p" * 201}, "The password can have at most 200 characters."),
        ({"password": "p\x00"}, "The password must be text without control characters."),
    ],
)
def test_bad_link_options_are_refused(app, fields, message):
    owner, image_id = owner_with_image(app)
    response = owner.post(f"/image/{image_id}/share", data={"expires": "never", **fields})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ShareLink)) is None


def test_only_the_owner_shares_an_image(app):
    owner, image_id = owner_with_image(app, "public")
    stranger = signed_in(app, "stranger")
    assert stranger.post(f"/image/{image_id}/share", data={"expires": "never"}).status_code == 404
    admin = signed_in(app, "boss")
    with app.app_context():
        db.session.execute(update(User).where(User.username == "boss").values(is_admin=True))
        db.session.commit()
    assert admin.post(f"/image/{image_id}/share", data={"expires": "never"}).status_code == 404
    assert app.test_client().post(f"/image/{image_id}/share").status_code in (302, 303, 401)
    with app.app_context():
        assert db.session.scalar(select(ShareLink)) is None


# --- the list, revoking, and what ends a link ------------------------------------------


def test_the_owner_lists_and_revokes_links_and_a_second_instance_agrees(app, config):
    owner, image_id = owner_with_image(app)
    path = share(owner, image_id)
    visitor = app.test_client()
    assert visitor.get(path).status_code == 200
    listing = owner.get("/shared-links").get_data(as_text=True)
    assert "a.png" in listing and 'id="link-list"' in listing
    assert "a.png" not in signed_in(app, "nosy").get("/shared-links").get_data(as_text=True)

    second = build_app(config)
    try:
        assert second.test_client().get(path).status_code == 200
        with app.app_context():
            link_id = db.session.scalar(select(ShareLink.id))
        assert signed_in(app, "thief").post(f"/shared-links/{link_id}/revoke").status_code == 404
        revoked = owner.post(f"/shared-links/{link_id}/revoke")
        assert revoked.status_code == 200
        assert "Revoked the link" in revoked.get_data(as_text=True)
        assert second.test_client().get(path).status_code == 404
        assert visitor.get(path).status_code == 404
        assert visitor.get(f"{path}/file").status_code == 404
    finally:
        with second.app_context():
            db.engine.dispose()


def test_admins_see_and_revoke_everyones_links(app):
    owner, image_id = owner_with_image(app)
    path = share(owner, image_id)
    make_user(app, "chief", is_admin=True)
    admin = app.test_client()
    assert admin.post("/login", data={"username": "chief", "password": PASSWORD})
    listing = admin.get("/shared-links").get_data(as_text=True)
    assert "ownerprivate" in listing and "a.png" in listing
    with app.app_context():
        link_id = db.session.scalar(select(ShareLink.id))
    assert admin.post(f"/shared-links/{link_id}/revoke").status_code == 200
    assert app.test_client().get(path).status_code == 404


def test_deleting_the_image_ends_its_links(app):
    owner, image_id = owner_with_image(app)
    path = share(owner, image_id)
    response = owner.post("/delete", data={"filename": "a.png", "visibility": "private"})
    assert response.status_code == 303
    assert app.test_client().get(path).status_code == 404


# --- sharing an album ---------------------------------------------------------------------


def shared_album(app):
    """An owner with three private images, two of them in an album shared by link."""
    owner = signed_in(app, "albumowner")
    ids = []
    for n in range(3):
        assert upload(owner, f"p{n}.png", None, "private").status_code == 303
        ids.append(last_image_id(app))
    made = owner.post("/albums", data={"title": "Trip"})
    album_id = int(made.headers["Location"].rsplit("/", 1)[1])
    data = {"album_id": str(album_id), "image_id": [str(ids[0]), str(ids[1])]}
    assert owner.post("/albums/add", data=data).status_code == 303
    response = owner.post(
        f"/albums/{album_id}/share", data={"expires": "never", "allow_download": "yes"}
    )
    assert response.status_code == 200
    path = TOKEN_PATH.search(response.get_data(as_text=True))[1]
    return owner, album_id, ids, path


def test_an_album_link_shows_the_album_and_its_images_only(app):
    owner, album_id, (first, second, outside), path = shared_album(app)
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Trip" in html and "p0.png" in html and "p1.png" in html and "p2.png" not in html
    for image_id in (first, second):
        assert visitor.get(f"{path}/i/{image_id}").status_code == 200
        assert visitor.get(f"{path}/i/{image_id}/thumb").status_code == 200
        assert visitor.get(f"{path}/i/{image_id}/file").status_code == 200
    # The image outside the album, the album itself and the owner's gallery stay closed.
    for address in (
        f"{path}/i/{outside}",
        f"{path}/i/{outside}/file",
        f"{path}/i/{outside}/thumb",
        f"/image/{outside}/file",
        f"/image/{first}/file",
        f"/albums/{album_id}",
    ):
        assert visitor.get(address).status_code in (302, 404), address
    assert visitor.get(f"{path}/file").status_code == 404  # an album has no single file
    assert visitor.get("/myfiles").status_code == 302
    # Taking an image out of the album hides it from the link at once.
    owner.post(f"/albums/{album_id}/remove", data={"image_id": str(first)})
    assert visitor.get(f"{path}/i/{first}").status_code == 404
    assert "Album" in owner.get("/shared-links").get_data(as_text=True)


def test_an_album_link_counts_one_view_per_browser(app):
    _owner, _album_id, (first, _second, _outside), path = shared_album(app)
    visitor = app.test_client()
    for _ in range(3):
        assert visitor.get(path).status_code == 200
    assert visitor.get(f"{path}/i/{first}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(ShareLink.views)) == 1


def test_an_album_link_needs_the_page_opened_and_ends_with_the_album(app):
    owner, album_id, (first, _second, _outside), path = shared_album(app)
    assert app.test_client().get(f"{path}/i/{first}").status_code == 404
    assert owner.post(f"/albums/{album_id}/delete").status_code == 303
    assert app.test_client().get(path).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(ShareLink)) is None


def test_only_the_owner_shares_an_album(app):
    _owner, album_id, _ids, _path = shared_album(app)
    stranger = signed_in(app, "stranger")
    assert stranger.post(f"/albums/{album_id}/share", data={"expires": "never"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ShareLink)) == 1
