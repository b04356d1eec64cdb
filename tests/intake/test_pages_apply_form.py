"""The application form as a citizen on a phone meets it: every problem at once, what was
typed and the files chosen kept across a refusal, answers written the usual ways
(2025-2026, 1,80,000, +91 98765 43210), and a photo too large or in HEIC explained."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accounts.models import StaffRole
from app.factory import create_app
from intake.applications import attachment_bytes, find_orphans
from intake.form_messages import message
from intake.i18n import MESSAGES
from intake.models import Application, Attachment, PendingUpload
from intake.pending_uploads import KEEP_FOR
from tests.conftest import Backend, client_address
from tests.intake.helpers import HEIC, INCOME_FORM, PDF, ensure_department, income_files, jpeg, png
from tests.intake.test_pages import (
    PA,
    applications_of,
    apply_with_page,
    assert_page,
    citizen,
    elements,
    field_error,
    form_fields,
    named,
    staff_client,
    stored,
    summary_links,
)
from tests.issuer.test_outages import unreachable_store
from tests.locker.conftest import new_mobile, sign_in_with_forms
from tests.locker.test_pages import another_client, csrf_of

HI = MESSAGES.translator("hi")


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    ensure_department(backend, "REV")


def kept_tokens(page: httpx.Response) -> dict[str, str]:
    return {
        attrs["name"].removeprefix("kept."): attrs["value"]
        for tag, attrs in elements(page)
        if tag == "input" and attrs.get("name", "").startswith("kept.")
    }


def pending_keys(backend: Backend, mobile: str) -> set[str]:
    with backend.context.sessions() as s:
        return set(s.scalars(select(PendingUpload.storage_key).where(PendingUpload.owner == f"citizen:{mobile}")))


def test_answers_written_the_usual_ways_are_accepted_and_stored_one_way(client: TestClient, backend: Backend) -> None:
    citizen(client, backend)
    page = client.get("/apply/rev-income")
    form = {**INCOME_FORM, "financial_year": "FY 2025-2026", "annual_income": "1,80,000", "mobile": "+91 98765 43210"}

    # Nothing on the form cuts an answer short: the service says what is too long.
    assert all("maxlength" not in attrs for tag, attrs in elements(page) if tag == "input")
    assert named(page, "field.mobile")[1]["inputmode"] == "tel"  # a keypad with +
    response = apply_with_page(client, form=form)

    assert response.status_code == 303, response.text
    number = response.headers["location"].split("/")[2]
    answers = stored(backend, number).form
    assert (answers["financial_year"], answers["annual_income"], answers["mobile"]) == ("2025-26", 180000, "9876543210")


def test_a_financial_year_that_is_no_such_thing_is_explained_in_punjabi(client: TestClient, backend: Backend) -> None:
    mobile = citizen(client, backend)

    response = apply_with_page(client, form={**INCOME_FORM, "financial_year": "2025-27"}, lang="pa")

    assert_page(response, 422, '<html lang="pa">')
    assert field_error(response, "field-financial_year") == message(
        "financial_year_not_consecutive", "pa", label="ਵਿੱਤੀ ਸਾਲ", example="2025-26"
    )
    assert named(response, "field.financial_year")[1]["value"] == "2025-27"
    assert applications_of(backend, mobile) == 0


def test_every_problem_is_listed_at_once_and_the_chosen_files_are_kept_for_the_next_attempt(
    client: TestClient, backend: Backend
) -> None:
    mobile = citizen(client, backend)
    page = client.get("/apply/rev-income?lang=hi")
    wrong = {**INCOME_FORM, "annual_income": "lots"}

    refused = client.post(
        "/apply/rev-income",
        data=form_fields(csrf_of(page), wrong),
        files=income_files(affidavit=None, **{"income-proof": ("salary.pdf", PDF, "application/pdf")}),
    )

    # The missing document is reported with the wrong answer, not after it is fixed.
    assert_page(refused, 422, HI("apply.problem_title"))
    assert summary_links(refused) == ["#field-annual_income", "#attachment-affidavit"]
    tokens = kept_tokens(refused)
    assert set(tokens) == {"aadhaar", "income-proof"}
    assert HI("apply.kept_file", filename="aadhaar.png", size="1 KB") in refused.text
    assert "required" not in named(refused, "attachment.aadhaar")[1]  # kept: need not be chosen again
    assert "required" in named(refused, "attachment.affidavit")[1]
    assert HI("apply.files_again") not in refused.text

    # Another citizen cannot use the tokens; they name nothing for them.
    with another_client(backend) as other:
        citizen(other, backend)
        other_page = other.get("/apply/rev-income")
        stolen = other.post(
            "/apply/rev-income",
            data={**form_fields(csrf_of(other_page)), **{f"kept.{k}": v for k, v in tokens.items()}},
            files=income_files(aadhaar=None, affidavit=("a.pdf", PDF, "application/pdf")),
        )
        assert_page(stolen, 422)
        assert field_error(stolen, "attachment-aadhaar") is not None

    kept_objects = pending_keys(backend, mobile)
    answered = client.post(
        "/apply/rev-income",
        data={**form_fields(csrf_of(refused)), **{f"kept.{k}": v for k, v in tokens.items()}},
        files=income_files(aadhaar=None),  # only the missing affidavit is chosen now
        follow_redirects=False,
    )

    assert answered.status_code == 303, answered.text
    number = answered.headers["location"].split("/")[2]
    with backend.context.sessions() as s:
        application = s.scalar(select(Application).where(Application.number == number))
        assert application is not None
        files = {a.kind: a for a in s.scalars(select(Attachment).where(Attachment.application_id == application.id))}
        assert set(files) == {"aadhaar", "affidavit", "income-proof"}
        assert attachment_bytes(backend.store, files["aadhaar"]) == png()
        assert attachment_bytes(backend.store, files["income-proof"]) == PDF
        assert files["income-proof"].filename == "salary.pdf"
    # Used, the kept files are gone: their rows in the commit, their objects after it.
    assert len(kept_objects) == 2
    assert pending_keys(backend, mobile) == set()
    assert not kept_objects & {info.key for info in backend.store.list("applications/pending/")}


def test_a_kept_file_is_left_to_fsck_once_it_expires(client: TestClient, backend: Backend) -> None:
    mobile = citizen(client, backend)
    refused = apply_with_page(client, form={**INCOME_FORM, "annual_income": "lots"})
    assert_page(refused, 422)
    with backend.context.sessions() as s:
        rows = list(s.scalars(select(PendingUpload).where(PendingUpload.owner == f"citizen:{mobile}")))
        keys = {row.storage_key for row in rows}
        assert len(keys) == 2
        assert all(backend.store.get(key) for key in keys)
        soon = find_orphans(s, backend.store, now=datetime.now(UTC) + timedelta(hours=1))
        later = find_orphans(s, backend.store, now=datetime.now(UTC) + KEEP_FOR + timedelta(hours=2))
    assert not keys & set(soon)  # still good for the next attempt
    assert keys <= set(later)


@pytest.mark.parametrize("lang", ["pa", "hi", "en"])
def test_a_heic_photo_and_one_too_large_are_explained_and_the_rest_is_kept(
    client: TestClient, backend: Backend, lang: str
) -> None:
    mobile = citizen(client, backend)
    t = MESSAGES.translator(lang)
    service = backend.context.intake.catalogue["rev-income"]
    labels = {a.kind: getattr(a.label, lang) for a in service.attachments}
    # A phone photo of 12 MB: over the document's 2 MB limit (larger bodies stop at the
    # server's own upload limit before any page).
    photo = jpeg(12 * 1024 * 1024)

    response = apply_with_page(
        client,
        files=income_files(
            aadhaar=("IMG_0001.HEIC", HEIC, "image/heic"),
            affidavit=("affidavit.jpg", photo, "image/jpeg"),
            **{"income-proof": ("salary.pdf", PDF, "application/pdf")},
        ),
        lang=lang,
    )

    assert_page(response, 422, f'<html lang="{lang}">', t("apply.problem_title"))
    assert field_error(response, "attachment-aadhaar") == message(
        "attachment_heic",
        lang,
        label=labels["aadhaar"],
        types="PDF, JPEG, PNG",  # type: ignore[arg-type]
    )
    assert field_error(response, "attachment-affidavit") == message(
        "attachment_too_large",
        lang,
        label=labels["affidavit"],
        size="12 MB",
        limit="2 MB",  # type: ignore[arg-type]
    )
    assert named(response, "field.applicant_name")[1]["value"] == INCOME_FORM["applicant_name"]
    assert named(response, "field.address")[1]["value"] == INCOME_FORM["address"]
    assert set(kept_tokens(response)) == {"income-proof"}
    assert applications_of(backend, mobile) == 0


def test_when_files_cannot_be_kept_the_page_says_to_choose_them_again(backend: Backend, tmp_path: Path) -> None:
    store = unreachable_store(backend, tmp_path)
    broken = replace(backend.context, store=store, intake=replace(backend.context.intake, store=store))
    with TestClient(create_app(context=broken), client=client_address()) as outage:
        sign_in_with_forms(outage, backend, new_mobile())
        page = outage.get("/apply/rev-income?lang=pa")
        refused = outage.post(
            "/apply/rev-income",
            data=form_fields(csrf_of(page), {**INCOME_FORM, "annual_income": "lots"}),
            files=income_files(),
        )

    assert_page(refused, 422, PA("apply.files_again"))
    assert kept_tokens(refused) == {}
    assert named(refused, "field.address")[1]["value"] == INCOME_FORM["address"]
    assert re.search("[\u0a00-\u0a7f]", field_error(refused, "field-annual_income") or "")


def test_at_the_counter_the_files_are_kept_for_the_operator(backend: Backend) -> None:
    mobile = new_mobile()
    with staff_client(backend, StaffRole.OPERATOR) as operator:
        form = operator.get("/desk/apply/rev-income")
        data = {**form_fields(csrf_of(form)), "channel": "sewa_kendra", "citizen_mobile": f"+91 {mobile}"}
        refused = operator.post(
            "/desk/apply/rev-income", data={**data, "field.annual_income": "lots"}, files=income_files()
        )
        tokens = kept_tokens(refused)
        done = operator.post(
            "/desk/apply/rev-income",
            data={**data, "csrf": csrf_of(refused), **{f"kept.{k}": v for k, v in tokens.items()}, "step": "submit"},
            follow_redirects=False,
        )

    assert_page(refused, 422)
    assert set(tokens) == {"aadhaar", "affidavit"}
    assert named(refused, "citizen_mobile")[1]["value"] == f"+91 {mobile}"
    assert done.status_code == 303, done.text
    assert applications_of(backend, mobile) == 1
