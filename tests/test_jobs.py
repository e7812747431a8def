"""Background jobs: a big reset, a user's removal and a bulk delete run outside the request
(a thread without Redis, the RQ worker with it), show their progress, and a job whose
runner died is resumed by maintenance."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid

import pytest
import redis
from sqlalchemy import select, update

from tests.helpers import (
    audit_rows,
    break_removes,
    flashes,
    image_rows,
    last_image_id,
    login,
    make_user,
    objects,
    upload,
    user_id,
    users_by_name,
)
from web import jobs
from web.admin import actions
from web.extensions import db, storage
from web.images import renditions
from web.images.naming import preview_key_for
from web.models import DONE, FAILED, QUEUED, RUNNING, TRASHED, Image, Job
from web.operations import maintenance

REDIS = "redis://127.0.0.1:6379/0"  # the machine's shared Redis: only our own queue's keys


@pytest.fixture(autouse=True)
def small_threshold(config):
    config["JOB_THRESHOLD"] = 1  # two images are "many"
    return config


@pytest.fixture
def people(app):
    """boss is an admin, carol a user with two images; their browsers. Every job this
    test started has ended before the app is torn down."""
    make_user(app, "boss", is_admin=True)
    make_user(app, "carol")
    admin, carol = app.test_client(), app.test_client()
    login(admin, "boss")
    login(carol, "carol")
    ids = []
    for name in ("a.png", "b.png"):
        upload(carol, name)
        ids.append(last_image_id(app))
    yield {"admin": admin, "carol": carol, "ids": ids}
    jobs.wait(app)


def job_rows(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(Job).order_by(Job.id))
        return [(j.kind, j.state, j.done, j.total, j.message, j.started_by) for j in rows]


def job_text(client, path: str = "/admin/jobs") -> str:
    return re.sub(r"\s+", " ", client.get(path).get_data(as_text=True))


def gate(monkeypatch, target, name):
    """Hold ``target.name`` until the returned event is set: a job stays running."""
    go = threading.Event()
    real = getattr(target, name)

    def held(*args, **kwargs):
        assert go.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, held)
    return go


# --- a reset, a user's removal, a bulk delete -------------------------------------------


def test_a_big_reset_runs_in_the_background_and_the_admin_page_follows_it(app, people, monkeypatch):
    admin = people["admin"]
    upload(admin, "boss.png")
    go = gate(monkeypatch, actions.removal, "finish")
    response = admin.post("/admin/reset", data={"confirm": "RESET"})
    assert response.status_code == 303 and response.location.endswith("/admin/jobs")
    page = admin.get("/admin/jobs")
    assert "The reset runs in the background; its progress is shown below." in flashes(page)
    for _ in range(100):  # the job counts what it has to do, then waits at the gate
        if job_rows(app)[0][3] is not None:
            break
        threading.Event().wait(0.05)
    text = job_text(admin)
    assert 'data-state="running"' in text and "0 of 4 done" in text
    assert "Reset of the repository" in text and 'data-refresh="3"' in text
    go.set()
    jobs.wait(app)
    done = "Reset done: removed 1 user(s) and 1 image(s). The admin accounts are kept."
    assert job_rows(app) == [("reset", DONE, 4, 4, done, "boss")]
    text = job_text(admin)
    assert 'data-state="done"' in text and "4 of 4 done" in text and done in text
    assert "data-refresh" not in text
    assert users_by_name(app) == {"boss": (True, "active")}
    assert image_rows(app) == [] and objects(app) == set()
    assert audit_rows(app) == [("boss", "reset", "1 non-admin user(s), 3 image(s)")]


def test_a_small_reset_still_finishes_in_the_request(app, people):
    app.config["JOB_THRESHOLD"] = 100
    response = people["admin"].post("/admin/reset", data={"confirm": "RESET"})
    assert response.location.endswith("/admin")
    assert job_rows(app) == [] and image_rows(app) == []


def test_a_user_with_many_images_is_removed_by_a_job(app, people):
    carol = user_id(app, "carol")
    response = people["admin"].post(f"/admin/users/{carol}/delete")
    assert response.status_code == 303 and response.location.endswith("/admin/jobs")
    message = "The account carol is closed; its images are being deleted in the background."
    assert message in flashes(people["admin"].get("/admin/jobs"))
    assert people["carol"].get("/myfiles").status_code == 302  # closed at once
    jobs.wait(app)
    removed = "Deleted user carol with their images and comments."
    assert job_rows(app) == [("delete-user", DONE, 2, 2, removed, "boss")]
    assert "carol" not in users_by_name(app)
    assert image_rows(app) == [] and objects(app) == set()
    assert audit_rows(app) == [("boss", "delete user", "carol")]


def test_a_removal_job_that_cannot_finish_says_fsck_will(app, people, monkeypatch):
    break_removes(monkeypatch, app)
    people["admin"].post(f"/admin/users/{user_id(app, 'carol')}/delete")
    jobs.wait(app)
    [(kind, state, *_, message, _by)] = job_rows(app)
    assert (kind, state) == ("delete-user", FAILED)
    assert message == actions.LEFT_FOR_FSCK.format("carol")
    assert "fsck finishes the removal" in job_text(people["admin"])


def test_a_big_bulk_delete_is_a_job_its_starter_and_admins_follow(app, people):
    carol = people["carol"]
    response = carol.post("/delete-selected", data={"image_id": people["ids"], "confirm": "yes"})
    assert response.status_code == 303
    path = response.location
    assert re.fullmatch(r"/jobs/\d+", path)
    assert "Deleting 2 images in the background." in flashes(carol.get(path))
    jobs.wait(app)
    assert job_rows(app) == [("bulk-delete", DONE, 2, 2, "Moved 2 images to the trash.", "carol")]
    text = job_text(carol, path)
    assert "Delete of selected images" in text and "Moved 2 images to the trash." in text
    assert "2 of 2 done" in text
    assert people["admin"].get(path).status_code == 200
    make_user(app, "eve")
    eve = app.test_client()
    login(eve, "eve")
    assert eve.get(path).status_code == 404
    assert app.test_client().get(path).status_code == 302  # to the login page
    with app.app_context():
        states = db.session.scalars(select(Image.state).where(Image.filename.in_(["a.png"])))
        assert list(states) == [TRASHED]


def test_a_bulk_delete_within_the_threshold_stays_in_the_request(app, people):
    response = people["carol"].post(
        "/delete-selected", data={"image_id": people["ids"][:1], "confirm": "yes"}
    )
    assert response.location.endswith("/myfiles")
    assert job_rows(app) == []


# --- after a crash -------------------------------------------------------------------


def stale_job(app, kind: str, actor: str, done: int, total: int, **arguments) -> int:
    """A job row as a runner that died left it: running, its heartbeat 10 minutes old."""
    with app.app_context():
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
        job = Job(
            kind=kind,
            arguments=json.dumps(arguments),
            started_by_id=user_id(app, actor),
            started_by=actor,
            state=RUNNING,
            done=done,
            total=total,
            attempts=1,
            heartbeat_at=old,
        )
        db.session.add(job)
        db.session.commit()
        return job.id


def test_maintenance_resumes_a_job_whose_runner_died(app, people):
    ids = people["ids"]
    people["carol"].post("/delete-selected", data={"image_id": ids[:1], "confirm": "yes"})
    job_id = stale_job(app, "bulk-delete", "carol", 1, 2, image_ids=ids)  # ids[0] was done
    record = maintenance.run_once(app)
    assert f"resumed job {job_id} (Delete of selected images)" in record["repaired"]
    jobs.wait(app)
    assert job_rows(app) == [("bulk-delete", DONE, 2, 2, "Moved 1 image to the trash.", "carol")]
    with app.app_context():
        assert set(db.session.scalars(select(Image.state).where(Image.id.in_(ids)))) == {TRASHED}
        assert db.session.get(Job, job_id).attempts == 2


def test_a_reset_interrupted_half_way_is_finished_by_maintenance(app, people):
    job_id = stale_job(app, "reset", "boss", 3, 9)
    with app.app_context():  # a job that beats is left alone
        db.session.add(Job(kind="reset", started_by="boss", state=RUNNING, done=0, attempts=1))
        db.session.commit()
    resumed = f"resumed job {job_id} (Reset of the repository)"
    assert maintenance.run_once(app)["repaired"] == [resumed]
    jobs.wait(app)
    assert job_rows(app)[0][:4] == ("reset", DONE, 6, 6)  # 3 before, carol and her 2 images
    assert job_rows(app)[1][1] == RUNNING
    assert users_by_name(app) == {"boss": (True, "active")}
    assert image_rows(app) == [] and objects(app) == set()


# --- RQ on Redis ---------------------------------------------------------------------


@pytest.fixture
def rq_queue(config):
    """This test's own queue on the shared Redis; its keys are removed afterwards."""
    name = f"test-jobs-{uuid.uuid4().hex}"
    config.update(REDIS_URL=REDIS, JOB_QUEUE=name)
    yield name
    connection = redis.Redis.from_url(REDIS)
    for key in connection.scan_iter(f"*{name}*"):
        connection.delete(key)


def test_with_redis_the_worker_runs_the_job(rq_queue, app, people):
    admin = people["admin"]
    admin.post("/admin/reset", data={"confirm": "RESET"})
    assert job_rows(app) == [("reset", QUEUED, 0, None, None, "boss")]
    assert "Waiting to start" in job_text(admin)
    with app.app_context():
        assert jobs.queue(app).count == 1
        jobs.work(app, burst=True)
    assert job_rows(app)[0][:2] == ("reset", DONE)
    assert image_rows(app) == [] and "carol" not in users_by_name(app)


def test_with_redis_down_the_job_runs_in_the_web_process(config, app, people):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    people["admin"].post("/admin/reset", data={"confirm": "RESET"})
    jobs.wait(app)
    assert job_rows(app)[0][:2] == ("reset", DONE)


def test_the_worker_needs_redis(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output


def test_a_job_of_an_unknown_kind_fails_with_a_message(app, people):
    with app.app_context():
        db.session.add(Job(kind="old-kind", started_by="boss", state=QUEUED, done=0, attempts=0))
        db.session.commit()
        job_id = db.session.scalar(select(Job.id))
        db.session.execute(update(Job).values(started_by_id=user_id(app, "boss")))
        db.session.commit()
        jobs.run(job_id)
    assert job_rows(app)[0][1:] == (
        FAILED,
        0,
        None,
        "This version does not know jobs of the kind 'old-kind'.",
        "boss",
    )


def test_an_admin_makes_the_missing_previews_in_a_job(app, people):
    ids = people["ids"]
    with app.app_context():
        renditions.wait(app)
        store = storage.store
        buckets = {i: db.session.get(Image, i).bucket for i in ids}
        for image_id, bucket in buckets.items():
            store.remove(bucket, preview_key_for(image_id))
    response = people["admin"].post("/admin/jobs/renditions", data={"which": "missing"})
    assert response.location.endswith("/admin/jobs")
    message = "The previews and thumbnails are being made in the background."
    assert message in flashes(people["admin"].get("/admin/jobs"))
    jobs.wait(app)
    made = "Made the renditions of 2 of 2 image(s)."
    assert job_rows(app) == [("renditions", DONE, 2, 2, made, "boss")]
    with app.app_context():
        assert all(store.exists(b, preview_key_for(i)) for i, b in buckets.items())
