"""The shapes of the API's requests and answers, as pydantic models: the views validate
with them and the OpenAPI document is generated from them (JSON Schema 2020-12, the
dialect of OpenAPI 3.1)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Visibility = Literal["public", "private"]


class Problem(BaseModel):
    """An error (RFC 9457, ``application/problem+json``)."""

    model_config = ConfigDict(populate_by_name=True)

    type: str = Field(description="about:blank: the status says what kind of error it is.")
    title: str = Field(description="The HTTP status phrase.")
    status: int
    detail: str = Field(description="What went wrong, in a sentence a person can act on.")
    request_id: str | None = Field(None, description="Quote it when reporting a problem.")
    invalid_params: list[InvalidParam] | None = Field(
        None, alias="invalid-params", description="Validation errors: which field, and why."
    )
    errors: list[UploadError] | None = Field(
        None, description="When every file of an upload failed: what happened to each."
    )
    suggested_filename: str | None = Field(
        None, description="A restore whose name was taken meanwhile: a free name to use."
    )


class InvalidParam(BaseModel):
    name: str = Field(description="The query parameter or body field.")
    reason: str


class ImageUrls(BaseModel):
    page: str = Field(description="The image's page in the web interface.")
    original: str = Field(description="The bytes as uploaded (GPS removed from public images).")
    thumbnail: str | None = Field(description="A WebP thumbnail; null for non-image files.")


class ImageItem(BaseModel):
    id: int
    filename: str
    visibility: Visibility
    owner: str = Field(description="The uploader's username.")
    size: int = Field(description="Bytes.")
    width: int | None
    height: int | None
    format: str
    content_type: str
    sha256: str
    created_at: dt.datetime = Field(description="ISO 8601, UTC.")
    urls: ImageUrls


class ImageList(BaseModel):
    items: list[ImageItem]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class TokenInfo(BaseModel):
    name: str
    prefix: str
    scope: Literal["read", "read-write"]
    expires_at: dt.datetime | None


class Me(BaseModel):
    id: int
    username: str
    name: str
    is_admin: bool
    image_count: int
    bytes_used: int
    quota: int | None = Field(description="Bytes allowed; null: no quota.")
    token: TokenInfo | None = Field(description="The token of this request; null for a session.")


class UploadError(BaseModel):
    index: int = Field(description="The position of the file among the `file` parts, from 0.")
    filename: str
    status: int = Field(description="The status this file alone would have got.")
    detail: str


class UploadResult(BaseModel):
    items: list[ImageItem] = Field(description="The images stored, in the order sent.")
    errors: list[UploadError] = Field(description="The files refused; empty with status 201.")


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    visibility: Literal["all", "public", "private"] = Field(
        "all", description="public: everyone's public images; private: your own private ones."
    )
    q: str = Field("", max_length=100, description="Part of the filename (case folded).")
    sort: Literal["date", "name", "size"] = Field(
        "date", description="date and size: newest or largest first; name: A to Z."
    )
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=2048, description="From `next_cursor`.")


class UploadForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    visibility: Visibility = "public"


class ImagePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str | None = Field(None, min_length=1, max_length=255)
    visibility: Visibility | None = None


AlbumOrder = Literal["newest", "oldest", "manual"]
ORDER_TEXT = "How its images are listed: by date, newest or oldest first, or by hand (manual)."


class DeleteQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    permanent: bool = Field(
        False, description="true: delete for good at once; false: to the owner's trash."
    )


class TrashItem(BaseModel):
    id: int
    filename: str = Field(description="The name it had, which it gets back when restored.")
    visibility: Visibility
    size: int = Field(description="Bytes (they count in your storage used).")
    format: str
    content_type: str
    deleted_at: dt.datetime = Field(description="When it went to the trash (ISO 8601, UTC).")
    expires_at: dt.datetime = Field(description="When maintenance deletes it for good.")


class TrashList(BaseModel):
    items: list[TrashItem] = Field(
        description="Your trash, most recently deleted first (at most 1000)."
    )


class RestoreQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    filename: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description="Restore under this name (when its old name was taken meanwhile).",
    )


class AlbumItem(BaseModel):
    id: int
    title: str
    description: str | None
    cover_image_id: int | None = Field(description="The cover; null: the newest image.")
    order: AlbumOrder = Field(description=ORDER_TEXT)
    image_count: int
    created_at: dt.datetime = Field(description="ISO 8601, UTC.")


class AlbumList(BaseModel):
    items: list[AlbumItem] = Field(description="Your albums, newest first.")


class AlbumCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    order: AlbumOrder = Field("newest", description=ORDER_TEXT)


class AlbumPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    cover_image_id: int | None = Field(
        None, ge=0, le=2**63 - 1, description="One of the album's images; null: the newest."
    )
    order: AlbumOrder | None = Field(None, description=ORDER_TEXT)


class AlbumImageIds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_ids: list[Annotated[int, Field(ge=0, le=2**63 - 1)]] = Field(
        min_length=1, max_length=1000, description="Your own images."
    )


class AlbumReorder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_ids: list[Annotated[int, Field(ge=0, le=2**63 - 1)]] = Field(
        max_length=100_000,
        description="Every image of the album, each once, in the new order (first first).",
    )


class AlbumImagesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(50, ge=1, le=200)
    before: int | None = Field(
        None, ge=0, le=2**63 - 1, description="From `next_before`: the next page."
    )


class AlbumImagePage(BaseModel):
    items: list[ImageItem] = Field(description="The album's images, in the album's order.")
    next_before: int | None = Field(description="Pass as `before` for the next page; null: done.")


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_id: int | None = Field(None, ge=0, le=2**63 - 1, description="Share this image…")
    album_id: int | None = Field(None, ge=0, le=2**63 - 1, description="…or this album.")
    expires_in: int | None = Field(
        None, ge=60, le=3650 * 86400, description="Seconds until it expires; null: never."
    )
    password: str | None = Field(None, min_length=1, max_length=200)
    allow_download: bool = True
    max_views: int | None = Field(None, ge=1, le=1_000_000)


class ShareItem(BaseModel):
    id: int
    image_id: int | None
    album_id: int | None
    target: str = Field(description="The image's name or the album's title.")
    owner: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    views: int
    max_views: int | None
    has_password: bool
    allow_download: bool


class NewShare(ShareItem):
    url: str = Field(description="The link; shown only now (only its hash is kept).")


class ShareList(BaseModel):
    items: list[ShareItem] = Field(
        description="Your links (everyone's for an admin), newest first."
    )


Problem.model_rebuild()
