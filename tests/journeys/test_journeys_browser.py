"""Each person's journey walked end to end in headless Chromium, as that person would:
the Sewa Kendra operator (desktop), the officer (desktop), the bank clerk (phone, in
Punjabi and Hindi) and head office (a 1366 px screen). Every main page is checked with
axe-core (no serious or critical violation) and no page logs an error."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from accounts.models import StaffRole
from intake.models import Application, Notification
from tests.accessibility import assert_accessible, require_axe
from tests.conftest import Backend, IssuingDepartment, require_tool
from tests.intake.helpers import INCOME_FORM, PASSWORD, PDF, TYPED_FIELDS, ensure_department
from tests.intake.test_pages import applied
from tests.intake.test_pages_browser import DESKTOP, new_staff
from tests.locker.conftest import new_mobile
from tests.locker.test_pages_browser import CHROMIUM_ARGS, PHONE, fits_the_screen
from tests.locker.test_pages_browser import server as server  # the fixture: a real server, embedded backend
from tests.pdf_tampering import alter_content
from tests.verifier.test_api import issue

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

OFFICE = "TEH-SMR"
"""The office these journeys apply to (its queue also holds other tests' applications)."""


@contextmanager
def chromium() -> Iterator[Browser]:
    path = require_tool("chromium")
    require_axe()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def watched(browser: Browser, problems: list[str], **options: object) -> Page:
    """A new page whose console errors (a content-policy violation shows there) are kept."""
    page = browser.new_context(**options).new_page()  # type: ignore[arg-type]
    page.on("console", lambda m: problems.append(f"{m.text} at {page.url}") if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return page


def desk_sign_in(page: Page, server: str, username: str) -> None:
    page.goto(f"{server}/desk/sign-in")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("[data-testid=desk-sign-in] button[type=submit]")


def files(tmp_path: Path) -> tuple[Path, Path]:
    aadhaar = tmp_path / "aadhaar.png"
    Image.new("RGB", (120, 80), (200, 210, 230)).save(aadhaar)
    affidavit = tmp_path / "affidavit.pdf"
    affidavit.write_bytes(PDF)
    return aadhaar, affidavit


def test_an_operator_files_at_the_counter_after_checking_and_an_officer_approves_after_checking(
    server: str, backend: Backend, tmp_path: Path
) -> None:
    for code in ("REV", "LG", "TPT"):
        ensure_department(backend, code)
    operator_name = new_staff(backend, StaffRole.OPERATOR, "REV", OFFICE)
    officer_name = new_staff(backend, StaffRole.OFFICER, "REV", OFFICE)
    mobile = new_mobile()
    aadhaar, affidavit = files(tmp_path)
    problems: list[str] = []

    with chromium() as browser:
        # The operator: the form, the citizen's number as they say it, their language.
        operator = watched(browser, problems, viewport=DESKTOP, locale="en-IN")
        desk_sign_in(operator, server, operator_name)
        operator.wait_for_url(f"{server}/desk/apply")
        operator.click("a[data-service=rev-income]")
        assert_accessible(operator)
        operator.fill("#citizen-mobile", f"+91 {mobile[:5]} {mobile[5:]}")
        operator.select_option("#citizen-language", "pa")
        for name in TYPED_FIELDS:
            operator.fill(f"#field-{name}", str(INCOME_FORM[name]))
        assert operator.locator("#field-mobile").count() == 0  # one mobile box: the citizen's, above
        operator.select_option("#field-relation", "son_of")
        operator.fill("#field-annual_income", "1,80,000")
        operator.fill("#field-financial_year", "2025-2026")
        operator.select_option("#office", OFFICE)
        operator.set_input_files("#attachment-aadhaar", str(aadhaar))
        operator.set_input_files("#attachment-affidavit", str(affidavit))
        operator.click("[data-testid=continue]")

        # Check the answers: nothing is filed yet; going back keeps everything.
        operator.wait_for_selector("[data-testid=check-form]")
        assert_accessible(operator)
        answers = operator.inner_text("[data-testid=answers]")
        assert "180000" in answers
        assert "2025-26" in answers
        assert "ਪੰਜਾਬੀ" in operator.inner_text("[data-testid=check-citizen]")
        assert "aadhaar.png" in operator.inner_text("[data-testid=check-files]")
        with backend.context.sessions() as s:
            assert s.scalar(select(Application).where(Application.mobile == mobile)) is None
        operator.click("[data-testid=check-change]")
        operator.wait_for_selector("[data-testid=apply-form]")
        assert operator.input_value("#field-address") == INCOME_FORM["address"]
        assert "aadhaar.png" in operator.inner_text("[data-testid=kept-aadhaar]")
        operator.fill("#field-address", "House 14, Model Town, Bathinda")
        operator.click("[data-testid=continue]")
        operator.wait_for_selector("[data-testid=check-form]")
        assert "House 14" in operator.inner_text("[data-testid=answers]")
        assert mobile in operator.inner_text("[data-testid=answers]")
        # Printed, the answers stand alone on the page: no bars, buttons or boxes to tick.
        assert operator.locator("[data-testid=print]").is_visible()
        operator.emulate_media(media="print")
        assert operator.locator("[data-testid=answers]").is_visible()
        for chrome in ("header.bar", "nav.tabs", "footer", "[data-testid=check-submit]", "[data-testid=print]"):
            assert not operator.locator(chrome).is_visible(), chrome
        operator.emulate_media(media="null")  # back to the page as shown (and printed by pdf())
        operator.click("[data-testid=check-submit]")
        operator.wait_for_selector("[data-testid=receipt]")
        assert_accessible(operator)
        assert operator.locator("[data-testid=print]").is_visible()
        # The receipt handed over prints on one A4 sheet, its number and not the site's menus.
        printed = tmp_path / "receipt.pdf"
        operator.pdf(path=str(printed), prefer_css_page_size=True)
        info = subprocess.run([require_tool("pdfinfo"), str(printed)], capture_output=True, text=True, check=True)
        assert re.search(r"^Pages:\s+1$", info.stdout, re.M), info.stdout
        assert "(A4)" in info.stdout, info.stdout
        text = subprocess.run(
            [require_tool("pdftotext"), "-enc", "UTF-8", str(printed), "-"], capture_output=True, text=True, check=True
        ).stdout
        number = operator.inner_text("[data-testid=number]").strip()
        assert number in text
        assert "Sign out" not in text

        with backend.context.sessions() as s:
            application = s.scalar(select(Application).where(Application.number == number))
            assert application is not None
            assert application.language == "pa"
            notices = list(s.scalars(select(Notification.body).where(Notification.recipient == mobile)))
        assert notices
        assert all(any("\u0a00" <= ch <= "\u0a7f" for ch in body) for body in notices)  # in Punjabi

        # The officer: the queue's legal clock, a search by the number as the citizen says it.
        officer = watched(browser, problems, viewport=DESKTOP, locale="en-IN")
        desk_sign_in(officer, server, officer_name)
        officer.wait_for_url(f"{server}/desk")
        assert_accessible(officer)
        card = officer.locator(f"a.doc-card[data-number='{number}']")
        assert "working days left" in card.inner_text()
        officer.fill("#q", f"0{mobile}")
        officer.click("[data-testid=desk-search] button[type=submit]")
        officer.wait_for_selector("[data-testid=search-for]")
        assert officer.locator("a.doc-card").count() == 1
        officer.click(f"a.doc-card[data-number='{number}']")
        officer.wait_for_url(f"{server}/desk/applications/{number}")
        assert_accessible(officer)
        preview = officer.locator("[data-testid=preview-image]")
        preview.scroll_into_view_if_needed()
        officer.wait_for_function("document.querySelector('[data-testid=preview-image]').naturalWidth > 0")
        officer.click("details.preview > summary")  # the PDF opens in the page, not in Downloads
        assert officer.locator("iframe[data-testid=preview-pdf]").is_visible()

        # Approving needs the check page: answers, every document, then one button.
        officer.click("a[data-action=approve]")
        officer.wait_for_url(f"{server}/desk/applications/{number}/approve")
        assert_accessible(officer)
        assert INCOME_FORM["applicant_name"] in officer.inner_text("[data-testid=answers]")
        assert officer.locator("details.preview iframe[data-testid=preview-pdf]").count() == 1
        assert officer.locator("[data-testid=preview-image]").count() == 1
        officer.click("button[data-action=approve-confirm]")
        officer.wait_for_selector("[data-testid=done]")
        assert officer.get_attribute("[data-testid=status]", "data-status") == "issued"

    assert problems == []


def test_a_bank_clerk_checks_a_qr_and_a_pdf_in_punjabi_and_hindi_on_a_phone(
    server: str, client: TestClient, dept: IssuingDepartment, tmp_path: Path
) -> None:
    record, pdf = issue(client, dept)
    genuine = tmp_path / "certificate.pdf"
    genuine.write_bytes(pdf)
    tampered = alter_content(pdf)
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(bytes(tampered))
    problems: list[str] = []

    with chromium() as browser:
        clerk = watched(browser, problems, viewport=PHONE, locale="pa-IN")
        fonts: list[str] = []
        clerk.on("request", lambda r: fonts.append(r.url.rsplit("/", 1)[1]) if "/fonts/" in r.url else None)

        # The QR code opens the register's answer in the phone's language.
        clerk.goto(f"{server}/v/{record['id']}")
        assert clerk.get_attribute("html", "lang") == "pa"
        assert "ਅਸਲੀ ਅਤੇ ਲਾਗੂ" in clerk.inner_text("section.verdict")
        number = clerk.inner_text("[data-testid=readable-number]")
        assert number == record["number"]  # as printed on the paper, not the id in the URL
        assert number in clerk.inner_text("[data-testid=check-paper]")
        fits_the_screen(clerk)
        assert_accessible(clerk)
        clerk.wait_for_load_state("networkidle")
        assert "devanagari.woff2" not in fonts  # "हिन्दी" in the switcher costs 4 KB, not 63
        assert "name-hi.woff2" in fonts
        assert clerk.evaluate("[...document.fonts].every(f => f.status !== 'error')")

        # The file itself: altered, then genuine; no jargon unless the details are opened.
        clerk.click("a[href^='/verify']")
        clerk.set_input_files("#file", str(altered))
        clerk.click("form.upload button[type=submit]")
        clerk.wait_for_selector("section.verdict")
        assert clerk.get_attribute("section.verdict", "data-verdict") == "altered"
        assert "ਸਵੀਕਾਰ ਨਾ ਕਰੋ" in clerk.inner_text("section.verdict")
        shown = clerk.inner_text("main")
        assert "TOTAL_FAILED" not in shown
        assert "FORMAT_FAILURE" not in shown
        assert "DIGEST_MISMATCH" not in shown
        fits_the_screen(clerk)
        assert_accessible(clerk)
        clerk.click("details.technical > summary")
        assert "TOTAL_FAILED" in clerk.inner_text("details.technical")

        clerk.click("nav.languages a[lang=hi]")
        clerk.wait_for_selector("html[lang=hi]")
        clerk.set_input_files("#file", str(genuine))
        clerk.click("form.upload button[type=submit]")
        clerk.wait_for_selector("section.verdict")
        assert clerk.get_attribute("html", "lang") == "hi"
        assert "असली और मान्य" in clerk.inner_text("section.verdict")
        assert "B-LTA" not in clerk.inner_text("main")
        assert_accessible(clerk)

    assert problems == []


def test_head_office_reads_the_whole_pendency_table_on_a_1366_screen(
    server: str, client: TestClient, backend: Backend
) -> None:
    for code in ("REV", "LG", "TPT"):
        ensure_department(backend, code)
    applied(client, backend)
    head_office_name = new_staff(backend, StaffRole.HEAD_OFFICE, None)
    problems: list[str] = []

    with chromium() as browser:
        head_office = watched(browser, problems, viewport={"width": 1366, "height": 768}, locale="en-IN")
        desk_sign_in(head_office, server, head_office_name)
        head_office.wait_for_url(f"{server}/desk/pendency")
        assert_accessible(head_office)
        assert "paused" in head_office.inner_text("[data-testid=open-note]")  # what Open counts
        scroll = head_office.evaluate(
            "(() => { const w = document.querySelector('.table-wrap'); return [w.scrollWidth, w.clientWidth]; })()"
        )
        assert scroll[0] <= scroll[1], f"the table scrolls sideways: {scroll}"
        header = head_office.inner_text("[data-testid=pendency] thead")
        assert header.index("Open") < header.index("Submitted")  # the key figures first
        head_office.keyboard.press("Tab")
        assert head_office.evaluate("document.activeElement.className") == "skip-link"

    assert problems == []
