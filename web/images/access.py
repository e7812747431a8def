"""Who may see and who may change an image, and finding the images a viewer may see.

A private image is, to everyone but its owner and admins, an image that does not
exist: every lookup here answers NotFound, never Forbidden.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import defer, lazyload

from ..extensions import db
from ..i18n import N_
from ..models import PUBLIC, PUBLIC_SCOPE, VISIBLE_STATES, Image, User
from ..rules import NotFound
from ..viewers import load_along_with_viewer, load_with_viewer, signed_in
from .naming import check_visibility

NO_SUCH_IMAGE = N_("No such image.")


def can_view(viewer: Any, image: Image) -> bool:
    """Public: signed-in users (everyone with ANONYMOUS_GALLERY). Private: owner and admins."""
    if image.state not in VISIBLE_STATES:
        return False
    if image.visibility == PUBLIC:
        return signed_in(viewer) or current_app.config["ANONYMOUS_GALLERY"]
    return signed_in(viewer) and (viewer.id == image.owner_id or bool(viewer.is_admin))


def can_delete(viewer: Any, image: Image) -> bool:
    """The uploader and admins may delete (and rename, or move) an image."""
    return signed_in(viewer) and (viewer.id == image.owner_id or bool(viewer.is_admin))


def is_owner(viewer: Any, image: Image) -> bool:
    return signed_in(viewer) and viewer.id == image.owner_id


def deletable_ids(viewer: Any, images: list[Image]) -> set[int]:
    """The ids among ``images`` that ``viewer`` may delete (for the gallery grids)."""
    return {image.id for image in images if can_delete(viewer, image)}


def get_image(image_id: int, viewer: Any) -> Image:
    """The image if ``viewer`` may see it; NotFound otherwise (existence is not revealed).
    A viewer not loaded yet comes in the same database round trip as the image."""
    image = load_with_viewer(viewer, ("image", image_id), lambda: _by_id(image_id))
    if image is None or not can_view(viewer, image):
        raise NotFound(NO_SUCH_IMAGE)
    return image


def load_with_the_viewer(image_id: int, bytes_only: bool = False) -> None:
    """Have the image come in the same round trip as the viewer, whoever asks for the
    viewer first in this request; ``get_image`` then takes it from there. ``bytes_only``:
    the request answers with the image's bytes and shows no page, so only the columns
    that serving them needs are read, of the image and of the viewer (the others would
    be read on first use)."""
    if bytes_only:
        params = {IMAGE_ID: image_id}
        load_along_with_viewer(("image", image_id), _FOR_BYTES, light=True, params=params)
    else:
        load_along_with_viewer(("image", image_id), _by_id(image_id))


def _by_id(image_id: int) -> Select:
    return select(Image).where(Image.id == image_id)


# An image whose bytes are served: without its owner (joined by default) or the details
# only its page shows. Each column fewer is work saved in every thumbnail request. Made
# once; the image's id is a bound parameter.
IMAGE_ID = "image_id"
_FOR_BYTES = (
    select(Image)
    .where(Image.id == bindparam(IMAGE_ID))
    .options(
        lazyload(Image.owner),
        defer(Image.scope),
        defer(Image.width),
        defer(Image.height),
        defer(Image.thumb_width),
        defer(Image.thumb_height),
        defer(Image.camera),
        defer(Image.taken_at),
        defer(Image.gps),
        defer(Image.created_at),
        defer(Image.updated_at),
    )
)


def find_image(viewer: User, filename: str, visibility: str) -> Image:
    """The image a /delete form names: a public name, or one of the viewer's private names."""
    check_visibility(visibility)
    scope = PUBLIC_SCOPE if visibility == PUBLIC else viewer.id
    image = db.session.scalar(
        select(Image).where(
            Image.scope == scope, Image.filename == filename, Image.state.in_(VISIBLE_STATES)
        )
    )
    if image is None or not can_view(viewer, image):
        raise NotFound(NO_SUCH_IMAGE)
    return image


def images_for(viewer: User, image_ids: list[int]) -> list[Image]:
    """The images among ``image_ids`` that ``viewer`` may see, in the order given."""
    found = {i.id: i for i in db.session.scalars(select(Image).where(Image.id.in_(image_ids)))}
    return [found[i] for i in image_ids if i in found and can_view(viewer, found[i])]
