"""Issued documents, seals, department keys and fetched trust bundles for the seal and
offline-verification tests; raw answers and a count of the work behind them for the QR
target's kept answers."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import brotli
import cbor2
import httpx
import pytest
from fastapi import Response
from fastapi.testclient import TestClient

from issuer.seal import SealClaims, SealSigner, data_hash
from issuer.sign import DepartmentSigner
from sanad.digits import decode_digits, encode_digits
from sanad.jws import b64url_encode, compact_json, der_to_raw, sign_compact
from tests.conftest import PKI_EPOCH, Backend, IssuingDepartment, income_certificate
from trust.departments import current_generation, ensure_department_key
from verifier import plain_words
from verifier.bundle import TrustBundle
from verifier.bundle_fetch import fetch_bundle
from verifier.pdf_seal import read_seal_and_attachment
from verifier.seal_check import seal_key_id
from verifier.seal_jws import SEAL_TYPE
from web import compression, conditional


def issue(client: TestClient, dept: IssuingDepartment) -> tuple[dict[str, str], bytes]:
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)
    assert issued.status_code == 201, issued.text
    record = issued.json()
    pdf = client.get(f"/api/v1/documents/{record['id']}/content", headers=dept.headers).content
    return record, pdf


def fetch(client: TestClient, backend: Backend) -> TrustBundle:
    """A bundle as ``sanad trust fetch`` gets it, through the test client."""
    backend.context.trust_publisher.invalidate()

    def get(url: str, accept: str) -> bytes:
        response = client.get(url, headers={"Accept": accept})
        assert response.status_code == 200, response.text
        body: bytes = response.content
        return body

    return fetch_bundle("http://testserver", get=get)


def qr_text(pdf: bytes) -> str:
    seal, _ = read_seal_and_attachment(pdf)
    assert seal is not None
    return seal


def seal_kid(seal: str) -> str:
    """The key id a seal (either format) names."""
    kid = seal_key_id(seal)
    assert kid is not None
    return kid


def jws_seal(signer: SealSigner, claims: SealClaims, *, version: int = 1) -> str:
    """A seal as certificates issued before the compact one carry it (``verifier.seal_jws``);
    ``claims.data_hash`` is then the whole SHA-256."""
    payload: dict[str, object] = {
        "v": version,
        "id": claims.document_id,
        "t": claims.type,
        "d": claims.department,
        "n": claims.holder_name,
        "i": claims.issued_on.isoformat(),
    }
    if claims.valid_until is not None:
        payload["e"] = claims.valid_until.isoformat()
    payload["s"] = claims.status_index
    payload["h"] = b64url_encode(claims.data_hash)
    header = {"alg": "ES256", "kid": signer.key_id, "typ": SEAL_TYPE}
    return sign_compact(header, compact_json(payload), signer.sign_raw)


def example_claims(department: str) -> SealClaims:
    """A seal's statement about an income certificate, issued while the test PKI is valid."""
    return SealClaims(
        document_id="k7q3xz5m2vdn4ccb6wbrat5y3a",
        type="income-certificate",
        department=department,
        holder_name="ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
        issued_on=date(2026, 3, 1),
        valid_until=date(2027, 3, 1),
        status_index=42,
        data_hash=data_hash(b"{}"),
    )


def department_signer(keys_dir: Path, code: str) -> DepartmentSigner:
    """A department key of the test PKI, no database: for seals made by hand."""
    ensure_department_key(keys_dir, code, f"{code} Test Department", now=PKI_EPOCH)
    generation = current_generation(keys_dir, code)
    assert generation is not None
    return DepartmentSigner.from_generation(keys_dir, generation)


# --- compact seals taken apart and put together, for tamper tests --------------------------


def cose_parts(seal: str) -> list[Any]:
    """A compact seal's protected header, unprotected header, payload and signature."""
    parts: list[Any] = list(cbor2.loads(decode_digits(seal)).value)
    return parts


def cose_seal(protected: bytes, payload: bytes, signature: bytes, unprotected: dict[int, Any] | None = None) -> str:
    """The digits of a COSE_Sign1 made of these parts, signed or not."""
    message = cbor2.CBORTag(18, [protected, unprotected or {}, payload, signature])
    return encode_digits(cbor2.dumps(message, canonical=True))


def resigned(signer: SealSigner, header: dict[int, Any], payload: bytes) -> str:
    """A well-formed COSE_Sign1 with any ``header``, genuinely signed by ``signer``."""
    protected = cbor2.dumps(header, canonical=True)
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload], canonical=True)
    return cose_seal(protected, payload, der_to_raw(signer.sign_raw(to_be_signed)))


DECODE: dict[str, Callable[[bytes], bytes]] = {
    "br": brotli.decompress,
    "gzip": gzip.decompress,
    "identity": lambda body: body,
}
"""How to read a body sent in each content-coding."""


def raw_get(client: TestClient, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """An answer and its body as sent (still compressed)."""
    with client.stream("GET", url, headers=headers) as answer:
        return answer, b"".join(answer.iter_raw())


def kept_here(backend: Backend) -> bool:
    """Whether this backend keeps the QR target's answers (PostgreSQL, once its listener
    hears changes; SQLite never)."""
    if backend.name != "postgres-minio":
        return False
    deadline = time.monotonic() + 3.0
    while not backend.context.lookups.serving and time.monotonic() < deadline:
        time.sleep(0.01)
    return backend.context.lookups.serving


@dataclass
class Work:
    renders: int = 0
    hashes: int = 0
    compressions: int = 0


def counted_work(monkeypatch: pytest.MonkeyPatch) -> Work:
    """Counts the verifier pages rendered, the bodies hashed into a tag and the bodies
    compressed from now on: the work a kept answer saves."""
    work = Work()
    render, tag, encode = plain_words.render, conditional.weak_etag, compression.encode

    def counting_render(*args: Any, **kwargs: Any) -> Response:
        work.renders += 1
        return render(*args, **kwargs)

    def counting_tag(body: bytes) -> str:
        work.hashes += 1
        return tag(body)

    def counting_encode(coding: str, body: bytes) -> bytes:
        work.compressions += 1
        return encode(coding, body)

    monkeypatch.setattr(plain_words, "render", counting_render)
    monkeypatch.setattr(conditional, "weak_etag", counting_tag)
    monkeypatch.setattr(compression, "weak_etag", counting_tag)
    monkeypatch.setattr(compression, "encode", counting_encode)
    return work
