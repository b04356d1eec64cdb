"""HTTP caching of the public answers: tags, 304s, a revocation seen at once, compression
only where it pays."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass

import brotli
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment
from tests.verifier.helpers import DECODE, counted_work, kept_here, raw_get
from tests.verifier.test_api import issue
from verifier.offline_page import SEAL_CHECK_CSP
from web.compression import chosen_coding
from web.conditional import none_match, weak_etag

JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}


@pytest.mark.parametrize("accept", [JSON, HTML], ids=["json", "html"])
def test_the_verification_page_answers_304_until_the_document_is_revoked(
    client: TestClient, dept: IssuingDepartment, accept: dict[str, str]
) -> None:
    record, _ = issue(client, dept)
    url = f"/v/{record['id']}"

    first = client.get(url, headers=accept)
    again = client.get(url, headers={**accept, "If-None-Match": first.headers["etag"]})
    client.post(f"{url.replace('/v/', '/api/v1/documents/')}/revoke", json={"reason": "forged"}, headers=dept.headers)
    after_revocation = client.get(url, headers={**accept, "If-None-Match": first.headers["etag"]})

    assert first.status_code == 200
    assert first.headers["etag"].startswith('W/"')
    assert first.headers["cache-control"] == "public, no-cache"
    assert "accept" in {name.strip().lower() for name in first.headers["vary"].split(",")}
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "public, no-cache"
    assert after_revocation.status_code == 200
    assert after_revocation.headers["etag"] != first.headers["etag"]
    assert "revoked" in after_revocation.text


def test_json_and_html_of_one_document_have_different_tags(client: TestClient, dept: IssuingDepartment) -> None:
    record, _ = issue(client, dept)

    as_json = client.get(f"/v/{record['id']}", headers=JSON)
    as_html = client.get(f"/v/{record['id']}", headers=HTML)
    html_again = client.get(f"/v/{record['id']}", headers=HTML)

    assert as_json.headers["etag"] != as_html.headers["etag"]
    assert as_html.headers["etag"] == html_again.headers["etag"]


def test_an_unknown_id_is_never_tagged_nor_stored(client: TestClient) -> None:
    answer = client.get("/v/" + "a" * 26, headers={**JSON, "If-None-Match": "*"})

    assert answer.status_code == 404
    assert "etag" not in answer.headers
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/api/v1/trust", "application/x-pem-file"),
        ("/api/v1/trust", "application/json"),
        ("/api/v1/trust/jwks", "*/*"),
        ("/api/v1/status-list", "*/*"),
    ],
)
def test_trust_answers_are_tagged_and_revalidated(client: TestClient, path: str, accept: str) -> None:
    first = client.get(path, headers={"Accept": accept})
    again = client.get(path, headers={"Accept": accept, "If-None-Match": f'"x", {first.headers["etag"]}'})
    other = client.get(path, headers={"Accept": accept, "If-None-Match": 'W/"not-it"'})

    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, no-cache"
    assert again.status_code == 304
    assert again.content == b""
    assert other.status_code == 200


def test_the_status_list_gets_a_new_tag_with_a_revocation(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    record, _ = issue(client, dept)
    backend.context.trust_publisher.invalidate()
    before = client.get("/api/v1/status-list")

    client.post(f"/api/v1/documents/{record['id']}/revoke", json={"reason": "forged"}, headers=dept.headers)
    after = client.get("/api/v1/status-list", headers={"If-None-Match": before.headers["etag"]})

    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]


@pytest.mark.parametrize(("coding", "decode"), [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_pages_and_json_of_some_size_are_compressed(
    client: TestClient, dept: IssuingDepartment, coding: str, decode: Callable[[bytes], bytes]
) -> None:
    record, _ = issue(client, dept)
    plain = client.get(f"/v/{record['id']}", headers={**HTML, "Accept-Encoding": "identity"})

    with client.stream("GET", f"/v/{record['id']}", headers={**HTML, "Accept-Encoding": coding}) as answer:
        raw = b"".join(answer.iter_raw())

    assert "content-encoding" not in plain.headers
    assert answer.headers["content-encoding"] == coding
    assert "Accept-Encoding" in answer.headers["vary"]
    assert len(raw) < len(plain.content) / 2
    assert decode(raw) == plain.content


def test_pdfs_and_small_answers_are_sent_as_they_are(client: TestClient, dept: IssuingDepartment) -> None:
    record, pdf = issue(client, dept)

    content = client.get(
        f"/api/v1/documents/{record['id']}/content", headers={**dept.headers, "Accept-Encoding": "br, gzip"}
    )
    missing = client.get("/v/" + "b" * 26, headers={**JSON, "Accept-Encoding": "br, gzip"})

    assert content.content == pdf
    assert "content-encoding" not in content.headers
    assert missing.status_code == 404
    assert "content-encoding" not in missing.headers


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip;q=0.5", "gzip"),
        ("identity", None),
        ("*", "br"),
        ("*;q=0", None),
        ("", None),
        ("br;q=nonsense", None),
    ],
)
def test_the_coding_follows_accept_encoding(header: str, coding: str | None) -> None:
    assert chosen_coding(header) == coding


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('W/"abc"', True),
        ('"abc"', True),
        ('"x", W/"abc"', True),
        ("*", True),
        ('"abcd"', False),
        (None, False),
        ("", False),
    ],
)
def test_if_none_match_compares_weakly(header: str | None, matches: bool) -> None:
    assert none_match(header, 'W/"abc"') is matches


@dataclass
class Issued:
    url: str
    """Its QR target."""
    kept: bool
    """Whether this backend keeps its answers."""


@pytest.fixture
def issued(client: TestClient, backend: Backend, dept: IssuingDepartment) -> Issued:
    record, _ = issue(client, dept)
    return Issued(f"/v/{record['id']}", kept_here(backend))


PAGE_HEADERS = {
    "cache-control",
    "content-encoding",
    "content-language",
    "content-length",
    "content-security-policy",
    "content-type",
    "etag",
    "referrer-policy",
    "vary",
    "x-content-type-options",
    "x-frame-options",
    "x-request-id",
}


def test_a_kept_page_is_compressed_once_per_coding_and_every_coding_is_the_same_page(
    client: TestClient, issued: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = counted_work(monkeypatch)

    rounds = [
        {coding: raw_get(client, issued.url, {**HTML, "Accept-Encoding": coding}) for coding in DECODE}
        for _ in range(2)
    ]
    first, second = rounds
    pages = {DECODE[coding](raw) for answers in rounds for coding, (_, raw) in answers.items()}

    assert len(pages) == 1
    page = pages.pop()
    assert b'data-status="valid"' in page
    for coding, (answer, raw) in first.items():
        assert answer.status_code == 200
        assert answer.headers.get("content-encoding", "identity") == coding
        assert answer.headers["content-length"] == str(len(raw))
        assert answer.headers["etag"] == weak_etag(page)  # one tag for every coding
        assert answer.headers["vary"] == "Accept, Accept-Language, Cookie, Accept-Encoding"
        assert answer.headers["cache-control"] == "public, no-cache"
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert answer.headers["content-language"] == "en"
        assert answer.headers["content-security-policy"] == SEAL_CHECK_CSP
        assert set(answer.headers) == PAGE_HEADERS - ({"content-encoding"} if coding == "identity" else set())
        assert second[coding][1] == raw
    # Rendered and tagged once, compressed once per coding; without a cache, every time.
    assert work.renders == work.hashes == (1 if issued.kept else 6)
    assert work.compressions == (2 if issued.kept else 4)


def test_a_kept_page_answers_its_tag_with_a_304_and_no_work(
    client: TestClient, issued: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = client.get(issued.url, headers={**HTML, "Accept-Encoding": "br"})
    work = counted_work(monkeypatch)

    again = [
        client.get(issued.url, headers={**HTML, "Accept-Encoding": coding, "If-None-Match": first.headers["etag"]})
        for coding in DECODE
    ]

    for answer in again:
        assert answer.status_code == 304
        assert answer.content == b""
        assert answer.headers["etag"] == first.headers["etag"]
        assert answer.headers["cache-control"] == "public, no-cache"
        assert "content-encoding" not in answer.headers
    assert work.renders == work.hashes == (0 if issued.kept else 3)
    assert work.compressions == 0
