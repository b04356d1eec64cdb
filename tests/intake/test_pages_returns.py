"""Answering a return through the pages: the officer ticks what must change, the citizen's
page offers exactly that (in English, Punjabi and Hindi), the answer brings a new file,
and the officer sees what changed and the file it replaced."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accounts.models import StaffRole
from intake.applications import attachment_bytes
from intake.form_messages import message
from intake.i18n import MESSAGES
from intake.models import Application, ApplicationEvent, Attachment, PendingUpload
from tests.conftest import Backend
from tests.intake.helpers import HEIC, INCOME_FORM, PDF, ensure_department, jpeg, png
from tests.intake.test_pages import (
    EN,
    PA,
    applied,
    assert_page,
    elements,
    field_error,
    named,
    staff_client,
    stored,
    summary_links,
)
from tests.locker.test_pages import csrf_of

SALARY = PDF + b"% salary certificate\n"
REMARKS = "ਆਧਾਰ ਦੀ ਸਾਫ਼ ਕਾਪੀ ਅਤੇ ਤਨਖ਼ਾਹ ਸਰਟੀਫਿਕੇਟ ਭੇਜੋ"
MARKS = ["field.annual_income", "attachment.aadhaar", "attachment.income-proof"]


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    ensure_department(backend, "REV")


@pytest.fixture
def officer(backend: Backend) -> Iterator[TestClient]:
    with staff_client(backend, StaffRole.OFFICER, office="TEH-SMR") as c:
        yield c


def return_with_marks(officer: TestClient, number: str, marks: list[str], remarks: str = REMARKS) -> httpx.Response:
    page = officer.get(f"/desk/applications/{number}")
    assert_page(page, 200)
    version = re.findall(r'name="version" value="(\d+)"', page.text)[0]
    return officer.post(
        f"/desk/applications/{number}/decisions",
        data={"csrf": csrf_of(page), "action": "return", "remarks": remarks, "version": version, "mark": marks},
        follow_redirects=False,
    )


def returned(client: TestClient, backend: Backend, officer: TestClient, marks: list[str] = MARKS) -> str:
    _, number = applied(client, backend)
    assert return_with_marks(officer, number, marks).status_code == 303
    return number


def answer(
    client: TestClient,
    number: str,
    *,
    fields: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    kept: dict[str, str] | None = None,
    remarks: str = "",
    lang: str = "en",
) -> httpx.Response:
    page = client.get(f"/applications/{number}?lang={lang}")
    data = {
        "csrf": csrf_of(page),
        "remarks": remarks,
        **{f"field.{k}": v for k, v in (fields or {}).items()},
        **{f"kept.{k}": v for k, v in (kept or {}).items()},
    }
    return client.post(
        f"/applications/{number}/resubmit?lang={lang}",
        data=data,
        files=[(f"attachment.{k}", f) for k, f in (files or {}).items()] or [("attachment.none", ("", b"", ""))],
        follow_redirects=False,
    )


def kept_token(page: httpx.Response, kind: str) -> str:
    return named(page, f"kept.{kind}")[1]["value"]


# --- the officer ticks what must change ------------------------------------------------------------


def test_the_return_form_offers_every_field_and_document_and_keeps_the_ticks_when_refused(
    client: TestClient, backend: Backend, officer: TestClient
) -> None:
    _, number = applied(client, backend)
    service = backend.context.intake.catalogue["rev-income"]

    page = officer.get(f"/desk/applications/{number}")
    no_remarks = return_with_marks(officer, number, MARKS, remarks=" ")
    done = return_with_marks(officer, number, MARKS)

    boxes = [a["value"] for tag, a in elements(page) if tag == "input" and a.get("type") == "checkbox"]
    assert boxes == [f"field.{f.name}" for f in service.fields] + [f"attachment.{a.kind}" for a in service.attachments]
    assert_page(page, 200, EN("desk.return_fields"), EN("desk.return_attachments"), "aadhaar.png", "240000")
    assert re.search(r'id="mark-attachment-income-proof".*?' + re.escape(EN("desk.not_uploaded")), page.text, re.S)
    assert_page(no_remarks, 422, EN("desk.remarks_required.return"))
    ticked = [a["value"] for tag, a in elements(no_remarks) if tag == "input" and "checked" in a]
    assert ticked == MARKS
    assert done.headers["location"] == f"/desk/applications/{number}?done=return"
    with backend.context.sessions() as s:
        event = s.scalars(
            select(ApplicationEvent).where(ApplicationEvent.kind == "returned").order_by(ApplicationEvent.id.desc())
        ).first()
        assert event is not None
        assert event.details == {"fields": ["annual_income"], "attachments": ["aadhaar", "income-proof"]}
    desk = officer.get(f"/desk/applications/{number}")
    assert_page(desk, 200, EN("step.asked_fields", names="Annual family income (Rs)"))


# --- the citizen's page ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "pa", "hi"])
def test_a_returned_application_shows_the_remarks_only_the_marked_fields_and_an_upload_for_each_document(
    client: TestClient, backend: Backend, officer: TestClient, lang: str
) -> None:
    number = returned(client, backend, officer)
    service = backend.context.intake.catalogue["rev-income"]
    t = MESSAGES.translator(lang)
    income = next(f for f in service.fields if f.name == "annual_income")
    aadhaar, proof = (next(a for a in service.attachments if a.kind == k) for k in ("aadhaar", "income-proof"))

    page = client.get(f"/applications/{number}?lang={lang}")

    assert_page(
        page, 200, f'<html lang="{lang}">', t("application.returned_title"), REMARKS, t("application.correct_fields")
    )
    assert_page(page, 200, getattr(income.label, lang), getattr(aadhaar.label, lang), getattr(proof.label, lang))
    controls = [a["name"] for tag, a in elements(page) if a.get("name", "").startswith(("field.", "attachment."))]
    assert controls == ["field.annual_income", "attachment.aadhaar", "attachment.income-proof"]
    assert named(page, "field.annual_income")[1]["value"] == "240000"  # the current answer, to correct
    for kind in ("aadhaar", "income-proof"):
        _, attrs = named(page, f"attachment.{kind}")
        assert attrs["type"] == "file"
        assert "required" in attrs
    assert t("application.sent_file", filename="aadhaar.png") in page.text  # what the new file replaces
    assert 'data-testid="sent-income-proof"' not in page.text  # never sent: this one is added
    assert 'enctype="multipart/form-data"' in page.text
    assert "<script" not in page.text


def test_the_citizen_answers_with_a_new_file_and_the_officer_sees_what_changed(
    client: TestClient, backend: Backend, officer: TestClient
) -> None:
    number = returned(client, backend, officer)

    answered = answer(
        client,
        number,
        fields={"annual_income": "1,80,000"},
        files={
            "aadhaar": ("aadhaar-clear.jpg", jpeg(), "image/jpeg"),
            "income-proof": ("salary.pdf", SALARY, "application/pdf"),
        },
        remarks="Clear copy attached",
        lang="pa",
    )

    assert answered.status_code == 303, answered.text
    assert answered.headers["location"] == f"/applications/{number}?done=resubmitted"
    application = stored(backend, number)
    assert application.status == "submitted"
    assert application.form["annual_income"] == 180000
    mine = client.get(answered.headers["location"])
    assert_page(
        mine,
        200,
        PA("application.resubmitted_notice"),  # the page stays in the language it was answered in
        "Clear copy attached",
        PA("step.corrected", names="ਸਾਲਾਨਾ ਪਰਿਵਾਰਕ ਆਮਦਨ (ਰੁਪਏ)"),
    )
    assert 'data-testid="resubmit"' not in mine.text

    desk = officer.get(f"/desk/applications/{number}")
    assert_page(
        desk,
        200,
        "Clear copy attached",
        EN("step.changed_value", label="Annual family income (Rs)", before="240000", after="180000"),
    )
    assert_page(
        desk,
        200,
        EN("step.replaced", names="Aadhaar card"),
        EN("step.added", names=desk_label(backend, "income-proof")),
    )
    links = re.findall(
        r'<li class="card item( replaced)?".*?<a href="([^"]+)" data-kind="([^"]+)" download>', desk.text, re.S
    )
    assert [(kind, bool(replaced)) for replaced, _, kind in links] == [
        ("aadhaar", False),
        ("affidavit", False),
        ("income-proof", False),
        ("aadhaar", True),
    ]
    assert officer.get(links[0][1]).content == jpeg()
    assert officer.get(links[3][1]).content == png()  # the replaced file, still there


def desk_label(backend: Backend, kind: str) -> str:
    service = backend.context.intake.catalogue["rev-income"]
    return next(a.label.en for a in service.attachments if a.kind == kind)


def test_a_refused_answer_keeps_what_was_typed_and_the_chosen_files(
    client: TestClient, backend: Backend, officer: TestClient
) -> None:
    number = returned(client, backend, officer)

    refused = answer(
        client,
        number,
        fields={"annual_income": "lots"},
        files={
            "aadhaar": ("IMG_0001.HEIC", HEIC, "image/heic"),
            "income-proof": ("salary.pdf", SALARY, "application/pdf"),
        },
        remarks="See the salary certificate",
        lang="hi",
    )

    assert_page(refused, 422, '<html lang="hi">', MESSAGES.translator("hi")("apply.problem_title"))
    assert field_error(refused, "field-annual_income") == message("not_number", "hi", label="वार्षिक पारिवारिक आय (रुपये)")
    assert "HEIC" in (field_error(refused, "attachment-aadhaar") or "")
    assert summary_links(refused) == ["#field-annual_income", "#attachment-aadhaar"]
    assert named(refused, "field.annual_income")[1]["value"] == "lots"
    assert "See the salary certificate" in refused.text
    token = kept_token(refused, "income-proof")  # the valid file is kept; the HEIC one is not
    assert "salary.pdf" in refused.text
    assert "required" not in named(refused, "attachment.income-proof")[1]
    assert stored(backend, number).status == "returned"

    answered = answer(
        client,
        number,
        fields={"annual_income": "180000"},
        files={"aadhaar": ("aadhaar.jpg", jpeg(), "image/jpeg")},
        kept={"income-proof": token},
    )

    assert answered.status_code == 303, answered.text
    with backend.context.sessions() as s:
        application = s.scalar(select(Application).where(Application.number == number))
        assert application is not None
        proof = s.scalar(
            select(Attachment).where(Attachment.application_id == application.id, Attachment.kind == "income-proof")
        )
        assert proof is not None
        assert attachment_bytes(backend.store, proof) == SALARY
        assert proof.filename == "salary.pdf"
        assert s.scalar(select(PendingUpload).where(PendingUpload.owner == f"citizen:{application.mobile}")) is None


def test_a_return_that_marked_nothing_is_answered_in_words(
    client: TestClient, backend: Backend, officer: TestClient
) -> None:
    number = returned(client, backend, officer, marks=[])

    page = client.get(f"/applications/{number}")
    empty = answer(client, number, remarks=" ")
    changed = answer(client, number, fields={"annual_income": "1"}, remarks="Given at the tehsil")

    assert 'data-testid="marked-fields"' not in page.text
    assert 'data-testid="marked-attachments"' not in page.text
    assert_page(empty, 422, EN("application.remarks_required"))
    assert changed.status_code == 303  # an answer to a field nobody marked is not read
    assert stored(backend, number).form["annual_income"] == INCOME_FORM["annual_income"]
