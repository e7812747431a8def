"""Object storage behind one small interface: S3/MinIO (``S3Store``) or directories (``FileStore``).

Both keep the bucket layout of the product: ``<bucket>/<key>``. Removing an object that
is already gone succeeds. Keys are checked so that they can never escape their bucket.
Every failure of the backend surfaces as ``StorageError``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.error import MinioException, S3Error

from .config import BUCKET_NAME

CHUNK = 256 * 1024


class StorageError(RuntimeError):
    """The object store failed or cannot be reached."""


class ObjectMissing(StorageError):
    """The object asked for does not exist."""


class OutcomeUnknown(StorageError):
    """A write was sent but its answer never came: the object may or may not be stored
    (now or later). Whoever named it must keep the name until the store can be asked."""


# What a request that reached the server but got no (complete) answer raises.
_NO_ANSWER = (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: dt.datetime


def check_key(key: str) -> str:
    """Refuse keys that could leave their bucket or that no backend stores faithfully."""
    parts = key.split("/")
    if (
        not key
        or len(key.encode()) > 1024
        or key.startswith("/")
        or "\\" in key
        or any(ch in key for ch in "\x00\r\n")
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise ValueError(f"unsafe object key {key!r}")
    return key


def check_bucket(bucket: str) -> str:
    if not BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
        raise ValueError(f"invalid bucket name {bucket!r}")
    return bucket


class ObjectStore(Protocol):
    def ping(self) -> None: ...
    def ensure_bucket(self, bucket: str) -> None: ...
    def remove_bucket(self, bucket: str) -> None: ...
    def bucket_exists(self, bucket: str) -> bool: ...
    def list_buckets(self) -> list[str]: ...
    def put_file(self, bucket: str, key: str, path: str, content_type: str) -> None: ...
    def open(self, bucket: str, key: str) -> Iterator[bytes]: ...
    def stat(self, bucket: str, key: str) -> ObjectInfo: ...
    def exists(self, bucket: str, key: str) -> bool: ...
    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None: ...
    def remove(self, bucket: str, key: str) -> None: ...
    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]: ...


class FileStore:
    """Buckets as directories under ``root``; writes go to a temporary file, then a rename."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def _bucket_dir(self, bucket: str) -> Path:
        return self.root / check_bucket(bucket)

    def _path(self, bucket: str, key: str) -> Path:
        base = self._bucket_dir(bucket)
        path = (base / check_key(key)).resolve()
        if base not in path.parents:
            raise ValueError(f"unsafe object key {key!r}")
        return path

    def _guard(self, action: str) -> _OSErrors:
        return _OSErrors(action)

    def ping(self) -> None:
        with self._guard("reach the file store"):
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):
                raise StorageError(f"file store {self.root} is not writable")

    def ensure_bucket(self, bucket: str) -> None:
        with self._guard("create a bucket"):
            self._bucket_dir(bucket).mkdir(parents=True, exist_ok=True)

    def remove_bucket(self, bucket: str) -> None:
        if self.bucket_exists(bucket):
            with self._guard("remove a bucket"):
                shutil.rmtree(self._bucket_dir(bucket))

    def bucket_exists(self, bucket: str) -> bool:
        return self._bucket_dir(bucket).is_dir()

    def list_buckets(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def put_file(self, bucket: str, key: str, path: str, content_type: str) -> None:
        target = self._path(bucket, key)
        if not self.bucket_exists(bucket):
            raise StorageError(f"bucket {bucket} does not exist")
        with self._guard("store an object"):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
                    shutil.copyfileobj(src, out, CHUNK)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def open(self, bucket: str, key: str) -> Iterator[bytes]:
        path = self._path(bucket, key)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise ObjectMissing(f"{bucket}/{key}") from None
        except OSError as exc:
            raise StorageError(f"could not read {bucket}/{key}: {exc}") from exc
        return _iter_file(handle)

    def stat(self, bucket: str, key: str) -> ObjectInfo:
        try:
            st = self._path(bucket, key).stat()
        except FileNotFoundError:
            raise ObjectMissing(f"{bucket}/{key}") from None
        return ObjectInfo(key, st.st_size, dt.datetime.fromtimestamp(st.st_mtime, dt.UTC))

    def exists(self, bucket: str, key: str) -> bool:
        return self._path(bucket, key).is_file()

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None:
        source = self._path(src_bucket, src_key)
        if not source.is_file():
            raise ObjectMissing(f"{src_bucket}/{src_key}")
        self.put_file(dst_bucket, dst_key, str(source), "")

    def remove(self, bucket: str, key: str) -> None:
        path = self._path(bucket, key)
        with self._guard("remove an object"):
            path.unlink(missing_ok=True)
            # drop directories left empty by keys with a prefix (thumbnails/…)
            parent = path.parent
            base = self._bucket_dir(bucket)
            while parent != base and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self._bucket_dir(bucket)
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".upload-"):
                key = path.relative_to(base).as_posix()
                if key.startswith(prefix):
                    st = path.stat()
                    yield ObjectInfo(
                        key, st.st_size, dt.datetime.fromtimestamp(st.st_mtime, dt.UTC)
                    )


class _OSErrors:
    """Turn OSError into StorageError, naming what was being done."""

    def __init__(self, action: str) -> None:
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> bool:
        if exc is not None and isinstance(exc, OSError):
            raise StorageError(f"could not {self.action}: {exc}") from exc
        return False


def _iter_file(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


class S3Store:
    """S3-compatible storage (MinIO, SeaweedFS, AWS S3) through the ``minio`` client.

    Buckets stay private: this class never sets a bucket policy, and the application
    serves every byte itself after checking who asks.
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        secure: bool = False,
        region: str | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
    ) -> None:
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=timeout),
            maxsize=16,
            retries=retry_policy(),
        )
        self.client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http,
        )

    @contextlib.contextmanager
    def _errors(
        self, action: str, tolerate: tuple[str, ...] = (), write: bool = False
    ) -> Iterator[None]:
        """Turn the client's errors into ours; S3 error codes in ``tolerate`` are success.
        A ``write`` sent without an answer is OutcomeUnknown."""
        try:
            yield
        except S3Error as exc:
            if exc.code in tolerate:
                return
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectMissing(f"{action}: {exc.code}") from exc
            raise StorageError(f"could not {action}: {exc.code}") from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            if write and _no_answer(exc):
                raise OutcomeUnknown(f"no answer to {action}: {exc}") from exc
            raise StorageError(f"could not {action}: {exc}") from exc

    def _call(self, action: str, func, *args, **kwargs):
        with self._errors(action):
            return func(*args, **kwargs)

    def _write(self, action: str, func, *args, **kwargs):
        with self._errors(action, write=True):
            return func(*args, **kwargs)

    def ping(self) -> None:
        self._call("reach the object store", self.client.list_buckets)

    def ensure_bucket(self, bucket: str) -> None:
        check_bucket(bucket)
        if self._call("check a bucket", self.client.bucket_exists, bucket):
            return
        # Another process may create it between the check and here: that is success.
        already = ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
        with self._errors(f"create bucket {bucket}", already):
            self.client.make_bucket(bucket)

    def remove_bucket(self, bucket: str) -> None:
        check_bucket(bucket)
        if not self.bucket_exists(bucket):
            return
        for info in self.list(bucket):
            self.remove(bucket, info.key)
        with self._errors(f"remove bucket {bucket}", ("NoSuchBucket",)):
            self.client.remove_bucket(bucket)

    def bucket_exists(self, bucket: str) -> bool:
        return bool(self._call("check a bucket", self.client.bucket_exists, check_bucket(bucket)))

    def list_buckets(self) -> list[str]:
        return sorted(b.name for b in self._call("list buckets", self.client.list_buckets))

    def put_file(self, bucket: str, key: str, path: str, content_type: str) -> None:
        self._write(
            "store an object",
            self.client.fput_object,
            check_bucket(bucket),
            check_key(key),
            path,
            content_type=content_type or "application/octet-stream",
        )

    def open(self, bucket: str, key: str) -> Iterator[bytes]:
        response = self._call(
            "read an object", self.client.get_object, check_bucket(bucket), check_key(key)
        )
        return _iter_response(response)

    def signed_path(self, bucket: str, key: str, seconds: int) -> str:
        """The path and query of a GET of the object signed for ``seconds`` (SigV4,
        path-style, for the Host ``S3_ENDPOINT``): no request is sent, so it says
        nothing about whether the object exists."""
        url = self._call(
            "sign a read",
            self.client.presigned_get_object,
            check_bucket(bucket),
            check_key(key),
            expires=dt.timedelta(seconds=seconds),
        )
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"

    def stat(self, bucket: str, key: str) -> ObjectInfo:
        st = self._call("stat an object", self.client.stat_object, bucket, check_key(key))
        return ObjectInfo(key, st.size or 0, st.last_modified or dt.datetime.now(dt.UTC))

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self.stat(bucket, key)
        except ObjectMissing:
            return False
        return True

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None:
        self._write(
            "copy an object",
            self.client.copy_object,
            check_bucket(dst_bucket),
            check_key(dst_key),
            CopySource(check_bucket(src_bucket), check_key(src_key)),
        )

    def remove(self, bucket: str, key: str) -> None:
        # S3 answers 204 for a key that is not there: "already gone" is success.
        self._call("remove an object", self.client.remove_object, bucket, check_key(key))

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        objects = self._call(
            "list objects",
            lambda: list(self.client.list_objects(bucket, prefix=prefix or None, recursive=True)),
        )
        for obj in objects:
            if obj.object_name and not obj.is_dir:
                yield ObjectInfo(
                    obj.object_name, obj.size or 0, obj.last_modified or dt.datetime.now(dt.UTC)
                )


def retry_policy() -> urllib3.Retry:
    """Retry what is safe to repeat, and nothing that could store an object twice.

    A refused or timed-out connection never reached the server: any request may be
    retried (twice). Once a request was sent, only reads and removes (GET, HEAD, DELETE)
    are repeated, and only on a 502/503/504 answer; a read that timed out is not repeated,
    so a hung server fails the call after one read timeout. A PUT or copy whose answer
    never came is reported as a failure with its outcome unknown: the caller keeps the
    name claimed (see ``images.upload``) until maintenance learns what the store holds.
    """
    return urllib3.Retry(
        total=2,
        connect=2,
        read=0,
        status=2,
        other=0,
        allowed_methods=frozenset({"GET", "HEAD", "DELETE"}),
        status_forcelist=(502, 503, 504),
        backoff_factor=0.2,
        respect_retry_after_header=False,
    )


def _no_answer(exc: BaseException) -> bool:
    """Whether the request was sent and its answer lost (a timeout or a cut connection)."""
    if isinstance(exc, urllib3.exceptions.MaxRetryError):
        return isinstance(exc.reason, _NO_ANSWER)
    return isinstance(exc, _NO_ANSWER)


def _iter_response(response) -> Iterator[bytes]:
    try:
        yield from response.stream(CHUNK)
    finally:
        response.close()
        response.release_conn()


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def create_store(config: dict) -> ObjectStore:
    """The store the settings ask for: S3 when S3_ENDPOINT is set, else directories."""
    if config["STORAGE"] == "s3":
        return S3Store(
            config["S3_ENDPOINT"],
            config["S3_ACCESS_KEY"],
            config["S3_SECRET_KEY"],
            secure=config["S3_SECURE"],
            region=config.get("S3_REGION"),
            timeout=config["S3_TIMEOUT"],
            connect_timeout=config["S3_CONNECT_TIMEOUT"],
        )
    return FileStore(Path(config["DATA_DIR"]) / "objects")
