"""The scale-out deployment on this machine: Debian's nginx with docker/nginx-scale.conf
(support/nginx.py) in front of two instances that share a private MariaDB, SeaweedFS and
Redis, each with TRUSTED_PROXIES=1 and ACCEL_REDIRECT_PREFIX=/_s3 as in
docker-compose.scale.yml.

Image bytes leave through nginx straight from S3 (X-Accel-Redirect): the same bytes and
the app's headers, nothing of S3's, the internal location closed from outside, and a
stranger still gets 404. Then a person's journey in Chromium through nginx (sign up,
upload, gallery, image page, delete) with one instance killed in the middle: it completes,
and every row and object is where it should be.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from support import s3
from support.gunicorn import Gunicorn, run_flask
from support.nginx import Nginx
from support.shared import shared_services

from .helpers import (
    PASSWORD,
    Tab,
    drop_files,
    expect_thumbnail_shown,
    expect_uploaded,
    landscape,
    open_image_page,
    refresh_gallery,
    sign_up,
    unique,
    write_landscape,
)
from .live_server import LiveServer

pytestmark = pytest.mark.faults
PREFIX = "/_s3"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# The instances' settings beside the shared services', as in docker-compose.scale.yml.
SETTINGS = {
    "TRUSTED_PROXIES": "1",
    "ACCEL_REDIRECT_PREFIX": PREFIX,
    "RATELIMIT_ENABLED": "false",
    "GUNICORN_WORKERS": "1",
    "GUNICORN_THREADS": "4",
}
# What nginx itself adds or recomputes on every answer; everything else is the app's.
HOP_HEADERS = {"server", "date", "connection", "content-length", "keep-alive", "accept-ranges"}


@dataclass
class Stack:
    instances: list[Gunicorn]
    nginx: Nginx
    env: dict[str, str]
    s3_endpoint: str

    @property
    def live(self) -> Gunicorn:
        return next(i for i in self.instances if i.process is not None)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("scale-out")
    with contextlib.ExitStack() as exit_stack:
        shared = exit_stack.enter_context(shared_services(tmp / "data", **SETTINGS))
        run_flask(["upgrade-db"], shared.env)
        instances = [
            exit_stack.enter_context(Gunicorn(shared.env, tmp, label=f"instance{n}"))
            for n in (1, 2)
        ]
        addresses = [i.url.removeprefix("http://") for i in instances]
        nginx = exit_stack.enter_context(Nginx(addresses, shared.s3.endpoint))
        yield Stack(instances, nginx, shared.env, shared.s3.endpoint)


def signed_up(url: str) -> tuple[requests.Session, str]:
    """A new person signed up through the form at ``url``: their session and CSRF token."""
    session = requests.Session()
    username = unique("p")
    token = TOKEN.search(session.get(f"{url}/signin", timeout=10).text)
    assert token
    form = {
        "name": username,
        "username": username,
        "email": f"{username}@example.org",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
        "csrf_token": token.group(1),
    }
    answer = session.post(f"{url}/signin", data=form, timeout=10, allow_redirects=False)
    assert answer.status_code == 302, answer.text[:500]
    token = TOKEN.search(session.get(f"{url}/myfiles", timeout=10).text)
    assert token
    return session, token.group(1)


def upload(url: str, session: requests.Session, token: str, name: str, data: bytes) -> int:
    answer = session.post(
        f"{url}/api/images",
        files={"file": (name, data, "image/png")},
        data={"visibility": "private"},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
        timeout=20,
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


@pytest.fixture(scope="module")
def owner(stack: Stack) -> tuple[requests.Session, int, bytes]:
    """Someone who uploaded a private PNG with a name that needs escaping everywhere."""
    session, token = signed_up(stack.nginx.url)
    data = landscape(7)
    return (
        session,
        upload(stack.nginx.url, session, token, "a b (1) +x 100% é&=;#?.png", data),
        data,
    )


def test_image_bytes_come_from_s3_through_nginx_with_the_apps_headers(
    stack: Stack, owner: tuple[requests.Session, int, bytes]
) -> None:
    session, number, data = owner
    for path in (
        f"/image/{number}/file",
        f"/image/{number}/thumb",
        f"/api/v1/images/{number}/original",
    ):
        app = session.get(stack.live.url + path, timeout=10)  # the app's own answer
        assert app.status_code == 200 and app.content == b"", path
        assert app.headers["X-Accel-Redirect"].startswith(f"{PREFIX}/"), path
        served = session.get(stack.nginx.url + path, timeout=10)
        assert served.status_code == 200, (path, served.text[:300])
        if not path.endswith("/thumb"):
            assert served.content == data, path
        else:
            assert served.content[8:12] == b"WEBP", path
        assert int(served.headers["Content-Length"]) == len(served.content)
        expected = {
            k.lower(): v
            for k, v in app.headers.items()
            if k.lower() not in HOP_HEADERS | {"x-accel-redirect", "x-request-id"}
        }
        got = {k.lower(): v for k, v in served.headers.items() if k.lower() not in HOP_HEADERS}
        assert re.fullmatch(r"[0-9a-f]{32}", got.pop("x-request-id")), path
        assert got == expected, path
        everything = " ".join(f"{k}: {v}" for k, v in served.headers.items()).lower()
        assert "amz" not in everything and stack.s3_endpoint not in everything, everything
        assert stack.s3_endpoint.encode() not in served.content
        again = session.get(
            stack.nginx.url + path, headers={"If-None-Match": served.headers["ETag"]}, timeout=10
        )
        assert again.status_code == 304, path
    head = session.head(stack.nginx.url + f"/image/{number}/file", timeout=10)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data))


def test_the_internal_location_answers_404_from_outside(
    stack: Stack, owner: tuple[requests.Session, int, bytes]
) -> None:
    session, number, data = owner
    # Even the very address nginx would fetch, signed and fresh, is closed to a client.
    signed = session.get(f"{stack.live.url}/image/{number}/file", timeout=10)
    target = signed.headers["X-Accel-Redirect"]
    for client in (session, requests.Session()):
        answer = client.get(stack.nginx.url + target, timeout=10)
        assert answer.status_code == 404 and data not in answer.content
    assert requests.get(f"{stack.nginx.url}{PREFIX}/", timeout=10).status_code == 404


def test_a_stranger_still_gets_404_behind_nginx(
    stack: Stack, owner: tuple[requests.Session, int, bytes]
) -> None:
    _, number, _ = owner
    stranger, _ = signed_up(stack.nginx.url)
    for client in (stranger, requests.Session()):
        for path in (f"/image/{number}/file", f"/image/{number}/thumb"):
            answer = client.get(stack.nginx.url + path, timeout=10, allow_redirects=False)
            assert answer.status_code in (302, 404), (path, answer.status_code)
            assert "X-Accel-Redirect" not in answer.headers
    answer = stranger.get(f"{stack.nginx.url}/image/{number}/file", timeout=10)
    assert answer.status_code == 404


def kill(instance: Gunicorn) -> None:
    """SIGKILL the instance's whole process group (master and workers), no goodbye."""
    assert instance.process is not None
    os.killpg(instance.process.pid, signal.SIGKILL)
    instance.process.wait(timeout=10)
    instance.process = None


def rows_and_objects(stack: Stack, username: str) -> tuple[list[str], list[str]]:
    """The user's image rows (filename, state) and the objects of their bucket."""
    engine = create_engine(stack.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT i.filename, i.state, i.bucket FROM images i "
                    "JOIN users u ON u.id = i.owner_id WHERE u.username = :u"
                ),
                {"u": username},
            ).all()
    finally:
        engine.dispose()
    server = s3.S3Server(stack.s3_endpoint, stack.env["S3_ACCESS_KEY"], stack.env["S3_SECRET_KEY"])
    client = s3.minio_client(server)
    objects = sorted(
        o.object_name
        for bucket in {r.bucket for r in rows}
        for o in client.list_objects(bucket, recursive=True)
    )
    return sorted(f"{r.filename} {r.state}" for r in rows), objects


def test_a_journey_through_nginx_survives_an_instance_killed_midway(
    stack: Stack, open_tab: Callable[[LiveServer], Tab], tmp_path: Path
) -> None:
    front = LiveServer(stack.nginx.url, tmp_path, stack.live, stack.env)
    tab = open_tab(front)
    page = tab.page
    failures: list[str] = []
    page.on(
        "response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None
    )
    username = sign_up(tab)
    names = [f"harbour-{unique('')}.png", f"meadow-{unique('')}.png", f"ridge-{unique('')}.png"]
    paths = [write_landscape(tmp_path, name, 40 + n) for n, name in enumerate(names)]
    expect_uploaded(tab, drop_files(tab, paths[:2], "private"))

    kill(stack.instances[0])  # in the middle: the rest goes to the other one, or fails over

    expect_uploaded(tab, drop_files(tab, paths[2:], "private"))
    refresh_gallery(tab)
    for name in names:
        expect_thumbnail_shown(tab, "private", name)
    expect(page.locator("#usage")).to_contain_text("You have 3 images")
    chosen = names[1]
    number = open_image_page(tab, "private", chosen)  # the preview loaded: tab.check()
    with tab.navigation(tab.url("/myfiles")):
        page.locator("main").get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text(f"Moved “{chosen}” to the trash.")
    tab.goto("/trash")
    with tab.navigation(tab.url(f"/trash/{number}/delete")):
        page.locator(f"#trashed-{number}").get_by_role(
            "button", name=f"Delete forever {chosen}"
        ).click()
    with tab.navigation(tab.url("/trash")):
        page.get_by_role("button", name="Delete for good").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Deleted “{chosen}” for good.")
    tab.goto("/myfiles")
    expect(page.locator("#usage")).to_contain_text("You have 2 images")
    assert failures == []

    # Nothing lost, nothing left over: each kept image whole, byte for byte, through nginx.
    for name, path in ((names[0], paths[0]), (names[2], paths[2])):
        link = page.locator("#private-images a.filename").filter(has_text=name)
        served = page.context.request.get(tab.url(f"{link.get_attribute('href')}/file"))
        assert served.status == 200 and served.body() == path.read_bytes(), name
    rows, objects = rows_and_objects(stack, username)
    assert rows == sorted(f"{n} ready" for n in (names[0], names[2])), rows
    assert [o for o in objects if not o.startswith(".")] == sorted((names[0], names[2]))
    assert len([o for o in objects if o.startswith(".thumbnails/")]) == 2, objects
    report = run_flask(["fsck", "--dry-run", "--grace-minutes", "0"], stack.env)
    assert report.startswith("found 0 problem(s)"), report
