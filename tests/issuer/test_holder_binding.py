"""The issuing API's side of holder binding: citizen ids per department, the reserved
namespace, and a changed number issued as asked, warned about and recorded for auditors."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sanad.models import Citizen
from tests.conftest import Backend, IssuingDepartment, create_department, income_certificate
from tests.locker.conftest import new_mobile

MISMATCHES = "/api/v1/documents/holder-mismatches"


def issue(client: TestClient, dept: IssuingDepartment, citizen_id: str, mobile: str | None, **headers: str) -> Any:
    body = income_certificate(citizen_id)
    if mobile is not None:
        body["citizen_mobile"] = mobile
    response = client.post("/api/v1/documents", json=body, headers={**dept.headers, **headers})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_changed_number_is_issued_as_asked_with_a_warning_and_a_record(
    client: TestClient, dept: IssuingDepartment
) -> None:
    citizen_id, first, second = f"X-{secrets.token_hex(3)}", new_mobile(), new_mobile()

    earlier = issue(client, dept, citizen_id, first)
    later = issue(client, dept, citizen_id, second, **{"Idempotency-Key": f"k-{citizen_id}"})

    assert (earlier["holder_mobile"], earlier["warnings"]) == (first, [])
    assert later["holder_mobile"] == second
    [warning] = later["warnings"]
    assert warning["code"] == "holder_mobile_changed"
    assert first in warning["detail"]
    assert second in warning["detail"]
    # The same answer on a retry and on a later read: the warning is part of the record.
    replay = client.post(
        "/api/v1/documents",
        json={**income_certificate(citizen_id), "citizen_mobile": second},
        headers={**dept.headers, "Idempotency-Key": f"k-{citizen_id}"},
    )
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["warnings"] == later["warnings"]
    assert client.get(f"/api/v1/documents/{later['id']}", headers=dept.headers).json()["warnings"] == later["warnings"]
    # Recorded for an auditor, once.
    [recorded] = client.get(MISMATCHES, headers=dept.headers).json()["items"]
    assert recorded["document_id"] == later["id"]
    assert recorded["citizen_id"] == citizen_id
    assert (recorded["previous_mobile"], recorded["requested_mobile"]) == (first, second)
    assert recorded["source"] == "issue"
    # The new number is now the one a later request is compared with.
    assert issue(client, dept, citizen_id, second)["warnings"] == []
    assert len(client.get(MISMATCHES, headers=dept.headers).json()["items"]) == 1


def test_citizen_ids_are_each_departments_own(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    other = create_department(backend)
    citizen_id = f"X-{secrets.token_hex(3)}"

    issue(client, dept, citizen_id, new_mobile())
    theirs = issue(client, other, citizen_id, new_mobile())

    assert theirs["warnings"] == []  # another department's X is another person
    assert client.get(MISMATCHES, headers=other.headers).json()["items"] == []
    with backend.context.sessions() as s:
        departments = s.scalars(select(Citizen.department_id).where(Citizen.citizen_id == citizen_id)).all()
    assert sorted(departments) == sorted([dept.department.id, other.department.id])


def test_a_department_sees_only_its_own_mismatches(client: TestClient, backend: Backend) -> None:
    mine, theirs = create_department(backend), create_department(backend)
    citizen_id = f"X-{secrets.token_hex(3)}"
    issue(client, mine, citizen_id, new_mobile())
    issue(client, mine, citizen_id, new_mobile())

    assert len(client.get(MISMATCHES, headers=mine.headers).json()["items"]) == 1
    assert client.get(MISMATCHES, headers=theirs.headers).json()["items"] == []
    assert client.get(MISMATCHES).status_code == 401


def test_mismatches_are_paged_newest_first(client: TestClient, dept: IssuingDepartment) -> None:
    issued = []
    for _ in range(3):
        citizen_id = f"X-{secrets.token_hex(3)}"
        issue(client, dept, citizen_id, new_mobile())
        issued.append(issue(client, dept, citizen_id, new_mobile())["id"])

    first = client.get(MISMATCHES, params={"limit": 2}, headers=dept.headers).json()
    rest = client.get(MISMATCHES, params={"limit": 2, "cursor": first["next_cursor"]}, headers=dept.headers).json()

    assert [m["document_id"] for m in first["items"] + rest["items"]] == issued[::-1]
    assert rest["next_cursor"] is None
    bad = client.get(MISMATCHES, params={"cursor": "x"}, headers=dept.headers)
    assert bad.status_code == 422
    assert bad.json()["fields"][0]["field"] == "cursor"


def test_a_document_without_a_number_is_issued_with_a_warning(client: TestClient, dept: IssuingDepartment) -> None:
    document = issue(client, dept, f"X-{secrets.token_hex(3)}", None)

    assert document["holder_mobile"] is None
    assert [w["code"] for w in document["warnings"]] == ["no_holder_mobile"]
    assert "no citizen's locker" in document["warnings"][0]["detail"]


@pytest.mark.parametrize("citizen_id", ["sanad.0123456789abcdef0123456789abcdef", "SANAD.anything", "sanad.x"])
def test_the_reserved_namespace_is_refused_to_a_department(
    citizen_id: str, client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    body = {**income_certificate(citizen_id), "citizen_mobile": new_mobile()}

    response = client.post("/api/v1/documents", json=body, headers=dept.headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    [field] = response.json()["fields"]
    assert field["field"] == "citizen_id"
    assert "reserved for certificates Sanad issues on approved applications" in field["message"]
    with backend.context.sessions() as s:
        assert s.scalar(select(func.count()).where(Citizen.citizen_id == citizen_id)) == 0
