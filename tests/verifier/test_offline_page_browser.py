"""The offline QR-seal checker (/verify/offline) in a real browser (Debian's headless Chromium).

The page verifies seals with WebCrypto against the JWKS and status list it saved, so these
tests drive it exactly as a clerk would: open the scanned link, or paste it, and read the
verdict. Certificates carry the compact seal (digits: COSE, CBOR); those issued before it
carry a JWS, which the page still checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cbor2
import pytest
from fastapi.testclient import TestClient

from app.factory import create_app
from issuer.models import Document, DocumentStatus
from issuer.seal import SealClaims, decode_claims, open_seal, sealed_url
from issuer.sign import DepartmentSigner
from sanad.cose import sign1
from sanad.digits import encode_digits
from sanad.jws import b64url_decode, b64url_encode, compact_json
from sanad.threaded_server import serve_in_thread
from tests.conftest import EXAMPLE_DATA, Backend, IssuingDepartment, income_certificate, require_tool
from tests.verifier.helpers import cose_parts, cose_seal, jws_seal, resigned
from verifier.pdf_seal import read_seal_and_attachment

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: ViewportSize = {"width": 360, "height": 740}
HOLDER = str(EXAMPLE_DATA["holder_name"])  # in full in the seal; the registry page masks it


@dataclass(frozen=True)
class Issued:
    """A document issued through the API, and the seal its QR code carries."""

    id: str
    seal: str
    department: str
    verify_url: str

    def qr_text(self, server: str) -> str:
        """What the QR code scans to, on the test server: ``HTTP://HOST/V/<ID>#<digits>``."""
        return sealed_url(f"{server}/v/{self.id}", self.seal)

    def claims(self) -> SealClaims:
        return decode_claims(open_seal(self.seal).payload, self.department)

    def cose(self) -> list[Any]:
        """protected, unprotected, payload, signature."""
        return cose_parts(self.seal)


def issue(
    client: TestClient, backend: Backend, dept: IssuingDepartment, request: dict[str, Any] | None = None
) -> Issued:
    record = client.post("/api/v1/documents", json=request or income_certificate(), headers=dept.headers).json()
    pdf = client.get(f"/api/v1/documents/{record['id']}/content", headers=dept.headers).content
    seal, _ = read_seal_and_attachment(pdf)
    assert seal is not None, "the certificate's QR link carries no seal"
    # Each test's department is new: its key must be in the JWKS the server caches for a minute.
    backend.context.trust_publisher.invalidate()
    return Issued(record["id"], seal, dept.department.code, record["verify_url"])


@dataclass(frozen=True)
class OffTheLoop:
    """A department signer for tests that run beside Playwright: its ``sign_raw`` starts an
    event loop of its own, which the thread Playwright's loop runs in cannot."""

    signer: DepartmentSigner

    @property
    def key_id(self) -> str:
        return self.signer.key_id

    def sign_raw(self, data: bytes) -> bytes:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(self.signer.sign_raw, data).result()


def department_signer(backend: Backend, dept: IssuingDepartment) -> OffTheLoop:
    return OffTheLoop(backend.context.kit.signers.get(dept.department.code))


def set_status(backend: Backend, document_id: str, status: DocumentStatus) -> None:
    """Revoke (through the API elsewhere) or supersede a document, and have the next
    status-list request rebuild the snapshot rather than serve the cached one."""
    with backend.context.sessions() as session:
        document = session.get(Document, document_id)
        assert document is not None
        document.status = status
        session.commit()
    backend.context.trust_publisher.invalidate()


@pytest.fixture
def server(backend: Backend) -> Iterator[str]:
    if backend.name != "embedded":
        pytest.skip("the pages do not depend on the backend; one browser run is enough")
    with serve_in_thread(create_app(context=backend.context)) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=PHONE, locale="en-IN")
    yield ctx
    ctx.close()


@pytest.fixture
def problems() -> Iterator[list[str]]:
    found: list[str] = []
    yield found
    assert not found, found


def open_page(context: BrowserContext, problems: list[str], expected: str | None = None) -> Page:
    """A page whose console errors (CSP violations land there) and script errors fail the test;
    ``expected`` is the one failure the page is meant to meet (the network being down)."""
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        text = f"{message.text} at {message.location.get('url')}"
        if message.type == "error" and not (expected and expected in text):
            problems.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return page


def verdict_of(page: Page) -> tuple[str, str]:
    page.wait_for_selector("#sv-result [data-verdict]")
    box = page.locator("#sv-result [data-verdict]")
    return str(box.get_attribute("data-verdict")), box.inner_text()


def wait_for_service_worker(page: Page) -> None:
    """Until the service worker is active for the checker and for QR links in both spellings
    (/v/{id}, /V/{ID}): a registration still under way when the network goes would fail."""
    # Every scope's worker active, with nothing installing behind it.
    poll(
        page,
        """Promise.all(['/verify/offline', '/v/x', '/V/X'].map(s => navigator.serviceWorker.getRegistration(s)))
        .then(rs => rs.every(r => r && r.active && r.active.state === 'activated' && !r.installing && !r.waiting))""",
    )


def poll(page: Page, expression: str, seconds: float = 15) -> None:
    """Until ``expression`` is true in the page. Polled with ``evaluate``, which awaits a
    promise (``wait_for_function`` takes a promise itself as true) and is not stopped by the
    page's content policy (``wait_for_function``'s polling evaluates a string, which it is)."""
    for _ in range(int(seconds * 20)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {expression}")


def check(page: Page, server: str, qr_text: str) -> tuple[str, str]:
    """Open the checker with the scanned text in its fragment, as a QR link would (a fresh
    load each time: a hash-only change would leave the last verdict on screen meanwhile)."""
    page.goto("about:blank")
    page.goto(f"{server}/verify/offline#{qr_text.partition('#')[2] or qr_text}")
    return verdict_of(page)


def test_genuine_seal_is_valid_with_the_holder_shown(
    server: str,
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    context: BrowserContext,
    problems: list[str],
    tmp_path: Path,
) -> None:
    doc = issue(client, backend, dept)
    page = open_page(context, problems)
    fonts: list[str] = []
    page.on("request", lambda r: fonts.append(r.url.rsplit("/", 1)[1]) if "/fonts/" in r.url else None)
    verdict, words = check(page, server, doc.seal)
    assert verdict == "valid", words
    assert "GENUINE AND IN FORCE" in words
    assert page.inner_text("[data-field=holder]") == HOLDER
    assert page.inner_text("[data-field=id]") == doc.id
    assert page.inner_text("[data-field=department]") == dept.department.code
    assert page.locator("#sv-result").get_attribute("role") == "status"
    assert "Trust list fetched at" in page.inner_text("#sv-trust")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide"
    page.screenshot(path=str(tmp_path / "valid.png"), full_page=True)
    page.click("button[data-lang=pa]")
    assert "ਅਸਲੀ ਅਤੇ ਲਾਗੂ" in page.inner_text("#sv-result [data-verdict]")
    assert page.evaluate("document.documentElement.lang") == "pa"
    page.wait_for_load_state("networkidle")
    # The pages' WOFF2 subsets, not whole TrueType fonts; "हिन्दी" costs 4 KB, not 63.
    assert "gurmukhi.woff2" in fonts
    assert "name-hi.woff2" in fonts
    assert "devanagari.woff2" not in fonts
    assert not [f for f in fonts if f.endswith(".ttf")], fonts
    assert page.evaluate("[...document.fonts].every(f => f.status !== 'error')")
    page.click("button[data-lang=en]")

    assert page.inner_text("[data-field=type]") == "Income certificate"
    assert len(page.inner_text("[data-field=fingerprint]")) == 16  # 8 bytes of the data's SHA-256

    # Pasting the whole scanned text works too, upper case as the QR code holds it, or the
    # link as the PDF has it; a seal pasted onto another document's link does not.
    page.goto(f"{server}/verify/offline")
    for text in (doc.qr_text(server), f"{server}/v/{doc.id}#{doc.seal}"):
        page.fill("#sv-input", text)
        page.click("#sv-form button[type=submit]")
        page.wait_for_selector("#sv-result [data-verdict=valid]")
        page.fill("#sv-input", "")
    page.fill("#sv-input", f"{server}/V/SOMEOTHERDOCUMENT#{doc.seal}")
    page.click("#sv-form button[type=submit]")
    page.wait_for_selector("#sv-result [data-verdict=invalid]")
    assert "someotherdocument" in page.inner_text("#sv-result")


def test_tampered_seal_is_invalid(
    server: str,
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    context: BrowserContext,
    problems: list[str],
) -> None:
    doc = issue(client, backend, dept)
    protected, _, payload, signature = doc.cose()
    # One letter of the holder's name changed, the payload re-encoded: well-formed, not signed.
    claims = cbor2.loads(payload)
    claims[-2] = claims[-2][:-1] + bytes([claims[-2][-1] ^ 1])
    renamed = cose_seal(protected, cbor2.dumps(claims, canonical=True), signature)
    # One digit of the signature changed.
    at = len(doc.seal) - 20
    one_digit = doc.seal[:at] + str((int(doc.seal[at]) + 1) % 10) + doc.seal[at + 1 :]
    page = open_page(context, problems)
    for forged in (renamed, one_digit):
        verdict, words = check(page, server, forged)
        assert verdict == "invalid", words
        assert "SEAL NOT GENUINE — DO NOT ACCEPT" in words
        assert "signature does not match" in words
        assert page.locator("[data-field=holder]").count() == 0


def test_bad_seals_get_a_clear_verdict(
    server: str,
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    context: BrowserContext,
    problems: list[str],
) -> None:
    """A seal cut short, a key id the trust list lacks, and algorithms other than ES256."""
    doc = issue(client, backend, dept)
    signer = department_signer(backend, dept)
    protected, _, payload, _ = doc.cose()
    kid = cbor2.loads(protected)[4]

    page = open_page(context, problems)
    expected = {
        doc.seal[:-1]: "damaged or incomplete",
        doc.seal[:-17]: "damaged",
        encode_digits(sign1(bytes(8), payload, signer.sign_raw)): "key 0000000000000000 is not in the trust list",
        resigned(signer, {1: -35, 4: kid}, payload): "algorithm -35 is not accepted",
        resigned(signer, {4: kid}, payload): "algorithm null is not accepted",
        resigned(signer, {1: -7, 2: [4], 4: kid}, payload): "unsupported header parameter 2",
    }
    for seal, reason in expected.items():
        verdict, words = check(page, server, seal)
        assert verdict == "invalid", words
        assert reason in words


def test_a_seal_issued_before_the_compact_one_still_checks(
    server: str,
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    context: BrowserContext,
    problems: list[str],
) -> None:
    """Documents already issued carry a JWS seal in a lower-case link: still valid here."""
    doc = issue(client, backend, dept)
    signer = department_signer(backend, dept)
    legacy = jws_seal(signer, replace(doc.claims(), data_hash=bytes(32)))
    page = open_page(context, problems)
    verdict, words = check(page, server, legacy)
    assert verdict == "valid", words
    assert page.inner_text("[data-field=holder]") == HOLDER

    header, payload, signature = legacy.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["n"] = claims["n"][:-1] + "ਹ"
    renamed = f"{header}.{b64url_encode(compact_json(claims))}.{signature}"
    kid = json.loads(b64url_decode(header))["kid"]
    for forged in (
        renamed,
        f"{b64url_encode(compact_json({'alg': 'none', 'kid': kid, 'typ': 'sanad-seal+jws'}))}.{payload}.",
    ):
        verdict, words = check(page, server, forged)
        assert verdict == "invalid", words


def test_a_long_name_shortened_in_the_seal_says_so(
    server: str,
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    context: BrowserContext,
    problems: list[str],
) -> None:
    request = income_certificate()
    long_name = ("ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ " * 10)[:120].strip()
    request["data"] = {**request["data"], "holder_name": long_name}  # type: ignore[dict-item]
    doc = issue(client, backend, dept, request)
    page = open_page(context, problems)
    verdict, _ = check(page, server, doc.seal)
    shown = page.inner_text("[data-field=holder]")
    assert verdict == "valid"
    assert shown.startswith(doc.claims().holder_name + "…")
    assert long_name.startswith(doc.claims().holder_name)
    assert "shortened in the QR code" in shown


def test_revoked_superseded_and_expired(
    server: str,
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    context: BrowserContext,
    problems: list[str],
) -> None:
    revoked, superseded, suspended = (issue(client, backend, dept) for _ in range(3))
    client.post(f"/api/v1/documents/{revoked.id}/revoke", json={"reason": "Issued in error"}, headers=dept.headers)
    set_status(backend, superseded.id, DocumentStatus.SUPERSEDED)
    set_status(backend, suspended.id, DocumentStatus.SUSPENDED)
    page = open_page(context, problems)
    verdict, words = check(page, server, revoked.seal)
    assert (verdict, "CANCELLED — DO NOT ACCEPT" in words) == ("revoked", True), words
    assert page.inner_text("[data-field=holder]") == HOLDER
    verdict, words = check(page, server, superseded.seal)
    assert (verdict, "REPLACED BY A NEWER CERTIFICATE" in words) == ("superseded", True), words
    # Suspended (status 2): in plain words, in each language, never "valid" meanwhile.
    verdict, words = check(page, server, suspended.seal)
    assert (verdict, "SUSPENDED — DO NOT ACCEPT UNTIL REINSTATED" in words) == ("suspended", True), words
    assert "until the office reinstates it" in words
    for lang, headline in (("pa", "ਮੁਅੱਤਲ — ਬਹਾਲ ਹੋਣ ਤੱਕ ਸਵੀਕਾਰ ਨਾ ਕਰੋ"), ("hi", "निलंबित — बहाल होने तक स्वीकार न करें")):
        page.click(f"button[data-lang={lang}]")
        assert headline in page.inner_text("#sv-result [data-verdict]")
    page.click("button[data-lang=en]")

    # The phone's calendar past the certificate's end date.
    expiry = superseded.claims().valid_until
    assert expiry is not None
    later = open_page(context, problems)
    later.clock.set_fixed_time(datetime.combine(expiry + timedelta(days=2), datetime.min.time(), UTC))
    valid = issue(client, backend, dept)
    verdict, words = check(later, server, valid.seal)
    assert (verdict, "EXPIRED" in words) == ("expired", True), words


def test_stale_status_list_is_never_shown_as_current(
    server: str,
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    context: BrowserContext,
    problems: list[str],
    tmp_path: Path,
) -> None:
    doc, revoked = issue(client, backend, dept), issue(client, backend, dept)
    set_status(backend, revoked.id, DocumentStatus.REVOKED)
    page = open_page(context, problems)
    assert check(page, server, doc.seal)[0] == "valid"  # saves today's snapshot on the phone
    wait_for_service_worker(page)

    # Two days at a checkpoint with no network: the saved snapshot has passed its exp.
    context.set_offline(True)
    later = open_page(context, problems, expected="net::ERR_INTERNET_DISCONNECTED")
    later.clock.set_fixed_time(datetime.now(UTC) + timedelta(days=2))
    verdict, words = check(later, server, doc.seal)
    assert verdict == "unknown", words
    assert "Valid signature, revocation status unknown (status list stale since" in words
    assert "GENUINE SEAL, STATUS UNKNOWN" in words
    assert later.inner_text("[data-field=holder]") == HOLDER
    later.screenshot(path=str(tmp_path / "stale.png"), full_page=True)
    # A stale snapshot still proves a revocation: that is final.
    verdict, words = check(later, server, revoked.seal)
    assert verdict == "revoked", words
    assert "stale since" in words
    context.set_offline(False)


def test_works_offline_after_one_online_visit(
    server: str,
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    context: BrowserContext,
    problems: list[str],
) -> None:
    doc, revoked = issue(client, backend, dept), issue(client, backend, dept)
    set_status(backend, revoked.id, DocumentStatus.REVOKED)
    page = open_page(context, problems)
    page.goto(f"{server}/verify/offline")
    page.wait_for_selector("[data-seal-app][data-state=ready]")
    # The service worker installs (caching the page, script and stylesheet) and takes control;
    # a second registration covers the QR links (/v/...).
    poll(page, "navigator.serviceWorker.controller !== null")
    wait_for_service_worker(page)

    context.set_offline(True)
    offline = open_page(context, problems, expected="net::ERR_INTERNET_DISCONNECTED")
    verdict, words = check(offline, server, doc.seal)
    assert verdict == "valid", words
    assert offline.inner_text("[data-field=holder]") == HOLDER
    assert "Offline: using the copies saved on this device" in offline.inner_text("#sv-trust")
    # The fonts came from the service worker's copies too (the brand's "ਸਨਦ" needs Gurmukhi).
    offline.evaluate("document.fonts.ready")
    assert offline.evaluate("[...document.fonts].some(f => f.family.includes('Gurmukhi') && f.status === 'loaded')")
    assert offline.evaluate("[...document.fonts].every(f => f.status !== 'error')")
    verdict, _ = check(offline, server, revoked.seal)
    assert verdict == "revoked"
    # The phone's camera opens the QR link itself, in the upper case the code holds, or the
    # PDF's link: offline, the checker answers both.
    for link in (doc.qr_text(server), f"{server}/v/{doc.id}#{doc.seal}"):
        offline.goto("about:blank")
        offline.goto(link)
        assert verdict_of(offline)[0] == "valid", link
    offline.goto("about:blank")
    offline.goto(f"{server}/v/{revoked.id}#{doc.seal}")  # a seal moved onto another link
    assert verdict_of(offline)[0] == "invalid"
    # A page the service worker has not saved really is unreachable: the network is down.
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
        offline.goto(f"{server}/verify")

    # Back online, the QR link opens the registry's own page again, seal check included.
    context.set_offline(False)
    online = open_page(context, problems, expected="/favicon.ico")
    online.goto(f"{server}/v/{doc.id}#{doc.seal}")
    assert online.locator("section.verdict").get_attribute("data-status") == "valid"
    online.wait_for_selector("[data-seal-check][data-state=checked]")
    assert online.locator("[data-seal-check] [data-verdict]").get_attribute("data-verdict") == "valid"


def test_qr_page_adds_the_seal_check(
    server: str,
    client: TestClient,
    backend: Backend,
    dept: IssuingDepartment,
    context: BrowserContext,
    problems: list[str],
    tmp_path: Path,
) -> None:
    doc = issue(client, backend, dept)
    page = open_page(context, problems, expected="/favicon.ico")  # the QR page has no icon
    page.goto(doc.qr_text(server))  # HTTP://HOST/V/<ID>#<digits>, as a phone's camera opens it
    assert page.locator("section.verdict").get_attribute("data-status") == "valid"
    page.wait_for_selector("[data-seal-check][data-state=checked]")
    box = page.locator("[data-seal-check] [data-verdict]")
    assert box.get_attribute("data-verdict") == "valid"
    assert HOLDER in page.inner_text("[data-seal-check]")
    page.goto("about:blank")
    page.goto(f"{server}/v/{doc.id}#{doc.seal}")
    page.wait_for_selector("[data-seal-check][data-state=checked]")
    assert box.get_attribute("data-verdict") == "valid"
    # A document issued before the compact seal: its JWS link still gets the seal's verdict.
    signer = department_signer(backend, dept)
    page.goto("about:blank")
    page.goto(f"{server}/v/{doc.id}#{jws_seal(signer, replace(doc.claims(), data_hash=bytes(32)))}")
    page.wait_for_selector("[data-seal-check][data-state=checked]")
    assert box.get_attribute("data-verdict") == "valid"
    page.screenshot(path=str(tmp_path / "qr-page.png"), full_page=True)
    # A seal moved onto another document's link is refused, whatever the registry says.
    other = issue(client, backend, dept)
    page.goto(f"{server}/v/{other.id}#{doc.seal}")
    page.wait_for_selector("[data-seal-check][data-state=checked]")
    assert box.get_attribute("data-verdict") == "invalid"
    # With no fragment the page is as before.
    page.goto(f"{server}/v/{doc.id}")
    assert page.locator("[data-seal-check]").is_hidden()
