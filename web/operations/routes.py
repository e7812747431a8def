"""The operator's view: /health for load balancers and container healthchecks."""

from __future__ import annotations

from flask import Blueprint, current_app

from . import health as checks
from . import maintenance

bp = Blueprint("operations", __name__)


@bp.route("/health", methods=["GET"])
def health() -> tuple[dict, int]:
    """200 when the database and the object store answer (``degraded`` when only Redis
    failed), 503 naming what failed or timed out; always within two seconds."""
    result: dict = checks.checks()
    status = "unavailable" if not checks.healthy(result) else "ok"
    if status == "ok" and checks.degraded(result):
        status = "degraded"
    last_round = maintenance.status(current_app)
    if last_round:
        result["maintenance"] = last_round
    return {"status": status, **result}, 503 if status == "unavailable" else 200
