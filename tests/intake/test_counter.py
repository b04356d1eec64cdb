"""The Sewa Kendra counter's frictions: one mobile number per application, the warning
before filing an identical application twice, the citizen's language for notices through
the API, and the pages an operator prints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from accounts.models import StaffRole
from intake.duplicates import find_duplicate
from intake.i18n import MESSAGES
from intake.models import Application, Notification
from intake.printing import PRINTABLE_CSP
from tests.conftest import Backend
from tests.intake.helpers import INCOME_FORM, apply, ensure_department, income_files, staff_headers
from tests.intake.test_pages import (
    applications_of,
    assert_page,
    elements,
    form_fields,
    hidden_fields,
    staff_client,
    stored,
)
from tests.locker.conftest import new_mobile
from tests.locker.test_pages import csrf_of

EN, PA = MESSAGES.translator("en"), MESSAGES.translator("pa")
WITHOUT_MOBILE = {name: value for name, value in INCOME_FORM.items() if name != "mobile"}


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    ensure_department(backend, "REV")


def check_at_counter(operator: TestClient, mobile: str, **changes: str) -> httpx.Response:
    """The counter's form for the income certificate, filled and sent to be checked."""
    form = operator.get("/desk/apply/rev-income")
    data = {**form_fields(csrf_of(form)), "citizen_mobile": mobile, "channel": "sewa_kendra", **changes}
    return operator.post("/desk/apply/rev-income", data=data, files=income_files(), follow_redirects=False)


def file_at_counter(operator: TestClient, check: httpx.Response, **changes: str) -> httpx.Response:
    return operator.post(
        "/desk/apply/rev-income",
        data={**hidden_fields(check), "step": "submit", **changes},
        follow_redirects=False,
    )


def number_of(filed: httpx.Response) -> str:
    assert filed.status_code == 303, filed.text
    return filed.headers["location"].rsplit("/", 1)[1]


# --- one mobile number --------------------------------------------------------------------------


def test_the_counter_asks_for_the_mobile_number_once_and_files_under_it(backend: Backend) -> None:
    mobile = new_mobile()
    with staff_client(backend, StaffRole.OPERATOR) as operator:
        form = operator.get("/desk/apply/rev-income")
        names = {attrs.get("name") for _, attrs in elements(form)}
        # The form's own "mobile number" question would be a second box that could disagree.
        check = check_at_counter(operator, f"+91 {mobile}", **{"field.mobile": "9000000001"})
        filed = file_at_counter(operator, check, **{"field.mobile": "9000000002"})

    assert "citizen_mobile" in names
    assert "field.mobile" not in names
    assert_page(check, 200, EN("check.title"))
    application = stored(backend, number_of(filed))
    assert application.mobile == mobile
    assert application.form["mobile"] == mobile


def test_through_the_api_the_forms_mobile_must_be_the_citizens(client: TestClient, backend: Backend) -> None:
    operator = staff_headers(client, backend, StaffRole.OPERATOR)
    mobile = new_mobile()

    other = apply(client, operator, form={**INCOME_FORM, "mobile": new_mobile()}, mobile=mobile, lang="pa")
    same = apply(client, operator, form={**INCOME_FORM, "mobile": f"0{mobile}"}, mobile=mobile)

    assert other.status_code == 422, other.text
    assert other.json()["fields"] == [
        {"field": "mobile", "message": "ਮੋਬਾਈਲ ਨੰਬਰ ਵਿੱਚ ਇਸ ਅਰਜ਼ੀ ਲਈ ਦਿੱਤਾ ਨਾਗਰਿਕ ਦਾ ਮੋਬਾਈਲ ਨੰਬਰ ਹੀ ਭਰੋ"}
    ]
    assert same.status_code == 201, same.text
    assert same.json()["form"]["mobile"] == mobile


# --- the duplicate warning ----------------------------------------------------------------------


def test_an_identical_application_is_filed_again_only_when_the_operator_confirms(backend: Backend) -> None:
    mobile = new_mobile()
    with staff_client(backend, StaffRole.OPERATOR) as operator:
        first = number_of(file_at_counter(operator, check_at_counter(operator, mobile)))
        check = check_at_counter(operator, mobile)
        unconfirmed = file_at_counter(operator, check)
        confirmed = file_at_counter(operator, unconfirmed, confirm_duplicate="yes")
        # Another purpose is another application: no warning.
        different = check_at_counter(operator, mobile, **{"field.purpose": "Bank loan"})
        existing = operator.get(f"/desk/receipts/{quote(first, safe='')}")

    assert_page(check, 200, EN("check.duplicate.title"), first, EN("status.submitted"))
    assert f'href="/desk/receipts/{first}"' in check.text
    assert 'name="confirm_duplicate"' in check.text
    # Submitted without ticking the box: nothing filed, the same page again, saying why.
    assert_page(unconfirmed, 409, EN("check.duplicate.must_confirm"), first)
    assert 'aria-invalid="true"' in unconfirmed.text
    second = number_of(confirmed)
    assert second != first
    assert applications_of(backend, mobile) == 2
    assert_page(different, 200, EN("check.title"))
    assert 'data-testid="duplicate"' not in different.text
    assert_page(existing, 200, first)


def test_the_api_answers_409_with_the_existing_number_unless_confirmed(client: TestClient, backend: Backend) -> None:
    operator = staff_headers(client, backend, StaffRole.OPERATOR)
    mobile = new_mobile()

    first = apply(client, operator, form=WITHOUT_MOBILE, mobile=mobile)
    again = apply(client, operator, form=WITHOUT_MOBILE, mobile=f"+91 {mobile}")
    confirmed = apply(client, operator, form=WITHOUT_MOBILE, mobile=mobile, confirm_duplicate="true")

    assert first.status_code == 201, first.text
    assert again.status_code == 409, again.text
    body = again.json()
    assert body["error"] == "duplicate_application"
    assert body["existing_number"] == first.json()["number"]
    assert first.json()["number"] in body["detail"]
    assert confirmed.status_code == 201, confirmed.text
    assert applications_of(backend, mobile) == 2


def test_only_applications_within_the_window_count_as_duplicates(client: TestClient, backend: Backend) -> None:
    operator = staff_headers(client, backend, StaffRole.OPERATOR)
    mobile = new_mobile()
    number = apply(client, operator, form=WITHOUT_MOBILE, mobile=mobile).json()["number"]
    now = datetime.now(UTC)
    answers = stored(backend, number).form

    with backend.context.sessions() as s:
        found = find_duplicate(s, service_code="rev-income", mobile=mobile, answers=answers, now=now)
        found_number = found.number if found else None
        other_service = find_duplicate(s, service_code="rev-residence", mobile=mobile, answers=answers, now=now)
        switched_off = find_duplicate(
            s, service_code="rev-income", mobile=mobile, answers=answers, now=now, window=timedelta(0)
        )
        s.execute(update(Application).where(Application.number == number).values(submitted_at=now - timedelta(days=31)))
        too_old = find_duplicate(s, service_code="rev-income", mobile=mobile, answers=answers, now=now)
        s.rollback()

    assert found_number == number
    assert other_service is None
    assert switched_off is None
    assert too_old is None


# --- the citizen's language through the API -----------------------------------------------------


def test_an_operator_chooses_the_citizens_language_for_notices(client: TestClient, backend: Backend) -> None:
    operator = staff_headers(client, backend, StaffRole.OPERATOR)
    mobile = new_mobile()

    filed = apply(client, operator, form=WITHOUT_MOBILE, mobile=mobile, citizen_language="pa")
    bad = apply(client, operator, form=WITHOUT_MOBILE, mobile=new_mobile(), citizen_language="fr")

    assert filed.status_code == 201, filed.text
    assert filed.json()["language"] == "pa"
    with backend.context.sessions() as s:
        notice = s.scalar(
            select(Notification.body)
            .join(Application, Application.id == Notification.application_id)
            .where(Application.number == filed.json()["number"])
        )
    assert notice is not None
    assert "ਅਰਜ਼ੀ" in notice  # Punjabi, whatever the operator's English request
    assert bad.status_code == 422
    assert bad.json()["fields"][0]["field"] == "citizen_language"


# --- printing -----------------------------------------------------------------------------------


def test_the_receipt_and_the_check_page_have_a_print_button_and_print_on_a4(
    client: TestClient, backend: Backend
) -> None:
    with staff_client(backend, StaffRole.OPERATOR) as operator:
        check = check_at_counter(operator, new_mobile())
        receipt = operator.get(file_at_counter(operator, check).headers["location"])
        script = operator.get("/static/intake/print.js")
        stylesheet = operator.get("/static/intake/intake.css")

    for page in (check, receipt):
        assert_page(page, 200, EN("print.button"), '<script type="module" src="/static/intake/print.js"></script>')
        # Without the script the button would do nothing, so it starts hidden.
        assert next(a for t, a in elements(page) if t == "button" and "data-print" in a).get("hidden") == ""
        assert page.headers["content-security-policy"] == PRINTABLE_CSP
    assert "script-src 'self'" in PRINTABLE_CSP
    assert "unsafe-inline" not in PRINTABLE_CSP
    assert script.status_code == 200
    assert "window.print()" in script.text
    assert "@page { size: A4" in stylesheet.text
    assert "@media print" in stylesheet.text
