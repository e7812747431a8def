"""The previews' format: PREVIEW_FORMAT=webp (the default), avif, or smallest (both made,
the smaller kept). The row's preview_format names the key (``.previews/<id>.webp`` or
``.avif``) and the content type; serving, share links, the renditions command, fsck,
deleting and export/import follow it, and no object of the other format is left behind."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from PIL import Image as PILImage

from tests.helpers import (
    PASSWORD,
    backend_config,
    build_app,
    last_image_id,
    objects,
    settings,
    signed_in,
    teardown_app,
    upload,
)
from tests.test_previews import _photo as photo
from tests.test_share_links import gps_jpeg, share, shared_album
from web import config as app_settings
from web import imaging
from web.extensions import db, storage
from web.images import renditions
from web.images.naming import PREVIEW_SIZE
from web.models import Image
from web.operations import fsck

avif = settings("avif", RENDITION_WORKERS=1, PREVIEW_FORMAT="avif")
smallest = settings("smallest", RENDITION_WORKERS=1, PREVIEW_FORMAT="smallest")
keep_gps_avif = settings("keep_gps_avif", RENDITION_WORKERS=1, PREVIEW_FORMAT="avif", KEEP_GPS=True)


def _photo(size=(1800, 1200)) -> bytes:
    return photo(size)


def _previews(app) -> set[str]:
    return {key for key in objects(app) if "/.previews/" in key}


def _format(data: bytes) -> str:
    with PILImage.open(io.BytesIO(data)) as im:
        return im.format


def _row_format(app, image_id: int) -> str:
    with app.app_context():
        return db.session.get(Image, image_id).preview_format


def test_the_setting_is_webp_avif_or_smallest():
    assert app_settings.from_environment({})["PREVIEW_FORMAT"] == "webp"
    assert app_settings.from_environment({"PREVIEW_FORMAT": " AVIF "})["PREVIEW_FORMAT"] == "avif"
    with pytest.raises(
        app_settings.ConfigError, match="PREVIEW_FORMAT must be webp, avif or smallest"
    ):
        app_settings.from_environment({"PREVIEW_FORMAT": "jpeg"})


def test_an_avif_preview_is_served_as_avif_under_its_own_etag(avif, app, auth, client):
    auth.signup("alice")
    upload(client, "photo.jpg", _photo())
    image_id = last_image_id(app)
    assert renditions.wait(app)
    pub = app.config["PUBLIC_BUCKET"]
    assert _previews(app) == {f"{pub}/.previews/{image_id}.avif"}
    assert _row_format(app, image_id) == "avif"
    response = client.get(f"/image/{image_id}/preview")
    assert response.status_code == 200 and response.mimetype == "image/avif"
    assert response.headers["ETag"].endswith('-p-avif"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with PILImage.open(io.BytesIO(response.data)) as im:
        assert im.format == "AVIF" and im.size == (PREVIEW_SIZE, 1067)
    again = client.get(
        f"/image/{image_id}/preview", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    webp_etag = response.headers["ETag"].replace("-p-avif", "-p")  # a WebP kept before
    assert (
        client.get(f"/image/{image_id}/preview", headers={"If-None-Match": webp_etag}).status_code
        == 200
    )
    with app.app_context():
        assert fsck.run(dry_run=True, grace=dt.timedelta(seconds=-5)).clean


def test_a_links_avif_preview_is_avif_without_gps(keep_gps_avif, app):
    owner = signed_in(app, "owner")
    assert upload(owner, "gps.jpg", gps_jpeg(), "private").status_code == 303
    image_id = last_image_id(app)
    assert renditions.wait(app)
    path = share(owner, image_id, allow_download="")
    visitor = app.test_client()
    assert visitor.get(path).status_code == 200
    served = visitor.get(f"{path}/preview")
    assert served.status_code == 200 and served.mimetype == "image/avif"
    assert served.headers["ETag"].endswith('-p-avif"')
    assert served.headers["Cache-Control"] == "private, no-cache"
    with PILImage.open(io.BytesIO(served.data)) as im:
        assert im.format == "AVIF"
        assert not im.getexif() and "exif" not in im.info and "xmp" not in im.info


def test_an_album_links_avif_preview_is_avif(avif, app):
    _owner, _album_id, (first, _second, _outside), album = shared_album(app)
    assert renditions.wait(app)
    visitor = app.test_client()
    assert visitor.get(album).status_code == 200
    served = visitor.get(f"{album}/i/{first}/preview")
    assert served.status_code == 200 and served.mimetype == "image/avif"
    assert _format(served.data) == "AVIF"


def test_smallest_keeps_the_smaller_of_the_two(smallest, app, auth, client, tmp_path):
    auth.signup("alice")
    kept = {}
    for name, data in (("photo.jpg", _photo()), ("flat.png", _flat_png())):
        upload(client, name, data)
        image_id = last_image_id(app)
        assert renditions.wait(app)
        source = tmp_path / name
        source.write_bytes(data)
        made = {fmt: str(tmp_path / f"{name}.{fmt}") for fmt in ("webp", "avif")}
        imaging.make_renditions(str(source), {f.upper(): p for f, p in made.items()}, PREVIEW_SIZE)
        sizes = {fmt: os.path.getsize(path) for fmt, path in made.items()}
        fmt = _row_format(app, image_id)
        assert sizes[fmt] <= min(sizes.values())
        served = client.get(f"/image/{image_id}/preview")
        assert served.mimetype == f"image/{fmt}" and len(served.data) == sizes[fmt]
        assert {k.rsplit("/", 1)[1] for k in _previews(app) if f"/{image_id}." in k} == {
            f"{image_id}.{fmt}"
        }
        kept[name] = fmt
    # Lines on a gradient come out smaller in WebP, a flat colour in AVIF: both are kept.
    assert set(kept.values()) == {"webp", "avif"}


def _flat_png() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (1800, 1200), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_the_renditions_command_remakes_all_in_the_current_format(app, auth, client):
    auth.signup("alice")
    upload(client, "photo.jpg", _photo())
    upload(client, "scan.png", _photo((900, 600)), "private")
    scan = last_image_id(app)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["renditions"]).exit_code == 0
    webp = _previews(app)
    assert len(webp) == 2 and all(key.endswith(".webp") for key in webp)
    app.config["PREVIEW_FORMAT"] = "avif"
    missing = runner.invoke(args=["renditions", "--missing"])
    assert "made the renditions of 0 of 0 image(s)" in missing.output  # a WebP is a preview
    result = runner.invoke(args=["renditions", "--all"])
    assert "made the renditions of 2 of 2 image(s)" in result.output, result.output
    assert _previews(app) == {key.removesuffix(".webp") + ".avif" for key in webp}
    served = client.get(f"/image/{scan}/preview")
    assert served.mimetype == "image/avif" and _format(served.data) == "AVIF"
    with app.app_context():
        assert fsck.run(dry_run=True, grace=dt.timedelta(seconds=-5)).clean
    app.config["PREVIEW_FORMAT"] = "webp"
    assert runner.invoke(args=["renditions", "--all"]).exit_code == 0
    assert _previews(app) == webp
    assert client.get(f"/image/{scan}/preview").mimetype == "image/webp"


def _leave(bucket: str, key: str, tmp_path) -> None:
    """Put a stray object in the store (call inside an app context)."""
    path = tmp_path / "stray"
    path.write_bytes(b"stray")
    storage.store.put_file(bucket, key, str(path), "image/webp")


def test_deleting_an_image_with_an_avif_preview_leaves_nothing(avif, app, auth, client, tmp_path):
    auth.signup("alice")
    upload(client, "a.jpg", _photo((900, 600)))
    first = last_image_id(app)
    upload(client, "b.jpg", _photo((900, 600)), "private")
    second = last_image_id(app)
    assert renditions.wait(app)
    assert len(_previews(app)) == 2 and all(k.endswith(".avif") for k in _previews(app))
    with app.app_context():  # a WebP a crash left while the row already said AVIF
        image = db.session.get(Image, second)
        _leave(image.bucket, f".previews/{second}.webp", tmp_path)
    client.post("/delete", data={"filename": "a.jpg", "visibility": "public"})
    assert any(f"/.previews/{first}.avif" in key for key in objects(app))  # in the trash
    client.post(f"/trash/{first}/delete", data={"confirm": "yes"})
    client.post("/delete", data={"filename": "b.jpg", "visibility": "private"})
    client.post(f"/trash/{second}/delete", data={"confirm": "yes"})
    assert objects(app) == set()


def test_deleting_an_account_leaves_no_preview_in_either_format(avif, app, tmp_path):
    owner = signed_in(app, "leaver")
    assert upload(owner, "a.jpg", _photo((900, 600)), "public").status_code == 303
    public_id = last_image_id(app)
    assert upload(owner, "b.jpg", _photo((900, 600)), "private").status_code == 303
    assert renditions.wait(app)
    assert len(_previews(app)) == 2
    with app.app_context():  # a WebP a crash left beside the AVIF the row names
        _leave(app.config["PUBLIC_BUCKET"], f".previews/{public_id}.webp", tmp_path)
    answer = owner.post("/account/delete", data={"password": PASSWORD})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert objects(app) == set()


def test_fsck_removes_the_preview_of_the_format_the_row_does_not_name(
    avif, app, auth, client, tmp_path
):
    auth.signup("alice")
    upload(client, "a.jpg", _photo((900, 600)))
    image_id = last_image_id(app)
    assert renditions.wait(app)
    pub = app.config["PUBLIC_BUCKET"]
    with app.app_context():  # left by a remake in the other format that stopped halfway
        _leave(pub, f".previews/{image_id}.webp", tmp_path)
        report = fsck.run(grace=dt.timedelta(seconds=-5))
    assert f"orphan object {pub}/.previews/{image_id}.webp" in report.found
    assert _previews(app) == {f"{pub}/.previews/{image_id}.avif"}
    assert client.get(f"/image/{image_id}/preview").mimetype == "image/avif"


def test_a_preview_in_neither_place_is_made_again_in_the_current_format(avif, app, auth, client):
    auth.signup("alice")
    upload(client, "a.jpg", _photo((900, 600)))
    image_id = last_image_id(app)
    assert renditions.wait(app)
    pub = app.config["PUBLIC_BUCKET"]
    app.config["PREVIEW_FORMAT"] = "webp"
    with app.app_context():  # its AVIF lost: the row still says AVIF
        storage.store.remove(pub, f".previews/{image_id}.avif")
    standing_in = client.get(f"/image/{image_id}/preview")
    assert standing_in.headers["ETag"].endswith('-t"')  # the thumbnail
    assert renditions.wait(app)
    served = client.get(f"/image/{image_id}/preview")
    assert served.mimetype == "image/webp" and served.headers["ETag"].endswith('-p"')
    assert _previews(app) == {f"{pub}/.previews/{image_id}.webp"}


def test_export_and_import_keep_a_preview_consistent_across_backends(request, tmp_path):
    """The snapshot carries originals and thumbnails, not previews: on the other side the
    thumbnail stands in until the preview is made again, in that side's format, and
    nothing of the source's format is left."""
    apps = []
    try:
        source_config = backend_config(request, "sqlite-files", tmp_path / "source")
        source_config.update(RENDITION_WORKERS=1, PREVIEW_FORMAT="avif")
        source = build_app(source_config)
        apps.append(source)
        owner = signed_in(source, "alice")
        assert upload(owner, "a.jpg", _photo((900, 600)), "private").status_code == 303
        image_id = last_image_id(source)
        assert renditions.wait(source)
        assert _row_format(source, image_id) == "avif"
        result = source.test_cli_runner().invoke(args=["export", str(tmp_path / "snap")])
        assert result.exit_code == 0, result.output

        target_config = backend_config(request, "mysql-s3", tmp_path / "target")
        target_config.update(RENDITION_WORKERS=1)
        target = build_app(target_config)
        apps.append(target)
        result = target.test_cli_runner().invoke(args=["import", str(tmp_path / "snap")])
        assert result.exit_code == 0, result.output
        assert _previews(target) == set()
        viewer = target.test_client()
        viewer.post("/login", data={"username": "alice", "password": PASSWORD})
        assert viewer.get(f"/image/{image_id}/preview").headers["ETag"].endswith('-t"')
        assert renditions.wait(target)
        served = viewer.get(f"/image/{image_id}/preview")
        assert served.mimetype == "image/webp" and _format(served.data) == "WEBP"
        assert _row_format(target, image_id) == "webp"
        assert {k.rsplit("/", 1)[1] for k in _previews(target)} == {f"{image_id}.webp"}
        with target.app_context():
            assert fsck.run(dry_run=True, grace=dt.timedelta(seconds=-5)).clean
    finally:
        for made in apps:
            teardown_app(made)
