"""The issuing API on both backends: issue, idempotency, read, download, revoke, errors."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from issuer.models import Document
from tests.conftest import Backend, IssuingDepartment, create_department, income_certificate


def test_issue_returns_the_contract_fields(client: TestClient, dept: IssuingDepartment) -> None:
    response = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["type"] == "income-certificate"
    assert body["status"] == "issued"
    assert len(body["id"]) == 26
    assert body["id"].isalnum()
    assert body["verify_url"] == f"http://127.0.0.1:8000/v/{body['id']}"
    assert body["department"] == dept.department.code
    assert body["valid_until"] is not None
    assert body["issued_at"].endswith("Z")


def test_downloaded_content_is_exactly_the_registered_bytes(client: TestClient, dept: IssuingDepartment) -> None:
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()

    content = client.get(f"/api/v1/documents/{issued['id']}/content", headers=dept.headers)

    assert content.status_code == 200
    assert content.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(content.content).hexdigest() == issued["sha256"]
    assert len(content.content) == issued["size"]
    metadata = client.get(f"/api/v1/documents/{issued['id']}", headers=dept.headers).json()
    assert metadata == issued


def test_object_is_stored_under_the_citizen(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    issued = client.post("/api/v1/documents", json=income_certificate("CIT-STORAGE-1"), headers=dept.headers).json()

    with backend.context.sessions() as s:
        document = s.get(Document, issued["id"])
        assert document is not None
        key = document.storage_key
    assert key == f"citizens/{document.citizen_ref}/{issued['id']}.pdf"
    assert "CIT-STORAGE-1" not in key  # object names carry a pseudonym, not the citizen's id
    assert hashlib.sha256(backend.store.get(key)).hexdigest() == issued["sha256"]


def test_same_idempotency_key_and_body_returns_the_same_document(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    body = income_certificate()
    headers = {**dept.headers, "Idempotency-Key": "order-42"}

    first = client.post("/api/v1/documents", json=body, headers=headers)
    second = client.post("/api/v1/documents", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    with backend.context.sessions() as s:
        count = s.scalar(select(func.count()).select_from(Document).where(Document.department_id == dept.department.id))
    assert count == 1


def test_idempotency_key_reused_with_another_body_is_refused(client: TestClient, dept: IssuingDepartment) -> None:
    headers = {**dept.headers, "Idempotency-Key": "order-43"}
    client.post("/api/v1/documents", json=income_certificate("CIT-A"), headers=headers)

    response = client.post("/api/v1/documents", json=income_certificate("CIT-B"), headers=headers)

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "Idempotency-Key"


def test_idempotency_keys_are_scoped_per_department(client: TestClient, backend: Backend) -> None:
    first, second = create_department(backend), create_department(backend)
    body = income_certificate()

    a = client.post("/api/v1/documents", json=body, headers={**first.headers, "Idempotency-Key": "k"})
    b = client.post("/api/v1/documents", json=body, headers={**second.headers, "Idempotency-Key": "k"})

    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_revoke_then_status_is_revoked(client: TestClient, dept: IssuingDepartment) -> None:
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()

    revoked = client.post(
        f"/api/v1/documents/{issued['id']}/revoke", json={"reason": "issued in error"}, headers=dept.headers
    )
    again = client.post(f"/api/v1/documents/{issued['id']}/revoke", json={"reason": "twice"}, headers=dept.headers)

    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revocation_reason"] == "issued in error"
    assert again.status_code == 409


def test_unknown_type_names_the_field(client: TestClient, dept: IssuingDepartment) -> None:
    body = {**income_certificate(), "type": "moon-licence"}

    response = client.post("/api/v1/documents", json=body, headers=dept.headers)

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "type"
    assert "moon-licence" in response.json()["detail"]


def test_unknown_and_wrongly_typed_fields_are_all_named(client: TestClient, dept: IssuingDepartment) -> None:
    body = income_certificate(annual_income="2,40,000", favourite_colour="blue")
    del body["data"]["district"]  # type: ignore[attr-defined]

    response = client.post("/api/v1/documents", json=body, headers=dept.headers)

    assert response.status_code == 422
    fields = {f["field"]: f["message"] for f in response.json()["fields"]}
    assert set(fields) == {"data.annual_income", "data.favourite_colour", "data.district"}
    assert "integer" in fields["data.annual_income"]
    assert fields["data.favourite_colour"] == "unknown field"


def test_unknown_top_level_field_and_bad_date_are_named(client: TestClient, dept: IssuingDepartment) -> None:
    body = {**income_certificate(), "valid_until": "31-12-2027", "colour": "red"}

    response = client.post("/api/v1/documents", json=body, headers=dept.headers)

    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["fields"]}
    assert fields == {"valid_until", "colour"}


def test_valid_until_in_the_past_is_refused(client: TestClient, dept: IssuingDepartment) -> None:
    body = {**income_certificate(), "valid_until": "2020-01-01"}

    response = client.post("/api/v1/documents", json=body, headers=dept.headers)

    assert response.status_code == 422
    assert response.json()["fields"] == [{"field": "valid_until", "message": "must not be in the past"}]


def test_missing_or_invalid_api_key_is_401(client: TestClient) -> None:
    missing = client.post("/api/v1/documents", json=income_certificate())
    invalid = client.post(
        "/api/v1/documents", json=income_certificate(), headers={"Authorization": "Bearer sk_nope_123"}
    )

    assert missing.status_code == invalid.status_code == 401
    assert "API key" in missing.json()["detail"]


def test_another_departments_document_is_404_like_a_missing_one(client: TestClient, backend: Backend) -> None:
    owner, other = create_department(backend), create_department(backend)
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=owner.headers).json()

    for path in ("", "/content"):
        foreign = client.get(f"/api/v1/documents/{issued['id']}{path}", headers=other.headers)
        missing = client.get(f"/api/v1/documents/aaaaaaaaaaaaaaaaaaaaaaaaaa{path}", headers=other.headers)
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json() == missing.json()
    revoke = client.post(f"/api/v1/documents/{issued['id']}/revoke", json={"reason": "not mine"}, headers=other.headers)
    assert revoke.status_code == 404
    still = client.get(f"/api/v1/documents/{issued['id']}", headers=owner.headers).json()
    assert still["status"] == "issued"


def test_documents_get_distinct_unguessable_ids(client: TestClient, dept: IssuingDepartment) -> None:
    ids = {
        client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()["id"] for _ in range(3)
    }

    assert len(ids) == 3


def test_racing_requests_with_one_idempotency_key_make_one_document(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    body = income_certificate()
    headers = {**dept.headers, "Idempotency-Key": "race-1"}

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: client.post("/api/v1/documents", json=body, headers=headers), range(4)))

    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.json()["id"] for r in responses}) == 1
    with backend.context.sessions() as s:
        documents = s.scalars(select(Document).where(Document.department_id == dept.department.id)).all()
    assert len(documents) == 1
    stored = {info.key for info in backend.store.list(f"citizens/{documents[0].citizen_ref}/")}
    assert stored == {documents[0].storage_key}  # the losers' objects were removed
