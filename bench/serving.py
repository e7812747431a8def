"""Image requests: thumbnails and originals by ``wrk`` against raw store GETs by ``wrk``.

Every row rotates over at least ``distinct`` different images (each a distinct file to
the app, see ``phases.variant``), with 16 connections. The raw rows ask the object store
itself for the same objects: presigned GET URLs to S3 (mysql-s3), or nginx serving the
store's folder (embedded). Thumbnails run twice, against the shipped server (cache on)
and against a second server with ``THUMB_CACHE_MB=0``; the raw thumbnail row is measured
between them, in the same run. On S3 the originals run a second time behind nginx
(the scale-out deployment: the app answers with X-Accel-Redirect and nginx fetches the
bytes from S3). Then the If-None-Match revalidations (Python client).
"""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from support.nginx import Nginx

from . import client, phases, stack, wrk
from .stats import summary_ms

CONNECTIONS = 16


def fill_distinct(
    server: stack.Server,
    be: stack.Backend,
    owner: client.User,
    photos: list[phases.Photo],
    target: int,
) -> dict[str, Any]:
    """Upload distinct variants of the photos as ``owner`` (4 sessions) until it has
    ``target`` ready images."""
    photos = phases.jpegs(photos)
    have = len(phases.image_rows(be, owner.username))
    missing = max(0, target - have)
    users = [owner.clone() for _ in range(4)]
    started = time.perf_counter()

    def body(i: int) -> None:
        for n in range(i, missing, len(users)):
            photo = photos[n % len(photos)]
            users[i].upload(
                phases.unique_name(f"d{n}", photo),
                phases.variant(photo, n),
                "private",
                photo.content_type,
            )

    phases.run_threads(len(users), body)
    for user in users:
        user.session.close()
    return {"uploaded": missing, "seconds": time.perf_counter() - started}


def _raw_paths(
    be: stack.Backend, rows: list[dict[str, Any]], key: str
) -> tuple[str, list[str], Any]:
    """(base URL, paths, context manager) for raw GETs of ``rows[key]`` objects."""
    if be.s3 is not None:
        minio = stack.minio_client(be.s3)
        urls = [
            minio.presigned_get_object(r["bucket"], r[key], expires=timedelta(hours=2))
            for r in rows
        ]
        parts = urlsplit(urls[0])
        base = f"{parts.scheme}://{parts.netloc}"
        paths = [u[len(base) :] for u in urls]
        return base, paths, None
    paths = ["/" + quote(r["bucket"]) + "/" + quote(r[key]) for r in rows]
    return "", paths, be.data_dir / "objects"


def _measured(
    label: str,
    be: stack.Backend,
    server: stack.Server | None,
    base: str,
    paths: list[str],
    seconds: float,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    with phases.meter(server, be) as cpu:
        run = wrk.run(base, paths, CONNECTIONS, seconds, headers)
    run["cpu"] = cpu.result
    if run["not_200"] or run["socket_errors"]:
        raise client.BenchError(
            f"{label}: {run['not_200']} answers other than 200, "
            f"{run['socket_errors']} socket errors of {run['requests']}"
        )
    return run


def _session_headers(user: client.User) -> dict[str, str]:
    return {
        "Cookie": user.cookie_header(),
        "User-Agent": str(user.session.headers.get("User-Agent", "")),
        "Accept": "image/avif,image/webp,*/*",
    }


def serving(
    server: stack.Server,
    be: stack.Backend,
    owner: client.User,
    photos: list[phases.Photo],
    distinct: int,
    seconds: float,
    short_seconds: float,
) -> dict[str, Any]:
    result: dict[str, Any] = {"fill": fill_distinct(server, be, owner, photos, distinct)}
    rows = [r for r in phases.image_rows(be, owner.username) if r["thumb_key"]]
    result["images"] = len(rows)
    viewer = owner.clone()
    headers = _session_headers(viewer)
    thumbs = [f"/image/{r['id']}/thumb" for r in rows]
    originals = [f"/image/{r['id']}/file" for r in rows]
    raw_base, raw_thumbs, root = _raw_paths(be, rows, "thumb_key")
    _, raw_originals, _ = _raw_paths(be, rows, "object_key")

    def raw(label: str, paths: list[str]) -> dict[str, Any]:
        if root is None:
            return _measured(label, be, None, raw_base, paths, seconds)
        with wrk.static_files(root, be.workdir) as base:
            run = _measured(label, be, None, base, paths, seconds)
        run["server"] = "nginx (static files)"
        return run

    warm = seconds >= 2  # a smoke run does not warm up
    if warm:
        wrk.run(server.url, thumbs, CONNECTIONS, 1, headers)  # caches, connections
    result["raw_thumbs"] = raw("raw thumbnail GETs", raw_thumbs)
    result["thumbs"] = _measured("thumbnails", be, server, server.url, thumbs, seconds, headers)
    result["originals"] = _measured(
        "originals", be, server, server.url, originals, seconds, headers
    )
    result["raw_originals"] = raw("raw original GETs", raw_originals)
    if be.s3 is not None:
        result["originals_nginx"] = _behind_nginx(be, server.workers, originals, headers, seconds)
    with stack.Server(be, workers=server.workers, label="nocache", THUMB_CACHE_MB="0") as bare:
        if warm:
            wrk.run(bare.url, thumbs, CONNECTIONS, 1, headers)
        result["thumbs_nocache"] = _measured(
            "thumbnails, THUMB_CACHE_MB=0", be, bare, bare.url, thumbs, seconds, headers
        )
    result["revalidate"] = revalidate(server, be, viewer, short_seconds)
    viewer.session.close()
    return result


ACCEL_PREFIX = "/_s3"  # the internal location of docker/nginx-scale.conf


def _behind_nginx(
    be: stack.Backend, workers: int, paths: list[str], headers: dict[str, str], seconds: float
) -> dict[str, Any]:
    """``paths`` through nginx with the scale-out deployment's config in front of a server
    with ACCEL_REDIRECT_PREFIX: the app checks who asks and answers with X-Accel-Redirect,
    and nginx fetches the bytes from S3 (one nginx worker per core)."""
    assert be.s3 is not None
    accel = {"ACCEL_REDIRECT_PREFIX": ACCEL_PREFIX}
    with stack.Server(be, workers=workers, label="accel", **accel) as app:
        address = app.url.removeprefix("http://")
        with Nginx([address], be.s3.endpoint, workers=os.cpu_count() or 1) as front:
            if seconds >= 2:
                wrk.run(front.url, paths, CONNECTIONS, 1, headers)  # connections, pools
            run = _measured("originals behind nginx", be, app, front.url, paths, seconds, headers)
    run["server"] = "nginx (docker/nginx-scale.conf) in front of gunicorn, X-Accel-Redirect"
    return run


def revalidate(
    server: stack.Server, be: stack.Backend, viewer: client.User, seconds: float
) -> dict[str, Any]:
    """16 connections send If-None-Match with the ETag they got: all should be 304."""
    thumbnails = first_page_thumbnails(server, viewer)
    paths = [path for _id, path in thumbnails]
    conns = [client.RawHTTP(viewer) for _ in range(CONNECTIONS)]
    etags: dict[str, str] = {}
    for path in paths:
        status, _size, etag = conns[0].get(path)
        if status == 200 and etag:
            etags[path] = etag
    with phases.meter(server, be) as cpu:
        run = _hammer(conns, paths, seconds, etags)
    run["cpu"] = cpu.result
    for conn in conns:
        conn.close()
    sent = run["requests"]
    run["not_modified"] = int(run["statuses"].get("304", 0))
    run["share_304"] = run["not_modified"] / sent if sent else 0.0
    return run


def _hammer(
    sessions: list[client.RawHTTP], paths: list[str], seconds: float, etags: dict[str, str]
) -> dict[str, Any]:
    """Each session GETs ``paths`` round-robin with their ETags for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in sessions]
    statuses: list[dict[int, int]] = [{} for _ in sessions]

    def body(i: int) -> None:
        conn = sessions[i]
        deadline = time.perf_counter() + seconds
        k = i
        while time.perf_counter() < deadline:
            path = paths[k % len(paths)]
            k += 1
            started = time.perf_counter()
            status, _size, _etag = conn.get(path, etags.get(path))
            latencies[i].append(time.perf_counter() - started)
            statuses[i][status] = statuses[i].get(status, 0) + 1

    wall = phases.run_threads(len(sessions), body)
    merged: dict[int, int] = {}
    for counts in statuses:
        for status, n in counts.items():
            merged[status] = merged.get(status, 0) + n
    every = [x for per in latencies for x in per]
    return {
        "client": "http.client",
        "connections": len(sessions),
        "requests": len(every),
        "wall_s": wall,
        "per_s": len(every) / wall if wall else 0.0,
        "statuses": {str(k): v for k, v in sorted(merged.items())},
        **summary_ms(every),
    }


THUMB_PATH = re.compile(r"/image/(\d+)/thumb$")


def first_page_thumbnails(server: stack.Server, user: client.User) -> list[tuple[int, str]]:
    """(image id, URL path as the page gives it) of every thumbnail on /myfiles."""
    page = user.session.get(server.url + "/myfiles", timeout=client.TIMEOUT)
    page.raise_for_status()
    found = []
    for src in client.parse(page.text).images:
        parts = urlsplit(client.absolute(server.url, src))
        match = THUMB_PATH.search(parts.path)
        if match:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            found.append((int(match.group(1)), path))
    if not found:
        raise client.BenchError("no /image/<id>/thumb <img> on the first /myfiles page")
    return found
