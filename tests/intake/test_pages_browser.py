"""The intake pages in a real browser (Debian's headless Chromium) on a small phone screen:
a citizen applies, an officer approves, the certificate reaches the locker, head office
reads pendency. No JavaScript anywhere, and no console errors (CSP violations show there)."""

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
from tests.conftest import Backend, require_tool
from tests.intake.helpers import INCOME_FORM, PASSWORD, PDF, ensure_department
from tests.locker.conftest import latest_code, new_mobile
from tests.locker.test_pages_browser import CHROMIUM_ARGS, PHONE, fits_the_screen
from tests.locker.test_pages_browser import server as server  # the fixture: a real server, embedded backend

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

OFFICE = "TEH-ASR"
"""This test's office, so its officer's queue holds only what the test put there first."""


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
        for name in ("applicant_name", "applicant_name_en", "relation_name", "address", "district"):
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
        officer.click("button[data-action=approve]")
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
        head_office.screenshot(path=str(tmp_path / "pendency.png"), full_page=True)

        browser.close()

    assert problems == []
