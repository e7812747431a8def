"""Previews: the image page shows a WebP of at most 1600 px made in the background right
after the upload (HEIC and TIFF too), never the original, and the thumbnail until the
preview exists; ``flask --app web renditions`` makes those of images uploaded before;
fsck knows them."""

from __future__ import annotations

import datetime as dt
import io
import re

from PIL import Image as PILImage
from PIL import ImageDraw

from tests.helpers import image_bytes, last_image_id, objects, settings, signed_in, upload
from web.extensions import storage
from web.images import renditions
from web.operations import fsck

BUDGET = 400 * 1024  # what the page's image may cost the browser for a 12-megapixel photo

# The tests' default makes no preview in the background (tests/helpers.py); these do.
previews = settings("previews", RENDITION_WORKERS=1)


def _photo(size=(4000, 3000)) -> bytes:
    """A JPEG with detail (gradients and shapes), compressed as cameras do."""
    im = PILImage.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(im)
    for n in range(0, size[0], 97):
        draw.ellipse((n, n % size[1], n + 300, n % size[1] + 200), outline=(n % 255, 90, 200))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=92)
    return out.getvalue()


def test_the_image_page_shows_a_preview_within_budget_never_the_original(
    previews, app, auth, client
):
    auth.signup("alice")
    upload(client, "big.jpg", _photo())
    image_id = last_image_id(app)
    assert renditions.wait(app)
    pub = app.config["PUBLIC_BUCKET"]
    assert f"{pub}/.previews/{image_id}.webp" in objects(app)  # made after the upload
    html = client.get(f"/image/{image_id}").get_data(as_text=True)
    [tag] = re.findall(r'<img class="img-fluid preview"[^>]*>', html)
    assert f'src="/image/{image_id}/preview"' in tag
    assert f"/image/{image_id}/thumb 400w, /image/{image_id}/preview 1600w" in tag
    assert 'width="1600" height="1200"' in tag
    assert f'href="/image/{image_id}"' not in html.split("<main", 1)[-1].split("</h1>")[0]
    assert f'src="/image/{image_id}/file"' not in html
    response = client.get(f"/image/{image_id}/preview")
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert len(response.data) <= BUDGET
    with PILImage.open(io.BytesIO(response.data)) as im:
        assert im.format == "WEBP" and im.size == (1600, 1200)
    again = client.get(
        f"/image/{image_id}/preview", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    with app.app_context():
        assert fsck.run(dry_run=True, grace=dt.timedelta(seconds=-5)).clean


def test_tiff_gets_a_preview_browsers_can_show(previews, app, auth, client):
    auth.signup("alice")
    upload(client, "scan.tiff", image_bytes("TIFF", (900, 600)), "private")
    image_id = last_image_id(app)
    assert renditions.wait(app)
    html = client.get(f"/image/{image_id}").get_data(as_text=True)
    assert "Browsers cannot show TIFF files, so this is a copy made for viewing." in html
    assert 'width="900" height="600"' in html
    response = client.get(f"/image/{image_id}/preview")
    with PILImage.open(io.BytesIO(response.data)) as im:
        assert im.format == "WEBP" and im.size == (900, 600)


def test_a_private_preview_is_only_for_its_owner(previews, app, auth, client):
    auth.signup("alice")
    upload(client, "secret.png", visibility="private")
    image_id = last_image_id(app)
    assert renditions.wait(app)
    assert any(".previews/" in key for key in objects(app))
    bob = signed_in(app, "bob")
    assert bob.get(f"/image/{image_id}/preview").status_code == 404
    assert app.test_client().get(f"/image/{image_id}/preview").status_code in (302, 404)
    assert client.get(f"/image/{image_id}/preview").status_code == 200


def test_deleting_for_good_removes_the_preview(previews, app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    image_id = last_image_id(app)
    assert renditions.wait(app)
    client.post("/delete", data={"filename": "a.png", "visibility": "public"})
    assert any(".previews/" in key for key in objects(app))  # kept while in the trash
    client.post(f"/trash/{image_id}/delete", data={"confirm": "yes"})
    assert objects(app) == set()


def test_fsck_removes_a_preview_whose_image_moved_away(previews, app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    image_id = last_image_id(app)
    assert renditions.wait(app)
    client.post(f"/image/{image_id}/edit", data={"filename": "a.png", "visibility": "private"})
    pub = app.config["PUBLIC_BUCKET"]
    assert f"{pub}/.previews/{image_id}.webp" in objects(app)
    with app.app_context():
        report = fsck.run(grace=dt.timedelta(seconds=-5))
    assert f"orphan object {pub}/.previews/{image_id}.webp" in report.found
    assert not any(".previews/" in key for key in objects(app))
    assert client.get(f"/image/{image_id}/preview").status_code == 200  # the thumbnail
    assert renditions.wait(app)  # meanwhile made again, in its new bucket
    assert any(key.endswith(f"/.previews/{image_id}.webp") for key in objects(app))


def _width(response) -> int:
    with PILImage.open(io.BytesIO(response.data)) as im:
        return im.size[0]


def test_until_the_preview_exists_the_thumbnail_stands_in_and_it_is_queued(
    previews, app, auth, client
):
    auth.signup("alice")
    upload(client, "big.png", image_bytes("PNG", (1800, 1200)))
    image_id = last_image_id(app)
    assert renditions.wait(app)
    with app.app_context():  # as if the process that was to make it had stopped
        storage.store.remove(app.config["PUBLIC_BUCKET"], f".previews/{image_id}.webp")
    stand_in = client.get(f"/image/{image_id}/preview")
    assert stand_in.status_code == 200 and stand_in.mimetype == "image/webp"
    assert _width(stand_in) == 400  # the thumbnail, at once: nothing decoded in the request
    assert stand_in.headers["Cache-Control"] == "private, no-cache"
    assert stand_in.headers["ETag"] == client.get(f"/image/{image_id}/thumb").headers["ETag"]
    assert renditions.wait(app)  # the request queued it
    fresh = client.get(
        f"/image/{image_id}/preview", headers={"If-None-Match": stand_in.headers["ETag"]}
    )
    assert fresh.status_code == 200 and _width(fresh) == 1600


def test_without_background_workers_the_thumbnail_stands_in(app, auth, client):
    auth.signup("alice")
    upload(client, "big.png", image_bytes("PNG", (1800, 1200)))
    image_id = last_image_id(app)
    first = client.get(f"/image/{image_id}/preview")
    assert first.status_code == 200 and _width(first) == 400
    again = client.get(
        f"/image/{image_id}/preview", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert not any(".previews/" in key for key in objects(app))


def test_the_renditions_command_makes_what_is_missing(app, auth, client):
    auth.signup("alice")
    upload(client, "photo.jpg", _photo((2400, 1600)))
    upload(client, "scan.tiff", image_bytes("TIFF", (900, 600)), "private")
    scan = last_image_id(app)
    with app.app_context():  # an image uploaded before, whose thumbnail was lost too
        bucket = storage.store
        [private] = [
            b for b in bucket.list_buckets() if b.startswith(app.config["USER_BUCKET_PREFIX"])
        ]
        bucket.remove(private, f".thumbnails/{scan}.webp")
    before = objects(app)
    assert not any(".previews/" in key for key in before)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["renditions"])
    assert result.exit_code == 0, result.output
    assert "made the renditions of 2 of 2 image(s)" in result.output
    made = objects(app) - before
    assert sum(".previews/" in key for key in made) == 2
    assert f"{private}/.thumbnails/{scan}.webp" in made
    response = client.get(f"/image/{scan}/preview")
    assert _width(response) == 900
    assert _width(client.get(f"/image/{scan - 1}/preview")) == 1600
    again = runner.invoke(args=["renditions", "--missing"])
    assert "made the renditions of 0 of 0 image(s)" in again.output
    everything = runner.invoke(args=["renditions", "--all"])
    assert "made the renditions of 2 of 2 image(s)" in everything.output
    assert objects(app) == before | made
    with app.app_context():
        assert fsck.run(dry_run=True, grace=dt.timedelta(seconds=-5)).clean


def test_a_preview_is_not_made_for_an_image_that_is_gone(previews, app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    image_id = last_image_id(app)
    client.post("/delete", data={"filename": "a.png", "visibility": "public"})
    with app.app_context():
        assert renditions.make_preview(image_id, app.config["PUBLIC_BUCKET"]) is False
