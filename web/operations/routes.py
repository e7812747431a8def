"""The operator's views: /health for load balancers and container healthchecks, /metrics
for Prometheus."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request

from . import health as checks
from . import maintenance, metrics

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


@bp.route("/metrics", methods=["GET"])
def prometheus_metrics() -> tuple[bytes, int, dict]:
    """Prometheus's text format, for METRICS_TOKEN (bearer) or METRICS_ALLOW addresses;
    a 404 for anyone else."""
    auth = request.authorization
    supplied = auth.token if auth is not None and auth.type == "bearer" else None
    config = current_app.config
    if not metrics.allowed(
        config["METRICS_TOKEN"], config["METRICS_ALLOW"], supplied, request.remote_addr
    ):
        abort(404)
    return metrics.exposition(), 200, {"Content-Type": metrics.content_type()}
