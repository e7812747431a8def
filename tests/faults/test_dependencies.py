"""Two instances sharing a private MariaDB, SeaweedFS and Redis; each dependency is frozen
(SIGSTOP) and killed in turn while a client uploads and browses; then a worker is killed
in the middle of an upload.

Every answer must be a success or a clear 503 within the deadline (never a 500, never a
hang); /health must name the failed part within two seconds; everything must recover
without restarting the app; at the end fsck finds nothing to repair and every upload that
was answered with success is there, byte for byte.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import secrets
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from PIL import Image as PILImage
from sqlalchemy import create_engine, text

from support import processes
from support.gunicorn import Gunicorn, run_flask
from support.shared import shared_services

pytestmark = pytest.mark.faults

PASSWORD = "Quiet-harbor-lantern-42"
DEADLINE = 15.0  # seconds: the slowest honest answer (a few 2 s timeouts in a row)
HEALTH_DEADLINE = 2.0
FAULT_SECONDS = 5.0
RECOVERY_TIMEOUT = 60.0
ALLOWED = {200, 201, 302, 303, 503}


@dataclass
class Stack:
    instances: list[Gunicorn]
    services: dict[str, tuple[processes.Service, Callable[[], bool]]]
    env: dict[str, str]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("faults")
    with contextlib.ExitStack() as exit_stack:
        shared = exit_stack.enter_context(
            shared_services(
                tmp / "data",
                DB_TIMEOUT="2",
                DB_CONNECT_TIMEOUT="2",
                DB_POOL_TIMEOUT="2",
                S3_TIMEOUT="2",
                S3_CONNECT_TIMEOUT="1",
                PENDING_GRACE_MINUTES="1",
                MAINTENANCE_INTERVAL="5",
                GUNICORN_WORKERS="1",
                GUNICORN_THREADS="4",
                ADMIN_USERNAME="faultclient",
                ADMIN_PASSWORD=PASSWORD,
            )
        )
        env = shared.env
        run_flask(["upgrade-db"], env)
        run_flask(["create-admin", "--from-env"], env)
        instances = [
            exit_stack.enter_context(Gunicorn(env, tmp, label=f"instance{n}")) for n in (1, 2)
        ]
        yield Stack(instances, shared.services, env)


def image_bytes() -> bytes:
    im = PILImage.frombytes("RGB", (64, 48), secrets.token_bytes(64 * 48 * 3))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


@dataclass
class Client:
    """Uploads and browses on both instances in turn, recording every answer."""

    urls: list[str]
    session: requests.Session = field(default_factory=requests.Session)
    token: str = ""
    answers: list[tuple[str, int | str, float]] = field(default_factory=list)
    uploaded: dict[int, str] = field(default_factory=dict)  # image id -> sha256
    stop: threading.Event = field(default_factory=threading.Event)

    def login(self) -> None:
        page = self.session.get(f"{self.urls[0]}/login", timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        form = {"username": "faultclient", "password": PASSWORD}
        if token:
            form["csrf_token"] = token.group(1)
        response = self.session.post(
            f"{self.urls[0]}/login", data=form, timeout=10, allow_redirects=False
        )
        assert response.status_code == 302, response.text
        page = self.session.get(f"{self.urls[1]}/myfiles", timeout=10).text  # other instance
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert found, "the session did not carry over to the second instance"
        self.token = found.group(1)

    def request(self, what: str, method: str, url: str, **kwargs) -> requests.Response | None:
        start = time.monotonic()
        try:
            response = self.session.request(method, url, timeout=DEADLINE + 15, **kwargs)
        except requests.RequestException as exc:
            failure = f"no answer: {type(exc).__name__}"
            self.answers.append((what, failure, time.monotonic() - start))
            return None
        self.answers.append((what, response.status_code, time.monotonic() - start))
        return response

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            base = self.urls[n % 2]
            n += 1
            data = image_bytes()
            response = self.request(
                "upload",
                "POST",
                f"{base}/api/images",
                files={"file": (f"f{n}.png", data, "image/png")},
                data={"visibility": "private"},
                headers={"X-CSRFToken": self.token, "Accept": "application/json"},
            )
            if response is not None and response.status_code == 201:
                self.uploaded[response.json()["id"]] = hashlib.sha256(data).hexdigest()
            self.request("browse", "GET", f"{base}/myfiles", allow_redirects=False)
            if self.uploaded:
                image_id = next(reversed(self.uploaded))
                self.request("thumbnail", "GET", f"{base}/image/{image_id}/thumb")
            time.sleep(0.05)


def health(url: str) -> tuple[dict, float]:
    start = time.monotonic()
    response = requests.get(f"{url}/health", timeout=10)
    return response.json(), time.monotonic() - start


def wait_healthy(stack: Stack) -> None:
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    for instance in stack.instances:
        while True:
            body, _ = health(instance.url)
            if body["status"] == "ok":
                break
            assert time.monotonic() < deadline, f"{instance.url} did not recover: {body}"
            time.sleep(0.5)


SCENARIOS = [
    (part, mode) for part in ("database", "object_store", "redis") for mode in ("freeze", "kill")
]


def test_every_dependency_failing_in_turn(stack: Stack) -> None:
    client = Client([i.url for i in stack.instances])
    client.login()
    worker = threading.Thread(target=client.run, daemon=True)
    worker.start()
    try:
        time.sleep(2)
        for part, mode in SCENARIOS:
            service, answers = stack.services[part]
            service.freeze() if mode == "freeze" else service.kill()
            time.sleep(1)
            for instance in stack.instances:
                body, seconds = health(instance.url)
                assert seconds < HEALTH_DEADLINE, (part, mode, seconds)
                assert body[part] != "ok", (part, mode, body)
                assert body["status"] == ("degraded" if part == "redis" else "unavailable")
            time.sleep(FAULT_SECONDS)
            if mode == "freeze":
                service.thaw()
            else:
                service.start()
            assert processes.wait_until(answers, RECOVERY_TIMEOUT) is processes.Wait.READY
            wait_healthy(stack)
            time.sleep(1)
    finally:
        client.stop.set()
        worker.join(timeout=DEADLINE + 20)
    bad = [a for a in client.answers if a[1] not in ALLOWED or a[2] > DEADLINE]
    assert bad == [], f"{bad[:20]}\n{server_errors(stack)}"
    assert client.uploaded, "no upload succeeded at all"
    statuses = {a[1] for a in client.answers}
    assert 503 in statuses  # the faults were seen, and answered honestly

    run_flask(["fsck", "--grace-minutes", "0"], stack.env)
    report = run_flask(["fsck", "--dry-run", "--grace-minutes", "0"], stack.env)
    assert report.startswith("found 0 problem(s)"), report
    for image_id, digest in client.uploaded.items():
        response = client.session.get(f"{stack.instances[0].url}/image/{image_id}/file", timeout=10)
        assert response.status_code == 200, image_id
        assert hashlib.sha256(response.content).hexdigest() == digest, image_id


def server_errors(stack: Stack) -> str:
    """What the instances logged about the requests that failed (tracebacks included), so
    that a failure of this test names its cause."""
    found = []
    for instance in stack.instances:
        if instance.log_path is None or not instance.log_path.exists():
            continue
        lines = instance.log_path.read_text(errors="replace").splitlines()
        for n, entry in enumerate(lines):
            if "Traceback" in entry or (entry.startswith("request ") and " failed" in entry):
                found.append(f"{instance.log_path.name}:\n" + "\n".join(lines[n : n + 40]))
    return "\n\n".join(found[:5]) or "(no failure in the instances' logs)"


def worker_pids(instance: Gunicorn) -> list[int]:
    """The gunicorn workers of an instance: the children of its master process."""
    assert instance.process is not None
    master = instance.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def pending_rows(database_url: str, filename: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT COUNT(*) FROM images WHERE filename = :f AND state = 'pending'"),
                    {"f": filename},
                ).scalar()
                or 0
            )
    finally:
        engine.dispose()


def test_a_worker_killed_mid_upload_leaves_nothing_that_blocks(stack: Stack) -> None:
    """SIGKILL a worker while its upload has claimed the name and waits on the store: no
    scratch directory stays behind, and the name is free again on its own (maintenance
    undoes the pending row after PENDING_GRACE_MINUTES), with nobody running fsck."""
    instance = stack.instances[0]
    client = Client([instance.url, stack.instances[1].url])
    client.login()
    name = f"killed-{secrets.token_hex(4)}.png"
    weed, weed_answers = stack.services["object_store"]
    [worker] = worker_pids(instance)
    weed.freeze()  # the upload claims its name, then its write to the store waits
    sender = threading.Thread(
        target=client.request,
        args=("upload", "POST", f"{instance.url}/api/images"),
        kwargs={
            "files": {"file": (name, image_bytes(), "image/png")},
            "data": {"visibility": "private"},
            "headers": {"X-CSRFToken": client.token, "Accept": "application/json"},
        },
        daemon=True,
    )
    try:
        sender.start()
        deadline = time.monotonic() + DEADLINE
        while pending_rows(stack.env["DATABASE_URL"], name) == 0:
            assert time.monotonic() < deadline, "the upload never claimed its name"
            time.sleep(0.05)
        scratch = Path(tempfile.gettempdir()) / f"imgrepo-{os.getuid()}" / str(worker)
        assert scratch.is_dir()
        os.kill(worker, signal.SIGKILL)
    finally:
        weed.thaw()
    sender.join(timeout=DEADLINE + 20)
    assert processes.wait_until(weed_answers, RECOVERY_TIMEOUT) is processes.Wait.READY
    wait_healthy(stack)
    deadline = time.monotonic() + 60 * 1 + 60  # PENDING_GRACE_MINUTES (1) and a minute
    while True:
        again = client.request(
            "upload again",
            "POST",
            f"{instance.url}/api/images",
            files={"file": (name, image_bytes(), "image/png")},
            data={"visibility": "private"},
            headers={"X-CSRFToken": client.token, "Accept": "application/json"},
        )
        if again is not None and again.status_code == 201:
            break
        assert again is not None and again.status_code in (409, 503), client.answers[-1]
        assert time.monotonic() < deadline, "the name stayed blocked"
        time.sleep(2)
    assert not scratch.exists(), "the killed worker's scratch directory was left behind"
    report = run_flask(["fsck", "--dry-run", "--grace-minutes", "0"], stack.env)
    assert report.startswith("found 0 problem(s)"), report
