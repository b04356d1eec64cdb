"""Applying, deciding, issuing, returning, tracking — through the API, on both backends."""

from __future__ import annotations

import io
import re
import tarfile
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accounts.models import StaffRole
from app.factory import create_app
from intake import applications
from intake.models import Application, Notification
from intake.packs import pack
from issuer.models import Document
from tests.conftest import Backend, client_address
from tests.intake.helpers import INCOME_FORM, PDF, apply, ensure_department, income_files, png, staff_headers
from tests.issuer.test_outages import unreachable_store
from tests.locker.conftest import new_mobile, sign_in


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    for code in ("REV", "LG", "TPT"):
        ensure_department(backend, code)


def citizen(client: TestClient, backend: Backend) -> tuple[str, dict[str, str]]:
    mobile = new_mobile()
    return mobile, sign_in(client, backend, mobile)


def submitted(client: TestClient, backend: Backend) -> tuple[str, dict[str, str], dict[str, object]]:
    mobile, headers = citizen(client, backend)
    response = apply(client, headers)
    assert response.status_code == 201, response.text
    return mobile, headers, response.json()


def test_a_citizen_applies_online_and_gets_a_number_a_due_date_and_a_notice(
    client: TestClient, backend: Backend
) -> None:
    mobile, headers, application = submitted(client, backend)

    assert re.fullmatch(r"PB-REV-INC-\d{4}-\d{6}", str(application["number"]))
    assert application["status"] == "submitted"
    assert application["channel"] == "online"
    assert application["mobile"] == mobile
    assert [e["kind"] for e in application["timeline"]] == ["submitted"]  # type: ignore[index]
    assert sorted(a["kind"] for a in application["attachments"]) == ["aadhaar", "affidavit"]  # type: ignore[union-attr]
    attachment = application["attachments"][0]  # type: ignore[index]
    content = client.get(
        f"/api/v1/applications/{application['number']}/attachments/{attachment['id']}", headers=headers
    )
    assert content.status_code == 200
    with backend.context.sessions() as s:
        notices = list(
            s.execute(select(Notification.channel, Notification.body).where(Notification.recipient == mobile))
        )
    # Development has every channel: one SMS and one WhatsApp notice.
    assert sorted(channel for channel, _ in notices) == ["sms", "whatsapp"]
    assert all(str(application["number"]) in body for _, body in notices)


def test_a_submission_s_files_are_one_tar_object_and_each_downloads_byte_for_byte(
    client: TestClient, backend: Backend
) -> None:
    _, headers, application = submitted(client, backend)
    number = application["number"]

    with backend.context.sessions() as s:
        row = s.scalar(select(Application).where(Application.number == number))
        assert row is not None
        folder = f"applications/{row.citizen_ref}/{row.id}/"
    keys = [info.key for info in backend.store.list(folder)]
    assert keys == [f"{folder}submitted.tar"]
    with tarfile.open(fileobj=io.BytesIO(backend.store.get(keys[0]))) as tar:
        packed = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert packed == {"aadhaar.png": png(), "affidavit.pdf": PDF}
    url = f"/api/v1/applications/{number}/attachments"
    downloads = {
        a["kind"]: client.get(f"{url}/{a['id']}", headers=headers).content
        for a in application["attachments"]  # type: ignore[union-attr]
    }
    assert downloads == {"aadhaar": png(), "affidavit": PDF}


def test_a_packed_file_whose_bytes_changed_in_storage_is_refused_not_shown(
    client: TestClient, backend: Backend
) -> None:
    _, headers, application = submitted(client, backend)
    with backend.context.sessions() as s:
        row = s.scalar(select(Application).where(Application.number == application["number"]))
        assert row is not None
        key = f"applications/{row.citizen_ref}/{row.id}/submitted.tar"
    # The same files in the other order: each offset now points into the other file.
    backend.store.put(key, pack([("affidavit.pdf", PDF), ("aadhaar.png", png())], datetime.now(UTC)).data, "x")
    url = f"/api/v1/applications/{application['number']}/attachments"

    for attachment in application["attachments"]:  # type: ignore[union-attr]
        refused = client.get(f"{url}/{attachment['id']}", headers=headers)
        assert refused.status_code == 500
        assert refused.json()["error"] == "content_missing"


def test_numbers_are_sequential_per_service_and_year(client: TestClient, backend: Backend) -> None:
    _, _, first = submitted(client, backend)
    _, _, second = submitted(client, backend)

    assert int(str(second["number"])[-6:]) == int(str(first["number"])[-6:]) + 1


def test_form_errors_list_every_field_in_the_requested_language(client: TestClient, backend: Backend) -> None:
    _, headers = citizen(client, backend)
    form = {**INCOME_FORM, "annual_income": "lots", "relation": "cousin_of"}
    del form["applicant_name"]

    response = apply(client, headers, form=form, lang="pa", office="MC-LDH")

    assert response.status_code == 422
    fields = {f["field"]: f["message"] for f in response.json()["fields"]}
    assert set(fields) == {"office", "applicant_name", "annual_income", "relation"}
    assert all(re.search("[\u0a00-\u0a7f]", message) for message in fields.values())


def test_missing_attachment_is_named(client: TestClient, backend: Backend) -> None:
    _, headers = citizen(client, backend)

    response = apply(client, headers, files=income_files(affidavit=None))

    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == ["attachments.affidavit"]


def test_wrong_attachment_type_is_415_and_too_large_is_413_and_nothing_is_kept(
    client: TestClient, backend: Backend
) -> None:
    mobile, headers = citizen(client, backend)

    wrong_type = apply(client, headers, files=income_files(aadhaar=("a.gif", b"GIF89a....", "image/gif")))
    too_large = apply(
        client, headers, files=income_files(affidavit=("a.pdf", PDF + b"0" * (2 * 1024 * 1024), "application/pdf"))
    )

    assert wrong_type.status_code == 415
    assert too_large.status_code == 413
    with backend.context.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Application).where(Application.mobile == mobile)) == 0


WITHOUT_MOBILE = {name: value for name, value in INCOME_FORM.items() if name != "mobile"}


def test_an_operator_applies_for_a_citizen_with_the_channel_recorded(client: TestClient, backend: Backend) -> None:
    operator = staff_headers(client, backend, StaffRole.OPERATOR)
    mobile = new_mobile()

    # The form's own mobile answer may be left out: the citizen's number answers it.
    response = apply(client, operator, form=WITHOUT_MOBILE, mobile=mobile, channel="doorstep")
    without_mobile = apply(client, operator)

    assert response.status_code == 201, response.text
    assert response.json()["channel"] == "doorstep"
    assert response.json()["mobile"] == mobile
    assert response.json()["form"]["mobile"] == mobile
    assert "Test Operator" in response.json()["timeline"][0]["actor"]
    assert without_mobile.status_code == 422
    assert without_mobile.json()["fields"][0]["field"] == "mobile"


def test_approval_issues_the_certificate_into_the_citizens_locker_and_it_verifies(
    client: TestClient, backend: Backend
) -> None:
    _mobile, headers, application = submitted(client, backend)
    officer = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-SMR")

    decided = client.post(
        f"/api/v1/applications/{application['number']}/decisions", json={"action": "approve"}, headers=officer
    )

    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "issued"
    assert [e["kind"] for e in decided.json()["timeline"]] == ["submitted", "approved", "issued"]
    document_id = decided.json()["document_id"]
    locker = client.get("/api/v1/locker/documents", headers=headers).json()["items"]
    assert [d["id"] for d in locker] == [document_id]
    assert locker[0]["holder_name"] == INCOME_FORM["applicant_name"]
    content = client.get(f"/api/v1/locker/documents/{document_id}/content", headers=headers, follow_redirects=False)
    pdf = content.content if content.status_code == 200 else httpx.get(content.headers["location"]).content
    verdict = client.post("/api/v1/verify", files={"file": ("c.pdf", pdf, "application/pdf")})
    assert verdict.json()["indication"] == "TOTAL_PASSED"


def test_another_departments_or_offices_application_is_404(client: TestClient, backend: Backend) -> None:
    _, _, application = submitted(client, backend)
    other_department = staff_headers(client, backend, StaffRole.OFFICER, department="LG")
    other_office = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-LDH")

    for headers in (other_department, other_office):
        response = client.post(
            f"/api/v1/applications/{application['number']}/decisions", json={"action": "approve"}, headers=headers
        )
        assert response.status_code == 404
        assert client.get(f"/api/v1/applications/{application['number']}", headers=headers).status_code == 404


def test_an_operator_cannot_decide(client: TestClient, backend: Backend) -> None:
    _, _, application = submitted(client, backend)
    operator = staff_headers(client, backend, StaffRole.OPERATOR)

    response = client.post(
        f"/api/v1/applications/{application['number']}/decisions", json={"action": "approve"}, headers=operator
    )

    assert response.status_code == 403


def test_a_decision_on_a_stale_version_is_409(client: TestClient, backend: Backend) -> None:
    _, _, application = submitted(client, backend)
    officer = staff_headers(client, backend, StaffRole.OFFICER)
    url = f"/api/v1/applications/{application['number']}/decisions"

    first = client.post(url, json={"action": "review", "version": application["version"]}, headers=officer)
    second = client.post(
        url, json={"action": "reject", "remarks": "no", "version": application["version"]}, headers=officer
    )

    assert first.status_code == 200
    assert second.status_code == 409


def test_two_officers_deciding_at_once_one_wins(backend: Backend) -> None:
    app = create_app(context=backend.context)
    with TestClient(app, client=client_address()) as client:
        _, _, application = submitted(client, backend)
        officers = [staff_headers(client, backend, StaffRole.OFFICER) for _ in range(2)]
    url = f"/api/v1/applications/{application['number']}/decisions"
    barrier = threading.Barrier(2)
    results: list[int] = []

    def decide(headers: dict[str, str], action: dict[str, str]) -> None:
        with TestClient(app, client=client_address()) as c:
            barrier.wait()
            results.append(c.post(url, json=action, headers=headers).status_code)

    threads = [
        threading.Thread(target=decide, args=(officers[0], {"action": "reject", "remarks": "income not proven"})),
        threading.Thread(
            target=decide, args=(officers[1], {"action": "return", "remarks": "send the affidavit again"})
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == [200, 409]
    with backend.context.sessions() as s:
        final = s.scalar(select(Application).where(Application.number == application["number"]))
        assert final is not None
        assert final.status in ("rejected", "returned")


def test_return_pauses_the_clock_and_resubmission_moves_the_due_date(client: TestClient, backend: Backend) -> None:
    _, _headers, application = submitted(client, backend)
    officer = staff_headers(client, backend, StaffRole.OFFICER)
    url = f"/api/v1/applications/{application['number']}"

    returned = client.post(
        f"{url}/decisions", json={"action": "return", "remarks": "Attach the ration card"}, headers=officer
    )
    no_remarks = client.post(f"{url}/decisions", json={"action": "reject"}, headers=officer)
    assert returned.json()["status"] == "returned"
    assert no_remarks.status_code in (409, 422)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=7)):
        resubmitted = client.post(
            f"{url}/resubmission",
            json={"remarks": "attached"},
            headers=sign_in(client, backend, str(application["mobile"])),
        )

    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["status"] == "submitted"
    assert resubmitted.json()["due_on"] > application["due_on"]
    assert [e["kind"] for e in resubmitted.json()["timeline"]] == ["submitted", "returned", "resubmitted"]
    assert resubmitted.json()["timeline"][1]["remarks"] == "Attach the ration card"


def test_tracking_needs_the_number_and_the_mobile_and_reveals_nothing_else(
    client: TestClient, backend: Backend
) -> None:
    mobile, _, application = submitted(client, backend)
    number = str(application["number"])
    other_number = number[:-6] + f"{(int(number[-6:]) + 1000) % 1_000_000:06d}"

    found = client.get("/api/v1/applications/track", params={"number": number, "mobile": mobile})
    wrong_mobile = client.get("/api/v1/applications/track", params={"number": number, "mobile": new_mobile()})
    wrong_number = client.get("/api/v1/applications/track", params={"number": other_number, "mobile": mobile})

    assert found.status_code == 200
    assert found.json()["timeline"][0]["kind"] == "submitted"
    assert wrong_mobile.status_code == wrong_number.status_code == 404
    assert wrong_mobile.json() == wrong_number.json()


def test_a_citizen_sees_only_their_own_applications(client: TestClient, backend: Backend) -> None:
    _, headers_a, mine = submitted(client, backend)
    _, _headers_b, theirs = submitted(client, backend)

    listed = client.get("/api/v1/applications", headers=headers_a).json()

    assert [a["number"] for a in listed] == [mine["number"]]
    assert client.get(f"/api/v1/applications/{theirs['number']}", headers=headers_a).status_code == 404


def test_overdue_applications_escalate_first_then_second(client: TestClient, backend: Backend) -> None:
    _, _, application = submitted(client, backend)
    due = datetime.fromisoformat(f"{application['due_on']}T12:00:00+05:30")

    with backend.context.sessions() as s:
        with time_machine.travel(due + timedelta(days=1)):
            applications.escalate_overdue(s, backend.context.intake, datetime.now(UTC))
        with time_machine.travel(due + timedelta(days=20)):
            applications.escalate_overdue(s, backend.context.intake, datetime.now(UTC))
        mine = s.scalar(select(Application).where(Application.number == application["number"]))
        assert mine is not None
        assert mine.escalation_level == 2
    timeline = client.get(
        "/api/v1/applications/track", params={"number": application["number"], "mobile": application["mobile"]}
    ).json()["timeline"]
    escalations = [e["remarks"] for e in timeline if e["kind"] == "escalated"]
    assert len(escalations) == 2
    assert "first appellate authority" in escalations[0]
    assert "second appellate authority" in escalations[1]


def test_an_approval_survives_a_storage_outage_and_issues_exactly_once_later(
    client: TestClient, backend: Backend, tmp_path: Path
) -> None:
    _, _, application = submitted(client, backend)
    officer = staff_headers(client, backend, StaffRole.OFFICER)
    store = unreachable_store(backend, tmp_path)
    broken = replace(
        backend.context,
        intake=replace(backend.context.intake, issuing=replace(backend.context.kit, store=store)),
    )
    with TestClient(create_app(context=broken), client=client_address()) as during_outage:
        decided = during_outage.post(
            f"/api/v1/applications/{application['number']}/decisions", json={"action": "approve"}, headers=officer
        )
    assert decided.status_code == 200
    assert decided.json()["status"] == "approved"
    assert decided.json()["document_id"] is None

    with backend.context.sessions() as s:
        first = applications.resume_issuing(s, backend.context.intake, datetime.now(UTC))
        again = applications.resume_issuing(s, backend.context.intake, datetime.now(UTC))
        mine = s.scalar(select(Application).where(Application.number == application["number"]))
        assert mine is not None
        documents = s.scalar(
            select(func.count()).select_from(Document).where(Document.idempotency_key == f"application:{mine.id}")
        )
    assert first >= 1
    assert again == 0
    assert mine.status == "issued"
    assert documents == 1


def test_pendency_for_head_office_as_json_and_csv(client: TestClient, backend: Backend) -> None:
    submitted(client, backend)
    head_office = staff_headers(client, backend, StaffRole.HEAD_OFFICE, department=None)
    officer = staff_headers(client, backend, StaffRole.OFFICER)

    report = client.get("/api/v1/pendency?department=REV&service=rev-income", headers=head_office)
    csv = client.get("/api/v1/pendency?format=csv", headers=head_office)

    assert report.status_code == 200
    rows = report.json()["rows"]
    assert rows
    assert all(r["department"] == "REV" and r["service"] == "rev-income" for r in rows)
    assert report.json()["totals"]["open"] >= 1
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("department,office,service,submitted")
    assert client.get("/api/v1/pendency", headers=officer).status_code == 403


def test_staff_sign_in_locks_after_five_failures(client: TestClient, backend: Backend) -> None:
    staff_headers(client, backend, StaffRole.OFFICER)
    username = f"locked-{new_mobile()}"

    answers = [
        client.post("/api/v1/staff/session", json={"username": username, "password": "wrong"}).status_code
        for _ in range(6)
    ]

    assert answers == [401] * 5 + [429]


def test_guessing_numbers_is_stopped_after_twenty_misses(backend: Backend) -> None:
    with TestClient(create_app(context=backend.context), client=client_address()) as client:
        mobile, _, application = submitted(client, backend)
        misses = [
            client.get(
                "/api/v1/applications/track", params={"number": f"PB-REV-INC-2026-{n:06d}", "mobile": new_mobile()}
            )
            for n in range(20)
        ]
        refused = client.get("/api/v1/applications/track", params={"number": application["number"], "mobile": mobile})

    assert {m.status_code for m in misses} == {404}
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
