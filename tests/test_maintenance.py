"""Maintenance: fsck's safe repairs on their own, one instance at a time, seen in /health."""

from __future__ import annotations

import subprocess
import tempfile
import time

from sqlalchemy import update

from tests.helpers import age_everything, build_app, image_rows, objects, teardown_app, upload
from web.extensions import db
from web.models import PENDING, Image
from web.operations import maintenance
from web.scratch import root


def crashed_upload(app, auth, client) -> None:
    """An upload whose process died after the claim: a PENDING row and its objects."""
    auth.signup("alice")
    assert upload(client, "a.png").status_code == 303
    with app.app_context():
        db.session.execute(update(Image).values(state=PENDING))
        db.session.commit()


def test_a_round_undoes_a_crashed_upload_after_the_grace_period(app, auth, client):
    crashed_upload(app, auth, client)
    assert maintenance.run_once(app)["repaired"] == []  # within the grace period: left alone
    assert [r[2] for r in image_rows(app)] == [PENDING]
    age_everything(app)
    record = maintenance.run_once(app)
    assert record["result"] == "ok"
    assert any("undo upload" in line for line in record["repaired"])
    assert image_rows(app) == [] and objects(app) == set()
    assert upload(client, "a.png").status_code == 303  # the name is free again
    health = client.get("/health").json
    assert health["maintenance"]["repaired"] == record["repaired"]


def test_only_the_lock_holder_repairs(app, auth, client):
    crashed_upload(app, auth, client)
    age_everything(app)
    with app.app_context(), maintenance.lease() as held:
        assert held
        assert maintenance.run_once(app)["result"] == maintenance.SKIPPED
    assert [r[2] for r in image_rows(app)] == [PENDING]
    assert maintenance.run_once(app)["result"] == "ok"
    assert image_rows(app) == []


def test_scratch_space_of_dead_processes_is_removed(app, tmp_path, monkeypatch):
    # A scratch root of this test's own: the maintenance of any other server running on
    # the machine (a browser test's, another run's) sweeps the shared one too.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    finished = subprocess.Popen(["true"])
    finished.wait()
    leftover = root() / str(finished.pid)
    leftover.mkdir(parents=True, exist_ok=True)
    (leftover / "original").write_bytes(b"x" * 1000)
    record = maintenance.run_once(app)
    assert not leftover.exists()
    assert f"removed {leftover}" in record["repaired"]


def test_serving_processes_run_maintenance_on_their_own(config):
    config.update(TESTING=False, MAINTENANCE_INTERVAL=1)
    app = build_app(config)
    try:
        client = app.test_client()
        client.get("/health")  # the first request starts the thread
        deadline = time.monotonic() + 5
        while "maintenance" not in client.get("/health").json and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.get("/health").json["maintenance"]["result"] == "ok"
    finally:
        teardown_app(app)
