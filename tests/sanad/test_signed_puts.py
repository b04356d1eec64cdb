"""Puts signed by us (``sanad.presign.PutSigner``): MinIO stores exactly the bytes and
type sent, and refuses a body other than the one signed or a put signed with a wrong key."""

from __future__ import annotations

import hashlib
import secrets

import pytest

from sanad.storage import MinioStore, StorageUnavailable
from tests.conftest import Backend


@pytest.fixture
def minio(backend: Backend) -> MinioStore:
    if not isinstance(backend.store, MinioStore):
        pytest.skip("the filesystem store signs nothing")
    assert backend.store.puts is not None
    return backend.store


@pytest.mark.parametrize("name", ["aadhaar.png", "doc ument+ਪੰ~(1).pdf"])
def test_a_signed_put_stores_the_bytes_and_type_sent(minio: MinioStore, name: str) -> None:
    key = f"applications/{secrets.token_hex(4)}/{name}"  # characters a path must encode
    data = secrets.token_bytes(70_000)

    minio.put(key, data, "image/png")

    assert minio.get(key) == data
    assert minio.client.stat_object(minio.bucket, key).content_type == "image/png"
    minio.delete(key)


def test_minio_refuses_a_body_other_than_the_one_signed(minio: MinioStore) -> None:
    assert minio.puts is not None
    sender, signer = minio.puts
    key = f"applications/{secrets.token_hex(4)}/altered.pdf"
    signed = signer.put(minio.bucket, key, hashlib.sha256(b"%PDF-signed").hexdigest(), "application/pdf")

    status = sender.put(signed.path, signed.headers, b"%PDF-altered")

    assert status == 400
    assert key not in {info.key for info in minio.list("applications/")}


def test_a_put_signed_with_a_wrong_secret_is_an_outage_not_a_success(minio: MinioStore, backend: Backend) -> None:
    settings = backend.settings
    wrong = MinioStore.connect(settings.minio_endpoint, settings.minio_access_key, "not-the-secret", minio.bucket)
    key = f"applications/{secrets.token_hex(4)}/one.pdf"

    with pytest.raises(StorageUnavailable, match="403"):
        wrong.put(key, b"%PDF-1", "application/pdf")
    assert key not in {info.key for info in minio.list("applications/")}


def test_an_unreachable_store_is_an_outage(minio: MinioStore) -> None:
    unreachable = MinioStore.connect("127.0.0.1:1", "x", "y", minio.bucket)  # nothing listens on port 1

    with pytest.raises(StorageUnavailable):
        unreachable.put("applications/any/one.pdf", b"%PDF-1", "application/pdf")
