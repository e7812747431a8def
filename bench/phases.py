"""The photos, and the measurements of uploads. Each returns a dict of figures.

page_weight    bytes of the first gallery page (HTML + every <img src>) vs the originals
uploads        POST /myfiles by 1 and 4 clients vs a raw PUT of the same bytes
preview_ready  from an upload until its preview is in the store

(serving.py: image requests by wrk; gallery.py: /myfiles at size; memory.py: memory.)
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, select

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


def variant(photo: Photo, n: int) -> bytes:
    """The JPEG's bytes made unique by ``n`` (a comment segment after the start marker),
    so that every copy is a distinct image to the app: its own SHA-256, its own objects,
    its own thumbnail-cache entry. The pixels stay the same."""
    if photo.data[:2] != b"\xff\xd8":
        raise ValueError(f"{photo.name} is not a JPEG")
    tag = f"bench variant {n} {secrets.token_hex(4)}".encode()
    comment = b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big") + tag
    return photo.data[:2] + comment + photo.data[2:]


def jpegs(photos: list[Photo]) -> list[Photo]:
    """The JPEGs among the photos (the rows that need distinct images use them)."""
    found = [p for p in photos if p.data[:2] == b"\xff\xd8"]
    if not found:
        raise client.BenchError("the photos folder has no JPEG")
    return found


def unique_name(tag: str, photo: Photo) -> str:
    """A filename no other upload of the run has (names are unique in the public area)."""
    return f"{tag}-{secrets.token_hex(3)}-{photo.name}"


def meter(server: stack.Server | None, be: stack.Backend) -> machine.CpuMeter:
    """A CPU meter for a measured block (it first waits for other people's load to go)."""
    shared = machine.DB_SERVERS if be.s3 is not None else ()
    return machine.CpuMeter(server.master_pid if server else None, shared)


def run_threads(count: int, body: Callable[[int], None]) -> float:
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

    wall = run_threads(len(users), body)
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

    wall = run_threads(threads, body)
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


# --------------------------------------------------------------------------- preview ready


def image_rows(be: stack.Backend, owner: str) -> list[dict[str, Any]]:
    """Id, bucket, object and thumbnail key of every ready image of ``owner``, oldest first."""
    from web.models import Image, User

    engine = create_engine(be.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Image.id, Image.bucket, Image.object_key, Image.thumb_key, Image.filename)
                .join(User, User.id == Image.owner_id)
                .where(User.username_key == owner.lower(), Image.state == "ready")
                .order_by(Image.id)
            ).mappings()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


def object_exists(be: stack.Backend) -> Callable[[str, str], bool]:
    """Whether an object is in the backend's store (a stat, or a file that exists)."""
    if be.s3 is not None:
        minio = stack.minio_client(be.s3)

        def stat(bucket: str, key: str) -> bool:
            try:
                minio.stat_object(bucket, key)
            except Exception:  # noqa: BLE001 - S3Error for a missing object
                return False
            return True

        return stat
    root = be.data_dir / "objects"
    return lambda bucket, key: (root / bucket / key).is_file()


def preview_ready(
    server: stack.Server,
    be: stack.Backend,
    owner: client.User,
    photos: list[Photo],
    samples: int,
    bound_s: float,
) -> dict[str, Any]:
    """Upload a photo, then watch the store (every 10 ms, at most ``bound_s``) for its
    ``.previews/<id>.webp`` (or ``.avif``). When a preview is made only on request (none
    appears), the row says so and times the first GET of /image/<id>/preview instead."""
    from web.images.naming import preview_keys_for

    exists = object_exists(be)
    largest = max(jpegs(photos), key=lambda p: len(p.data))
    result: dict[str, Any] = {"bound_s": bound_s, "samples": []}
    background = True
    for n in range(samples):
        name = unique_name(f"pv{n}", largest)
        started = time.perf_counter()
        upload_s = owner.upload(name, variant(largest, 10_000 + n), "private", largest.content_type)
        row = next(r for r in reversed(image_rows(be, owner.username)) if r["filename"] == name)
        keys = preview_keys_for(row["id"])  # whichever format PREVIEW_FORMAT chose
        deadline = time.perf_counter() + (bound_s if background else 0)
        ready_s = None
        while True:
            if any(exists(row["bucket"], key) for key in keys):
                ready_s = time.perf_counter() - started
                break
            if time.perf_counter() > deadline:
                break
            time.sleep(0.01)
        sample: dict[str, Any] = {"upload_ms": upload_s * 1000}
        if ready_s is None:
            background = False
            t0 = time.perf_counter()
            got = owner.session.get(
                f"{server.url}/image/{row['id']}/preview", timeout=client.TIMEOUT
            )
            sample["on_request_ms"] = (time.perf_counter() - t0) * 1000
            sample["on_request_status"] = got.status_code
            sample["stored_after_request"] = any(exists(row["bucket"], key) for key in keys)
        else:
            sample["ready_ms"] = ready_s * 1000
        result["samples"].append(sample)
    result["made_in_background"] = background
    ready = [s["ready_ms"] for s in result["samples"] if "ready_ms" in s]
    on_request = [s["on_request_ms"] for s in result["samples"] if "on_request_ms" in s]
    result["ready_p50_ms"] = summary_ms([x / 1000 for x in ready])["p50_ms"] if ready else None
    result["on_request_p50_ms"] = (
        summary_ms([x / 1000 for x in on_request])["p50_ms"] if on_request else None
    )
    return result


def health(server: stack.Server) -> bool:
    try:
        return requests.get(server.url + "/health", timeout=10).status_code == 200
    except requests.RequestException:
        return False
