"""Holder binding: a document reaches only the locker of the number its own issuing request
named, whatever another department said about the same citizen id (security finding 1).

Driven through the HTTP API with two departments and real locker sign-ins (codes from the
development channel), on both backends.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from accounts.models import StaffRole
from app.factory import create_app
from issuer.models import Document
from sanad.models import Citizen
from tests.conftest import EXAMPLE_DATA, Backend, IssuingDepartment, client_address, create_department
from tests.intake.helpers import apply, ensure_department, staff_headers
from tests.locker.conftest import issue_to, new_mobile, sign_in
from tests.locker.test_oauth import access_token, approve, fetch


def listed(client: TestClient, headers: dict[str, str]) -> set[str]:
    response = client.get("/api/v1/locker/documents", headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def assert_unreachable(client: TestClient, headers: dict[str, str], document_id: str) -> None:
    """Not listed, and every read of it is the 404 of a missing document."""
    assert document_id not in listed(client, headers)
    record = client.get(f"/api/v1/locker/documents/{document_id}", headers=headers)
    content = client.get(f"/api/v1/locker/documents/{document_id}/content", headers=headers, follow_redirects=False)
    share = client.post(f"/api/v1/locker/documents/{document_id}/shares", json={}, headers=headers)
    assert (record.status_code, content.status_code, share.status_code) == (404, 404, 404)


def test_another_departments_earlier_number_does_not_capture_a_certificate(
    client: TestClient, backend: Backend
) -> None:
    """Scenario 1: B issued to citizen id X with M1; A then issued a genuine certificate to
    X with the real number M2. It belongs in M2's locker only."""
    department_a, department_b = create_department(backend), create_department(backend)
    m1, m2 = new_mobile(), new_mobile()
    citizen_id = f"X-{m1}"
    from_b = str(issue_to(client, department_b, m1, citizen_id=citizen_id)["id"])
    from_a = str(issue_to(client, department_a, m2, citizen_id=citizen_id)["id"])

    real_owner = sign_in(client, backend, m2)
    assert listed(client, real_owner) == {from_a}
    content = fetch(client, backend, f"/api/v1/locker/documents/{from_a}/content", real_owner)
    assert content.startswith(b"%PDF")

    other = sign_in(client, backend, m1)
    assert listed(client, other) == {from_b}
    assert_unreachable(client, other, from_a)


@pytest.fixture
def rev(backend: Backend) -> None:
    ensure_department(backend, "REV")


@pytest.mark.usefixtures("rev")
def test_a_pre_claimed_intake_id_does_not_divert_an_approved_certificate(client: TestClient, backend: Backend) -> None:
    """Scenario 2: department B pre-claimed ``m-<E's number>`` with an attacker's number;
    E's income certificate, approved through intake, must still go to E alone."""
    department_b = create_department(backend)
    e_mobile, attacker_mobile = new_mobile(), new_mobile()
    claimed = issue_to(client, department_b, attacker_mobile, citizen_id=f"m-{e_mobile}")

    e_headers = sign_in(client, backend, e_mobile)
    application = apply(client, e_headers)
    assert application.status_code == 201, application.text
    officer = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-SMR")
    decided = client.post(
        f"/api/v1/applications/{application.json()['number']}/decisions", json={"action": "approve"}, headers=officer
    )
    assert decided.status_code == 200, decided.text
    certificate = str(decided.json()["document_id"])

    assert listed(client, e_headers) == {certificate}
    assert fetch(client, backend, f"/api/v1/locker/documents/{certificate}/content", e_headers).startswith(b"%PDF")
    attacker = sign_in(client, backend, attacker_mobile)
    assert listed(client, attacker) == {claimed["id"]}
    assert_unreachable(client, attacker, certificate)


def test_a_requester_reads_by_the_documents_own_number(client: TestClient, backend: Backend) -> None:
    """The requester API authorises by the same binding: a bank the holder of M1 let in
    never sees the certificate another department issued to M2 for the same citizen id."""
    department_a, department_b = create_department(backend), create_department(backend)
    m1, m2 = new_mobile(), new_mobile()
    citizen_id = f"X-{m1}"
    from_b = str(issue_to(client, department_b, m1, citizen_id=citizen_id)["id"])
    from_a = str(issue_to(client, department_a, m2, citizen_id=citizen_id)["id"])

    bank_of_m1 = access_token(client, approve(client, backend, mobile=m1))
    items = client.get("/api/v1/requester/documents", headers=bank_of_m1).json()["items"]
    assert [item["id"] for item in items] == [from_b]
    for path in (f"/api/v1/requester/documents/{from_a}", f"/api/v1/requester/documents/{from_a}/content"):
        assert client.get(path, headers=bank_of_m1, follow_redirects=False).status_code == 404

    with TestClient(create_app(context=backend.context), client=client_address()) as browser_of_m2:
        bank_of_m2 = access_token(browser_of_m2, approve(browser_of_m2, backend, mobile=m2))
    items = client.get("/api/v1/requester/documents", headers=bank_of_m2).json()["items"]
    assert [item["id"] for item in items] == [from_a]
    pdf = fetch(client, backend, f"/api/v1/requester/documents/{from_a}/content", bank_of_m2)
    assert pdf.startswith(b"%PDF")


def test_a_document_issued_without_a_number_reaches_no_locker(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    """Even when an earlier document gave the same citizen id a number."""
    mobile = new_mobile()
    citizen_id = f"X-{mobile}"
    first = str(issue_to(client, dept, mobile, citizen_id=citizen_id)["id"])
    body = {"type": "income-certificate", "citizen_id": citizen_id, "data": EXAMPLE_DATA}
    numberless = client.post("/api/v1/documents", json=body, headers=dept.headers)
    assert numberless.status_code == 201, numberless.text

    headers = sign_in(client, backend, mobile)
    assert listed(client, headers) == {first}
    assert_unreachable(client, headers, str(numberless.json()["id"]))


def test_a_share_link_stops_working_for_a_document_that_is_not_the_sharers(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    """A share opens its document only while that document is bound to the sharer's number."""
    mobile = new_mobile()
    document_id = str(issue_to(client, dept, mobile)["id"])
    headers = sign_in(client, backend, mobile)
    link = client.post(f"/api/v1/locker/documents/{document_id}/shares", json={}, headers=headers).json()["url"]
    token = link.rsplit("/s/", 1)[1]
    assert client.get(f"/api/v1/shared/{token}").status_code == 200

    with backend.context.sessions() as s:  # as if the document had been bound to another number
        s.execute(update(Document).where(Document.id == document_id).values(holder_mobile=new_mobile()))
        s.commit()
    assert client.get(f"/api/v1/shared/{token}").status_code == 404


@pytest.mark.usefixtures("rev")
def test_intake_issues_to_a_random_reserved_id_per_number(client: TestClient, backend: Backend) -> None:
    """Intake's holder ids are not the number and not guessable; one per number and
    department, reused by the same number's next application."""
    mobile = new_mobile()
    headers = sign_in(client, backend, mobile)
    officer = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-SMR")
    certificates = []
    for _ in range(2):
        application = apply(client, headers)
        assert application.status_code == 201, application.text
        number = application.json()["number"]
        decided = client.post(f"/api/v1/applications/{number}/decisions", json={"action": "approve"}, headers=officer)
        assert decided.status_code == 200, decided.text
        certificates.append(str(decided.json()["document_id"]))

    with backend.context.sessions() as s:
        rows = s.execute(
            select(Citizen.citizen_id, Document.holder_mobile)
            .join(Document, Document.citizen_ref == Citizen.ref)
            .where(Document.id.in_(certificates))
        ).all()
    [(citizen_id, holder)] = set(rows)
    assert re.fullmatch(r"sanad\.[0-9a-f]{32}", citizen_id)
    assert mobile not in citizen_id
    assert holder == mobile
    assert listed(client, headers) == set(certificates)
