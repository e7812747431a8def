"""The shapes of the API's requests and answers, as pydantic models: the views validate
with them and the OpenAPI document is generated from them (JSON Schema 2020-12, the
dialect of OpenAPI 3.1)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

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


Problem.model_rebuild()
