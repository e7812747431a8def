"""Prometheus metrics: what every request, upload, failure and maintenance round did.

Counters and histograms are counted as each request's response leaves. Under gunicorn,
``PROMETHEUS_MULTIPROC_DIR`` (set by ``web/gunicorn_conf.py`` at every start) makes every
worker write its counts to files there, and ``GET /metrics`` adds up all workers; without
it, each process counts in memory. Images and bytes per visibility are read from the
database at each scrape, so they are the same whichever worker answers.

Object-store calls and database statements are timed where they happen: each call of
the store's put/get/stat/exists/copy/remove by operation and outcome (a call made of
others, such as a copy on the file store, also counts those), each statement by kind
(select, insert, update, delete, other; never its text). Their children are made once,
so a call costs a ``time.perf_counter`` pair and one ``observe``.

``/metrics`` answers only a request that carries ``METRICS_TOKEN`` as a bearer token or
comes from an address in ``METRICS_ALLOW``; anyone else gets the 404 of an address that
does not exist, so the endpoint is not even known to be there.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event, func, select

from ..extensions import db
from ..models import READY, Image
from ..storage import ObjectMissing

PREFIX = "imgrepo_"
REGISTRY = CollectorRegistry()  # this process's counts (all of them, in multiprocess mode)

REQUESTS = Counter(
    PREFIX + "http_requests",
    "Requests answered, by endpoint (the view's name) and status.",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    PREFIX + "http_request_duration_seconds",
    "Seconds from a request's first hook until its response was ready, by endpoint.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
UPLOADS = Counter(
    PREFIX + "uploads",
    "Upload requests (the upload page, /api/images, /api/v1/images) by outcome: stored, "
    "refused (4xx) or failed (5xx).",
    ["outcome"],
    registry=REGISTRY,
)
UPLOAD_BYTES = Counter(
    PREFIX + "upload_bytes",
    "Bytes of upload request bodies, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
DEPENDENCY_ERRORS = Counter(
    PREFIX + "dependency_errors",
    "Requests answered 503 because a dependency failed or timed out, by part "
    "(database, object store).",
    ["part"],
    registry=REGISTRY,
)
LOGIN_FAILURES = Counter(
    PREFIX + "login_failures",
    "Logins refused for a wrong username or password.",
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    PREFIX + "rate_limited",
    "Requests refused with 429 by a rate limit, by endpoint.",
    ["endpoint"],
    registry=REGISTRY,
)
MAINTENANCE_RUNS = Counter(
    PREFIX + "maintenance_runs",
    "Maintenance rounds by result: ok, failed, or skipped (another instance held the lock).",
    ["result"],
    registry=REGISTRY,
)
MAINTENANCE_REPAIRS = Counter(
    PREFIX + "maintenance_repairs",
    "Repairs maintenance made (unfinished uploads, deletes, moves, removals; dead scratch).",
    registry=REGISTRY,
)

STORE_CALLS = Histogram(
    PREFIX + "object_store_duration_seconds",
    "Seconds per object-store call, by operation (put, get, stat, exists, copy, remove) "
    "and outcome (ok, missing, error).",
    ["operation", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
DB_STATEMENTS = Histogram(
    PREFIX + "db_statement_duration_seconds",
    "Seconds per database statement that succeeded, by kind (select, insert, update, "
    "delete, other).",
    ["kind"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
# The store's methods that are timed, and the operation each one counts as.
STORE_OPERATIONS = {
    "put_file": "put",
    "open": "get",
    "stat": "stat",
    "exists": "exists",
    "copy": "copy",
    "remove": "remove",
}
STATEMENT_KINDS = ("select", "insert", "update", "delete", "other")
_UNSET = object()

UPLOAD_ENDPOINTS = frozenset({"gallery.myfiles", "api.upload_image", "api_v1.upload_images"})
UNMATCHED = "unmatched"  # the endpoint label of a request no route matched (404, 405)


def init_app(app: Flask) -> None:
    """Count every response as it leaves; time the object store's calls and the
    database's statements."""
    time_store(app.extensions["object_store"])
    for engine in app.extensions["db_engines"]:
        time_statements(engine)

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.get("request_started")  # set by the request log's first hook
        observe(response.status_code, time.perf_counter() - started if started else None)
        return response


def observe(status: int, seconds: float | None) -> None:
    """Count the current request, answered with ``status`` after ``seconds``."""
    endpoint = request.endpoint or UNMATCHED
    REQUESTS.labels(endpoint, request.method, str(status)).inc()
    if seconds is not None:
        LATENCY.labels(endpoint).observe(seconds)
    if status == 429:
        RATE_LIMITED.labels(endpoint).inc()
    if g.get("login_failed"):
        LOGIN_FAILURES.inc()
    part = g.get("unavailable")
    if part:
        DEPENDENCY_ERRORS.labels(part).inc()
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        outcome = "stored" if status < 400 else "refused" if status < 500 else "failed"
        UPLOADS.labels(outcome).inc()
        UPLOAD_BYTES.labels(outcome).inc(request.content_length or 0)


def time_store(store: Any) -> None:
    """Time each call of ``store``'s methods in ``STORE_OPERATIONS`` (once per store)."""
    if getattr(store, "_timed_by_metrics", False):
        return
    for method, operation in STORE_OPERATIONS.items():
        setattr(store, method, _timed(getattr(store, method), operation))
    store._timed_by_metrics = True


def _timed(method: Any, operation: str) -> Any:
    ok = STORE_CALLS.labels(operation, "ok")
    missing = STORE_CALLS.labels(operation, "missing")
    failed = STORE_CALLS.labels(operation, "error")
    clock = time.perf_counter

    # Two or four positional arguments (every timed method takes one or the other), so
    # that a call packs no tuple of arguments.
    def call(a: Any, b: Any, c: Any = _UNSET, d: Any = _UNSET) -> Any:
        started = clock()
        try:
            result = method(a, b) if c is _UNSET else method(a, b, c, d)
        except ObjectMissing:
            missing.observe(clock() - started)
            raise
        except BaseException:
            failed.observe(clock() - started)
            raise
        ok.observe(clock() - started)
        return result

    return call


_STATEMENT_CHILDREN = {kind: DB_STATEMENTS.labels(kind) for kind in STATEMENT_KINDS}
_SELECT, _INSERT, _UPDATE, _DELETE, _OTHER = (_STATEMENT_CHILDREN[k] for k in STATEMENT_KINDS)
_STARTED = "_metrics_started"  # an execution context's attribute: when it was sent


def time_statements(engine: Any) -> None:
    """Time every statement ``engine`` runs, by kind (listening once per engine)."""
    if not event.contains(engine, "before_cursor_execute", _before_statement):
        event.listen(engine, "before_cursor_execute", _before_statement)
        event.listen(engine, "after_cursor_execute", _after_statement)


def _before_statement(_conn, _cursor, _statement, _parameters, context, _executemany) -> None:
    if context is not None:
        context._metrics_started = time.perf_counter()


def _after_statement(_conn, _cursor, statement, _parameters, context, _executemany) -> None:
    started = getattr(context, _STARTED, None)
    if started is None:
        return
    if context.isinsert:
        child = _INSERT
    elif context.isupdate:
        child = _UPDATE
    elif context.isdelete:
        child = _DELETE
    elif statement.startswith(("SELECT", "select", "WITH", "with")):
        child = _SELECT
    else:
        child = _OTHER
    child.observe(time.perf_counter() - started)


def maintenance_round(record: dict[str, Any]) -> None:
    """Count one maintenance round from its record (see ``maintenance.run_once``)."""
    result = str(record.get("result", ""))
    label = "ok" if result == "ok" else "skipped" if "another instance" in result else "failed"
    MAINTENANCE_RUNS.labels(label).inc()
    repaired = len(record.get("repaired") or [])
    if repaired:
        MAINTENANCE_REPAIRS.inc(repaired)


class Inventory:
    """Images and bytes stored, per visibility, as the database says at this moment."""

    def collect(self):
        images = GaugeMetricFamily(
            PREFIX + "images", "Images stored, by visibility.", labels=["visibility"]
        )
        size = GaugeMetricFamily(
            PREFIX + "image_bytes",
            "Bytes of stored originals, by visibility.",
            labels=["visibility"],
        )
        rows = db.session.execute(
            select(Image.visibility, func.count(), func.coalesce(func.sum(Image.size), 0))
            .where(Image.state == READY)
            .group_by(Image.visibility)
        ).all()
        found = {visibility: (count, total) for visibility, count, total in rows}
        for visibility in sorted({"public", "private", *found}):
            count, total = found.get(visibility, (0, 0))
            images.add_metric([visibility], count)
            size.add_metric([visibility], int(total))
        yield images
        yield size


def exposition() -> bytes:
    """Every metric, in Prometheus's text format: all workers' counts when
    ``PROMETHEUS_MULTIPROC_DIR`` is set, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counts = CollectorRegistry()
        multiprocess.MultiProcessCollector(counts)
    else:
        counts = REGISTRY
    inventory = CollectorRegistry()
    inventory.register(Inventory())  # type: ignore[arg-type]
    return generate_latest(counts) + generate_latest(inventory)


def content_type() -> str:
    return CONTENT_TYPE_LATEST


def allowed(token: str | None, networks: list, supplied: str | None, address: str | None) -> bool:
    """Whether a scrape may see the metrics: the bearer token matches ``token``, or the
    client's address is in one of ``networks``."""
    if token and supplied and hmac.compare_digest(supplied.encode(), token.encode()):
        return True
    if not networks or not address:
        return False
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in network for network in networks)
