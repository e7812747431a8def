"""The albums and share links of the public JSON API (/api/v1/albums, /api/v1/shares):
thin views over the album and link services, with the caller as the owner."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import jsonify, url_for
from werkzeug.wrappers import Response

from ..albums import albums, links
from ..images import access
from ..models import Album, ShareLink
from . import auth
from .openapi import Finder, Invalid, operation
from .schemas import (
    AlbumCreate,
    AlbumImageIds,
    AlbumImagePage,
    AlbumImagesQuery,
    AlbumItem,
    AlbumList,
    AlbumPatch,
    AlbumReorder,
    NewShare,
    Problem,
    ShareCreate,
    ShareItem,
    ShareList,
)
from .v1 import bp, item

ALBUM_TAGS, SHARE_TAGS = ["albums"], ["shares"]
# The album a path's album_id names, the caller's own (404 otherwise).
ALBUM = Finder("album_id", "album", albums.get_album, missing="No such album of yours.")


def _album(album: Album, count: int | None = None) -> dict[str, Any]:
    return AlbumItem(
        id=album.id,
        title=album.title,
        description=album.description,
        cover_image_id=album.cover_image_id,
        order=album.sort_order,
        image_count=albums.image_count(album) if count is None else count,
        created_at=album.created_at.replace(microsecond=0),
    ).model_dump(mode="json")


@bp.route("/v1/albums", methods=["GET"])
@operation(responses={200: ("Your albums.", AlbumList)}, tags=ALBUM_TAGS)
def list_albums(caller: auth.Caller) -> Response:
    """Your albums, newest first (albums are private: only yours)."""
    summaries = albums.albums_of(caller.user)
    return jsonify(items=[_album(s.album, s.count) for s in summaries])


@bp.route("/v1/albums", methods=["POST"])
@operation(
    json=AlbumCreate,
    write=True,
    responses={201: ("The new album.", AlbumItem)},
    tags=ALBUM_TAGS,
)
def create_album(caller: auth.Caller, body: AlbumCreate) -> tuple[Response, int]:
    """Make an album."""
    album = albums.create(caller.user, body.title, body.description, body.order)
    return jsonify(_album(album, 0)), 201


@bp.route("/v1/albums/<int:album_id>", methods=["GET"])
@operation(finds=ALBUM, responses={200: ("The album.", AlbumItem)}, tags=ALBUM_TAGS)
def get_album(album: Album) -> Response:
    """One of your albums."""
    return jsonify(_album(album))


@bp.route("/v1/albums/<int:album_id>", methods=["PATCH"])
@operation(
    json=AlbumPatch,
    write=True,
    finds=ALBUM,
    responses={200: ("The album as it is now.", AlbumItem)},
    tags=ALBUM_TAGS,
)
def update_album(album: Album, body: AlbumPatch) -> Response:
    """Change an album's title, description, cover or order (fields left out stay as they are)."""
    sent = body.model_fields_set
    title = body.title if body.title is not None else album.title
    text = body.description if body.description is not None else album.description or ""
    cover = body.cover_image_id if "cover_image_id" in sent else album.cover_image_id
    return jsonify(_album(albums.update(album, title, text, cover, body.order)))


@bp.route("/v1/albums/<int:album_id>", methods=["DELETE"])
@operation(
    write=True,
    finds=ALBUM,
    responses={204: ("Deleted; its images stay.", None)},
    tags=ALBUM_TAGS,
)
def delete_album(album: Album) -> tuple[str, int]:
    """Delete an album; its images stay."""
    albums.delete_album(album)
    return "", 204


@bp.route("/v1/albums/<int:album_id>/images", methods=["GET"])
@operation(
    query=AlbumImagesQuery,
    finds=ALBUM,
    responses={200: ("A page of the album's images.", AlbumImagePage)},
    tags=ALBUM_TAGS,
)
def album_images(album: Album, query: AlbumImagesQuery) -> Response:
    """The album's images in its order; pass `next_before` as `before` for the next page."""
    shown = albums.page(album, query.before, query.limit)
    return jsonify(items=[item(image) for image in shown.items], next_before=shown.next_before)


@bp.route("/v1/albums/<int:album_id>/images", methods=["POST"])
@operation(
    json=AlbumImageIds,
    write=True,
    finds=ALBUM,
    responses={
        200: ("The album as it is now.", AlbumItem),
        404: ("No such album of yours, or an image that is not yours; nothing added.", Problem),
    },
    tags=ALBUM_TAGS,
)
def add_album_images(album: Album, body: AlbumImageIds) -> Response:
    """Add your images to the album (those already in it stay once)."""
    albums.add_images(album, body.image_ids)
    return jsonify(_album(album))


@bp.route("/v1/albums/<int:album_id>/order", methods=["PUT"])
@operation(
    json=AlbumReorder,
    write=True,
    finds=ALBUM,
    responses={
        200: ("The album as it is now, ordered by hand.", AlbumItem),
        400: ("Not exactly the album's images, each once; nothing changed.", Problem),
    },
    tags=ALBUM_TAGS,
)
def reorder_album(album: Album, body: AlbumReorder) -> Response:
    """Order the album by hand: send all its image ids in the order wanted.

    The list must name every image of the album exactly once (those in the trash are left
    out and keep their place after the others); otherwise 400 and nothing changes.
    """
    return jsonify(_album(albums.reorder(album, body.image_ids)))


@bp.route("/v1/albums/<int:album_id>/images/<int:image_id>", methods=["DELETE"])
@operation(
    write=True,
    finds=ALBUM,
    responses={204: ("Taken out (the image stays).", None)},
    tags=ALBUM_TAGS,
)
def remove_album_image(album: Album, image_id: int) -> tuple[str, int]:
    """Take an image out of the album; the image itself stays."""
    albums.remove_images(album, [image_id])
    return "", 204


def _share(link: ShareLink) -> dict[str, Any]:
    return ShareItem(
        id=link.id,
        image_id=link.image_id,
        album_id=link.album_id,
        target=link.target_name,
        owner=link.owner.username,
        created_at=link.created_at.replace(microsecond=0),
        expires_at=link.expires_at.replace(microsecond=0) if link.expires_at else None,
        views=link.views,
        max_views=link.max_views,
        has_password=link.password_hash is not None,
        allow_download=link.allow_download,
    ).model_dump(mode="json")


@bp.route("/v1/shares", methods=["GET"])
@operation(responses={200: ("Your share links.", ShareList)}, tags=SHARE_TAGS)
def list_shares(caller: auth.Caller) -> Response:
    """Your share links (everyone's for an admin), newest first."""
    return jsonify(items=[_share(link) for link in links.links_for(caller.user)])


@bp.route("/v1/shares", methods=["POST"])
@operation(
    json=ShareCreate,
    write=True,
    responses={
        201: ("The new link; its `url` is shown only now.", NewShare),
        404: ("No such image or album of yours.", Problem),
    },
    tags=SHARE_TAGS,
)
def create_share(caller: auth.Caller, body: ShareCreate) -> tuple[Response, int]:
    """Share one of your images (`image_id`) or albums (`album_id`) by link."""
    if (body.image_id is None) == (body.album_id is None):
        reason = "Send exactly one of image_id and album_id."
        raise Invalid([{"name": "image_id", "reason": reason}])
    expires = dt.timedelta(seconds=body.expires_in) if body.expires_in else None
    links.check_options("never", body.password or "", body.allow_download, "")
    options = links.Options(expires, body.password, body.allow_download, body.max_views)
    if body.image_id is not None:
        made = links.create(caller.user, access.get_image(body.image_id, caller.user), options)
    else:
        album = albums.get_album(body.album_id, caller.user)  # type: ignore[arg-type]
        made = links.create_for_album(caller.user, album, options)
    url = url_for("sharing.shared", token=made.token, _external=True)
    return jsonify(NewShare(**_share(made.link), url=url).model_dump(mode="json")), 201


@bp.route("/v1/shares/<int:share_id>", methods=["DELETE"])
@operation(
    write=True,
    responses={
        204: ("Revoked: the link answers 404 from now on.", None),
        404: ("No such link of yours.", Problem),
    },
    tags=SHARE_TAGS,
)
def revoke_share(caller: auth.Caller, share_id: int) -> tuple[str, int]:
    """Revoke a link (yours, or any as an admin)."""
    links.revoke(caller.user, share_id)
    return "", 204
