"""Issued documents and fetched trust bundles for the offline-verification tests."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment, income_certificate
from verifier.bundle import TrustBundle
from verifier.bundle_fetch import fetch_bundle
from verifier.pdf_seal import read_seal_and_attachment


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
