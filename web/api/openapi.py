"""The API's operations and the OpenAPI 3.1 document generated from them.

Each view of /api/v1 is wrapped by ``operation``: it authenticates the caller (403 for a
``read`` token on a write), validates the query and body with the view's pydantic models
(400 with the fields in error), looks up the object the path names for the caller (404
when there is none it may see: a ``Finder``), and records what it takes and answers.
``document`` walks the application's routes and builds the document from those records
with apispec, the schemas coming from pydantic: the document is never written beside the
code, so it cannot drift from it.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from flask import Flask, g, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from ..rules import RuleError
from . import auth
from .schemas import Problem

TITLE = "Image Repository API"
VERSION = "1"
DESCRIPTION = (
    "Upload, list, change and delete images as a user of the repository. Authenticate "
    "with a personal access token made on the account page: `Authorization: Bearer <token>`. "
    "A `read` token may only read. Errors are `application/problem+json` (RFC 9457)."
)
BINARY = "binary"  # a response of bytes, not JSON
# Answers any operation may give: bad input, no or bad token, too many requests, and a
# database or object store that did not answer (nothing was changed; try again).
COMMON = {
    400: "The request is not valid; `invalid-params` names the fields.",
    401: "No token, or a token that is unknown, revoked or expired.",
    429: "Too many requests for this token; `Retry-After` says when to try again.",
    503: "The database or the object store is not answering; nothing was changed.",
}
MAX_ID = 2**63 - 1
# The 403 of a write, unless the operation or its ``Finder`` says more.
READ_ONLY = "A read token: nothing was changed."
PATH_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


class Invalid(RuleError):
    """The query or body does not fit the operation's model; ``params`` say which fields."""

    def __init__(self, params: list[dict[str, str]]) -> None:
        fields = ", ".join(p["name"] for p in params) or "the request"
        super().__init__(f"The request is not valid: check {fields}.")
        self.params = params


@dataclass(frozen=True)
class Finder:
    """How a path parameter (``parameter``, an id) becomes the object the view works on
    (its ``argument``): ``find(id, user)`` for the caller, raising NotFound (a 404
    problem+json, documented as ``missing``) when there is none they may see.
    ``refused`` documents the 403 of a write to it."""

    parameter: str
    argument: str
    find: Callable[[int, Any], Any]
    missing: str | None = None  # None: the common "No such image, or one you may not see."
    refused: str = READ_ONLY


@dataclass
class Operation:
    """What a view takes and answers, for the validation and the document."""

    responses: dict[int, tuple[str, Any]]
    query: type[BaseModel] | None = None
    json: type[BaseModel] | None = None
    form: type[BaseModel] | None = None
    files: str | None = None  # the name of the multipart file parts, when files are sent
    write: bool = False
    public: bool = False  # no token needed (the document itself)
    tags: list[str] = field(default_factory=list)
    finds: Finder | None = None  # the object a path parameter names, looked up for the caller


def operation(**spec: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API view (see ``Operation``); the view gets ``caller`` and the validated
    ``query`` / ``body`` as keyword arguments, and with ``finds`` the object found in
    place of its id (after the validation: a request both invalid and aimed at nothing is
    a 400)."""
    op = Operation(**spec)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        wants_caller = "caller" in inspect.signature(view).parameters

        @functools.wraps(view)
        def wrapped(**kwargs: Any) -> Any:
            if not op.public:
                caller = g.api_caller = auth.caller(op.write)
                if wants_caller:
                    kwargs["caller"] = caller
            if op.query is not None:
                kwargs["query"] = _validate(op.query, request.args.to_dict())
            if op.json is not None:
                kwargs["body"] = _validate(op.json, _json_body())
            if op.form is not None:
                kwargs["body"] = _validate(op.form, request.form.to_dict())
            if op.finds is not None:
                found = op.finds.find(kwargs.pop(op.finds.parameter), caller.user)
                kwargs[op.finds.argument] = found
            return view(**kwargs)

        wrapped.openapi = op  # type: ignore[attr-defined]
        wrapped.accepts_tokens = True  # type: ignore[attr-defined]
        wrapped.requires_login = not op.public  # type: ignore[attr-defined]
        return wrapped

    return decorate


def _json_body() -> Any:
    if not request.is_json:
        raise Invalid([{"name": "body", "reason": "Send a JSON object (application/json)."}])
    body = request.get_json(silent=True)
    if body is None:
        raise Invalid([{"name": "body", "reason": "The body is not valid JSON."}])
    return body


def _validate(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        params = [
            {"name": ".".join(str(part) for part in error["loc"]) or "body", "reason": error["msg"]}
            for error in exc.errors(include_url=False)
        ]
        raise Invalid(params) from None


# --- the document ---------------------------------------------------------------------------


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every ``operation`` among the application's routes."""
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.1.0",
        info={"description": DESCRIPTION},
        security=[{"token": []}],
    )
    spec.components.security_scheme(
        "token", {"type": "http", "scheme": "bearer", "description": "A personal access token."}
    )
    operations = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = getattr(app.view_functions.get(rule.endpoint), "openapi", None)
        if op is not None:
            operations.append((rule, app.view_functions[rule.endpoint], op))
    models = _models(op for _, _, op in operations)
    for name, schema in models.items():
        spec.components.schema(name, schema)
    paths: dict[str, dict[str, Any]] = {}
    for rule, view, op in operations:
        path = PATH_PARAMETER.sub(r"{\2}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, view, op)
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()


def _models(ops: Any) -> dict[str, Any]:
    """Every model the operations name (and those they contain), as JSON Schema."""
    wanted: dict[type[BaseModel], str] = {Problem: "serialization"}
    for op in ops:
        for model in (op.query, op.json, op.form):
            if model is not None:
                wanted[model] = "validation"
        for _, model in op.responses.values():
            if isinstance(model, type) and issubclass(model, BaseModel):
                wanted[model] = "serialization"
    _, schema = models_json_schema(
        [(model, mode) for model, mode in wanted.items()],
        ref_template="#/components/schemas/{model}",
    )
    return schema.get("$defs", {})


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(rule: Any, view: Callable[..., Any], op: Operation) -> dict[str, Any]:
    summary, _, description = (view.__doc__ or "").strip().partition("\n")
    result: dict[str, Any] = {
        "operationId": rule.endpoint.rsplit(".", 1)[-1],
        "summary": summary.strip(),
        "description": " ".join(description.split()),
        "tags": op.tags,
        "parameters": _parameters(rule, op),
        "responses": _responses(rule, op),
    }
    if op.public:
        result["security"] = []
    if op.json is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.json)}},
        }
    if op.form is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": _form_schema(op)}},
        }
    return result


def _parameters(rule: Any, op: Operation) -> list[dict[str, Any]]:
    parameters = []
    for converter, name in PATH_PARAMETER.findall(rule.rule):
        schema: dict[str, Any] = {"type": "string"}
        if converter == "int":  # ids fit a signed 64-bit column; a larger one matches no route
            schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if op.query is not None:
        schema = op.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            prop = dict(prop)
            description = prop.pop("description", "")
            prop.pop("title", None)
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in schema.get("required", []),
                    "description": description,
                    "schema": prop,
                }
            )
    return parameters


def _form_schema(op: Operation) -> dict[str, Any]:
    assert op.form is not None
    schema = op.form.model_json_schema()
    schema.pop("title", None)
    if op.files:
        schema.setdefault("properties", {})[op.files] = {
            "type": "array",
            "items": {"type": "string", "contentMediaType": "application/octet-stream"},
            "minItems": 1,
            "description": "One or more files, each a part of this name.",
        }
        schema["required"] = [*schema.get("required", []), op.files]
    return schema


def _responses(rule: Any, op: Operation) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": _ref(Problem)}}
    responses: dict[str, Any] = {}
    for status, (description, model) in op.responses.items():
        answer: dict[str, Any] = {"description": description}
        if model == BINARY:
            answer["content"] = {"*/*": {"schema": {"type": "string"}}}
        elif model is Problem:
            answer["content"] = problem
        elif model is not None:
            answer["content"] = {"application/json": {"schema": _ref(model)}}
        responses[str(status)] = answer
    common = dict(COMMON)
    if op.public:
        common = {429: COMMON[429]}
    if op.write:
        common[403] = op.finds.refused if op.finds else READ_ONLY
    if PATH_PARAMETER.search(rule.rule):
        common[404] = "No such image, or one you may not see."
        if op.finds is not None and op.finds.missing is not None:
            common[404] = op.finds.missing
    for status, description in common.items():
        responses.setdefault(str(status), {"description": description, "content": problem})
    return dict(sorted(responses.items()))
