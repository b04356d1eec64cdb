"""The public verification pages in a real browser (Debian's headless Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.factory import create_app
from sanad.threaded_server import serve_in_thread
from tests.conftest import Backend, IssuingDepartment, income_certificate, require_tool

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def server(backend: Backend) -> Iterator[str]:
    if backend.name != "embedded":
        pytest.skip("the pages do not depend on the backend; one browser run is enough")
    with serve_in_thread(create_app(context=backend.context)) as url:
        yield url


def test_qr_page_and_upload_in_chromium(
    server: str, client: TestClient, dept: IssuingDepartment, tmp_path: Path
) -> None:
    chromium = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    record = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(client.get(f"/api/v1/documents/{record['id']}/content", headers=dept.headers).content)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(f"{server}/v/{record['id']}")
        verdict = page.locator("section.verdict")
        assert verdict.get_attribute("data-status") == "valid"
        assert "Genuine and in force" in verdict.inner_text()
        page.click("nav.languages a[lang=pa]")
        assert "ਅਸਲੀ ਅਤੇ ਲਾਗੂ" in page.locator("section.verdict").inner_text()
        assert "ਗੁ•••" in page.inner_text("dl.facts")
        page.screenshot(path=str(tmp_path / "qr-page.png"))

        page.goto(f"{server}/verify?lang=pa")
        page.set_input_files("input[type=file]", str(pdf))
        page.click("button[type=submit]")
        page.wait_for_selector("section.verdict")
        assert page.locator("section.verdict").get_attribute("data-indication") == "TOTAL_PASSED"
        assert "ਅਸਲੀ ਅਤੇ ਵੈਧ" in page.inner_text("section.verdict")

        page.goto(f"{server}/v/aaaaaaaaaaaaaaaaaaaaaaaaaa")
        assert page.locator("section.verdict").get_attribute("data-status") == "unknown"
        browser.close()
