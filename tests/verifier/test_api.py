"""Public verification on both backends: the QR page, PDF upload, registry states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient

from issuer.sign import DepartmentSigner
from tests.conftest import Backend, IssuingDepartment, income_certificate
from tests.pdf_tampering import alter_content


def issue(client: TestClient, dept: IssuingDepartment, **overrides: object) -> tuple[dict[str, str], bytes]:
    body = {**income_certificate(), **overrides}
    issued = client.post("/api/v1/documents", json=body, headers=dept.headers)
    assert issued.status_code == 201, issued.text
    record = issued.json()
    pdf = client.get(f"/api/v1/documents/{record['id']}/content", headers=dept.headers).content
    return record, pdf


def upload(client: TestClient, pdf: bytes) -> dict[str, object]:
    response = client.post("/api/v1/verify", files={"file": ("certificate.pdf", pdf, "application/pdf")})
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_issued_pdf_verifies_as_total_passed(client: TestClient, dept: IssuingDepartment) -> None:
    record, pdf = issue(client, dept)

    result = upload(client, pdf)

    assert result["indication"] == "TOTAL_PASSED"
    assert result["sub_indication"] is None
    assert result["reasons"] == []
    document = result["document"]
    assert isinstance(document, dict)
    assert document["id"] == record["id"]
    assert document["status"] == "valid"
    assert document["holder"] == "ਗੁ••• ਸਿੰ•••"  # masked, never the full name
    assert document["issuer"]["code"] == dept.department.code


def test_tampered_upload_is_total_failed_with_a_reason(client: TestClient, dept: IssuingDepartment) -> None:
    _, pdf = issue(client, dept)
    tampered = alter_content(pdf)

    result = upload(client, bytes(tampered))

    assert result["indication"] == "TOTAL_FAILED"
    assert result["sub_indication"] == "HASH_FAILURE"
    assert result["reasons"] == [
        {"code": "DIGEST_MISMATCH", "message": "the signed content was altered: its digest does not match"}
    ]


def test_revoked_document_fails_with_the_registry_reason(client: TestClient, dept: IssuingDepartment) -> None:
    record, pdf = issue(client, dept)
    client.post(f"/api/v1/documents/{record['id']}/revoke", json={"reason": "income misstated"}, headers=dept.headers)

    result = upload(client, pdf)
    page = client.get(f"/v/{record['id']}", headers={"Accept": "application/json"}).json()

    assert result["indication"] == "TOTAL_FAILED"
    assert result["sub_indication"] == "REVOKED"
    assert page["status"] == "revoked"
    assert page["document"]["revocation_reason"] == "income misstated"


def test_expired_document_is_indeterminate(client: TestClient, dept: IssuingDepartment) -> None:
    valid_until = (datetime.now(UTC) + timedelta(days=10)).date()
    record, pdf = issue(client, dept, valid_until=valid_until.isoformat())

    with time_machine.travel(datetime.now(UTC) + timedelta(days=40)):
        result = upload(client, pdf)
        page = client.get(f"/v/{record['id']}", headers={"Accept": "application/json"}).json()

    assert result["indication"] == "INDETERMINATE"
    assert result["sub_indication"] == "EXPIRED"
    assert page["status"] == "expired"


def test_genuinely_signed_but_unregistered_file_is_indeterminate(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    _, pdf = issue(client, dept)
    unsigned = pdf[: pdf.index(b"%%EOF") + 6]
    resigned = DepartmentSigner.load(backend.settings.keys_dir, dept.department.code).sign(unsigned)

    result = upload(client, resigned)

    assert result["indication"] == "INDETERMINATE"
    assert result["reasons"][0]["code"] == "NOT_IN_REGISTRY"  # type: ignore[index]


def test_document_signed_by_another_department_key_fails(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    from tests.conftest import create_department

    record, pdf = issue(client, dept)
    impostor = create_department(backend)
    # Re-sign the same unsigned revision with the impostor's (trusted) key, then
    # register nothing: the file's hash differs, so the registry cannot vouch for it.
    unsigned = pdf[: pdf.index(b"%%EOF") + 6]
    resigned = DepartmentSigner.load(backend.settings.keys_dir, impostor.department.code).sign(unsigned)

    result = upload(client, resigned)

    assert result["indication"] != "TOTAL_PASSED"
    assert record["id"]


def test_qr_page_for_people_and_machines(client: TestClient, dept: IssuingDepartment) -> None:
    record, _ = issue(client, dept)

    html = client.get(f"/v/{record['id']}", headers={"Accept": "text/html"})
    punjabi = client.get(f"/v/{record['id']}?lang=pa", headers={"Accept": "text/html"})
    data = client.get(f"/v/{record['id']}", headers={"Accept": "application/json"})

    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert 'data-status="valid"' in html.text
    assert "Genuine and in force" in html.text
    assert "ਅਸਲੀ ਅਤੇ ਲਾਗੂ" in punjabi.text
    assert "ਗੁਰਪ੍ਰੀਤ" not in html.text  # the full name is never shown
    body = data.json()
    assert body["status"] == "valid"
    assert set(body["document"]) >= {"type", "issuer", "issued_at", "valid_until", "holder"}


def test_qr_page_answers_the_upper_case_spelling_the_qr_code_holds(client: TestClient, dept: IssuingDepartment) -> None:
    """``HTTP://HOST/V/<ID>`` fits the QR code's alphanumeric mode; ids are lower-case base32."""
    record, _ = issue(client, dept)
    upper = record["verify_url"].removeprefix("http://127.0.0.1:8000").replace("/v/", "/V/").upper()

    html = client.get(upper, headers={"Accept": "text/html"})
    data = client.get(upper, headers={"Accept": "application/json"})

    assert html.status_code == 200
    assert 'data-status="valid"' in html.text
    assert (
        html.headers["content-security-policy"] == client.get(record["verify_url"]).headers["content-security-policy"]
    )
    assert data.json()["status"] == "valid"
    assert client.get("/V/AAAAAAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert "/V/{document_id}" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("document_id", ["aaaaaaaaaaaaaaaaaaaaaaaaaa", "x" * 300, "not an id!"])
def test_unknown_id_is_unknown(client: TestClient, document_id: str) -> None:
    response = client.get(f"/v/{document_id}", headers={"Accept": "application/json"})

    assert response.status_code == 404
    assert response.json() == {
        "status": "unknown",
        "in_force": False,
        "reason": {"code": "NOT_IN_REGISTRY", "message": "Sanad's registry has no document with this id"},
        "document": None,
    }


def test_non_pdf_upload_is_400(client: TestClient) -> None:
    response = client.post("/api/v1/verify", files={"file": ("photo.jpg", b"\xff\xd8\xff\xe0JFIF" * 50, "image/jpeg")})

    assert response.status_code == 400
    assert response.json()["detail"] == "the uploaded file is not a PDF"


def test_truncated_pdf_is_400(client: TestClient, dept: IssuingDepartment) -> None:
    _, pdf = issue(client, dept)

    response = client.post("/api/v1/verify", files={"file": ("c.pdf", pdf[: len(pdf) // 2], "application/pdf")})

    assert response.status_code == 400
    assert "truncated" in response.json()["detail"]


def test_upload_over_the_limit_is_413(client: TestClient, backend: Backend) -> None:
    limit = backend.settings.max_upload_bytes
    oversized = b"%PDF-1.7\n" + b"0" * (limit + 100_000) + b"\n%%EOF\n"

    response = client.post("/api/v1/verify", files={"file": ("big.pdf", oversized, "application/pdf")})

    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_upload_page_shows_the_verdict_in_the_readers_language(client: TestClient, dept: IssuingDepartment) -> None:
    _, pdf = issue(client, dept)

    page = client.post("/verify?lang=pa", files={"file": ("c.pdf", pdf, "application/pdf")})
    bad = client.post("/verify", files={"file": ("c.txt", b"hello", "text/plain")})

    assert page.status_code == 200
    assert 'data-indication="TOTAL_PASSED"' in page.text
    assert "ਅਸਲੀ ਅਤੇ ਵੈਧ" in page.text
    assert bad.status_code == 400
    assert "This is not a PDF" in bad.text


def test_trust_anchors_are_published_as_pem(client: TestClient) -> None:
    response = client.get("/api/v1/trust")

    assert response.status_code == 200
    assert response.text.count("-----BEGIN CERTIFICATE-----") == 2


def test_pages_send_security_headers(client: TestClient) -> None:
    page = client.get("/verify")

    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert client.get("/health").headers["X-Frame-Options"] == "DENY"
