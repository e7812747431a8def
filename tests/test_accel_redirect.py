"""ACCEL_REDIRECT_PREFIX: behind nginx, an image whose bytes are the stored object's is
answered with the app's headers and X-Accel-Redirect to a signed S3 read, no body; bytes
the app rewrites (an original without GPS through a share link) still come from Python,
as does everything on the embedded store. tests/e2e/test_scale_out.py runs it through
nginx."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest
import requests

from tests.helpers import settings
from tests.test_share_links import gps_jpeg, has_gps, owner_with_image, share
from web.config import ConfigError, from_environment

accel = settings("accel", ACCEL_REDIRECT_PREFIX="/_s3", KEEP_GPS=True)
TARGET = re.compile(r"/_s3/([0-9a-f]{32}-[ot])(/[^?]+)\?(.+)")


def test_s3_bytes_are_left_to_nginx_and_rewritten_bytes_are_not(accel, app, backend):
    data = gps_jpeg()
    owner, image_id = owner_with_image(app, "private", data, "my photo (1).jpg")
    original = owner.get(f"/image/{image_id}/file")
    thumbnail = owner.get(f"/image/{image_id}/thumb")
    assert original.status_code == thumbnail.status_code == 200
    assert original.headers["Content-Type"] == "image/jpeg"
    assert original.headers["Content-Disposition"].startswith("inline; filename*=")
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    if backend == "sqlite-files":  # nothing for nginx to fetch: the bytes, from Python
        assert "X-Accel-Redirect" not in original.headers
        assert original.data == data
        return
    assert original.data == b"" and original.headers["Content-Length"] == "0"
    for answer, kind in ((original, "o"), (thumbnail, "t")):
        found = TARGET.fullmatch(answer.headers["X-Accel-Redirect"])
        assert found, answer.headers["X-Accel-Redirect"]
        assert answer.headers["ETag"] == f'"{found[1]}"' and found[1].endswith(kind)
        query = parse_qs(found[3])
        assert query["X-Amz-Expires"] == ["60"] and query["X-Amz-Signature"]
    path, query = TARGET.fullmatch(original.headers["X-Accel-Redirect"]).group(2, 3)
    assert path.endswith("/my%20photo%20%281%29.jpg")
    # The signed read is what nginx fetches: the stored bytes (GPS kept for the owner).
    fetched = requests.get(f"http://{app.config['S3_ENDPOINT']}{path}?{query}", timeout=10)
    assert fetched.status_code == 200 and fetched.content == data
    # The app still answers a matching If-None-Match itself.
    etag = original.headers["ETag"]
    assert owner.get(f"/image/{image_id}/file", headers={"If-None-Match": etag}).status_code == 304

    # Through a share link the original loses its GPS position: those bytes differ from
    # the stored object's, so they still pass through Python; the thumbnail does not.
    link = share(owner, image_id)
    visitor = app.test_client()
    assert visitor.get(link).status_code == 200
    stripped = visitor.get(f"{link}/file")
    assert stripped.status_code == 200 and "X-Accel-Redirect" not in stripped.headers
    assert stripped.data and not has_gps(stripped.data)
    assert "X-Accel-Redirect" in visitor.get(f"{link}/thumb").headers


@pytest.mark.parametrize("value", ["_s3", "/", "/_s3/", "/a b", "/_s3?x"])
def test_the_prefix_must_be_a_plain_path(value):
    with pytest.raises(ConfigError, match="ACCEL_REDIRECT_PREFIX must be a path such as /_s3"):
        from_environment({"ACCEL_REDIRECT_PREFIX": value})
