"""Download links signed by us (``sanad.presign``): MinIO serves exactly the object they
name while they last, and refuses one altered in any part or past its lifetime."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import time_machine
from minio import Minio

from sanad.presign import QuerySigner
from sanad.storage import REGION, MinioStore
from tests.conftest import Backend

LIFETIME = timedelta(seconds=60)


@pytest.fixture
def stored(backend: Backend) -> tuple[MinioStore, str, bytes]:
    """An object in the run's MinIO bucket (the filesystem store gives no links)."""
    if not isinstance(backend.store, MinioStore):
        assert backend.store.download_url("citizens/any/one.pdf", "one.pdf", LIFETIME) is None
        pytest.skip("the filesystem store streams the bytes instead of linking")
    key = f"citizens/{secrets.token_hex(4)}/doc ument+ਪੰ.pdf"  # characters a path must encode
    data = secrets.token_bytes(3000)
    backend.store.put(key, data, "application/pdf")
    return backend.store, key, data


def test_minio_serves_the_linked_object_with_the_asked_disposition(stored: tuple[MinioStore, str, bytes]) -> None:
    store, key, data = stored
    url = store.download_url(key, "income-ABC.pdf", LIFETIME)
    assert url is not None

    response = httpx.get(url)

    assert response.status_code == 200, response.text
    assert hashlib.sha256(response.content).hexdigest() == hashlib.sha256(data).hexdigest()
    assert response.headers["content-disposition"] == 'attachment; filename="income-ABC.pdf"'


def _replace_parameter(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = "&".join(
        f"{n}={value if n == name else v}" for n, v in (pair.split("=", 1) for pair in parts.query.split("&"))
    )
    return parts._replace(query=query).geturl()


def _flip_last(text: str) -> str:
    return text[:-1] + ("0" if text[-1] != "0" else "1")


@pytest.mark.parametrize("part", ["key", "disposition", "lifetime", "signature", "credential"])
def test_minio_refuses_an_altered_link(backend: Backend, stored: tuple[MinioStore, str, bytes], part: str) -> None:
    store, key, _ = stored
    other = f"citizens/{secrets.token_hex(4)}/other.pdf"
    store.put(other, b"%PDF-another", "application/pdf")
    url = store.download_url(key, "mine.pdf", LIFETIME)
    assert url is not None
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    altered = {
        "key": url.replace(urlsplit(url).path, f"/{store.bucket}/{other}"),
        "disposition": _replace_parameter(url, "response-content-disposition", "inline"),
        "lifetime": _replace_parameter(url, "X-Amz-Expires", "3600"),
        "signature": _replace_parameter(url, "X-Amz-Signature", _flip_last(signature)),
        "credential": url.replace("X-Amz-Credential=", "X-Amz-Credential=x"),
    }[part]

    response = httpx.get(altered)

    assert response.status_code == 403, response.text


def test_minio_refuses_a_link_past_its_lifetime(stored: tuple[MinioStore, str, bytes]) -> None:
    store, key, _ = stored
    with time_machine.travel(datetime.now(UTC) - LIFETIME - timedelta(seconds=5), tick=False):
        url = store.download_url(key, "late.pdf", LIFETIME)
    assert url is not None

    response = httpx.get(url)

    assert response.status_code == 403
    assert "expired" in response.text.lower()


def test_a_link_lasts_between_a_second_and_seven_days() -> None:
    signer = QuerySigner("127.0.0.1:9000", "key", "secret", secure=False, region=REGION)
    for lifetime in (timedelta(0), timedelta(days=7, seconds=1)):
        with pytest.raises(ValueError, match="between 1 second and 7 days"):
            signer.get_url("bucket", "a.pdf", lifetime)


def test_only_response_overrides_may_be_added() -> None:
    signer = QuerySigner("127.0.0.1:9000", "key", "secret", secure=False, region=REGION)
    with pytest.raises(ValueError, match="only response-"):
        signer.get_url("bucket", "a.pdf", LIFETIME, response_headers={"X-Amz-Expires": "604800"})


@pytest.mark.parametrize(
    ("endpoint", "secure", "origin"),
    [
        ("files.example.in", True, "https://files.example.in"),
        ("files.example.in:443", True, "https://files.example.in"),
        ("127.0.0.1:9000", False, "http://127.0.0.1:9000"),
    ],
)
def test_links_agree_with_the_minio_sdk(endpoint: str, secure: bool, origin: str) -> None:
    """Another implementation of the same published algorithm, across days (the kept day
    key is replaced) and with characters every part must encode."""
    sdk = Minio(endpoint, access_key="AKIDEXAMPLE", secret_key="wJalr/K7MDENG+bPxRfiCY", secure=secure, region=REGION)
    ours = QuerySigner(endpoint, "AKIDEXAMPLE", "wJalr/K7MDENG+bPxRfiCY", secure=secure, region=REGION)
    headers = {"response-content-disposition": 'attachment; filename="a b+ਪ.pdf"'}
    for moment in (datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC), datetime(2026, 12, 7, 0, 0, 1, tzinfo=UTC)):
        for key in ("citizens/ab/doc.pdf", "citizens/a b/ਦ~+=&.pdf"):
            expected = sdk.presigned_get_object("locker", key, LIFETIME, dict(headers), request_date=moment)
            got = ours.get_url("locker", key, LIFETIME, response_headers=headers, now=moment)
            assert got.startswith(f"{origin}/locker/")
            assert urlsplit(got).path == urlsplit(expected).path
            assert dict(parse_qsl(urlsplit(got).query)) == dict(parse_qsl(urlsplit(expected).query))
