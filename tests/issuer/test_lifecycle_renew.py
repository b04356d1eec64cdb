"""Renewing a licence: the same data under a new validity, as the next version; refused for
types whose template is not renewable, and for a validity that is not later."""

from __future__ import annotations

import json
from datetime import date, timedelta

from fastapi.testclient import TestClient

from audit.reading import entries_about
from tests.conftest import REPO, Backend, IssuingDepartment, income_certificate

TRADE_LICENCE = json.loads((REPO / "templates" / "trade-licence" / "example.json").read_text("utf-8"))


def _licence(client: TestClient, dept: IssuingDepartment, valid_until: date) -> dict[str, object]:
    body = {**TRADE_LICENCE, "citizen_id": "PB-RENEW-1", "valid_until": valid_until.isoformat()}
    response = client.post("/api/v1/documents", json=body, headers=dept.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_renewal_issues_the_next_version_with_the_new_validity(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    first_until = date.today() + timedelta(days=20)
    new_until = first_until + timedelta(days=300)  # within the template's 365 days from issue
    old = _licence(client, dept, first_until)

    response = client.post(
        f"/api/v1/documents/{old['id']}/renew", json={"valid_until": new_until.isoformat()}, headers=dept.headers
    )

    assert response.status_code == 201, response.text
    renewed = response.json()
    assert renewed["type"] == "trade-licence"
    assert renewed["valid_until"] == new_until.isoformat()
    assert renewed["version"] == 2
    assert renewed["supersedes_id"] == old["id"]
    old_now = client.get(f"/api/v1/documents/{old['id']}", headers=dept.headers).json()
    assert old_now["status"] == "superseded"
    assert old_now["superseded_by_id"] == renewed["id"]
    with backend.context.sessions() as s:
        actions = [e.action for e in entries_about(s, [f"document:{old['id']}"])]
    assert "document.renew" in actions


def test_renewal_without_a_date_runs_the_templates_period_from_today(
    client: TestClient, dept: IssuingDepartment
) -> None:
    old = _licence(client, dept, date.today() + timedelta(days=5))

    response = client.post(f"/api/v1/documents/{old['id']}/renew", json={}, headers=dept.headers)

    assert response.status_code == 201, response.text
    assert date.fromisoformat(response.json()["valid_until"]) > date.today() + timedelta(days=300)


def test_renewing_a_type_that_is_not_renewable_is_refused(client: TestClient, dept: IssuingDepartment) -> None:
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()

    response = client.post(f"/api/v1/documents/{issued['id']}/renew", json={}, headers=dept.headers)

    assert response.status_code == 422
    field = response.json()["fields"][0]
    assert field["field"] == "document"
    assert field["message"] == "income-certificate documents cannot be renewed; renewable types: trade-licence"
    assert client.get(f"/api/v1/documents/{issued['id']}", headers=dept.headers).json()["status"] == "issued"


def test_a_new_validity_not_later_than_the_current_one_is_refused(client: TestClient, dept: IssuingDepartment) -> None:
    until = date.today() + timedelta(days=30)
    old = _licence(client, dept, until)

    response = client.post(
        f"/api/v1/documents/{old['id']}/renew", json={"valid_until": until.isoformat()}, headers=dept.headers
    )

    assert response.status_code == 422
    assert response.json()["fields"][0] == {
        "field": "valid_until",
        "message": f"must be later than the current validity ({until.isoformat()})",
    }


def test_renewing_a_revoked_licence_is_refused(client: TestClient, dept: IssuingDepartment) -> None:
    old = _licence(client, dept, date.today() + timedelta(days=30))
    client.post(f"/api/v1/documents/{old['id']}/revoke", json={"reason": "premises closed"}, headers=dept.headers)

    response = client.post(f"/api/v1/documents/{old['id']}/renew", json={}, headers=dept.headers)

    assert response.status_code == 409
    assert response.json()["detail"] == "a revoked document cannot be renewed; issue a new document instead"
