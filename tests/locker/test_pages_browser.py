"""The locker's pages in a real browser (Debian's headless Chromium) on a small phone screen."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.factory import create_app
from sanad.threaded_server import serve_in_thread
from tests.conftest import Backend, IssuingDepartment, require_tool
from tests.locker.conftest import issue_to, latest_code, new_mobile

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, ViewportSize

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture
def server(backend: Backend) -> Iterator[str]:
    if backend.name != "embedded":
        pytest.skip("the pages do not depend on the backend; one browser run is enough")
    with serve_in_thread(create_app(context=backend.context)) as url:
        yield url


def fits_the_screen(page: Page) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


def test_citizen_signs_in_shares_revokes_and_uploads_on_a_phone(
    server: str, client: TestClient, backend: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    chromium = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    mobile = new_mobile()
    doc = issue_to(client, dept, mobile)
    picture = tmp_path / "ration-card.png"
    Image.new("RGB", (40, 30), (200, 120, 40)).save(picture)
    problems: list[str] = []

    def watch(page: Page, expected: str | None = None) -> None:
        """Console errors (CSP violations show up there) and script errors fail the test;
        ``expected`` is the one failing status the page is meant to get (the 410)."""

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error" and not (expected and expected in message.text):
                problems.append(f"{message.text} at {message.location.get('url')}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        owner = browser.new_context(viewport=PHONE, accept_downloads=True, locale="en-IN")
        page = owner.new_page()
        watch(page)

        # Signed out, the locker asks for the mobile number, then the code sent to it.
        page.goto(f"{server}/locker/documents")
        assert "/locker/sign-in" in page.url
        fits_the_screen(page)
        page.fill("#mobile", mobile)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=code-sent]")
        page.fill("#code", latest_code(backend, mobile))
        page.click("form[action='/locker/sign-in'] button[type=submit]")
        page.wait_for_url(f"{server}/locker/documents")

        card = page.locator(f"a.doc-card[data-id='{doc['id']}']")
        assert "Income Certificate" in card.inner_text()
        assert card.locator(".badge").get_attribute("data-status") == "valid"
        fits_the_screen(page)
        page.screenshot(path=str(tmp_path / "documents.png"), full_page=True)

        card.click()
        page.wait_for_url(f"{server}/locker/documents/{doc['id']}")
        assert page.inner_text("h1") == "Income Certificate"
        assert str(doc["sha256"]) in page.inner_text("[data-testid=sha256]")
        fits_the_screen(page)

        page.fill("#purpose", "Home loan, ABC Bank")
        page.click("[data-testid=share-form] button[type=submit]")
        link = page.input_value("#share-url")
        token = re.search(r"/s/([A-Za-z0-9_-]+)$", link)
        assert token, link
        fits_the_screen(page)
        page.screenshot(path=str(tmp_path / "share-created.png"), full_page=True)

        # The recipient has no account and no cookies.
        recipient = browser.new_context(viewport=PHONE, accept_downloads=True).new_page()
        watch(recipient, expected="status of 410")
        shared_url = f"{server}/s/{token.group(1)}"
        recipient.goto(shared_url)
        live = recipient.locator("[data-testid=live-status]")
        assert live.get_attribute("data-status") == "valid"
        assert "Valid" in live.inner_text()
        assert recipient.locator("nav.tabs").count() == 0
        fits_the_screen(recipient)
        with recipient.expect_download() as download:
            recipient.click("[data-testid=download]")
        assert hashlib.sha256(Path(download.value.path()).read_bytes()).hexdigest() == doc["sha256"]
        recipient.screenshot(path=str(tmp_path / "shared.png"), full_page=True)

        # The owner sees the visit, then withdraws the link.
        page.goto(f"{server}/locker/access-log")
        assert "Through your share link: Home loan, ABC Bank" in page.inner_text("[data-testid=access-events]")
        fits_the_screen(page)
        page.goto(f"{server}/locker/documents/{doc['id']}")
        share = page.locator("[data-testid=shares] li[data-state=active]")
        assert "Home loan, ABC Bank" in share.inner_text()
        share.locator("button.danger").click()
        page.wait_for_selector("[data-testid=shares] li[data-state=revoked]")

        response = recipient.reload()
        assert response is not None
        assert response.status == 410
        assert "This link no longer works" in recipient.inner_text("h1")
        assert "revoked the link" in recipient.inner_text("main")
        fits_the_screen(recipient)
        recipient.screenshot(path=str(tmp_path / "gone.png"), full_page=True)

        # In Punjabi: the whole page, and the choice sticks.
        page.click("nav.languages a[lang=pa]")
        page.wait_for_selector("html[lang=pa]")
        assert "ਮੇਰੇ ਦਸਤਾਵੇਜ਼" in page.inner_text("nav.tabs")
        assert "PDF ਡਾਊਨਲੋਡ ਕਰੋ" in page.inner_text("[data-testid=download]")
        assert "ਰੱਦ ਕੀਤਾ" in page.inner_text("[data-testid=shares]")
        fits_the_screen(page)
        page.screenshot(path=str(tmp_path / "document-pa.png"), full_page=True)

        page.click("nav.tabs a[href='/locker/uploads']")
        page.wait_for_selector("[data-testid=upload-form]")
        page.set_input_files("#file", str(picture))
        page.fill("#title", "ਰਾਸ਼ਨ ਕਾਰਡ")
        page.click("[data-testid=upload-form] button[type=submit]")
        item = page.locator("[data-testid=uploads] li").first
        assert "ਰਾਸ਼ਨ ਕਾਰਡ" in item.inner_text()
        assert "ਤਸਦੀਕ ਨਹੀਂ" in item.locator(".badge.unverified").inner_text()
        fits_the_screen(page)
        page.screenshot(path=str(tmp_path / "uploads-pa.png"), full_page=True)
        page.click("nav.languages a[lang=en]")
        assert page.locator(".badge.unverified").first.inner_text() == "Uploaded by you — not verified"

        browser.close()

    assert problems == []
