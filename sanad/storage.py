"""Object storage behind one interface: a filesystem directory or a MinIO bucket.

Every failure to reach the store surfaces as ``StorageUnavailable`` (HTTP 503), so
callers never mistake an outage for a missing object.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from sanad.errors import ServiceUnavailable
from sanad.object_puts import KeptAlivePuts
from sanad.presign import PutSigner, QuerySigner
from sanad.settings import Settings, StorageBackend

log = logging.getLogger(__name__)

#: Where issued documents live (``issuer.service.storage_key``): the objects a bucket with
#: object locking retains in compliance mode (``SANAD_MINIO_RETENTION_DAYS``).
RETAINED_PREFIX = "citizens/"


class StorageUnavailable(ServiceUnavailable):
    code = "storage_unavailable"

    def __init__(self, detail: str = "") -> None:
        super().__init__("object storage is unavailable; retry shortly" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    modified: datetime


class ObjectMissing(Exception):
    """The key names no object (a consistency problem, not an outage)."""


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str, *, sha256: str | None = None) -> None:
        """Store ``data`` under ``key``. ``sha256``: the data's digest (hex), when the
        caller has it already; a store that signs the payload's digest uses it rather
        than hashing the bytes again."""
        ...

    def get(self, key: str) -> bytes: ...
    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """``length`` bytes of the object from ``offset``: one file of a packed object
        (:mod:`intake.packs`). Fewer when the object ends sooner."""
        ...

    def delete(self, key: str) -> None: ...
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...
    def ping(self) -> None: ...
    def download_url(self, key: str, filename: str, expires: timedelta) -> str | None:
        """A short-lived URL a browser can fetch the object from directly, or ``None``
        when the store cannot give one (the caller streams the bytes instead)."""
        ...


def _check_key(key: str) -> None:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid object key {key!r}")


class FilesystemStore:
    """Objects as files under ``root``; writes are atomic (temp file, fsync, rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        _check_key(key)
        return self.root / key

    def put(self, key: str, data: bytes, content_type: str, *, sha256: str | None = None) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise StorageUnavailable(e.strerror or str(e)) from e

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as e:
            raise ObjectMissing(key) from e
        except OSError as e:
            raise StorageUnavailable(e.strerror or str(e)) from e

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        try:
            with self._path(key).open("rb") as f:
                f.seek(offset)
                return f.read(length)
        except FileNotFoundError as e:
            raise ObjectMissing(key) from e
        except OSError as e:
            raise StorageUnavailable(e.strerror or str(e)) from e

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as e:
            raise StorageUnavailable(e.strerror or str(e)) from e

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        if not self.root.exists():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield ObjectInfo(key, datetime.fromtimestamp(path.stat().st_mtime, UTC))

    def download_url(self, key: str, filename: str, expires: timedelta) -> str | None:
        return None

    def ping(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):
                raise StorageUnavailable(f"{self.root} is not writable")
        except OSError as e:
            raise StorageUnavailable(e.strerror or str(e)) from e


REGION = "us-east-1"  # MinIO's default
_OUTAGE_ERRORS = (urllib3.exceptions.HTTPError, OSError)


class MinioStore:
    """Objects in one MinIO (S3) bucket. Requests fail fast: a short timeout and
    no retry loop inside a request, so an outage becomes a prompt 503."""

    def __init__(
        self,
        client: Minio,
        bucket: str,
        links: QuerySigner,
        *,
        retention_days: int = 0,
        puts: tuple[KeptAlivePuts, PutSigner] | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.links = links
        """Signs download URLs for the host browsers reach MinIO at; signing is local."""
        self.puts = puts
        """The endpoint's kept-alive connections and the signer of puts without
        retention, sent without the SDK or urllib3: a 50 KB put cost 0.65 ms of CPU through
        the SDK, 0.55 through urllib3 with our signing, ~0.17 ms this way."""
        self.retention_days = retention_days
        """Issued documents (under ``RETAINED_PREFIX``) are locked in compliance mode for
        this long: no one, MinIO's root user included, can delete or overwrite that
        version before then (a delete only hides it behind a marker). 0: no lock."""

    @classmethod
    def connect(
        cls,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = False,
        public_endpoint: str | None = None,
        retention_days: int = 0,
    ) -> MinioStore:
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=2.0, read=10.0),
            retries=urllib3.Retry(total=1, backoff_factor=0.1, status_forcelist=[500, 502, 503, 504]),
            maxsize=20,
        )
        # A fixed region spares the SDK a network round trip to discover it.
        client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=REGION, http_client=http
        )
        links = QuerySigner(public_endpoint or endpoint, access_key, secret_key, secure=secure, region=REGION)
        address = urlsplit(f"//{endpoint}")
        sender = KeptAlivePuts(address.hostname or endpoint, address.port or (443 if secure else 80), secure=secure)
        puts = (sender, PutSigner(endpoint, access_key, secret_key, secure=secure, region=REGION))
        return cls(client, bucket, links, retention_days=retention_days, puts=puts)

    def ensure_bucket(self) -> None:
        try:
            if not self.client.bucket_exists(self.bucket):
                # Object locking can only be chosen when a bucket is made.
                self.client.make_bucket(self.bucket, object_lock=self.retention_days > 0)
            elif self.retention_days > 0 and not self._locking():
                log.error(
                    "bucket %s was made without object locking: issued documents are not retained; copy the "
                    "objects into a new bucket made by 'sanad init' (docs/operations.md)",
                    self.bucket,
                )
                self.retention_days = 0  # a put with retention would fail on every issue
        except S3Error as e:
            if e.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise StorageUnavailable(e.code or type(e).__name__) from e
        except _OUTAGE_ERRORS as e:
            raise StorageUnavailable(type(e).__name__) from e

    def _locking(self) -> bool:
        try:
            self.client.get_object_lock_config(self.bucket)
        except S3Error as e:
            if e.code == "ObjectLockConfigurationNotFoundError":
                return False
            raise
        return True

    def put(self, key: str, data: bytes, content_type: str, *, sha256: str | None = None) -> None:
        _check_key(key)
        retention = None
        if self.retention_days > 0 and key.startswith(RETAINED_PREFIX):
            until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=self.retention_days)
            retention = Retention(COMPLIANCE, until)
        elif self.puts is not None:
            self._put_signed(key, data, content_type, sha256 or hashlib.sha256(data).hexdigest(), *self.puts)
            return
        try:
            self.client.put_object(
                self.bucket, key, io.BytesIO(data), len(data), content_type=content_type, retention=retention
            )
        except (S3Error, *_OUTAGE_ERRORS) as e:
            raise StorageUnavailable(type(e).__name__) from e

    def _put_signed(
        self,
        key: str,
        data: bytes,
        content_type: str,
        sha256: str,
        sender: KeptAlivePuts,
        signer: PutSigner,
    ) -> None:
        # MinIO checks the body against the signed digest: a wrong one is refused (400).
        signed = signer.put(self.bucket, key, sha256, content_type)
        try:
            status = sender.put(signed.path, signed.headers, data)
        except OSError as e:
            raise StorageUnavailable(type(e).__name__) from e
        if status != 200:
            raise StorageUnavailable(f"PUT answered {status}")

    def get(self, key: str) -> bytes:
        return self._get(key)

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        # An empty range would be sent as no range at all (length 0 means "to the end").
        return self._get(key, offset, length) if length > 0 else b""

    def _get(self, key: str, offset: int = 0, length: int = 0) -> bytes:
        _check_key(key)
        try:
            response = self.client.get_object(self.bucket, key, offset=offset, length=length)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()
        except S3Error as e:
            if e.code == "NoSuchKey":
                raise ObjectMissing(key) from e
            raise StorageUnavailable(e.code or type(e).__name__) from e
        except _OUTAGE_ERRORS as e:
            raise StorageUnavailable(type(e).__name__) from e

    def delete(self, key: str) -> None:
        _check_key(key)
        try:
            self.client.remove_object(self.bucket, key)
        except (S3Error, *_OUTAGE_ERRORS) as e:
            raise StorageUnavailable(type(e).__name__) from e

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        try:
            for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
                if obj.object_name is not None and obj.last_modified is not None:
                    yield ObjectInfo(obj.object_name, obj.last_modified)
        except (S3Error, *_OUTAGE_ERRORS) as e:
            raise StorageUnavailable(type(e).__name__) from e

    def download_url(self, key: str, filename: str, expires: timedelta) -> str | None:
        _check_key(key)
        disposition = f'attachment; filename="{filename}"'
        return self.links.get_url(
            self.bucket, key, expires, response_headers={"response-content-disposition": disposition}
        )

    def ping(self) -> None:
        try:
            if not self.client.bucket_exists(self.bucket):
                raise StorageUnavailable(f"bucket {self.bucket!r} does not exist")
        except (S3Error, *_OUTAGE_ERRORS) as e:
            raise StorageUnavailable(type(e).__name__) from e


def make_store(settings: Settings) -> ObjectStore:
    if settings.storage_backend == StorageBackend.MINIO:
        return MinioStore.connect(
            settings.minio_endpoint,
            settings.minio_access_key,
            settings.minio_secret_key,
            settings.minio_bucket,
            secure=settings.minio_secure,
            public_endpoint=settings.minio_public_endpoint,
            retention_days=settings.minio_retention_days,
        )
    return FilesystemStore(settings.storage_path)
