"""Returning an application for exactly what must change, and the citizen's answer,
through the API on both backends: the officer's marks, only marked changes accepted,
files checked like a submission's, replaced files kept in the history, and an outage
that leaves nothing half-written."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from accounts.models import StaffRole
from app.factory import create_app
from intake.form_messages import message
from intake.models import Application, ApplicationEvent, Attachment
from tests.conftest import Backend, client_address
from tests.intake.helpers import HEIC, INCOME_FORM, PDF, apply, ensure_department, jpeg, png, staff_headers
from tests.issuer.test_outages import unreachable_store
from tests.locker.conftest import new_mobile, sign_in

NEW_AADHAAR = jpeg()
SALARY = PDF + b"% salary certificate\n"


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    ensure_department(backend, "REV")


def returned(
    client: TestClient,
    backend: Backend,
    *,
    fields: list[str] | None = None,
    attachments: list[str] | None = None,
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """An application returned with these marks: (the application, the citizen's and the officer's headers)."""
    mobile = new_mobile()
    citizen = sign_in(client, backend, mobile)
    submitted = apply(client, citizen)
    assert submitted.status_code == 201, submitted.text
    officer = staff_headers(client, backend, StaffRole.OFFICER)
    decision = {
        "action": "return",
        "remarks": "Send a clear Aadhaar copy and a salary certificate; the income looks wrong",
        "fields": ["annual_income"] if fields is None else fields,
        "attachments": ["aadhaar", "income-proof"] if attachments is None else attachments,
    }
    response = client.post(
        f"/api/v1/applications/{submitted.json()['number']}/decisions", json=decision, headers=officer
    )
    assert response.status_code == 200, response.text
    return response.json(), citizen, officer


def answer(
    client: TestClient,
    number: str,
    headers: dict[str, str],
    *,
    form: dict[str, object] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    remarks: str = "Here is what you asked for",
    lang: str = "en",
) -> Any:
    """A multipart answer, as a client with files sends it."""
    data = {"remarks": remarks}
    if form is not None:
        data["form"] = json.dumps(form, ensure_ascii=False)
    return client.post(
        f"/api/v1/applications/{number}/resubmission?lang={lang}",
        data=data,
        files=[(f"attachment.{kind}", file) for kind, file in (files or {}).items()],
        headers=headers,
    )


def attachment_rows(backend: Backend, number: str) -> list[Attachment]:
    with backend.context.sessions() as s:
        application = s.scalar(select(Application).where(Application.number == number))
        assert application is not None
        rows = list(s.scalars(select(Attachment).where(Attachment.application_id == application.id)))
        s.expunge_all()
        return rows


def stored_keys(backend: Backend, number: str) -> set[str]:
    """Every object in the store under the application's folder."""
    with backend.context.sessions() as s:
        application = s.scalar(select(Application).where(Application.number == number))
        assert application is not None
        folder = f"applications/{application.citizen_ref}/{application.id}/"
    return {info.key for info in backend.store.list(folder)}


# --- the officer's marks -------------------------------------------------------------------


def test_a_return_marks_fields_and_documents_and_the_application_says_what_is_asked(
    client: TestClient, backend: Backend
) -> None:
    application, citizen, _ = returned(client, backend, attachments=["income-proof", "aadhaar"])

    mine = client.get(f"/api/v1/applications/{application['number']}", headers=citizen).json()

    assert mine["status"] == "returned"
    # In the catalogue's order, whatever order they were ticked in.
    assert mine["return_request"] == {
        "remarks": "Send a clear Aadhaar copy and a salary certificate; the income looks wrong",
        "fields": ["annual_income"],
        "attachments": ["aadhaar", "income-proof"],
    }
    assert mine["timeline"][-1]["kind"] == "returned"
    assert mine["timeline"][-1]["details"] == {"fields": ["annual_income"], "attachments": ["aadhaar", "income-proof"]}


def test_marks_naming_what_the_service_does_not_declare_are_refused(client: TestClient, backend: Backend) -> None:
    submitted = apply(client, sign_in(client, backend, new_mobile())).json()
    officer = staff_headers(client, backend, StaffRole.OFFICER)
    url = f"/api/v1/applications/{submitted['number']}/decisions"
    remarks = "Send a salary certificate"

    unknown = client.post(
        url,
        json={"action": "return", "remarks": remarks, "fields": ["salary"], "attachments": ["salary_certificate"]},
        headers=officer,
    )
    not_a_return = client.post(url, json={"action": "approve", "fields": ["annual_income"]}, headers=officer)

    assert unknown.status_code == 422
    problems = {f["field"]: f["message"] for f in unknown.json()["fields"]}
    assert set(problems) == {"fields", "attachments"}
    assert "salary" in problems["fields"]
    assert "annual_income" in problems["fields"]  # and what the form's fields are
    assert "salary_certificate" in problems["attachments"]
    assert not_a_return.status_code == 422
    mine = client.get(f"/api/v1/applications/{submitted['number']}", headers=officer).json()
    assert mine["status"] == "submitted"


# --- the citizen's answer ------------------------------------------------------------------


def test_the_answer_replaces_and_adds_documents_and_the_replaced_file_stays_in_the_history(
    client: TestClient, backend: Backend
) -> None:
    application, citizen, officer = returned(client, backend)
    number = application["number"]
    before = {a["kind"]: a for a in application["attachments"]}

    # Submitted two weeks ago and returned a week ago (rather than a clock a week ahead:
    # object storage refuses requests signed at such a time).
    submitted_at = datetime.now(UTC) - timedelta(days=14)
    with backend.context.sessions() as s:
        s.execute(
            update(Application)
            .where(Application.number == number)
            .values(submitted_at=submitted_at, paused_at=datetime.now(UTC) - timedelta(days=7))
            .execution_options(synchronize_session=False)
        )
        s.commit()
    without_pause = backend.context.intake.clock.due_date(submitted_at, 7)

    answered = answer(
        client,
        number,
        citizen,
        form={"annual_income": "1,80,000"},
        files={
            "aadhaar": ("aadhaar-clear.jpg", NEW_AADHAAR, "image/jpeg"),
            "income-proof": ("salary.pdf", SALARY, "application/pdf"),
        },
    )

    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["status"] == "submitted"
    assert body["due_on"] > without_pause.isoformat()  # the clock was paused a week, and resumed
    assert body["form"] == {**INCOME_FORM, "annual_income": 180000}
    assert body["return_request"] is None
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for a in body["attachments"]:
        by_kind.setdefault(a["kind"], []).append(a)
    old_aadhaar = next(a for a in by_kind["aadhaar"] if a["id"] == before["aadhaar"]["id"])
    new_aadhaar = next(a for a in by_kind["aadhaar"] if a["id"] != before["aadhaar"]["id"])
    assert old_aadhaar["replaced_by"] == new_aadhaar["id"]
    assert old_aadhaar["replaced_at"] is not None
    assert new_aadhaar["replaced_at"] is None
    assert new_aadhaar["content_type"] == "image/jpeg"
    assert [a["replaced_at"] for a in by_kind["income-proof"]] == [None]
    assert [a["id"] for a in by_kind["affidavit"]] == [before["affidavit"]["id"]]
    # The officer can open both the replaced file and its replacement.
    url = f"/api/v1/applications/{number}/attachments"
    assert client.get(f"{url}/{old_aadhaar['id']}", headers=officer).content == png()
    assert client.get(f"{url}/{new_aadhaar['id']}", headers=officer).content == NEW_AADHAAR
    entry = body["timeline"][-1]
    assert entry["kind"] == "resubmitted"
    assert entry["remarks"] == "Here is what you asked for"
    assert entry["details"] == {
        "fields": ["annual_income"],
        "previous": {"annual_income": 240000},
        "current": {"annual_income": 180000},
        "attachments": [
            {"kind": "aadhaar", "id": new_aadhaar["id"], "replaced": old_aadhaar["id"]},
            {"kind": "income-proof", "id": by_kind["income-proof"][0]["id"], "replaced": None},
        ],
    }
    # Every object is referenced by a row, and every row has its object.
    assert stored_keys(backend, number) == {a.storage_key for a in attachment_rows(backend, number)}


def test_the_whole_form_may_come_back_but_only_marked_answers_may_change(client: TestClient, backend: Backend) -> None:
    application, citizen, _ = returned(client, backend, attachments=[])
    number = application["number"]

    changed_unmarked = answer(client, number, citizen, form={**INCOME_FORM, "district": "ਪਟਿਆਲਾ"}, lang="pa")
    unknown = answer(client, number, citizen, form={"salary": 5}, lang="hi")
    unmarked_file = answer(
        client, number, citizen, form={"annual_income": 180000}, files={"affidavit": ("a.pdf", PDF, "application/pdf")}
    )
    whole_form = client.post(
        f"/api/v1/applications/{number}/resubmission",
        json={"form": {**INCOME_FORM, "annual_income": "180000", "mobile": "+91 " + INCOME_FORM["mobile"]}},
        headers=citizen,
    )

    assert changed_unmarked.status_code == 422
    assert changed_unmarked.json()["fields"] == [
        {"field": "district", "message": message("not_marked", "pa", label="ਜ਼ਿਲ੍ਹਾ")}
    ]
    assert unknown.status_code == 422
    assert unknown.json()["fields"] == [{"field": "salary", "message": message("unknown", "hi", label="salary")}]
    assert unmarked_file.status_code == 422
    assert unmarked_file.json()["fields"] == [
        {
            "field": "attachments.affidavit",
            "message": message("not_marked", "en", label="Self-declaration of family income"),
        }
    ]
    # The same answers, spelled differently, are no change.
    assert whole_form.status_code == 200, whole_form.text
    assert whole_form.json()["form"]["annual_income"] == 180000
    assert whole_form.json()["timeline"][-1]["details"]["fields"] == ["annual_income"]


def test_an_answer_is_checked_like_a_submission_and_every_problem_is_reported_at_once(
    client: TestClient, backend: Backend
) -> None:
    application, citizen, _ = returned(client, backend)
    number = application["number"]

    everything_wrong = answer(
        client,
        number,
        citizen,
        form={"annual_income": "lots"},
        files={"aadhaar": ("IMG_0001.HEIC", HEIC, "image/heic")},
        lang="pa",
    )
    only_heic = answer(
        client,
        number,
        citizen,
        files={
            "aadhaar": ("IMG_0001.HEIC", HEIC, "image/heic"),
            "income-proof": ("salary.pdf", SALARY, "application/pdf"),
        },
    )
    too_large = answer(
        client,
        number,
        citizen,
        files={
            "aadhaar": ("photo.jpg", jpeg(3 * 1024 * 1024), "image/jpeg"),
            "income-proof": ("salary.pdf", SALARY, "application/pdf"),
        },
    )

    assert everything_wrong.status_code == 422
    problems = {f["field"]: f["message"] for f in everything_wrong.json()["fields"]}
    assert problems == {
        "annual_income": message("not_number", "pa", label="ਸਾਲਾਨਾ ਪਰਿਵਾਰਕ ਆਮਦਨ (ਰੁਪਏ)"),
        "attachments.aadhaar": message("attachment_heic", "pa", label="ਆਧਾਰ ਕਾਰਡ", types="PDF, JPEG, PNG"),
        "attachments.income-proof": message(
            "marked_attachment_required",
            "pa",
            label="ਆਮਦਨ ਦਾ ਸਬੂਤ (ਤਨਖ਼ਾਹ ਸਰਟੀਫਿਕੇਟ, ਆਮਦਨ ਕਰ ਰਿਟਰਨ ਜਾਂ ਪੈਨਸ਼ਨ ਸਲਿੱਪ)",
        ),
    }
    assert only_heic.status_code == 415
    assert "HEIC" in only_heic.json()["fields"][0]["message"]
    assert too_large.status_code == 413
    assert too_large.json()["fields"][0]["message"] == message(
        "attachment_too_large", "en", label="Aadhaar card", size="3 MB", limit="2 MB"
    )
    # Nothing changed: still returned, the same files, no object left behind.
    mine = client.get(f"/api/v1/applications/{number}", headers=citizen).json()
    assert mine["status"] == "returned"
    assert len(mine["attachments"]) == 2
    assert stored_keys(backend, number) == {a.storage_key for a in attachment_rows(backend, number)}


def test_a_storage_outage_during_an_answer_is_503_and_leaves_nothing_half_written(
    client: TestClient, backend: Backend, tmp_path: Path
) -> None:
    application, citizen, _ = returned(client, backend)
    number = application["number"]
    keys_before = stored_keys(backend, number)
    store = unreachable_store(backend, tmp_path)
    broken = replace(backend.context, store=store, intake=replace(backend.context.intake, store=store))

    with TestClient(create_app(context=broken), client=client_address(), raise_server_exceptions=False) as outage:
        response = answer(
            outage,
            number,
            citizen,
            form={"annual_income": 180000},
            files={
                "aadhaar": ("a.jpg", NEW_AADHAAR, "image/jpeg"),
                "income-proof": ("s.pdf", SALARY, "application/pdf"),
            },
        )

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    mine = client.get(f"/api/v1/applications/{number}", headers=citizen).json()
    assert mine["status"] == "returned"
    assert mine["version"] == application["version"]
    assert mine["form"]["annual_income"] == INCOME_FORM["annual_income"]
    assert [e["kind"] for e in mine["timeline"]] == ["submitted", "returned"]
    assert all(a["replaced_at"] is None for a in mine["attachments"])
    assert len(attachment_rows(backend, number)) == 2
    assert stored_keys(backend, number) == keys_before
    # Once the store is back, the same answer goes through.
    again = answer(
        client,
        number,
        citizen,
        form={"annual_income": 180000},
        files={"aadhaar": ("a.jpg", NEW_AADHAAR, "image/jpeg"), "income-proof": ("s.pdf", SALARY, "application/pdf")},
    )
    assert again.status_code == 200, again.text


def test_only_the_applicant_answers_and_only_while_it_is_returned(client: TestClient, backend: Backend) -> None:
    application, citizen, officer = returned(client, backend, attachments=[])
    number = application["number"]
    stranger = sign_in(client, backend, new_mobile())

    by_stranger = answer(client, number, stranger, form={"annual_income": 1})
    by_officer = answer(client, number, officer, form={"annual_income": 1})
    first = answer(client, number, citizen, form={"annual_income": 180000})
    second = answer(client, number, citizen, form={"annual_income": 170000})

    assert by_stranger.status_code == 404
    assert by_officer.status_code == 403
    assert first.status_code == 200
    assert second.status_code == 409
    with backend.context.sessions() as s:
        kinds = list(
            s.scalars(
                select(ApplicationEvent.kind)
                .join(Application, Application.id == ApplicationEvent.application_id)
                .where(Application.number == number)
            )
        )
        assert (
            s.scalar(select(func.count()).select_from(Attachment).join(Application).where(Application.number == number))
            == 2
        )
    assert kinds.count("resubmitted") == 1


def test_the_api_documents_the_marks_and_both_kinds_of_answer(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    answer_body = schema["paths"]["/api/v1/applications/{number}/resubmission"]["post"]["requestBody"]
    decision = schema["components"]["schemas"]["DecisionCreate"]["properties"]
    assert set(answer_body["content"]) == {"application/json", "multipart/form-data"}
    assert "attachment.<kind>" in answer_body["content"]["multipart/form-data"]["schema"]["properties"]
    assert {"fields", "attachments"} <= set(decision)
    assert "return_request" in schema["components"]["schemas"]["ApplicationRead"]["properties"]
