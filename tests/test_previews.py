"""Previews: the image page shows a WebP of at most 1600 px made from the original the
first time it is asked for (HEIC and TIFF too), never the original; fsck knows them."""

from __future__ import annotations

import datetime as dt
import io
import re

from PIL import Image as PILImage
from PIL import ImageDraw

from tests.helpers import image_bytes, last_image_id, objects, signed_in, upload
from web.operations import fsck

BUDGET = 400 * 1024  # what the page's image may cost the browser for a 12-megapixel photo


def _photo(size=(4000, 3000)) -> bytes:
    """A JPEG with detail (gradients and shapes), compressed as cameras do."""
    im = PILImage.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(im)
    for n in range(0, size[0], 97):
        draw.ellipse((n, n % size[1], n + 300, n % size[1] + 200), outline=(n % 255, 90, 200))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=92)
    return out.getvalue()


def test_the_image_page_shows_a_preview_within_budget_never_the_original(app, auth, client):
    auth.signup("alice")
    upload(client, "big.jpg", _photo())
    image_id = last_image_id(app)
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
    pub = app.config["PUBLIC_BUCKET"]
    assert f"{pub}/.previews/{image_id}.webp" in objects(app)
    again = client.get(
        f"/image/{image_id}/preview", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    with app.app_context():
        assert fsck.run(dry_run=True, grace=dt.timedelta(seconds=-5)).clean


def test_tiff_gets_a_preview_browsers_can_show(app, auth, client):
    auth.signup("alice")
    upload(client, "scan.tiff", image_bytes("TIFF", (900, 600)), "private")
    image_id = last_image_id(app)
    html = client.get(f"/image/{image_id}").get_data(as_text=True)
    assert "Browsers cannot show TIFF files, so this is a copy made for viewing." in html
    assert 'width="900" height="600"' in html
    response = client.get(f"/image/{image_id}/preview")
    with PILImage.open(io.BytesIO(response.data)) as im:
        assert im.format == "WEBP" and im.size == (900, 600)


def test_a_private_preview_is_only_for_its_owner(app, auth, client):
    auth.signup("alice")
    upload(client, "secret.png", visibility="private")
    image_id = last_image_id(app)
    bob = signed_in(app, "bob")
    assert bob.get(f"/image/{image_id}/preview").status_code == 404
    assert app.test_client().get(f"/image/{image_id}/preview").status_code in (302, 404)
    assert not any(".previews/" in key for key in objects(app))  # nothing made for them


def test_deleting_for_good_removes_the_preview(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    image_id = last_image_id(app)
    client.get(f"/image/{image_id}/preview")
    client.post("/delete", data={"filename": "a.png", "visibility": "public"})
    assert any(".previews/" in key for key in objects(app))  # kept while in the trash
    client.post(f"/trash/{image_id}/delete", data={"confirm": "yes"})
    assert objects(app) == set()


def test_fsck_removes_a_preview_whose_image_moved_away(app, auth, client):
    auth.signup("alice")
    upload(client, "a.png")
    image_id = last_image_id(app)
    client.get(f"/image/{image_id}/preview")
    client.post(f"/image/{image_id}/edit", data={"filename": "a.png", "visibility": "private"})
    pub = app.config["PUBLIC_BUCKET"]
    assert f"{pub}/.previews/{image_id}.webp" in objects(app)
    with app.app_context():
        report = fsck.run(grace=dt.timedelta(seconds=-5))
    assert f"orphan object {pub}/.previews/{image_id}.webp" in report.found
    assert not any(".previews/" in key for key in objects(app))
    assert client.get(f"/image/{image_id}/preview").status_code == 200  # made again
