"""Suspending and reinstating: reason codes, the verifier failing closed while suspended,
the status list's reversible "suspended" value, the audit log, and the refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient

from audit.reading import entries_about
from issuer.models import Document
from tests.conftest import Backend, IssuingDepartment, create_department, income_certificate
from tests.verifier.test_api import issue, upload
from tests.verifier.test_status_list import served_list


def _suspend(client: TestClient, dept: IssuingDepartment, document_id: str, **body: object) -> dict[str, object]:
    response = client.post(
        f"/api/v1/documents/{document_id}/suspend",
        json={"reason": "under_investigation", **body},
        headers=dept.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _reinstate(client: TestClient, dept: IssuingDepartment, document_id: str) -> dict[str, object]:
    response = client.post(
        f"/api/v1/documents/{document_id}/reinstate", json={"note": "inquiry closed"}, headers=dept.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_suspended_document_is_not_in_force_anywhere(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    record, pdf = issue(client, dept)

    suspended = _suspend(client, dept, record["id"])

    assert suspended["status"] == "suspended"
    assert suspended["suspension_reason"] == "under_investigation"
    verdict = upload(client, pdf)
    assert verdict["indication"] == "INDETERMINATE"  # fails closed: never TOTAL_PASSED
    assert verdict["sub_indication"] == "TRY_LATER"
    reasons = verdict["reasons"]
    assert isinstance(reasons, list)
    assert [r["code"] for r in reasons] == ["SUSPENDED"]
    lookup = client.get(f"/v/{record['id']}", headers={"Accept": "application/json"}).json()
    assert lookup["status"] == "suspended"
    assert lookup["in_force"] is False
    assert lookup["reason"]["code"] == "SUSPENDED"
    assert lookup["document"]["suspension_reason"] == "under_investigation"
    assert 'data-status="suspended"' in client.get(f"/v/{record['id']}").text


def test_reinstating_restores_the_document_and_its_status_list_entry(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    record, pdf = issue(client, dept)
    with backend.context.sessions() as s:
        index = s.get(Document, record["id"]).status_index  # type: ignore[union-attr]
    assert index is not None

    _suspend(client, dept, record["id"])
    assert served_list(client, backend).status(index) == 2
    reinstated = _reinstate(client, dept, record["id"])

    assert reinstated["status"] == "issued"
    assert reinstated["suspension_reason"] is None
    assert served_list(client, backend).status(index) == 0
    assert upload(client, pdf)["indication"] == "TOTAL_PASSED"
    with backend.context.sessions() as s:
        actions = [e.action for e in entries_about(s, [f"document:{record['id']}"])]
    assert actions[:2] == ["document.reinstate", "document.suspend"]  # newest first


def test_other_needs_a_note_and_keeps_it(client: TestClient, dept: IssuingDepartment) -> None:
    record, _ = issue(client, dept)

    bare = client.post(f"/api/v1/documents/{record['id']}/suspend", json={"reason": "other"}, headers=dept.headers)
    noted = _suspend(client, dept, record["id"], reason="other", note="holder reported the paper stolen")

    assert bare.status_code == 422
    field = bare.json()["fields"][0]
    assert field["field"] == "note"
    assert field["message"] == "say why the document is suspended when the reason is 'other'"
    assert noted["suspension_reason"] == "other"


def test_an_unknown_reason_code_is_refused_with_the_known_ones(client: TestClient, dept: IssuingDepartment) -> None:
    record, _ = issue(client, dept)

    response = client.post(f"/api/v1/documents/{record['id']}/suspend", json={"reason": "whim"}, headers=dept.headers)

    assert response.status_code == 422
    field = response.json()["fields"][0]
    assert field["field"] == "reason"
    assert "under_investigation, court_order, data_error_reported, other" in field["message"]


def test_suspending_twice_or_a_revoked_document_is_refused(client: TestClient, dept: IssuingDepartment) -> None:
    record, _ = issue(client, dept)
    revoked, _ = issue(client, dept)
    _suspend(client, dept, record["id"])
    client.post(f"/api/v1/documents/{revoked['id']}/revoke", json={"reason": "issued in error"}, headers=dept.headers)

    again = client.post(
        f"/api/v1/documents/{record['id']}/suspend", json={"reason": "court_order"}, headers=dept.headers
    )
    dead = client.post(
        f"/api/v1/documents/{revoked['id']}/suspend", json={"reason": "court_order"}, headers=dept.headers
    )

    assert again.status_code == 409
    assert again.json()["detail"] == "the document is already suspended"
    assert dead.status_code == 409
    assert dead.json()["detail"] == "a revoked document cannot be suspended"


def test_reinstating_a_document_that_is_not_suspended_is_refused(client: TestClient, dept: IssuingDepartment) -> None:
    record, _ = issue(client, dept)

    response = client.post(f"/api/v1/documents/{record['id']}/reinstate", json={}, headers=dept.headers)

    assert response.status_code == 409
    assert response.json()["detail"] == "only a suspended document can be reinstated; this one is issued"


def test_another_departments_document_cannot_be_suspended(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    record, _ = issue(client, dept)
    other = create_department(backend)

    response = client.post(
        f"/api/v1/documents/{record['id']}/suspend", json={"reason": "court_order"}, headers=other.headers
    )

    assert response.status_code == 404
    assert response.json()["detail"] == "no such document"


def test_a_suspended_document_can_be_superseded_by_a_correction(client: TestClient, dept: IssuingDepartment) -> None:
    record, _ = issue(client, dept)
    _suspend(client, dept, record["id"], reason="data_error_reported")
    response = client.post(
        f"/api/v1/documents/{record['id']}/supersede",
        json={"data": income_certificate()["data"], "reason": "corrected the reported error"},
        headers=dept.headers,
    )

    assert response.status_code == 201, response.text
    old = client.get(f"/api/v1/documents/{record['id']}", headers=dept.headers).json()
    assert old["status"] == "superseded"
    assert old["suspension_reason"] is None
