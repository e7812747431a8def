"""GET /metrics: Prometheus's text format for METRICS_TOKEN or METRICS_ALLOW, a 404 for
anyone else; requests, latency, uploads, failures, logins, 429s, maintenance, and images
and bytes per visibility; every gunicorn worker's counts added up."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import sessionmaker

from tests.helpers import (
    PASSWORD,
    down_database_engine,
    image_bytes,
    last_image_id,
    make_user,
    settings,
    signed_in,
    upload,
)
from web.config import ConfigError, from_environment
from web.operations import maintenance, metrics
from web.storage import ObjectMissing, StorageError

TOKEN = "scrape-me-please-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
ROOT = Path(__file__).resolve().parent.parent

with_token = settings("with_token", METRICS_TOKEN=TOKEN)
from_loopback = settings("from_loopback", METRICS_ALLOW=[ipaddress.ip_network("127.0.0.0/8")])


def samples(text: str) -> dict[tuple, float]:
    """Every sample as (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(client) -> dict[tuple, float]:
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return samples(response.get_data(as_text=True))


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_a_404_without_a_setting_that_allows_them(app, client):
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 404
    assert "nothing at this address" in response.get_data(as_text=True)


def test_only_the_metrics_token_opens_them(with_token, app, client):
    assert client.get("/metrics").status_code == 404
    wrong = {"Authorization": "Bearer scrape-me-please-0123456780"}
    assert client.get("/metrics", headers=wrong).status_code == 404
    basic = {"Authorization": "Basic c2NyYXBlOm1l"}
    assert client.get("/metrics", headers=basic).status_code == 404
    assert client.get("/metrics", headers=BEARER).status_code == 200


def test_addresses_in_metrics_allow_need_no_token(from_loopback, app, client):
    assert client.get("/metrics").status_code == 200
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert outside.status_code == 404


def test_metrics_settings_are_checked():
    assert [
        str(n) for n in from_environment({"METRICS_ALLOW": "10.0.0.0/8, ::1"})["METRICS_ALLOW"]
    ] == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ConfigError, match="METRICS_ALLOW must be addresses or networks"):
        from_environment({"METRICS_ALLOW": "10.0.0.0/8,intranet"})
    with pytest.raises(ConfigError, match="METRICS_TOKEN must be at least 16 characters"):
        from_environment({"METRICS_TOKEN": "change-me"})


def test_requests_uploads_logins_and_the_inventory_are_counted(with_token, app, client):
    before = scrape(client)
    alice = signed_in(app, "alice")
    data = image_bytes()
    assert upload(alice, "a.png", data, "public").status_code == 303
    assert upload(alice, "b.png", image_bytes(), "private").status_code == 303
    assert upload(alice, "bad.png", b"not an image", "public").status_code == 400
    assert client.post("/login", data={"username": "alice", "password": "nope"}).status_code == 200
    client.get("/no-such-page")
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    gallery = {"endpoint": "gallery.myfiles", "method": "POST"}
    assert grew("imgrepo_http_requests_total", **gallery, status="303") == 2
    assert grew("imgrepo_http_requests_total", **gallery, status="400") == 1
    unmatched = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert grew("imgrepo_http_requests_total", **unmatched) == 1
    assert grew("imgrepo_http_request_duration_seconds_count", endpoint="gallery.myfiles") == 3
    assert grew("imgrepo_uploads_total", outcome="stored") == 2
    assert grew("imgrepo_uploads_total", outcome="refused") == 1
    assert grew("imgrepo_upload_bytes_total", outcome="stored") > 2 * len(data)
    assert grew("imgrepo_login_failures_total") == 1
    assert value(after, "imgrepo_images", visibility="public") == 1
    assert value(after, "imgrepo_images", visibility="private") == 1
    assert value(after, "imgrepo_image_bytes", visibility="public") == len(data)


limited = settings("limited", METRICS_TOKEN=TOKEN, RATELIMIT_ENABLED=True)


def test_rate_limited_requests_are_counted(limited, app, client):
    make_user(app, "bob")
    before = scrape(client)
    statuses = [
        client.post("/login", data={"username": "bob", "password": PASSWORD + "x"}).status_code
        for _ in range(7)
    ]
    assert 429 in statuses
    after = scrape(client)
    grew = value(after, "imgrepo_rate_limited_total", endpoint="auth.login") - value(
        before, "imgrepo_rate_limited_total", endpoint="auth.login"
    )
    assert grew == statuses.count(429)


def test_database_and_object_store_failures_are_counted(with_token, app, client, monkeypatch):
    alice = signed_in(app, "alice")
    assert upload(alice, "a.png").status_code == 303
    image_id = last_image_id(app)
    before = scrape(client)
    store = app.extensions["object_store"]

    def broken(*args, **kwargs):
        raise StorageError("simulated outage")

    with monkeypatch.context() as patch:
        patch.setattr(store, "open", broken)
        assert alice.get(f"/image/{image_id}/file").status_code == 503
        patch.setattr(store, "put_file", broken)
        assert upload(alice, "b.png").status_code == 503
    with monkeypatch.context() as patch:
        engine = sessionmaker(down_database_engine())
        for maker in ("db_sessionmaker", "db_read_sessionmaker"):  # /myfiles reads with the second
            patch.setitem(app.extensions, maker, engine)
        assert alice.get("/myfiles").status_code == 503
    after = scrape(client)
    for part in ("object store", "database"):
        grew = value(after, "imgrepo_dependency_errors_total", part=part) - value(
            before, "imgrepo_dependency_errors_total", part=part
        )
        assert grew == 1, part
    failed = value(after, "imgrepo_uploads_total", outcome="failed")
    assert failed - value(before, "imgrepo_uploads_total", outcome="failed") == 1


def test_object_store_calls_and_database_statements_are_timed(with_token, app, client):
    before = scrape(client)
    assert upload(signed_in(app, "alice"), "a.png").status_code == 303
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    store, statements = (
        "imgrepo_object_store_duration_seconds",
        "imgrepo_db_statement_duration_seconds",
    )
    assert grew(store + "_count", operation="put", outcome="ok") >= 2  # original, thumbnail
    assert grew(statements + "_count", kind="insert") >= 2  # the user, the image
    assert grew(statements + "_count", kind="select") >= 1
    assert grew(statements + "_count", kind="update") >= 1  # the image made ready
    assert grew(statements + "_sum", kind="insert") > 0
    infinity = value(after, statements + "_bucket", kind="insert", le="+Inf")
    assert infinity == value(after, statements + "_count", kind="insert")
    labels = {dict(key[1]).get("kind") for key in after if key[0].startswith(statements)}
    assert labels == set(metrics.STATEMENT_KINDS)  # no SQL text, only the kinds
    operations = {dict(key[1]).get("operation") for key in after if key[0].startswith(store)}
    assert operations == set(metrics.STORE_OPERATIONS.values())


def test_each_store_call_is_timed_by_outcome():
    class Store:
        def put_file(self, bucket, key, path, content_type):
            return "stored"

        def open(self, bucket, key):
            raise ObjectMissing(key)

        def stat(self, bucket, key):
            raise StorageError("down")

        exists = copy = remove = put_file

    def count(operation: str, outcome: str) -> float:
        labels = {"operation": operation, "outcome": outcome}
        name = "imgrepo_object_store_duration_seconds_count"
        return metrics.REGISTRY.get_sample_value(name, labels) or 0.0

    store = Store()
    metrics.time_store(store)
    metrics.time_store(store)  # once only: a call is not counted twice
    before = {
        (op, outcome): count(op, outcome)
        for op in ("put", "get", "stat")
        for outcome in ("ok", "missing", "error")
    }
    assert store.put_file("b", "k", "/p", "image/png") == "stored"
    with pytest.raises(ObjectMissing):
        store.open("b", "k")
    with pytest.raises(StorageError):
        store.stat("b", "k")
    grown = {key: count(*key) - was for key, was in before.items() if count(*key) != was}
    assert grown == {("put", "ok"): 1, ("get", "missing"): 1, ("stat", "error"): 1}


def test_maintenance_rounds_are_counted(with_token, app, client):
    before = scrape(client)
    assert maintenance.run_once(app)["result"] == "ok"
    after = scrape(client)
    runs = {"result": "ok"}
    grew = value(after, "imgrepo_maintenance_runs_total", **runs) - value(
        before, "imgrepo_maintenance_runs_total", **runs
    )
    assert grew == 1


WORKER = textwrap.dedent(
    """
    import sys
    from web import create_app, migrate
    from web.extensions import db
    app = create_app({"TESTING": True, "METRICS_TOKEN": sys.argv[1]})
    with app.app_context():
        migrate.upgrade(db.engine)
    client = app.test_client()
    for _ in range(int(sys.argv[2])):
        client.get("/no-such-page")
    if sys.argv[3] == "scrape":
        page = client.get("/metrics", headers={"Authorization": "Bearer " + sys.argv[1]})
        sys.stdout.write(page.get_data(as_text=True))
    """
)


def test_every_worker_process_is_counted_in_multiprocess_mode(tmp_path):
    """Three processes (as gunicorn's workers) share PROMETHEUS_MULTIPROC_DIR: the scrape
    any of them answers adds up the requests of all."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    env["DATA_DIR"] = str(tmp_path / "data")
    for name in ("DATABASE_URL", "S3_ENDPOINT", "REDIS_URL"):
        env.pop(name, None)

    def worker(count: int, action: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, TOKEN, str(count), action],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    worker(3, "count")
    worker(4, "count")
    found = samples(worker(5, "scrape"))
    labels = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert value(found, "imgrepo_http_requests_total", **labels) == 12


def test_gunicorn_makes_a_metrics_directory_per_start_and_removes_those_of_dead_servers(
    tmp_path,
):
    """A server killed without its exit hook leaves its directory: the next start removes
    it, and leaves alone the directory of a server that still runs."""
    dead = tmp_path / "imgrepo-metrics-999999999-abcd"
    running = tmp_path / f"imgrepo-metrics-{os.getpid()}-efgh"
    for folder in (dead, running):
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"")
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    code = "import web.gunicorn_conf as conf; print(conf.metrics_directory())"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    made = Path(done.stdout.strip())
    assert made.parent == tmp_path and made.is_dir() and not any(made.iterdir())
    assert not dead.exists() and running.exists()
