"""The operator's view: /health for load balancers and container healthchecks."""

from __future__ import annotations

from flask import Blueprint

from . import health as checks

bp = Blueprint("operations", __name__)


@bp.route("/health", methods=["GET"])
def health() -> tuple[dict, int]:
    """200 when the database and the object store answer, 503 naming what failed."""
    result = checks.checks()
    ok = checks.healthy(result)
    return {"status": "ok" if ok else "unavailable", **result}, 200 if ok else 503
