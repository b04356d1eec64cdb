"""Issued documents in a MinIO bucket with object locking: kept in compliance mode, so
no one holding MinIO's keys can delete or overwrite a signed copy before its retention
ends; everything else in the bucket stays deletable.

Each test makes a bucket that cannot be removed until its one-day retention ends; the
test MinIO is disposable (``scripts/services.sh clean``)."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from minio.error import S3Error

from sanad.storage import RETAINED_PREFIX, MinioStore
from tests.conftest import Backend

DOCUMENT = f"{RETAINED_PREFIX}CIT-REF/DOC1.pdf"
UPLOAD = "lockers/REF/uploads/u1.pdf"


def _store(backend: Backend, bucket: str, retention_days: int) -> MinioStore:
    settings = backend.settings
    return MinioStore.connect(
        settings.minio_endpoint,
        settings.minio_access_key,
        settings.minio_secret_key,
        bucket,
        retention_days=retention_days,
    )


@pytest.fixture
def minio(backend: Backend) -> Backend:
    if backend.name != "postgres-minio":
        pytest.skip("object locking is a MinIO feature")
    return backend


def _versions(store: MinioStore, key: str) -> list[str]:
    return [
        str(o.version_id)
        for o in store.client.list_objects(store.bucket, prefix=key, include_version=True)
        if not o.is_delete_marker
    ]


def test_an_issued_document_cannot_be_deleted_or_overwritten_before_its_retention_ends(minio: Backend) -> None:
    store = _store(minio, f"sanad-test-locked-{secrets.token_hex(4)}", retention_days=1)
    store.ensure_bucket()

    store.put(DOCUMENT, b"%PDF-signed", "application/pdf")

    (version,) = _versions(store, DOCUMENT)
    retention = store.client.get_object_retention(store.bucket, DOCUMENT, version_id=version)
    assert retention is not None
    assert retention.mode == "COMPLIANCE"
    until = retention.retain_until_date
    assert until is not None
    assert datetime.now(UTC) + timedelta(hours=23) < until <= datetime.now(UTC) + timedelta(days=1, minutes=1)
    # Deleting the key only hides it behind a delete marker; the signed version stays.
    store.delete(DOCUMENT)
    with pytest.raises(S3Error):
        store.client.remove_object(store.bucket, DOCUMENT, version_id=version)
    response = store.client.get_object(store.bucket, DOCUMENT, version_id=version)
    assert response.read() == b"%PDF-signed"
    response.close()
    response.release_conn()


def test_objects_that_are_not_issued_documents_are_not_retained(minio: Backend) -> None:
    store = _store(minio, f"sanad-test-locked-{secrets.token_hex(4)}", retention_days=1)
    store.ensure_bucket()

    store.put(UPLOAD, b"a citizen's own file", "application/pdf")

    (version,) = _versions(store, UPLOAD)
    store.client.remove_object(store.bucket, UPLOAD, version_id=version)
    assert _versions(store, UPLOAD) == []


def test_a_bucket_made_without_locking_is_named_and_documents_are_still_stored(
    minio: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = f"sanad-test-{secrets.token_hex(4)}"
    _store(minio, bucket, retention_days=0).ensure_bucket()  # made before retention was asked for
    store = _store(minio, bucket, retention_days=365)

    with caplog.at_level(logging.ERROR, logger="sanad.storage"):
        store.ensure_bucket()
    store.put(DOCUMENT, b"%PDF-signed", "application/pdf")

    assert f"bucket {bucket} was made without object locking" in caplog.text
    assert store.get(DOCUMENT) == b"%PDF-signed"
    store.delete(DOCUMENT)
    store.client.remove_bucket(bucket)


def test_without_retention_a_bucket_is_made_without_locking(minio: Backend) -> None:
    store = _store(minio, f"sanad-test-{secrets.token_hex(4)}", retention_days=0)
    store.ensure_bucket()

    assert not store._locking()
    store.client.remove_bucket(store.bucket)
