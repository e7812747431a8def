"""The five measurements. Each returns a dict of figures with their baselines.

1. page_weight  bytes of the first gallery page (HTML + every <img src>) vs the originals
2. serving      thumbnails/s to 16 clients and If-None-Match revalidations vs raw store reads
3. uploads      POST /myfiles by 1 and 4 clients vs a raw PUT of the same bytes
4. gallery      /myfiles first and deep page at 1k/10k/100k images vs 1k, and vs its queries
5. memory       a gunicorn worker's peak RSS during a 100 MB upload vs a photo's upload
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import create_engine, func, insert, select, update

from web.paging import decode_cursor, encode_cursor
from web.rules import RuleError

from . import client, machine, stack
from .stats import ratio, summary_ms

IMAGE_SUFFIXES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".avif": "image/avif",
    ".heic": "image/heif",
}


@dataclass(frozen=True)
class Photo:
    path: Path
    data: bytes
    content_type: str
    megapixels: float

    @property
    def name(self) -> str:
        return self.path.name


def load_photos(folder: Path) -> list[Photo]:
    """The images of ``folder`` (by suffix), read into memory once."""
    from PIL import Image

    photos = []
    for path in sorted(folder.iterdir()):
        content_type = IMAGE_SUFFIXES.get(path.suffix.lower())
        if content_type is None or not path.is_file():
            continue
        with Image.open(path) as im:
            megapixels = im.size[0] * im.size[1] / 1e6
        photos.append(Photo(path, path.read_bytes(), content_type, megapixels))
    if not photos:
        raise SystemExit(f"no images in {folder}")
    return photos


def unique_name(tag: str, photo: Photo) -> str:
    """A filename no other upload of the run has (names are unique in the public area)."""
    return f"{tag}-{secrets.token_hex(3)}-{photo.name}"


def meter(server: stack.Server | None, be: stack.Backend) -> machine.CpuMeter:
    """A CPU meter for a measured block (it first waits for other people's load to go)."""
    shared = machine.DB_SERVERS if be.s3 is not None else ()
    return machine.CpuMeter(server.master_pid if server else None, shared)


def _run_threads(count: int, body: Callable[[int], None]) -> float:
    """Run body(i) in ``count`` threads started together; return the wall time."""
    barrier = threading.Barrier(count + 1)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        barrier.wait()
        try:
            body(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    return wall


# --------------------------------------------------------------------------- 1. page weight


def page_weight(server: stack.Server, user: client.User, photos: list[Photo]) -> dict[str, Any]:
    """Upload the photos (public), then fetch /myfiles and every <img src> on it."""
    for photo in photos:
        user.upload(unique_name("pw", photo), photo.data, "public", photo.content_type)
    page = user.session.get(server.url + "/myfiles", timeout=client.TIMEOUT)
    page.raise_for_status()
    parsed = client.parse(page.text)
    html_bytes = len(page.content)
    image_bytes = []
    for src in parsed.images:
        response = user.session.get(client.absolute(server.url, src), timeout=client.TIMEOUT)
        response.raise_for_status()
        image_bytes.append(len(response.content))
    asset_bytes = 0
    for src in parsed.stylesheets + parsed.scripts:
        response = user.session.get(client.absolute(server.url, src), timeout=client.TIMEOUT)
        if response.ok:
            asset_bytes += len(response.content)
    originals = sum(len(p.data) for p in photos)
    total = html_bytes + sum(image_bytes)
    return {
        "photos": len(photos),
        "img_tags": len(parsed.images),
        "html_bytes": html_bytes,
        "img_bytes": sum(image_bytes),
        "img_bytes_each": image_bytes,
        "total_bytes": total,
        "originals_bytes": originals,
        "ratio_total_to_originals": ratio(total, originals),
        "css_js_bytes_not_counted": asset_bytes,
    }


# --------------------------------------------------------------------------- 2. serving


def _image_rows(be: stack.Backend, ids: list[int]) -> list[tuple[int, str, str]]:
    from web.models import Image

    engine = create_engine(be.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Image.id, Image.bucket, Image.thumb_key).where(Image.id.in_(ids))
            ).all()
    finally:
        engine.dispose()
    return [(r[0], r[1], r[2]) for r in rows if r[2]]


def _hammer(
    sessions: list[client.RawHTTP],
    paths: list[str],
    seconds: float,
    etags: dict[str, str] | None = None,
    record_etags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Each session GETs ``paths`` round-robin for ``seconds``; gather the answers."""
    latencies: list[list[float]] = [[] for _ in sessions]
    statuses: list[dict[int, int]] = [{} for _ in sessions]
    nbytes = [0] * len(sessions)

    def body(i: int) -> None:
        conn = sessions[i]
        deadline = time.perf_counter() + seconds
        k = i
        while time.perf_counter() < deadline:
            path = paths[k % len(paths)]
            k += 1
            started = time.perf_counter()
            status, size, etag = conn.get(path, etags.get(path) if etags else None)
            latencies[i].append(time.perf_counter() - started)
            statuses[i][status] = statuses[i].get(status, 0) + 1
            nbytes[i] += size
            if record_etags is not None and etag and status == 200:
                record_etags[path] = etag

    wall = _run_threads(len(sessions), body)
    merged: dict[int, int] = {}
    for counts in statuses:
        for status, n in counts.items():
            merged[status] = merged.get(status, 0) + n
    every = [x for per in latencies for x in per]
    return {
        "clients": len(sessions),
        "requests": len(every),
        "wall_s": wall,
        "per_s": len(every) / wall if wall else 0.0,
        "statuses": {str(k): v for k, v in sorted(merged.items())},
        "bytes": sum(nbytes),
        **summary_ms(every),
    }


def _all_ok(run: dict[str, Any], status: str, what: str) -> None:
    """Refuse a throughput made of error pages: every answer must have ``status``."""
    others = {k: v for k, v in run["statuses"].items() if k != status}
    if others:
        raise client.BenchError(f"{what}: answers other than {status}: {others}")


def _raw_reads(
    be: stack.Backend, rows: list[tuple[int, str, str]], threads: int, seconds: float
) -> dict[str, Any]:
    """Baseline: the same thumbnail objects read straight from the store, same threads."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    if be.s3 is not None:
        minio = stack.minio_client(be.s3, pool=threads * 2)

        def read(bucket: str, key: str) -> int:
            response = minio.get_object(bucket, key)
            try:
                return len(response.read())
            finally:
                response.close()
                response.release_conn()
    else:
        root = be.data_dir / "objects"

        def read(bucket: str, key: str) -> int:
            with open(root / bucket / key, "rb") as handle:
                return len(handle.read())

    def body(i: int) -> None:
        deadline = time.perf_counter() + seconds
        k = i
        while time.perf_counter() < deadline:
            _id, bucket, key = rows[k % len(rows)]
            k += 1
            started = time.perf_counter()
            read(bucket, key)
            latencies[i].append(time.perf_counter() - started)

    wall = _run_threads(threads, body)
    every = [x for per in latencies for x in per]
    return {"requests": len(every), "wall_s": wall, "per_s": len(every) / wall, **summary_ms(every)}


def serving(
    server: stack.Server,
    be: stack.Backend,
    owner: client.User,
    thumbnails: list[tuple[int, str]],
    clients: int,
    seconds: float,
    short_seconds: float,
    profile: Path | None,
) -> dict[str, Any]:
    """Thumbnails to ``clients`` logged-in browsers, then revalidations, then baselines."""
    users = [client.login(server.url, owner.username) for _ in range(clients)]
    conns = [client.RawHTTP(u) for u in users]
    image_ids = [image_id for image_id, _path in thumbnails]
    paths = [path for _id, path in thumbnails]
    result: dict[str, Any] = {"images": len(paths)}
    etags: dict[str, str] = {}
    _hammer(conns, paths, 1.0)  # warm-up: connections open, workers warm
    with (
        meter(server, be) as cpu,
        stack.profiler(server.worker_pids(), profile),
    ):
        result["thumbs"] = _hammer(conns, paths, seconds, record_etags=etags)
    result["thumbs"]["cpu"] = cpu.result
    _all_ok(result["thumbs"], "200", "thumbnail GETs")
    if len(etags) < len(paths):
        for path in paths:  # every path is revalidated: take missing ETags one by one
            if path not in etags:
                status, _size, etag = conns[0].get(path)
                if status == 200 and etag:
                    etags[path] = etag
    with meter(server, be) as cpu:
        result["revalidate"] = _hammer(conns, paths, short_seconds, etags=etags)
    result["revalidate"]["cpu"] = cpu.result
    sent = result["revalidate"]["requests"]
    not_modified = int(result["revalidate"]["statuses"].get("304", 0))
    result["revalidate"]["not_modified"] = not_modified
    result["revalidate"]["share_304"] = not_modified / sent if sent else 0.0
    with meter(server, be) as cpu:
        result["static"] = _hammer(conns, ["/static/css/app.css"], short_seconds)
    result["static"]["cpu"] = cpu.result
    _all_ok(result["static"], "200", "static file GETs")
    for conn in conns:
        conn.close()
    rows = _image_rows(be, image_ids)
    with meter(None, be) as cpu:
        result["raw_store"] = _raw_reads(be, rows, clients, short_seconds)
    result["raw_store"]["cpu"] = cpu.result
    for user in users:
        user.session.close()
    return result


# --------------------------------------------------------------------------- 3. uploads


def _raw_put(be: stack.Backend) -> Callable[[str, Photo], None]:
    """Baseline: the same bytes into the same store (fput_object, or write + fsync)."""
    if be.s3 is not None:
        minio = stack.minio_client(be.s3)
        bucket = stack.raw_bucket(be)
        if not minio.bucket_exists(bucket):
            minio.make_bucket(bucket)

        def put(key: str, photo: Photo) -> None:
            minio.fput_object(bucket, key, str(photo.path), content_type=photo.content_type)

        return put

    def write(key: str, photo: Photo) -> None:
        with open(be.raw_dir / key, "wb") as out:
            out.write(photo.data)
            out.flush()
            os.fsync(out.fileno())

    return write


def _schedule(photos: list[Photo], rounds: int) -> list[tuple[int, Photo]]:
    return [(r, p) for r in range(rounds) for p in photos]


def _upload_run(
    users: list[client.User], photos: list[Photo], rounds: int, tag: str
) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in users]
    sizes: list[int] = [0] * len(users)

    def body(i: int) -> None:
        for n, (_r, photo) in enumerate(_schedule(photos, rounds)):
            visibility = "public" if (n + i) % 2 == 0 else "private"
            name = unique_name(f"{tag}{i}", photo)
            latencies[i].append(users[i].upload(name, photo.data, visibility, photo.content_type))
            sizes[i] += len(photo.data)

    wall = _run_threads(len(users), body)
    return _throughput(latencies, sizes, wall)


def _raw_run(
    put: Callable[[str, Photo], None], threads: int, photos: list[Photo], rounds: int, tag: str
) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in range(threads)]
    sizes: list[int] = [0] * threads

    def body(i: int) -> None:
        for _r, photo in _schedule(photos, rounds):
            key = unique_name(f"{tag}{i}", photo)
            started = time.perf_counter()
            put(key, photo)
            latencies[i].append(time.perf_counter() - started)
            sizes[i] += len(photo.data)

    wall = _run_threads(threads, body)
    return _throughput(latencies, sizes, wall)


def _throughput(latencies: list[list[float]], sizes: list[int], wall: float) -> dict[str, Any]:
    every = [x for per in latencies for x in per]
    return {
        "clients": len(latencies),
        "uploads": len(every),
        "wall_s": wall,
        "images_per_s": len(every) / wall,
        "mb_per_s": sum(sizes) / 1e6 / wall,
        **summary_ms(every),
    }


def uploads(
    server: stack.Server,
    be: stack.Backend,
    photos: list[Photo],
    rounds_single: int,
    rounds_multi: int,
    profile: Path | None,
) -> dict[str, Any]:
    users = [client.signup(server.url) for _ in range(5)]
    single, multi = users[:1], users[1:]
    put = _raw_put(be)
    result: dict[str, Any] = {
        "photos": len(photos),
        "photo_megapixels": [round(p.megapixels, 2) for p in photos],
        "photo_bytes": [len(p.data) for p in photos],
    }
    single[0].upload(
        unique_name("warm", photos[0]), photos[0].data, "private", photos[0].content_type
    )
    _raw_run(put, 1, photos[:1], 1, "warm")
    with meter(server, be) as cpu:
        result["app_1"] = _upload_run(single, photos, rounds_single, "one")
    result["app_1"]["cpu"] = cpu.result
    with (
        meter(server, be) as cpu,
        stack.profiler(server.worker_pids(), profile),
    ):
        result["app_4"] = _upload_run(multi, photos, rounds_multi, "four")
    result["app_4"]["cpu"] = cpu.result
    with meter(None, be) as cpu:
        result["raw_1"] = _raw_run(put, 1, photos, rounds_single, "rawone")
    result["raw_1"]["cpu"] = cpu.result
    with meter(None, be) as cpu:
        result["raw_4"] = _raw_run(put, 4, photos, rounds_multi, "rawfour")
    result["raw_4"]["cpu"] = cpu.result
    result["scaling_app"] = ratio(result["app_4"]["images_per_s"], result["app_1"]["images_per_s"])
    result["scaling_raw"] = ratio(result["raw_4"]["images_per_s"], result["raw_1"]["images_per_s"])
    for user in users:
        user.session.close()
    return result


# --------------------------------------------------------------------------- 4. gallery


class Gallery:
    """Fills the images table in bulk and times the /myfiles pages at each size."""

    def __init__(self, server: stack.Server, be: stack.Backend, owner: client.User) -> None:
        from web import create_app
        from web.models import Image, User

        self.server, self.be, self.owner = server, be, owner
        self.Image = Image
        self.table = Image.__table__
        self.users = User.__table__
        self.engine = create_engine(be.database_url)
        with self.engine.connect() as conn:
            self.owner_id = conn.execute(
                select(User.id).where(User.username_key == owner.username.lower())
            ).scalar_one()
            template = (
                conn.execute(
                    select(self.table)
                    .where(
                        self.table.c.owner_id == self.owner_id, self.table.c.visibility == "public"
                    )
                    .where(self.table.c.state == "ready", self.table.c.thumb_key.is_not(None))
                    .order_by(self.table.c.id)
                    .limit(1)
                )
                .mappings()
                .one()
            )
        self.template = dict(template)
        self.serial = 0
        self.app = create_app(be.app_overrides())  # the service layer, in this process

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.table)).scalar_one())

    def fill_to(self, total: int, batch: int = 5000) -> dict[str, float]:
        """Insert rows (ready, public, the owner's, one real object) until ``total``."""
        missing = total - self.count()
        started = time.perf_counter()
        now = dt.datetime.now(dt.UTC)
        base = {k: v for k, v in self.template.items() if k != "id"}
        base.update(
            state="ready",
            visibility="public",
            scope=0,
            owner_id=self.owner_id,
            created_at=now,
            updated_at=now,
        )
        done = 0
        while done < missing:
            rows = []
            for _ in range(min(batch, missing - done)):
                self.serial += 1
                rows.append({**base, "filename": f"bulk-{self.serial:07d}.jpg"})
            with self.engine.begin() as conn:
                conn.execute(insert(self.table), rows)
                # the owner's kept counters, as an upload would change them
                conn.execute(
                    update(self.users)
                    .where(self.users.c.id == self.owner_id)
                    .values(
                        image_count=self.users.c.image_count + len(rows),
                        bytes_used=self.users.c.bytes_used + len(rows) * base["size"],
                    )
                )
            done += len(rows)
        return {"inserted": max(0, missing), "seconds": time.perf_counter() - started}

    def deep_cursor(self) -> tuple[str, int]:
        """A cursor to the middle of the public list (date order), and its position."""
        with self.engine.connect() as conn:
            visible = int(
                conn.execute(
                    select(func.count())
                    .select_from(self.table)
                    .where(self.table.c.scope == 0, self.table.c.state.in_(("ready", "moving")))
                ).scalar_one()
            )
            position = visible // 2
            last_id = conn.execute(
                select(self.table.c.id)
                .where(self.table.c.scope == 0, self.table.c.state.in_(("ready", "moving")))
                .order_by(self.table.c.id.desc())
                .offset(position)
                .limit(1)
            ).scalar_one()
        return encode_cursor(last_id, last_id), position

    def check_cursor_format(self) -> dict[str, Any]:
        """Follow the first page's 'Next page' link: its cursor must look like ours."""
        page = self.owner.session.get(self.server.url + "/myfiles", timeout=client.TIMEOUT)
        page.raise_for_status()
        links = [link for link in client.parse(page.text).next_links if "public_after" in link]
        if not links:
            return {"ok": False, "why": "no public 'Next page' link on the first page"}
        cursor = client.cursor_of(links[0])
        try:
            value = decode_cursor(cursor or "")
        except RuleError:
            return {"ok": False, "why": f"cursor {cursor!r} is not a valid page link"}
        ok = value is not None and value[0] == value[1]
        followed = self.owner.session.get(
            client.absolute(self.server.url, links[0]), timeout=client.TIMEOUT
        )
        return {
            "ok": ok and followed.status_code == 200,
            "cursor": value,
            "followed_status": followed.status_code,
        }

    def time_page(self, query: str, n: int) -> dict[str, Any]:
        session = self.owner.session
        url = self.server.url + "/myfiles" + query
        for _ in range(3):  # warm-up
            session.get(url, timeout=client.TIMEOUT).raise_for_status()
        durations, sizes, imgs = [], 0, 0
        for _ in range(n):
            started = time.perf_counter()
            response = session.get(url, timeout=client.TIMEOUT)
            durations.append(time.perf_counter() - started)
            response.raise_for_status()
            sizes = len(response.content)
        imgs = len(client.parse(response.text).images)
        return {**summary_ms(durations), "html_bytes": sizes, "img_tags": imgs}

    def time_floor(self, n: int) -> dict[str, Any]:
        """The home page of a signed-in user: a request that touches no image row."""
        session = self.owner.session
        durations = []
        for _ in range(n):
            started = time.perf_counter()
            session.get(self.server.url + "/", timeout=client.TIMEOUT).raise_for_status()
            durations.append(time.perf_counter() - started)
        return summary_ms(durations)

    def time_service(self, cursor: str | None, n: int) -> dict[str, Any]:
        """The three service calls of /myfiles, in this process, each timed."""
        from web.images import listing, usage

        owner = SimpleNamespace(id=self.owner_id)
        size = self.app.config["PAGE_SIZE"]
        parts: dict[str, list[float]] = {"list_public": [], "list_private": [], "usage": []}
        totals = []
        for _ in range(n + 2):
            with self.app.app_context():
                t0 = time.perf_counter()
                listing.list_images(0, "date", "", cursor, size)
                t1 = time.perf_counter()
                listing.list_images(listing.private_scope(owner), "date", "", None, size)
                t2 = time.perf_counter()
                usage.usage(owner)
                t3 = time.perf_counter()
            parts["list_public"].append(t1 - t0)
            parts["list_private"].append(t2 - t1)
            parts["usage"].append(t3 - t2)
            totals.append(t3 - t0)
        skip = 2  # warm-up
        return {
            **summary_ms(totals[skip:]),
            **{f"{k}_p50_ms": summary_ms(v[skip:])["p50_ms"] for k, v in parts.items()},
        }

    def close(self) -> None:
        self.engine.dispose()
        with self.app.app_context():
            from web.extensions import db

            db.engine.dispose()


def gallery(
    server: stack.Server,
    be: stack.Backend,
    owner: client.User,
    sizes: list[int],
    n: int,
    profile: Path | None,
) -> dict[str, Any]:
    g = Gallery(server, be, owner)
    result: dict[str, Any] = {"sizes": {}, "requests_per_figure": n}
    try:
        for total in sizes:
            fill = g.fill_to(total)
            if total == sizes[0]:
                result["cursor_check"] = g.check_cursor_format()
            cursor, position = g.deep_cursor()
            entry: dict[str, Any] = {"images": g.count(), "fill": fill, "deep_position": position}
            entry["floor"] = g.time_floor(n)
            spy = profile.with_name(f"{profile.stem}-{total}") if profile else None
            with (
                meter(server, be) as cpu,
                stack.profiler(server.worker_pids(), spy),
            ):
                entry["first"] = g.time_page("", n)
            entry["first"]["cpu"] = cpu.result
            entry["deep"] = g.time_page(f"?public_after={cursor}", n)
            entry["service_first"] = g.time_service(None, max(10, n // 2))
            entry["service_deep"] = g.time_service(cursor, max(10, n // 2))
            result["sizes"][str(total)] = entry
            print(
                f"    {be.name}: {entry['images']:>7,} images  first p50 "
                f"{entry['first']['p50_ms']:.1f} ms  deep p50 {entry['deep']['p50_ms']:.1f} ms",
                flush=True,
            )
    finally:
        g.close()
    first, last = str(sizes[0]), str(sizes[-1])
    result["ratio_first_p50"] = ratio(
        result["sizes"][last]["first"]["p50_ms"], result["sizes"][first]["first"]["p50_ms"]
    )
    return result


# --------------------------------------------------------------------------- 5. memory


class RssSampler:
    """Samples VmRSS/VmHWM of one process every ``interval`` seconds in a thread."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.hwm_reset = False

    def __enter__(self) -> RssSampler:
        self.idle_kib = machine.memory_kib(self.pid)[0]
        self.hwm_reset = machine.reset_peak(self.pid)
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, _ = machine.memory_kib(self.pid)
            self.samples.append((time.perf_counter() - self.started, rss))
            self._stop.wait(self.interval)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.hwm_after_kib = machine.memory_kib(self.pid)[1]

    def result(self) -> dict[str, Any]:
        sampled = max((rss for _t, rss in self.samples), default=0)
        peak = max(sampled, self.hwm_after_kib) if self.hwm_reset else sampled
        step = max(1, len(self.samples) // 200)
        return {
            "idle_rss_mb": self.idle_kib / 1024,
            "peak_sampled_rss_mb": sampled / 1024,
            "peak_hwm_mb": self.hwm_after_kib / 1024 if self.hwm_reset else None,
            "rise_mb": (peak - self.idle_kib) / 1024,
            "samples": len(self.samples),
            "series_mb": [(round(t, 3), round(r / 1024, 1)) for t, r in self.samples[::step]],
        }


def _multipart_file(
    path: Path,
    fields: dict[str, str],
    filename: str,
    content_type: str,
    write_payload: Callable[[io.BufferedWriter], None],
) -> str:
    """Write a multipart/form-data body to ``path``; return its boundary."""
    boundary = "----bench" + secrets.token_hex(12)
    with path.open("wb") as out:
        for name, value in fields.items():
            out.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        write_payload(out)
        out.write(f"\r\n--{boundary}--\r\n".encode())
    return boundary


def _padded_jpeg(photo: bytes, total: int) -> Callable[[io.BufferedWriter], None]:
    """A valid JPEG of ``total`` bytes: a real photo followed by zero padding after EOI."""

    def write(out: io.BufferedWriter) -> None:
        out.write(photo)
        left = total - len(photo)
        chunk = b"\0" * (1 << 20)
        while left > 0:
            out.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)

    return write


def _random_bytes(total: int) -> Callable[[io.BufferedWriter], None]:
    def write(out: io.BufferedWriter) -> None:
        left = total
        while left > 0:
            out.write(os.urandom(min(left, 1 << 20)))
            left -= 1 << 20

    return write


def _posted(user: client.User, body: Path, boundary: str, pid: int) -> dict[str, Any]:
    with RssSampler(pid) as sampler, body.open("rb") as handle:
        started = time.perf_counter()
        response = user.session.post(
            user.base + "/myfiles",
            data=handle,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            allow_redirects=False,
            timeout=client.TIMEOUT,
        )
        elapsed = time.perf_counter() - started
    user.restore_cookies()
    size = body.stat().st_size
    return {
        "status": response.status_code,
        "body_mb": size / 1e6,
        "seconds": elapsed,
        "mb_per_s": size / 1e6 / elapsed,
        **sampler.result(),
    }


def memory(be: stack.Backend, owner: client.User, photos: list[Photo], big_mb: int) -> dict:
    """One worker, MAX_UPLOAD_MB=200: its peak RSS while a photo, then 100 MB, are posted."""
    largest = max(photos, key=lambda p: len(p.data))
    jpegs = [p for p in photos if p.content_type == "image/jpeg"]
    jpeg = max(jpegs, key=lambda p: len(p.data)) if jpegs else None
    with stack.Server(be, workers=1, label="mem", MAX_UPLOAD_MB="200") as server:
        user = client.login(server.url, owner.username)
        (worker,) = server.worker_pids()
        result: dict[str, Any] = {"worker_pid": worker, "big_mb": big_mb}
        user.upload(unique_name("memwarm", largest), largest.data, "private", largest.content_type)
        time.sleep(0.5)
        body = be.workdir / "multipart.bin"

        def post(label: str, filename: str, content_type: str, payload: Callable) -> None:
            boundary = _multipart_file(
                body,
                {"csrf_token": user.csrf_token, "visibility": "private"},
                filename,
                content_type,
                payload,
            )
            time.sleep(0.3)
            result[label] = _posted(user, body, boundary, worker)
            body.unlink()

        post(
            "photo",
            unique_name("memphoto", largest),
            largest.content_type,
            lambda out: out.write(largest.data),
        )
        big = big_mb * 1024 * 1024
        if jpeg is not None:
            post(
                "big_valid",
                f"memvalid-{secrets.token_hex(3)}.jpg",
                "image/jpeg",
                _padded_jpeg(jpeg.data, big),
            )
        post(
            "big_random", f"memrandom-{secrets.token_hex(3)}.jpg", "image/jpeg", _random_bytes(big)
        )
        user.session.close()
    primary = result.get("big_valid") or result["big_random"]
    result["primary"] = "big_valid" if "big_valid" in result else "big_random"
    result["ratio_rise_to_photo"] = ratio(primary["rise_mb"], result["photo"]["rise_mb"])
    return result


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


def health(server: stack.Server) -> bool:
    try:
        return requests.get(server.url + "/health", timeout=10).status_code == 200
    except requests.RequestException:
        return False
