"""Appeals under the Right to Service Act through the API, on both backends: filing in and
out of time, the authorities' desks, ordering the certificate issued, the second appeal,
penalties on the timeline and in the audit log, and pendency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accounts.models import StaffRole
from app.factory import create_app
from audit.models import AuditEntry
from intake.appeals_models import Appeal
from intake.i18n import MESSAGES
from intake.models import Application
from issuer.models import Document
from sanad.clock import today_in_india
from tests.conftest import Backend, client_address
from tests.intake.helpers import apply, ensure_department, staff_headers
from tests.intake.test_officer_fields import PROPERTY_ID, applied_for_licence
from tests.locker.conftest import new_mobile, sign_in

PA = MESSAGES.translator("pa")


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    for code in ("REV", "LG", "TPT"):
        ensure_department(backend, code)


# --- helpers ---------------------------------------------------------------------------------------


def applied(client: TestClient, backend: Backend, office: str = "TEH-SMR") -> tuple[dict[str, str], str]:
    """A signed-in citizen's headers and the number of the application they made."""
    headers = sign_in(client, backend, new_mobile())
    response = apply(client, headers, office=office)
    assert response.status_code == 201, response.text
    return headers, str(response.json()["number"])


def rejected(client: TestClient, backend: Backend, office: str = "TEH-SMR") -> tuple[dict[str, str], str]:
    headers, number = applied(client, backend, office)
    officer = staff_headers(client, backend, StaffRole.OFFICER, office=office)
    response = client.post(
        f"/api/v1/applications/{number}/decisions",
        json={"action": "reject", "remarks": "income proof not attested"},
        headers=officer,
    )
    assert response.status_code == 200, response.text
    return headers, number


def set_application(backend: Backend, number: str, **values: Any) -> None:
    """Moves an application's dates, as the passing of time would."""
    with backend.context.sessions() as s:
        application = s.scalar(select(Application).where(Application.number == number))
        assert application is not None
        for name, value in values.items():
            setattr(application, name, value)
        s.commit()


def set_appeal(backend: Backend, number: str, level: int, **values: Any) -> None:
    with backend.context.sessions() as s:
        appeal = s.scalar(
            select(Appeal)
            .join(Application, Application.id == Appeal.application_id)
            .where(Application.number == number, Appeal.level == level)
        )
        assert appeal is not None
        for name, value in values.items():
            setattr(appeal, name, value)
        s.commit()


def file(client: TestClient, headers: dict[str, str], number: str, lang: str = "en") -> Any:
    return client.post(
        f"/api/v1/applications/{number}/appeals?lang={lang}",
        json={"grounds": "My income proof was attested by the sarpanch."},
        headers=headers,
    )


def decide(client: TestClient, headers: dict[str, str], number: str, level: int, outcome: str, **more: Any) -> Any:
    return client.post(
        f"/api/v1/appeals/{number}/{level}/decision",
        json={"outcome": outcome, "reasons": "heard both sides", **more},
        headers=headers,
    )


def audit_actions(backend: Backend, number: str) -> list[str]:
    with backend.context.sessions() as s:
        return list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.subject == f"application:{number}")
                .order_by(AuditEntry.leaf_index)
            )
        )


def timeline(client: TestClient, headers: dict[str, str], number: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/applications/{number}", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["timeline"])


# --- filing ------------------------------------------------------------------------------------------


def test_a_rejected_application_is_appealed_to_the_first_appellate_authority(
    client: TestClient, backend: Backend
) -> None:
    headers, number = rejected(client, backend)

    standing = client.get(f"/api/v1/applications/{number}/appeals", headers=headers).json()
    assert standing["may_file"] == 1
    assert standing["file_until"] == (today_in_india() + timedelta(days=30)).isoformat()
    assert standing["appeals"] == []
    response = file(client, headers, number)

    assert response.status_code == 201, response.text
    appeal = response.json()
    assert (appeal["level"], appeal["status"], appeal["authority"]) == (1, "pending", "sub-divisional-magistrate")
    # The authority's own limit: 30 working days, counted like an application's.
    assert appeal["due_on"] == backend.context.intake.clock.due_date(datetime.now(UTC), 30).isoformat()
    assert appeal["working_days_left"] >= 30
    assert [e["kind"] for e in timeline(client, headers, number)][-1] == "first_appeal_filed"
    assert audit_actions(backend, number)[-1] == "appeal.file"
    again = client.get(f"/api/v1/applications/{number}/appeals", headers=headers).json()
    assert again["may_file"] is None
    assert "until" in again["refusal"]


def test_an_overdue_application_is_appealed_and_a_timely_one_is_not(client: TestClient, backend: Backend) -> None:
    headers, number = applied(client, backend)

    early = file(client, headers, number)
    assert early.status_code == 409
    assert early.json()["error"] == "not_appealable"
    assert "rejected, or not decided by its due date" in early.json()["detail"]
    set_application(backend, number, due_on=today_in_india() - timedelta(days=1))
    assert file(client, headers, number).status_code == 201


def test_an_appeal_out_of_time_is_refused_in_the_citizens_language(client: TestClient, backend: Backend) -> None:
    headers, number = rejected(client, backend)
    rejected_on = today_in_india() - timedelta(days=31)
    set_application(backend, number, decided_at=datetime.now(UTC) - timedelta(days=31))

    response = file(client, headers, number, lang="pa")

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "appeal_out_of_time"
    until = (rejected_on + timedelta(days=30)).strftime("%d-%m-%Y")
    assert body["detail"] == PA("appeal.out_of_time_first", days=30, until=until)
    with backend.context.sessions() as s:
        assert (
            s.scalar(select(func.count()).select_from(Appeal).join(Application).where(Application.number == number))
            == 0
        )
    # The thirtieth day is still in time.
    set_application(backend, number, decided_at=datetime.now(UTC) - timedelta(days=30))
    assert file(client, headers, number).status_code == 201


def test_an_appeal_needs_grounds_and_only_its_citizen_files_it(client: TestClient, backend: Backend) -> None:
    headers, number = rejected(client, backend)
    stranger = sign_in(client, backend, new_mobile())
    officer = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-SMR")

    empty = client.post(f"/api/v1/applications/{number}/appeals", json={"grounds": "  "}, headers=headers)
    assert empty.status_code == 422
    assert empty.json()["fields"][0]["field"] == "grounds"
    for unreadable in ("refused\x00 twice", "refused \u202eecnis"):
        response = client.post(f"/api/v1/applications/{number}/appeals", json={"grounds": unreadable}, headers=headers)
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "grounds"
    assert file(client, stranger, number).status_code == 404
    assert file(client, officer, number).status_code == 403


# --- the desk and the decision ---------------------------------------------------------------------------


def test_the_desk_lists_only_its_offices_appeals_and_no_one_else_decides(client: TestClient, backend: Backend) -> None:
    headers, number = rejected(client, backend)
    assert file(client, headers, number).status_code == 201
    authority = staff_headers(client, backend, StaffRole.APPROVER, office="TEH-SMR")
    elsewhere = staff_headers(client, backend, StaffRole.APPROVER, office="TEH-ASR")
    officer = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-SMR")
    commission = staff_headers(client, backend, StaffRole.HEAD_OFFICE, department=None)

    mine = client.get("/api/v1/appeals", headers=authority).json()
    assert number in [a["application"] for a in mine]
    assert all(a["level"] == 1 and a["status"] == "pending" for a in mine)
    for other in (elsewhere, officer, commission):
        assert number not in [a["application"] for a in client.get("/api/v1/appeals", headers=other).json()]
        assert decide(client, other, number, 1, "dismiss").status_code == 404
    with backend.context.sessions() as s:
        assert s.scalar(select(Appeal.status).join(Application).where(Application.number == number)) == "pending"


def test_allowing_an_appeal_issues_the_certificate_once_and_records_the_penalty(
    client: TestClient, backend: Backend
) -> None:
    headers, number = rejected(client, backend)
    file(client, headers, number)
    authority = staff_headers(client, backend, StaffRole.APPROVER, office="TEH-SMR")
    version = client.get("/api/v1/appeals", headers=authority).json()

    response = decide(
        client,
        authority,
        number,
        1,
        "allow",
        penalty_inr=2000,
        penalty_reason="rejected without looking at the attested proof",
        version=next(a["version"] for a in version if a["application"] == number),
    )

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["penalty_inr"]) == ("allowed", 2000)
    application = client.get(f"/api/v1/applications/{number}", headers=headers).json()
    assert application["status"] == "issued"
    assert application["document_id"]
    kinds = [e["kind"] for e in application["timeline"]]
    assert kinds[-4:] == ["first_appeal_allowed", "penalty", "approved", "issued"]
    penalty = next(e for e in application["timeline"] if e["kind"] == "penalty")
    assert penalty["details"] == {"amount_inr": 2000, "officer": "tehsildar", "level": 1}
    assert penalty["remarks"] == "rejected without looking at the attested proof"
    assert audit_actions(backend, number)[-2:] == ["appeal.penalty", "appeal.allow"]
    with backend.context.sessions() as s:
        citizen_ref = s.scalar(select(Application.citizen_ref).where(Application.number == number))
        documents = list(s.scalars(select(Document.id).where(Document.citizen_ref == citizen_ref)))
    assert documents == [application["document_id"]]
    again = decide(client, authority, number, 1, "allow")
    assert again.status_code == 409
    assert (
        client.get(f"/api/v1/applications/{number}", headers=headers).json()["document_id"]
        == application["document_id"]
    )


def test_a_decision_needs_reasons_and_a_penalty_needs_its_reason_and_a_sane_amount(
    client: TestClient, backend: Backend
) -> None:
    headers, number = rejected(client, backend)
    file(client, headers, number)
    authority = staff_headers(client, backend, StaffRole.APPROVER, office="TEH-SMR")

    response = client.post(
        f"/api/v1/appeals/{number}/1/decision",
        json={"outcome": "dismiss", "reasons": " ", "penalty_inr": 999999},
        headers=authority,
    )

    assert response.status_code == 422
    assert sorted(f["field"] for f in response.json()["fields"]) == ["penalty_inr", "penalty_reason", "reasons"]
    assert "5000" in next(f["message"] for f in response.json()["fields"] if f["field"] == "penalty_inr")


# --- the second appeal ---------------------------------------------------------------------------------


def test_a_dismissed_first_appeal_goes_on_to_the_commission(client: TestClient, backend: Backend) -> None:
    headers, number = rejected(client, backend)
    file(client, headers, number)
    authority = staff_headers(client, backend, StaffRole.APPROVER, office="TEH-SMR")
    commission = staff_headers(client, backend, StaffRole.HEAD_OFFICE, department=None)
    assert file(client, headers, number).status_code == 409  # the first is still in time
    assert decide(client, authority, number, 1, "dismiss").status_code == 200

    second = file(client, headers, number)

    assert second.status_code == 201, second.text
    assert (second.json()["level"], second.json()["authority"]) == (2, "deputy-commissioner")
    assert number in [a["application"] for a in client.get("/api/v1/appeals", headers=commission).json()]
    assert number not in [a["application"] for a in client.get("/api/v1/appeals", headers=authority).json()]
    assert decide(client, authority, number, 2, "allow").status_code == 404
    assert decide(client, commission, number, 2, "allow").status_code == 200
    assert client.get(f"/api/v1/applications/{number}", headers=headers).json()["status"] == "issued"
    assert file(client, headers, number).status_code == 409  # nothing after the commission


def test_a_first_appeal_left_undecided_is_taken_to_the_commission(client: TestClient, backend: Backend) -> None:
    headers, number = rejected(client, backend)
    file(client, headers, number)
    set_appeal(backend, number, 1, due_on=today_in_india() - timedelta(days=1))

    assert file(client, headers, number).status_code == 201

    appeals = client.get(f"/api/v1/applications/{number}/appeals", headers=headers).json()["appeals"]
    assert [(a["level"], a["status"]) for a in appeals] == [(1, "escalated"), (2, "pending")]
    authority = staff_headers(client, backend, StaffRole.APPROVER, office="TEH-SMR")
    assert decide(client, authority, number, 1, "allow").status_code == 409


# --- pendency ------------------------------------------------------------------------------------------


def test_pendency_counts_open_and_overdue_appeals(client: TestClient, backend: Backend) -> None:
    head_office = staff_headers(client, backend, StaffRole.HEAD_OFFICE, department=None)
    office = "TEH-PTL"

    def totals() -> dict[str, int]:
        body = client.get(f"/api/v1/pendency?office={office}&service=rev-income", headers=head_office).json()
        return {k: body["totals"][k] for k in ("first_appeals", "second_appeals", "appeals_overdue")}

    before = totals()
    first_headers, first = rejected(client, backend, office)
    file(client, first_headers, first)
    late_headers, late = rejected(client, backend, office)
    file(client, late_headers, late)
    set_appeal(backend, late, 1, due_on=today_in_india() - timedelta(days=1))
    second_headers, second = rejected(client, backend, office)
    file(client, second_headers, second)
    set_appeal(backend, second, 1, due_on=today_in_india() - timedelta(days=1))
    file(client, second_headers, second)  # the first is escalated: no longer open

    after = totals()

    assert after["first_appeals"] - before["first_appeals"] == 2
    assert after["second_appeals"] - before["second_appeals"] == 1
    assert after["appeals_overdue"] - before["appeals_overdue"] == 1
    csv = client.get(f"/api/v1/pendency?office={office}&format=csv", headers=head_office).text
    assert csv.splitlines()[0].endswith("first_appeals,second_appeals,appeals_overdue")


def test_an_order_to_issue_fills_the_officer_fields_an_approval_fills(client: TestClient, backend: Backend) -> None:
    headers, number = applied_for_licence(client, backend)
    set_application(backend, number, due_on=today_in_india() - timedelta(days=3))
    assert file(client, headers, number).status_code == 201
    authority = staff_headers(client, backend, StaffRole.APPROVER, department="LG", office="MC-LDH")

    missing = decide(client, authority, number, 1, "allow")
    assert missing.status_code == 422
    assert [f["field"] for f in missing.json()["fields"]] == ["property_id"]
    allowed = decide(client, authority, number, 1, "allow", officer_values={"property_id": PROPERTY_ID})

    assert allowed.status_code == 200, allowed.text
    application = client.get(f"/api/v1/applications/{number}", headers=headers).json()
    assert application["status"] == "issued"
    with backend.context.sessions() as s:
        data = s.scalar(select(Document.data).where(Document.id == application["document_id"]))
    assert data is not None
    assert PROPERTY_ID in data.values()


def test_the_same_appeal_filed_twice_at_once_is_filed_once(backend: Backend) -> None:
    app = create_app(context=backend.context)
    with TestClient(app, client=client_address()) as client:
        headers, number = rejected(client, backend)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def file_now() -> None:
        with TestClient(app, client=client_address()) as c:
            barrier.wait()
            results.append(file(c, headers, number).status_code)

    threads = [threading.Thread(target=file_now) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [201, 409]
    with backend.context.sessions() as s:
        filed = s.scalar(select(func.count()).select_from(Appeal).join(Application).where(Application.number == number))
    assert filed == 1
