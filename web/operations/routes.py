"""The operator's view: /health for load balancers and container healthchecks."""

from __future__ import annotations

from flask import Blueprint

from . import health as checks

bp = Blueprint("operations", __name__)


@bp.route("/health", methods=["GET"])
def health() -> tuple[dict, int]:
    """200 when the database and the object store answer (``degraded`` when only Redis
    failed), 503 naming what failed or timed out; always within two seconds."""
    result = checks.checks()
    if not checks.healthy(result):
        return {"status": "unavailable", **result}, 503
    return {"status": "degraded" if checks.degraded(result) else "ok", **result}, 200
