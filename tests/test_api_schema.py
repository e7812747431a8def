"""The API against its own OpenAPI document: schemathesis generates requests for every
operation (with a read-write token and a few real images to aim at) and checks that no
answer is a server error and every answer matches the document (status, content type,
body). Bounded to a few examples per operation, so each backend takes well under a minute.
"""

from __future__ import annotations

import io

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from tests.helpers import image_bytes, make_user
from web.accounts import tokens
from web.extensions import db
from web.models import User

MAX_EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def world(app) -> dict:
    """A user with a read-write token and three images of theirs (two public, one private)."""
    make_user(app, "alice")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "alice"))
        headers = {"Authorization": f"Bearer {tokens.create(user, 'fuzz', 'read-write').secret}"}
    client = app.test_client()
    ids = []
    for n, visibility in enumerate(("public", "private", "public")):
        response = client.post(
            "/api/v1/images",
            data={
                "file": [(io.BytesIO(image_bytes()), f"seed{n}.png")],
                "visibility": visibility,
            },
            headers=headers,
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        ids.append(response.json["items"][0]["id"])
    return {"headers": headers, "ids": ids}


@pytest.mark.schemathesis
def test_every_operation_matches_the_document(app, world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 23
    for operation in operations:
        check_operation(operation, world)


def check_operation(operation, world) -> None:
    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def run(case) -> None:
        image_id = (case.path_parameters or {}).get("image_id")
        if isinstance(image_id, int) and image_id < 6:  # small ids aim at the real images
            case.path_parameters["image_id"] = world["ids"][image_id % len(world["ids"])]
        response = case.call(headers=world["headers"])
        case.validate_response(response, checks=CHECKS)

    run()


def test_the_document_has_the_trash_and_the_album_order(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    paths = document["paths"]
    assert set(paths["/api/v1/trash"]) == {"get"}
    assert set(paths["/api/v1/trash/{image_id}/restore"]) == {"post"}
    assert set(paths["/api/v1/trash/{image_id}"]) == {"delete"}
    assert set(paths["/api/v1/albums/{album_id}/order"]) == {"put"}
    delete = paths["/api/v1/images/{image_id}"]["delete"]
    assert [p["name"] for p in delete["parameters"] if p["in"] == "query"] == ["permanent"]
    restore = paths["/api/v1/trash/{image_id}/restore"]["post"]
    assert "suggested_filename" in document["components"]["schemas"]["Problem"]["properties"]
    assert "409" in restore["responses"]
    assert "order" in document["components"]["schemas"]["AlbumItem"]["required"]
