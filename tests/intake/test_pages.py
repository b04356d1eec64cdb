"""The intake pages: applying with the generated form, the receipt, tracking, the
citizen's applications, the desk (queue, decisions), the operator's counter, pendency."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select, update

from accounts.cookies import STAFF_COOKIE
from accounts.models import StaffRole
from accounts.staff import add_staff
from app.factory import create_app
from intake.form_messages import message
from intake.i18n import MESSAGES
from intake.models import Application, ApplicationStatus, IntakeChannel
from sanad.clock import today_in_india
from tests.conftest import Backend, client_address
from tests.intake.helpers import INCOME_FORM, PASSWORD, PDF, ensure_department, income_files, png
from tests.locker.conftest import new_mobile, sign_in_with_forms
from tests.locker.test_pages import another_client, csrf_of
from web.templates import month_names

EN, PA, HI = MESSAGES.translator("en"), MESSAGES.translator("pa"), MESSAGES.translator("hi")
PA_LABELS = {
    "applicant_name": "ਬਿਨੈਕਾਰ ਦਾ ਨਾਮ (ਗੁਰਮੁਖੀ ਵਿੱਚ)",
    "relation": "ਸੰਬੰਧ",
    "annual_income": "ਸਾਲਾਨਾ ਪਰਿਵਾਰਕ ਆਮਦਨ (ਰੁਪਏ)",
    "financial_year": "ਵਿੱਤੀ ਸਾਲ",
}


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    for code in ("REV", "LG", "TPT"):
        ensure_department(backend, code)


# --- helpers ---------------------------------------------------------------------------------------


def assert_page(response: httpx.Response, status_code: int, *texts: str) -> None:
    """A page (never the API's JSON) with this status, showing every one of ``texts``
    (as written, or as the template escapes them)."""
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    for text in texts:
        assert text in response.text or str(escape(text)) in response.text, f"{text!r} not on the page"


class _Elements(HTMLParser):
    """Every start tag of a page with its attributes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def elements(page: httpx.Response) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(page.text)
    return parser.found


def applications_of(backend: Backend, mobile: str) -> int:
    with backend.context.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Application).where(Application.mobile == mobile)) or 0)


def hidden_fields(page: httpx.Response) -> dict[str, str]:
    """What a page's hidden inputs post."""
    return {
        attrs["name"]: attrs.get("value", "")
        for tag, attrs in elements(page)
        if tag == "input" and attrs.get("type") == "hidden" and "name" in attrs
    }


def named(page: httpx.Response, name: str) -> tuple[str, dict[str, str]]:
    """The one form control called ``name``."""
    matches = [(tag, attrs) for tag, attrs in elements(page) if attrs.get("name") == name]
    assert len(matches) == 1, f"{len(matches)} controls named {name!r}"
    return matches[0]


def field_error(page: httpx.Response, input_id: str) -> str | None:
    """The message printed next to the control with ``input_id``."""
    match = re.search(rf'<p class="field-error" id="{re.escape(input_id)}-error">([^<]*)</p>', page.text)
    return unescape(match.group(1)) if match else None


def summary_links(page: httpx.Response) -> list[str]:
    """Where the links of the list of problems on top of a refused form lead, in order."""
    match = re.search(r'<div class="error-summary".*?</div>', page.text, re.S)
    assert match, "the page lists no problems on top"
    return re.findall(r'<a href="([^"]+)">', match.group(0))


def problem(page: httpx.Response) -> str:
    match = re.search(r'<p class="alert error" role="alert"[^>]*>([^<]*)</p>', page.text)
    assert match, "the page shows no problem"
    return unescape(match.group(1))


def form_fields(csrf: str, form: dict[str, object] | None = None, office: str = "TEH-SMR") -> dict[str, str]:
    """What the browser posts for the income certificate form."""
    answers = INCOME_FORM if form is None else form
    return {"csrf": csrf, "office": office, **{f"field.{name}": str(value) for name, value in answers.items()}}


def citizen(client: TestClient, backend: Backend) -> str:
    mobile = new_mobile()
    sign_in_with_forms(client, backend, mobile)
    return mobile


def apply_with_page(
    client: TestClient,
    *,
    form: dict[str, object] | None = None,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    office: str = "TEH-SMR",
    lang: str | None = None,
) -> httpx.Response:
    page = client.get("/apply/rev-income" + (f"?lang={lang}" if lang else ""))
    assert_page(page, 200)
    return client.post(
        "/apply/rev-income",
        data=form_fields(csrf_of(page), form, office),
        files=files if files is not None else income_files(),
        follow_redirects=False,
    )


def applied(client: TestClient, backend: Backend, office: str = "TEH-SMR") -> tuple[str, str]:
    """A citizen signed in on ``client`` who applied; returns their mobile and the number."""
    mobile = citizen(client, backend)
    response = apply_with_page(client, office=office)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/applications/(PB-REV-INC-\d{4}-\d{6})/receipt", response.headers["location"])
    assert match, response.headers["location"]
    return mobile, match.group(1)


def new_staff(backend: Backend, role: StaffRole, department: str | None = "REV", office: str | None = None) -> str:
    username = f"{role.value}-{secrets.token_hex(4)}"
    with backend.context.sessions() as s:
        add_staff(
            s,
            username=username,
            password=PASSWORD,
            full_name=f"Test {role.value.replace('_', ' ').title()}",
            role=role,
            department_id=ensure_department(backend, department) if department else None,
            office_code=office,
            now=datetime.now(UTC),
        )
        s.commit()
    return username


def desk_sign_in(client: TestClient, username: str, password: str = PASSWORD, lang: str = "en") -> httpx.Response:
    page = client.get(f"/desk/sign-in?lang={lang}")
    assert_page(page, 200)
    return client.post(
        "/desk/sign-in",
        data={"csrf": csrf_of(page), "username": username, "password": password},
        follow_redirects=False,
    )


@contextmanager
def staff_client(
    backend: Backend, role: StaffRole, department: str | None = "REV", office: str | None = None
) -> Iterator[TestClient]:
    """A browser of its own, signed in at the desk as a new staff member."""
    with another_client(backend) as c:
        response = desk_sign_in(c, new_staff(backend, role, department, office))
        assert response.status_code == 303, response.text
        yield c


@pytest.fixture
def officer(backend: Backend) -> Iterator[TestClient]:
    with staff_client(backend, StaffRole.OFFICER, office="TEH-SMR") as c:
        yield c


def decide(
    client: TestClient, number: str, action: str, *, remarks: str = "", version: str | None = None
) -> httpx.Response:
    page = client.get(f"/desk/applications/{number}")
    assert_page(page, 200)
    if version is None:
        found = re.findall(r'name="version" value="(\d+)"', page.text)
        version = found[0] if found else "1"
    return client.post(
        f"/desk/applications/{number}/decisions",
        data={"csrf": csrf_of(page), "action": action, "remarks": remarks, "version": version},
        follow_redirects=False,
    )


def stored(backend: Backend, number: str) -> Application:
    with backend.context.sessions() as s:
        application = s.scalar(select(Application).where(Application.number == number))
        assert application is not None
        s.expunge(application)
        return application


# --- texts ---------------------------------------------------------------------------------------------


def test_every_text_is_in_english_punjabi_and_hindi() -> None:
    for key, entry in MESSAGES.table.items():
        assert set(entry) == {"en", "pa", "hi"}, key
        assert re.search("[\u0a00-\u0a7f]", entry["pa"]), f"{key}: pa is not in Gurmukhi"
        assert re.search("[\u0900-\u097f]", entry["hi"]), f"{key}: hi is not in Devanagari"
    for kind in ("submitted", "under_review", "returned", "resubmitted", "approved", "rejected", "issued", "escalated"):
        assert f"event.{kind}" in MESSAGES.table
    for status in ApplicationStatus:
        assert f"status.{status.value}" in MESSAGES.table
        assert f"status.{status.value}.explain" in MESSAGES.table
    for role in StaffRole:
        assert f"role.{role.value}" in MESSAGES.table
    for channel in IntakeChannel:
        assert f"channel.{channel.value}" in MESSAGES.table


# --- the catalogue and the generated form ------------------------------------------------------------------


def test_the_catalogue_lists_every_service_by_department_with_time_limit_and_fee(
    client: TestClient, backend: Backend
) -> None:
    page = client.get("/apply?lang=pa")

    assert_page(page, 200, '<html lang="pa">', "ਆਮਦਨ ਸਰਟੀਫਿਕੇਟ", "7 ਕੰਮਕਾਜੀ ਦਿਨਾਂ ਵਿੱਚ ਫ਼ੈਸਲਾ", "ਫ਼ੀਸ: 200 ਰੁਪਏ")
    for service in backend.context.intake.catalogue:
        assert f'href="/apply/{service.code}"' in page.text
        assert service.name.pa in page.text
    assert re.search(r'data-department="REV".*?data-service="rev-income"', page.text, re.S)
    stylesheet = client.get("/static/intake/intake.css")
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")


def test_citizen_pages_ask_for_the_locker_sign_in_first(client: TestClient) -> None:
    for path in ("/apply/rev-income", "/applications", "/applications/PB-REV-INC-2026-000001"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/locker/sign-in?next={quote(path, safe='')}"


def test_the_form_has_every_catalogue_field_with_punjabi_labels(client: TestClient, backend: Backend) -> None:
    mobile = citizen(client, backend)
    service = backend.context.intake.catalogue["rev-income"]

    page = client.get("/apply/rev-income?lang=pa")

    assert_page(page, 200, '<html lang="pa">', service.name.pa, service.description.pa)
    expected_input = {"text": "text", "number": "text", "date": "date", "mobile": "tel", "email": "email"}
    for field in service.fields:
        tag, attrs = named(page, f"field.{field.name}")
        label = re.search(rf'<label for="field-{field.name}">(.*?)</label>', page.text, re.S)
        assert label, field.name
        assert field.label.pa in label.group(1)
        assert ('class="required"' in label.group(1)) == field.required, field.name
        assert ("required" in attrs) == field.required, field.name
        if field.help:
            assert field.help.pa in page.text
        if field.type == "choice":
            assert tag == "select"
            for choice in field.validation.choices:
                assert f'<option value="{choice.value}">{choice.label.pa}</option>' in page.text
        else:
            assert (tag, attrs["type"]) == ("input", expected_input[field.type]), field.name
        if field.type == "number":
            assert attrs["inputmode"] == "numeric"
    assert named(page, "field.mobile")[1]["value"] == mobile  # the signed-in number, to start with
    assert named(page, "field.annual_income")[1]["aria-describedby"] == "field-annual_income-help"
    offices = [attrs["value"] for tag, attrs in elements(page) if tag == "option" and attrs["value"].startswith("TEH")]
    assert sorted(offices) == ["TEH-ASR", "TEH-LDH", "TEH-PTL", "TEH-SMR"]
    assert "ਤਹਿਸੀਲ ਦਫ਼ਤਰ, ਸਮਰਾਲਾ" in page.text
    assert "MC-LDH" not in page.text
    for attachment in service.attachments:
        tag, attrs = named(page, f"attachment.{attachment.kind}")
        assert attrs["type"] == "file"
        assert set(attachment.accepted_types) <= set(attrs["accept"].split(","))
        assert ("required" in attrs) == attachment.required
        assert attachment.label.pa in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert "<script" not in page.text
    assert "style=" not in page.text


def test_an_unknown_service_is_a_404_page(client: TestClient, backend: Backend) -> None:
    citizen(client, backend)

    assert_page(client.get("/apply/rev-nothing"), 404, EN("error.not_found"))


# --- refusals ---------------------------------------------------------------------------------------------------


def test_a_refused_form_keeps_the_answers_and_says_in_punjabi_what_is_wrong(
    client: TestClient, backend: Backend
) -> None:
    mobile = citizen(client, backend)
    form: dict[str, object] = {
        **INCOME_FORM,
        "applicant_name": "",
        "annual_income": "ਬਹੁਤ",
        "financial_year": "2025",
        "relation": "cousin_of",
    }

    response = apply_with_page(client, form=form, office="", lang="pa")

    assert_page(response, 422, '<html lang="pa">', PA("apply.fix_marked"), PA("apply.problem_title"))
    assert PA("apply.files_again") not in response.text  # the files are kept
    assert field_error(response, "field-applicant_name") == message("required", "pa", label=PA_LABELS["applicant_name"])
    assert field_error(response, "field-annual_income") == message("not_number", "pa", label=PA_LABELS["annual_income"])
    assert field_error(response, "field-financial_year") == message(
        "not_a_financial_year", "pa", label=PA_LABELS["financial_year"]
    )
    assert PA_LABELS["relation"] in (field_error(response, "field-relation") or "")
    assert field_error(response, "office") == message("wrong_office", "pa")
    assert field_error(response, "field-address") is None
    # Every problem is listed on top, in form order, each linking to its field.
    assert summary_links(response) == [
        "#field-applicant_name",
        "#field-relation",
        "#field-annual_income",
        "#field-financial_year",
        "#office",
    ]
    # What the citizen typed is still there, the wrong answers included.
    assert named(response, "field.address")[1]["value"] == INCOME_FORM["address"]
    assert named(response, "field.relation_name")[1]["value"] == INCOME_FORM["relation_name"]
    assert named(response, "field.annual_income")[1]["value"] == "ਬਹੁਤ"
    assert named(response, "field.applicant_name_en")[1]["value"] == "Gurpreet Singh"
    assert 'aria-invalid="true"' in response.text
    with backend.context.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Application).where(Application.mobile == mobile)) == 0


def test_a_missing_document_is_marked_on_its_input(client: TestClient, backend: Backend) -> None:
    citizen(client, backend)
    affidavit = backend.context.intake.catalogue["rev-income"].attachments[1]

    response = apply_with_page(client, files=income_files(affidavit=None), lang="hi")

    assert_page(response, 422, '<html lang="hi">')
    assert field_error(response, "attachment-affidavit") == message(
        "attachment_required", "hi", label=affidavit.label.hi
    )
    assert field_error(response, "attachment-aadhaar") is None
    assert named(response, "field.applicant_name")[1]["value"] == INCOME_FORM["applicant_name"]


def test_a_file_of_the_wrong_type_is_415_and_one_too_large_is_413_on_the_form(
    client: TestClient, backend: Backend
) -> None:
    mobile = citizen(client, backend)

    wrong_type = apply_with_page(client, files=income_files(aadhaar=("a.gif", b"GIF89a....", "image/gif")))
    too_large = apply_with_page(
        client, files=income_files(affidavit=("a.pdf", PDF + b"0" * (2 * 1024 * 1024), "application/pdf"))
    )

    assert_page(wrong_type, 415, EN("apply.fix_marked"))
    assert field_error(wrong_type, "attachment-aadhaar") == message(
        "attachment_wrong_type", "en", label="Aadhaar card", types="PDF, JPEG, PNG"
    )
    assert named(wrong_type, "field.address")[1]["value"] == INCOME_FORM["address"]
    assert_page(too_large, 413)
    assert field_error(too_large, "attachment-affidavit") == message(
        "attachment_too_large", "en", label="Self-declaration of family income", size="2.1 MB", limit="2 MB"
    )
    with backend.context.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Application).where(Application.mobile == mobile)) == 0


def test_forms_without_their_csrf_token_are_refused(client: TestClient, backend: Backend) -> None:
    mobile, number = applied(client, backend)
    with another_client(backend) as officer:
        desk_sign_in(officer, new_staff(backend, StaffRole.OFFICER))
        forged = {
            "/apply/rev-income": (client, form_fields("")),
            "/track": (client, {"number": number, "mobile": mobile}),
            f"/applications/{number}/resubmit": (client, {"remarks": "here"}),
            f"/desk/applications/{number}/decisions": (officer, {"action": "approve", "version": "1"}),
            "/desk/sign-in": (officer, {"username": "x", "password": "y"}),
        }
        for path, (browser, data) in forged.items():
            response = browser.post(path, data=data, files=income_files() if path.startswith("/apply") else None)
            assert_page(response, 400, EN("error.form_expired"))
            wrong = browser.post(path, data={**data, "csrf": "not-the-cookie"})
            assert wrong.status_code == 400, path

    assert stored(backend, number).status == "submitted"
    with backend.context.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Application).where(Application.mobile == mobile)) == 1


# --- applying, the receipt, tracking -----------------------------------------------------------------------------


def test_a_citizen_applies_gets_a_receipt_and_tracks_the_application(client: TestClient, backend: Backend) -> None:
    mobile, number = applied(client, backend)
    application = stored(backend, number)

    receipt = client.get(f"/applications/{number}/receipt?lang=pa")

    assert_page(receipt, 200, number, PA("receipt.title"), "ਆਮਦਨ ਸਰਟੀਫਿਕੇਟ", "ਤਹਿਸੀਲ ਦਫ਼ਤਰ, ਸਮਰਾਲਾ")
    assert application.channel == "online"
    assert application.language == "en"  # applied on the English form
    due = re.search(r'data-testid="due">([^<]+)<', receipt.text)
    assert due
    months = month_names("pa")
    day = application.due_on
    assert due.group(1) == f"{day.day:02d} {months[day.month - 1]} {day.year}"
    assert f'href="/track?number={number}"' in receipt.text

    with another_client(backend) as anyone:  # tracking needs no sign-in
        form = anyone.get(f"/track?number={number}")
        assert named(form, "number")[1]["value"] == number
        tracked = anyone.post("/track", data={"csrf": csrf_of(form), "number": number, "mobile": f"+91 {mobile}"})

    assert_page(tracked, 200, EN("event.submitted"), EN("actor.citizen_online"), "Income certificate")
    assert 'data-kind="submitted"' in tracked.text
    assert INCOME_FORM["address"] not in tracked.text  # the answers stay private


def test_a_wrong_number_or_mobile_gets_one_and_the_same_404(client: TestClient, backend: Backend) -> None:
    mobile, number = applied(client, backend)
    other_number = number[:-6] + f"{(int(number[-6:]) + 5000) % 1_000_000:06d}"

    with another_client(backend) as anyone:
        csrf = csrf_of(anyone.get("/track"))
        answers = [
            anyone.post("/track", data={"csrf": csrf, "number": n, "mobile": m})
            for n, m in ((number, new_mobile()), (other_number, mobile), (number, "12345"), ("", ""))
        ]

    for answer in answers:
        assert_page(answer, 404, EN("track.not_found"))
    assert {problem(a) for a in answers} == {EN("track.not_found")}
    assert all(INCOME_FORM["applicant_name"] not in a.text for a in answers)


def test_my_applications_lists_only_mine_with_their_status(client: TestClient, backend: Backend) -> None:
    _, number = applied(client, backend)
    with another_client(backend) as other:
        _, theirs = applied(other, backend)

    page = client.get("/applications")

    assert_page(page, 200, number, 'data-status="submitted"', EN("status.submitted"))
    assert theirs not in page.text
    assert_page(client.get(f"/applications/{theirs}"), 404, EN("error.not_found"))
    assert_page(client.get(f"/applications/{theirs}/receipt"), 404, EN("error.not_found"))


# --- the desk ----------------------------------------------------------------------------------------------------


def test_desk_pages_ask_for_a_staff_sign_in_and_return_to_the_page(client: TestClient, backend: Backend) -> None:
    response = client.get("/desk/pendency?department=REV", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/desk/sign-in?next=%2Fdesk%2Fpendency%3Fdepartment%3DREV"
    username = new_staff(backend, StaffRole.HEAD_OFFICE, department=None)

    page = client.get(response.headers["location"])
    signed_in = client.post(
        "/desk/sign-in",
        data={
            "csrf": csrf_of(page),
            "username": username,
            "password": PASSWORD,
            "next": named(page, "next")[1]["value"],
        },
        follow_redirects=False,
    )

    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/desk/pendency?department=REV"
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith("sanad_desk=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    signed_out = client.post("/desk/sign-out", follow_redirects=False)
    assert signed_out.headers["location"] == "/desk/sign-in?signed_out=1"
    assert client.get("/desk/pendency", follow_redirects=False).status_code == 303


def test_behind_https_the_desk_cookie_is_host_prefixed_and_secure(backend: Backend) -> None:
    settings = backend.settings.model_copy(update={"public_base_url": "https://sanad.example"})
    assert STAFF_COOKIE.name_for(settings) == "__Host-sanad_desk"
    context = replace(backend.context, settings=settings)
    username = new_staff(backend, StaffRole.OFFICER)
    with TestClient(create_app(context=context), base_url="https://testserver", client=client_address()) as c:
        response = desk_sign_in(c, username)

    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    desk = next(c for c in cookies if c.startswith("__Host-sanad_desk="))
    assert "Secure" in desk
    assert "HttpOnly" in desk
    assert "Domain" not in desk


def test_five_wrong_passwords_lock_the_name_with_a_punjabi_page(client: TestClient, backend: Backend) -> None:
    username = new_staff(backend, StaffRole.OFFICER)

    answers = [desk_sign_in(client, username, "wrong password", lang="pa") for _ in range(5)]
    locked = desk_sign_in(client, username, PASSWORD, lang="pa")

    for answer in answers:
        assert_page(answer, 401, PA("desk.wrong_password"))
    assert_page(locked, 429, '<html lang="pa">', PA("desk.locked", minutes=15))
    assert locked.headers["retry-after"]


def test_the_queue_puts_the_earliest_due_first_and_marks_the_overdue_and_escalated(
    client: TestClient, backend: Backend
) -> None:
    numbers = []
    for _ in range(3):
        with another_client(backend) as browser:
            numbers.append(applied(browser, backend, office="TEH-PTL")[1])
    today = today_in_india()
    later, overdue, soon = numbers
    with backend.context.sessions() as s:
        for number, due, level in ((later, 10, 0), (overdue, -3, 1), (soon, 1, 0)):
            s.execute(
                update(Application)
                .where(Application.number == number)
                .values(due_on=today + timedelta(days=due), escalation_level=level)
            )
        s.commit()

    with staff_client(backend, StaffRole.OFFICER, office="TEH-PTL") as officer:
        page = officer.get("/desk?lang=pa")

    assert_page(page, 200, '<html lang="pa">', PA("nav.queue"))
    listed = [n for n in re.findall(r'data-number="([^"]+)"', page.text) if n in numbers]
    assert listed == [overdue, soon, later]
    card = re.search(rf'data-number="{overdue}".*?</a>', page.text, re.S)
    assert card
    assert 'data-overdue="true"' in card.group(0)
    assert PA("queue.overdue") in card.group(0)
    assert PA("escalation.level1") in card.group(0)
    # Days left and late are working days on the legal clock, not calendar days.
    calendar = backend.context.intake.clock.calendar
    late = calendar.working_days_between(today - timedelta(days=3), today)
    assert f'data-days-left="{-late}"' in card.group(0)
    assert (PA("clock.late", n=late) if late else PA("clock.today")) in card.group(0)
    other = re.search(rf'data-number="{later}".*?</a>', page.text, re.S)
    assert other
    assert "data-overdue" not in other.group(0)
    left = calendar.working_days_between(today, today + timedelta(days=10))
    assert f'data-days-left="{left}"' in other.group(0)
    assert PA("clock.left", n=left) in other.group(0)


def test_approving_from_the_desk_puts_the_certificate_in_the_citizens_locker(
    client: TestClient, backend: Backend, officer: TestClient
) -> None:
    _, number = applied(client, backend)

    page = officer.get(f"/desk/applications/{number}")
    assert_page(page, 200, number, "Name of applicant (in Gurmukhi)", INCOME_FORM["applicant_name"], "Son of")
    assert_page(page, 200, "Aadhaar card", "Self-declaration of family income", EN("desk.approve"))
    link = re.search(rf'href="(/desk/applications/{number}/attachments/[0-9a-z]+)" data-kind="aadhaar"', page.text)
    assert link
    download = officer.get(link.group(1))
    assert download.status_code == 200
    assert download.content == png()
    assert download.headers["content-disposition"].startswith("attachment")
    reviewed = decide(officer, number, "review")
    assert reviewed.headers["location"] == f"/desk/applications/{number}?done=review"
    # Approving is two steps: the page links to a check of everything, which approves.
    page = officer.get(f"/desk/applications/{number}")
    assert f'href="/desk/applications/{number}/approve"' in page.text
    assert 'value="approve"' not in page.text
    check = officer.get(f"/desk/applications/{number}/approve")
    assert_page(check, 200, EN("approve.title"), INCOME_FORM["applicant_name"], "Aadhaar card", EN("approve.confirm"))
    assert 'data-testid="preview-image"' in check.text
    assert 'data-testid="preview-pdf"' in check.text
    assert stored(backend, number).status == "under_review"
    approved = officer.post(
        f"/desk/applications/{number}/decisions",
        data={
            "csrf": csrf_of(check),
            "action": "approve",
            "version": re.findall(r'name="version" value="(\d+)"', check.text)[0],
        },
        follow_redirects=False,
    )
    assert approved.status_code == 303
    assert officer.get(f"/desk/applications/{number}/approve", follow_redirects=False).status_code == 303
    assert_page(officer.get(approved.headers["location"]), 200, EN("desk.done.approve"), 'data-status="issued"')

    application = stored(backend, number)
    assert application.status == "issued"
    assert application.document_id
    locker = client.get("/locker/documents")
    assert_page(locker, 200, application.document_id, "Income Certificate")
    mine = client.get(f"/applications/{number}?lang=pa")
    assert_page(mine, 200, PA("event.issued"), 'data-kind="issued"', f"/locker/documents/{application.document_id}")
    assert re.findall(r'class="step" data-kind="([a-z_]+)"', mine.text) == [
        "submitted",
        "under_review",
        "approved",
        "issued",
    ]


def test_rejecting_without_a_reason_is_refused_with_a_message(
    client: TestClient, backend: Backend, officer: TestClient
) -> None:
    _, number = applied(client, backend)

    refused = decide(officer, number, "reject", remarks="  ")
    rejected = decide(officer, number, "reject", remarks="Income proof is of another person")

    assert_page(refused, 422, EN("desk.remarks_required.reject"))
    assert field_error(refused, "remarks-reject") == EN("desk.remarks_required.reject")
    assert rejected.status_code == 303
    application = stored(backend, number)
    assert application.status == "rejected"
    assert application.decision_reason == "Income proof is of another person"
    assert_page(client.get(f"/applications/{number}"), 200, "Income proof is of another person", EN("status.rejected"))


def test_a_decision_on_what_someone_else_already_changed_is_a_409_page(
    client: TestClient, backend: Backend, officer: TestClient
) -> None:
    _, number = applied(client, backend)
    opened = officer.get(f"/desk/applications/{number}")
    seen_version = re.findall(r'name="version" value="(\d+)"', opened.text)[0]
    with staff_client(backend, StaffRole.OFFICER, office="TEH-SMR") as colleague:
        assert decide(colleague, number, "review").status_code == 303

    late = officer.post(
        f"/desk/applications/{number}/decisions",
        data={"csrf": csrf_of(opened), "action": "approve", "version": seen_version},
    )

    assert_page(late, 409, EN("desk.conflict_title"), EN("desk.conflict"))
    assert stored(backend, number).status == "under_review"


def test_another_departments_application_is_a_404_page(client: TestClient, backend: Backend) -> None:
    _, number = applied(client, backend)
    attachment = re.search(r"/applications/[^/]+/attachments/([0-9a-z]+)", client.get(f"/applications/{number}").text)
    assert attachment

    with staff_client(backend, StaffRole.OFFICER, department="LG") as other:
        page = other.get(f"/desk/applications/{number}")
        missing = other.get("/desk/applications/PB-REV-INC-2000-000001")
        file = other.get(f"/desk/applications/{number}/attachments/{attachment.group(1)}")
        csrf = other.cookies["sanad_csrf"]
        decided = other.post(
            f"/desk/applications/{number}/decisions", data={"csrf": csrf, "action": "approve", "version": "1"}
        )

    for response in (page, missing, file, decided):
        assert_page(response, 404, EN("error.not_found"))
    assert problem(page) == problem(missing)
    assert stored(backend, number).status == "submitted"


def test_a_returned_application_is_answered_from_its_page(
    client: TestClient, backend: Backend, officer: TestClient
) -> None:
    _, number = applied(client, backend)
    assert decide(officer, number, "return", remarks="Attach the ration card").status_code == 303

    page = client.get(f"/applications/{number}")
    assert_page(page, 200, EN("application.returned_title"), "Attach the ration card", EN("status.returned"))
    empty = client.post(f"/applications/{number}/resubmit", data={"csrf": csrf_of(page), "remarks": " "})
    answered = client.post(
        f"/applications/{number}/resubmit",
        data={"csrf": csrf_of(page), "remarks": "Ration card given at the tehsil"},
        follow_redirects=False,
    )

    assert_page(empty, 422, EN("application.remarks_required"))
    assert answered.headers["location"] == f"/applications/{number}?done=resubmitted"
    after = client.get(answered.headers["location"])
    assert_page(after, 200, EN("application.resubmitted_notice"), "Ration card given at the tehsil")
    assert 'data-testid="resubmit"' not in after.text
    assert stored(backend, number).status == "submitted"
    again = client.post(f"/applications/{number}/resubmit", data={"csrf": csrf_of(page), "remarks": "again"})
    assert_page(again, 409, EN("error.conflict"))


def test_an_operator_applies_for_a_citizen_at_the_counter(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    with staff_client(backend, StaffRole.OPERATOR) as operator:
        assert operator.get("/desk", follow_redirects=False).headers["location"] == "/desk/apply"
        counter = operator.get("/desk/apply")
        assert_page(counter, 200, 'href="/desk/apply/rev-income"')
        form = operator.get("/desk/apply/rev-income")
        assert_page(form, 200, EN("desk.apply.citizen_mobile"))
        assert [
            a["value"] for t, a in elements(form) if t == "option" and a.get("value") in ("sewa_kendra", "doorstep")
        ]
        data = {**form_fields(csrf_of(form)), "channel": "doorstep"}
        bad = operator.post(
            "/desk/apply/rev-income",
            data={**data, "citizen_mobile": "123", "field.annual_income": "lots"},
            files=income_files(),
        )
        check = operator.post(
            "/desk/apply/rev-income",
            data={**data, "citizen_mobile": f"0{mobile}", "citizen_language": "pa"},
            files=income_files(),
            follow_redirects=False,
        )
        # Nothing is filed until the operator has read the answers back and submits them.
        assert_page(check, 200, EN("check.title"), INCOME_FORM["applicant_name"], "ਪੰਜਾਬੀ", "aadhaar.png", mobile)
        assert applications_of(backend, mobile) == 0
        changed = operator.post(
            "/desk/apply/rev-income", data={**hidden_fields(check), "step": "change"}, follow_redirects=False
        )
        assert_page(changed, 200, EN("check.continue"))
        assert 'data-testid="form-problems"' not in changed.text
        assert named(changed, "field.address")[1]["value"] == INCOME_FORM["address"]
        assert {n for _, a in elements(changed) if (n := a.get("name", "")).startswith("kept.")} == {
            "kept.aadhaar",
            "kept.affidavit",
        }
        good = operator.post(
            "/desk/apply/rev-income", data={**hidden_fields(check), "step": "submit"}, follow_redirects=False
        )
        assert_page(bad, 422)
        assert field_error(bad, "citizen-mobile") == EN("desk.apply.invalid_mobile")
        assert field_error(bad, "field-annual_income") == message("not_number", "en", label="Annual family income (Rs)")
        assert summary_links(bad)[:2] == ["#citizen-mobile", "#field-annual_income"]
        assert named(bad, "citizen_mobile")[1]["value"] == "123"
        assert EN("apply.files_again") in bad.text  # refused before the files were looked at
        match = re.fullmatch(r"/desk/receipts/(PB-REV-INC-\d{4}-\d{6})", good.headers["location"])
        assert match
        receipt = operator.get(good.headers["location"])
        assert_page(receipt, 200, match.group(1), EN("receipt.title"))
    # An officer cannot use the counter.
    with staff_client(backend, StaffRole.OFFICER) as other:
        assert_page(other.get("/desk/apply/rev-income"), 403, EN("error.forbidden"))

    application = stored(backend, match.group(1))
    assert application.mobile == mobile
    assert application.channel == "doorstep"
    assert application.language == "pa"  # the citizen's choice, not the operator's screen
    assert application.operator_id is not None
    citizen_page = sign_in_with_forms(client, backend, mobile, next_path="/applications")
    assert_page(client.get(citizen_page), 200, match.group(1))


# --- pendency -----------------------------------------------------------------------------------------------------


def test_head_office_sees_pendency_as_a_page_and_as_csv(client: TestClient, backend: Backend) -> None:
    applied(client, backend)
    with staff_client(backend, StaffRole.HEAD_OFFICE, department=None) as head_office:
        assert head_office.get("/desk", follow_redirects=False).headers["location"] == "/desk/pendency"
        page = head_office.get("/desk/pendency?department=REV&service=rev-income&lang=hi")
        everything = head_office.get("/desk/pendency")
        csv = head_office.get("/desk/pendency.csv?department=REV")
        bad_month = head_office.get("/desk/pendency?since=2026-13")

    assert_page(page, 200, '<html lang="hi">', MESSAGES.translator("hi")("pendency.title"), "आय प्रमाण पत्र")
    rows = re.findall(r'<tr data-department="([^"]+)" data-office="[^"]+" data-service="([^"]+)"', page.text)
    assert rows
    assert set(rows) <= {("REV", "rev-income")}
    total = re.search(r'data-total="open">(\d+)<', page.text)
    assert total
    assert int(total.group(1)) >= 1
    assert 'href="/desk/pendency.csv?department=REV&amp;service=rev-income"' in page.text
    assert_page(everything, 200, 'data-testid="csv"')
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["content-disposition"] == 'attachment; filename="pendency.csv"'
    lines = csv.text.splitlines()
    assert lines[0].startswith("department,office,service,submitted")
    assert all(line.startswith(("REV,", "ALL,")) for line in lines[1:])
    assert_page(bad_month, 422)


def test_a_department_admin_sees_only_their_department_and_an_officer_none(
    client: TestClient, backend: Backend
) -> None:
    applied(client, backend)
    with staff_client(backend, StaffRole.DEPARTMENT_ADMIN, department="LG") as admin:
        page = admin.get("/desk/pendency?department=REV")
        csv = admin.get("/desk/pendency.csv?department=REV")
    with staff_client(backend, StaffRole.OFFICER) as officer:
        refused = officer.get("/desk/pendency")
        refused_csv = officer.get("/desk/pendency.csv")

    assert_page(page, 200)
    assert 'data-department="REV"' not in page.text
    assert all(line.startswith(("LG,", "ALL,")) for line in csv.text.splitlines()[1:])
    assert_page(refused, 403, EN("error.forbidden"))
    assert refused_csv.status_code == 403


def test_an_officer_previews_attachments_in_the_page_and_only_our_pages_may_frame_them(
    client: TestClient, backend: Backend, officer: TestClient
) -> None:
    _, number = applied(client, backend)
    page = officer.get(f"/desk/applications/{number}")
    image = re.search(r'<img src="([^"]+\?view=inline)"', page.text)
    pdf = re.search(r'<iframe src="([^"]+\?view=inline)"', page.text)
    assert image
    assert pdf
    assert "frame-src 'self'" in page.headers["content-security-policy"]

    shown = officer.get(image.group(1))
    framed = officer.get(pdf.group(1))

    assert shown.content == png()
    assert shown.headers["content-disposition"].startswith("inline")
    assert framed.headers["content-type"] == "application/pdf"
    assert framed.headers["content-disposition"].startswith("inline")
    assert framed.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in framed.headers["content-security-policy"]
    assert "script-src" not in framed.headers["content-security-policy"]
    assert client.get(image.group(1), follow_redirects=False).status_code in (303, 401, 404)


def test_the_desk_finds_an_application_by_number_mobile_or_name(client: TestClient, backend: Backend) -> None:
    _, number = applied(client, backend, office="TEH-PTL")
    application = stored(backend, number)
    serial = number.rsplit("-", 1)[1]

    with staff_client(backend, StaffRole.OFFICER, office="TEH-PTL") as officer:
        by_number = officer.get("/desk", params={"q": number.lower()})
        by_serial = officer.get("/desk", params={"q": serial})
        by_mobile = officer.get("/desk", params={"q": f"+91 {application.mobile[:5]} {application.mobile[5:]}"})
        by_name = officer.get("/desk", params={"q": application.applicant_name[2:6]})
        nothing = officer.get("/desk", params={"q": "PB-NONE-0000", "lang": "hi"})

    for found in (by_number, by_serial, by_mobile, by_name):
        assert_page(found, 200, f'data-number="{number}"', 'data-testid="search-for"')
    assert_page(nothing, 200, '<html lang="hi">', HI("queue.no_match"))
    assert "data-number=" not in nothing.text
