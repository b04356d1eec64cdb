"""The intake pages in a real browser (Debian's headless Chromium) on a small phone screen:
a citizen applies, an officer approves, the certificate reaches the locker, head office
reads pendency; and, in Punjabi, an officer returns an application for a corrected answer
and a document, which the citizen sends. No JavaScript anywhere, and no console errors
(CSP violations show there)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from accounts.models import StaffRole
from accounts.staff import add_staff
from intake.models import Application
from tests.accessibility import assert_accessible, require_axe
from tests.conftest import Backend, require_tool
from tests.intake.helpers import INCOME_FORM, PASSWORD, PDF, TYPED_FIELDS, ensure_department
from tests.locker.conftest import latest_code, new_mobile
from tests.locker.test_pages_browser import CHROMIUM_ARGS, PHONE, fits_the_screen
from tests.locker.test_pages_browser import server as server  # the fixture: a real server, embedded backend

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize

OFFICE = "TEH-ASR"
"""This test's office, so its officer's queue holds only what the test put there first."""
RETURNS_OFFICE = "TEH-LDH"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def new_staff(backend: Backend, role: StaffRole, department: str | None, office: str | None = None) -> str:
    username = f"{role.value}-{secrets.token_hex(4)}"
    with backend.context.sessions() as s:
        add_staff(
            s,
            username=username,
            password=PASSWORD,
            full_name=f"Browser {role.value.replace('_', ' ').title()}",
            role=role,
            department_id=ensure_department(backend, department) if department else None,
            office_code=office,
            now=datetime.now(UTC),
        )
        s.commit()
    return username


def test_a_citizen_applies_an_officer_approves_and_head_office_reads_pendency_on_a_phone(
    server: str, client: TestClient, backend: Backend, tmp_path: Path
) -> None:
    chromium = require_tool("chromium")
    require_axe()
    from playwright.sync_api import sync_playwright

    for code in ("REV", "LG", "TPT"):
        ensure_department(backend, code)
    officer_name = new_staff(backend, StaffRole.OFFICER, "REV", OFFICE)
    head_office_name = new_staff(backend, StaffRole.HEAD_OFFICE, None)
    mobile = new_mobile()
    aadhaar = tmp_path / "aadhaar.png"
    Image.new("RGB", (60, 40), (230, 230, 230)).save(aadhaar)
    affidavit = tmp_path / "affidavit.pdf"
    affidavit.write_bytes(PDF)
    problems: list[str] = []

    def watch(page: Page) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                problems.append(f"{message.text} at {message.location.get('url')}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        return page

    def phone(browser: Browser) -> Page:
        return watch(browser.new_context(viewport=PHONE, locale="en-IN").new_page())

    def desk_sign_in(page: Page, username: str) -> None:
        page.goto(f"{server}/desk")
        assert "/desk/sign-in" in page.url
        fits_the_screen(page)
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("[data-testid=desk-sign-in] button[type=submit]")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)

        # The citizen finds the service, signs in with a code, and fills the generated form.
        citizen = phone(browser)
        citizen.goto(f"{server}/apply")
        fits_the_screen(citizen)
        assert_accessible(citizen)
        citizen.screenshot(path=str(tmp_path / "catalogue.png"), full_page=True)
        citizen.click("a[data-service=rev-income]")
        assert "/locker/sign-in" in citizen.url
        citizen.fill("#mobile", mobile)
        citizen.click("button[type=submit]")
        citizen.wait_for_selector("[data-testid=code-sent]")
        citizen.fill("#code", latest_code(backend, mobile))
        citizen.click("form[action='/locker/sign-in'] button[type=submit]")
        citizen.wait_for_url(f"{server}/apply/rev-income")
        assert citizen.input_value("#field-mobile") == mobile
        fits_the_screen(citizen)
        assert_accessible(citizen)
        for name in TYPED_FIELDS:
            citizen.fill(f"#field-{name}", str(INCOME_FORM[name]))
        citizen.select_option("#field-relation", "son_of")
        citizen.fill("#field-annual_income", "240000")
        citizen.fill("#field-financial_year", "2025-26")
        citizen.select_option("#office", OFFICE)
        citizen.set_input_files("#attachment-aadhaar", str(aadhaar))
        citizen.set_input_files("#attachment-affidavit", str(affidavit))
        citizen.screenshot(path=str(tmp_path / "form.png"), full_page=True)
        citizen.click("[data-testid=apply-form] button[type=submit]")
        citizen.wait_for_selector("[data-testid=receipt]")
        number = citizen.inner_text("[data-testid=number]").strip()
        assert number.startswith("PB-REV-INC-")
        fits_the_screen(citizen)
        assert_accessible(citizen)
        citizen.screenshot(path=str(tmp_path / "receipt.png"), full_page=True)

        # The officer signs in at the desk, finds it in the queue and approves it.
        officer = phone(browser)
        desk_sign_in(officer, officer_name)
        officer.wait_for_url(f"{server}/desk")
        card = officer.locator(f"a.doc-card[data-number='{number}']")
        assert INCOME_FORM["applicant_name"] in card.inner_text()
        fits_the_screen(officer)
        officer.screenshot(path=str(tmp_path / "queue.png"), full_page=True)
        card.click()
        officer.wait_for_url(f"{server}/desk/applications/{number}")
        assert "Aadhaar card" in officer.inner_text("[data-testid=attachments]")
        fits_the_screen(officer)
        officer.screenshot(path=str(tmp_path / "decide.png"), full_page=True)
        officer.click("a[data-action=approve]")
        officer.wait_for_url(f"{server}/desk/applications/{number}/approve")
        fits_the_screen(officer)
        assert_accessible(officer)
        officer.click("button[data-action=approve-confirm]")
        officer.wait_for_selector("[data-testid=done]")
        assert officer.get_attribute("[data-testid=status]", "data-status") == "issued"
        fits_the_screen(officer)

        # The citizen sees it issued on the timeline, and the certificate in the locker.
        citizen.goto(f"{server}/applications/{number}")
        assert citizen.get_attribute("[data-testid=status]", "data-status") == "issued"
        assert "Certificate issued" in citizen.inner_text(".step[data-kind=issued]")
        fits_the_screen(citizen)
        citizen.screenshot(path=str(tmp_path / "issued.png"), full_page=True)
        with backend.context.sessions() as s:
            document_id = s.scalar(select(Application.document_id).where(Application.number == number))
        assert document_id
        citizen.goto(f"{server}/locker/documents")
        certificate = citizen.locator(f"a.doc-card[data-id='{document_id}']")
        assert "Income Certificate" in certificate.inner_text()

        # Head office lands on pendency, in Punjabi.
        head_office = phone(browser)
        desk_sign_in(head_office, head_office_name)
        head_office.wait_for_url(f"{server}/desk/pendency")
        head_office.click("nav.languages a[lang=pa]")
        head_office.wait_for_selector("html[lang=pa]")
        assert "ਬਕਾਇਆ ਅਰਜ਼ੀਆਂ" in head_office.inner_text("h1")
        assert head_office.locator("[data-testid=pendency] tr[data-service=rev-income]").count() >= 1
        assert int(head_office.inner_text("[data-total=disposed]")) >= 1
        fits_the_screen(head_office)
        assert_accessible(head_office)
        head_office.screenshot(path=str(tmp_path / "pendency.png"), full_page=True)

        browser.close()

    assert problems == []


def test_a_returned_application_is_answered_in_punjabi_on_a_phone_and_the_officer_sees_the_new_file(
    server: str, backend: Backend, tmp_path: Path
) -> None:
    """The walk that once ended at a text box: the officer asks for a corrected income and a
    salary certificate; the citizen, in Punjabi on a phone, corrects the one and uploads the
    other; the officer finds both. On the way, a refused form keeps the files chosen."""
    chromium = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    ensure_department(backend, "REV")
    officer_name = new_staff(backend, StaffRole.OFFICER, "REV", RETURNS_OFFICE)
    mobile = new_mobile()
    aadhaar = tmp_path / "aadhaar.png"
    Image.new("RGB", (60, 40), (230, 230, 230)).save(aadhaar)
    affidavit = tmp_path / "affidavit.pdf"
    affidavit.write_bytes(PDF)
    salary = tmp_path / "salary-certificate.pdf"
    salary.write_bytes(PDF + b"% salary certificate\n")
    problems: list[str] = []

    def watch(page: Page) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            # The refused first attempt is a 422 page, on purpose.
            if message.type == "error" and "status of 422" not in message.text:
                problems.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        return page

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)

        # The citizen applies in Punjabi; the first attempt has a wrong income.
        citizen = watch(browser.new_context(viewport=PHONE, locale="pa-IN").new_page())
        citizen.goto(f"{server}/apply/rev-income?lang=pa")
        citizen.fill("#mobile", mobile)
        citizen.click("button[type=submit]")
        citizen.wait_for_selector("[data-testid=code-sent]")
        citizen.fill("#code", latest_code(backend, mobile))
        citizen.click("form[action='/locker/sign-in'] button[type=submit]")
        citizen.wait_for_url(f"{server}/apply/rev-income?lang=pa")
        assert citizen.get_attribute("html", "lang") == "pa"
        for name in TYPED_FIELDS:
            citizen.fill(f"#field-{name}", str(INCOME_FORM[name]))
        citizen.select_option("#field-relation", "son_of")
        citizen.fill("#field-annual_income", "ਬਹੁਤ")
        citizen.fill("#field-financial_year", "2025-2026")  # no longer cut to 2025-20
        citizen.select_option("#office", RETURNS_OFFICE)
        citizen.set_input_files("#attachment-aadhaar", str(aadhaar))
        citizen.set_input_files("#attachment-affidavit", str(affidavit))
        citizen.click("[data-testid=apply-form] button[type=submit]")
        citizen.wait_for_selector("[data-testid=error-summary]")
        assert "ਸਾਲਾਨਾ ਪਰਿਵਾਰਕ ਆਮਦਨ (ਰੁਪਏ)" in citizen.inner_text("[data-testid=error-summary]")
        assert citizen.input_value("#field-financial_year") == "2025-2026"
        assert citizen.locator("[data-testid=kept-aadhaar]").count() == 1
        fits_the_screen(citizen)
        citizen.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
        citizen.fill("#field-annual_income", "2,40,000")  # the files need not be chosen again
        citizen.click("[data-testid=apply-form] button[type=submit]")
        citizen.wait_for_selector("[data-testid=receipt]")
        number = citizen.inner_text("[data-testid=number]").strip()

        # The officer, at a desktop, returns it: the income, and a salary certificate.
        officer = watch(browser.new_context(viewport=DESKTOP, locale="pa-IN").new_page())
        officer.goto(f"{server}/desk/sign-in?lang=pa")
        officer.fill("#username", officer_name)
        officer.fill("#password", PASSWORD)
        officer.click("[data-testid=desk-sign-in] button[type=submit]")
        officer.wait_for_url(f"{server}/desk")
        officer.goto(f"{server}/desk/applications/{number}")
        officer.click("[data-testid=return] summary")
        officer.check("#mark-field-annual_income")
        officer.check("#mark-attachment-income-proof")
        officer.fill("#remarks-return", "ਆਮਦਨ ਦੁਬਾਰਾ ਜਾਂਚੋ ਅਤੇ ਤਨਖ਼ਾਹ ਸਰਟੀਫਿਕੇਟ ਭੇਜੋ")
        officer.screenshot(path=str(tmp_path / "return.png"), full_page=True)
        officer.click("[data-testid=return] button[type=submit]")
        officer.wait_for_selector("[data-testid=done]")
        assert officer.get_attribute("[data-testid=status]", "data-status") == "returned"

        # The citizen finds exactly what was asked, corrects it and uploads the certificate.
        citizen.goto(f"{server}/applications/{number}")
        citizen.wait_for_selector("[data-testid=answer-form]")
        assert "ਤਨਖ਼ਾਹ ਸਰਟੀਫਿਕੇਟ ਭੇਜੋ" in citizen.inner_text("[data-testid=returned-remarks]")
        assert citizen.input_value("#field-annual_income") == "240000"
        assert citizen.locator("[data-testid=answer-form] input[name^='field.']").count() == 1
        assert citizen.locator("[data-testid=answer-form] input[type=file]").count() == 1
        fits_the_screen(citizen)
        citizen.screenshot(path=str(tmp_path / "returned.png"), full_page=True)
        citizen.fill("#field-annual_income", "1,80,000")
        citizen.set_input_files("#attachment-income-proof", str(salary))
        citizen.fill("#remarks", "ਤਨਖ਼ਾਹ ਸਰਟੀਫਿਕੇਟ ਨੱਥੀ ਹੈ")
        citizen.click("[data-testid=answer-form] button[type=submit]")
        citizen.wait_for_url(f"{server}/applications/{number}?done=resubmitted")
        assert citizen.get_attribute("[data-testid=status]", "data-status") == "submitted"
        fits_the_screen(citizen)
        citizen.screenshot(path=str(tmp_path / "answered.png"), full_page=True)

        # The officer sees the new answer and the new file.
        officer.goto(f"{server}/desk/applications/{number}")
        resubmitted = officer.inner_text(".step[data-kind=resubmitted]")
        assert "240000 → 180000" in resubmitted
        assert "ਤਨਖ਼ਾਹ ਸਰਟੀਫਿਕੇਟ ਨੱਥੀ ਹੈ" in resubmitted
        link = officer.locator("[data-testid=attachments] a[data-kind=income-proof]")
        assert link.count() == 1
        officer.screenshot(path=str(tmp_path / "answer-seen.png"), full_page=True)
        with officer.expect_download() as download:
            link.click()
        assert Path(download.value.path()).read_bytes() == salary.read_bytes()

        browser.close()

    assert problems == []
    with backend.context.sessions() as s:
        application = s.scalar(select(Application).where(Application.number == number))
        assert application is not None
        assert application.form["annual_income"] == 180000
        assert application.form["financial_year"] == "2025-26"
