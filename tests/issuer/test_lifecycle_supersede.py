"""Superseding a document: a corrected, signed next version, linked both ways, the old one
marked in the registry, the status list, the QR page and the audit log; and the refusals."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from audit.reading import entries_about
from issuer.models import Document
from tests.conftest import Backend, IssuingDepartment, create_department, income_certificate
from tests.verifier.test_api import issue, upload
from tests.verifier.test_status_list import served_list


def _issue(client: TestClient, dept: IssuingDepartment) -> dict[str, Any]:
    response = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _correction() -> dict[str, object]:
    return {"data": income_certificate()["data"], "reason": "the father's name was misspelt"}


def _supersede(client: TestClient, dept: IssuingDepartment, document_id: object, **headers: str) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/documents/{document_id}/supersede", json=_correction(), headers={**dept.headers, **headers}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_supersede_issues_the_next_version_linked_to_the_old_one(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    old = _issue(client, dept)

    new = _supersede(client, dept, old["id"])

    assert new["id"] != old["id"]
    assert new["version"] == 2
    assert new["status"] == "issued"
    assert new["supersedes_id"] == old["id"]
    assert new["sha256"] != old["sha256"]
    old_now = client.get(f"/api/v1/documents/{old['id']}", headers=dept.headers).json()
    assert old_now["status"] == "superseded"
    assert old_now["superseded_by_id"] == new["id"]
    with backend.context.sessions() as s:
        rows = {d.id: d for d in s.scalars(select(Document).where(Document.id.in_([old["id"], new["id"]])))}
        assert rows[new["id"]].citizen_ref == rows[old["id"]].citizen_ref
        assert rows[new["id"]].holder_mobile == rows[old["id"]].holder_mobile
        logged = entries_about(s, [f"document:{old['id']}"])
    supersede_entries = [e for e in logged if e.action == "document.supersede"]
    assert len(supersede_entries) == 1
    assert supersede_entries[0].details["new_document"] == new["id"]
    assert supersede_entries[0].details["reason"] == "the father's name was misspelt"
    assert supersede_entries[0].actor == f"department:{dept.department.code}"


def test_the_status_list_marks_the_old_version_superseded(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    old = _issue(client, dept)
    new = _supersede(client, dept, old["id"])
    with backend.context.sessions() as s:
        old_index = s.get(Document, old["id"]).status_index  # type: ignore[union-attr]
        new_index = s.get(Document, new["id"]).status_index  # type: ignore[union-attr]
    assert old_index is not None
    assert new_index is not None

    statuses = served_list(client, backend)

    assert statuses.status(old_index) == 3
    assert statuses.status(new_index) == 0


def test_the_old_qr_page_says_superseded_and_links_to_the_new_version(
    client: TestClient, dept: IssuingDepartment
) -> None:
    old = _issue(client, dept)
    new = _supersede(client, dept, old["id"])

    answer = client.get(f"/v/{old['id']}", headers={"Accept": "application/json"}).json()
    page = client.get(f"/v/{old['id']}")

    assert answer["status"] == "superseded"
    assert answer["in_force"] is False
    assert answer["reason"]["code"] == "SUPERSEDED"
    assert answer["document"]["superseded_by"] == new["id"]
    assert answer["document"]["superseded_by_url"] == f"/v/{new['id']}"
    assert page.status_code == 200
    assert 'data-status="superseded"' in page.text
    assert f'href="/v/{new["id"]}' in page.text
    fresh = client.get(f"/v/{new['id']}", headers={"Accept": "application/json"}).json()
    assert fresh["status"] == "valid"
    assert fresh["in_force"] is True
    assert fresh["reason"] is None
    assert fresh["document"]["version"] == 2


def test_a_replayed_idempotency_key_returns_the_same_new_version(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    old = _issue(client, dept)

    first = _supersede(client, dept, old["id"], **{"Idempotency-Key": "fix-1"})
    again = client.post(
        f"/api/v1/documents/{old['id']}/supersede",
        json=_correction(),
        headers={**dept.headers, "Idempotency-Key": "fix-1"},
    )

    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first["id"]
    with backend.context.sessions() as s:
        count = s.scalar(select(func.count()).select_from(Document).where(Document.supersedes_id == old["id"]))
    assert count == 1


def test_an_idempotency_key_of_another_request_is_refused(client: TestClient, dept: IssuingDepartment) -> None:
    other = client.post(
        "/api/v1/documents", json=income_certificate(), headers={**dept.headers, "Idempotency-Key": "used-once"}
    )
    assert other.status_code == 201
    old = _issue(client, dept)

    response = client.post(
        f"/api/v1/documents/{old['id']}/supersede",
        json=_correction(),
        headers={**dept.headers, "Idempotency-Key": "used-once"},
    )

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "Idempotency-Key"


def test_superseding_a_revoked_document_is_refused(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    old = _issue(client, dept)
    client.post(f"/api/v1/documents/{old['id']}/revoke", json={"reason": "issued in error"}, headers=dept.headers)

    response = client.post(f"/api/v1/documents/{old['id']}/supersede", json=_correction(), headers=dept.headers)

    assert response.status_code == 409
    assert response.json()["detail"] == "a revoked document cannot be superseded; issue a new document instead"
    with backend.context.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Document).where(Document.supersedes_id == old["id"])) == 0


def test_superseding_an_already_superseded_document_names_the_newer_version(
    client: TestClient, dept: IssuingDepartment
) -> None:
    old = _issue(client, dept)
    new = _supersede(client, dept, old["id"])

    response = client.post(f"/api/v1/documents/{old['id']}/supersede", json=_correction(), headers=dept.headers)

    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"the document was already superseded by {new['id']}; that is the version to be superseded"
    )


def test_another_departments_document_is_not_found(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    old = _issue(client, dept)
    other = create_department(backend)

    response = client.post(f"/api/v1/documents/{old['id']}/supersede", json=_correction(), headers=other.headers)

    assert response.status_code == 404
    assert response.json()["detail"] == "no such document"
    assert client.get(f"/api/v1/documents/{old['id']}", headers=dept.headers).json()["status"] == "issued"


def test_invalid_corrected_data_is_refused_and_changes_nothing(client: TestClient, dept: IssuingDepartment) -> None:
    old = _issue(client, dept)

    response = client.post(
        f"/api/v1/documents/{old['id']}/supersede",
        json={"data": {"unknown_field": "x"}, "reason": "a correction"},
        headers=dept.headers,
    )

    assert response.status_code == 422
    assert response.json()["fields"]
    assert client.get(f"/api/v1/documents/{old['id']}", headers=dept.headers).json()["status"] == "issued"


def test_an_uploaded_old_version_is_not_in_force_and_the_new_one_is(
    client: TestClient, dept: IssuingDepartment
) -> None:
    record, old_pdf = issue(client, dept)
    new = _supersede(client, dept, record["id"])
    new_pdf = client.get(f"/api/v1/documents/{new['id']}/content", headers=dept.headers).content

    old_verdict = upload(client, old_pdf)
    new_verdict = upload(client, new_pdf)

    assert old_verdict["indication"] == "INDETERMINATE"
    assert old_verdict["sub_indication"] == "SUPERSEDED"
    assert new_verdict["indication"] == "TOTAL_PASSED"
