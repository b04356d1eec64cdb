"""The verifier's pages as a bank clerk reads them: a verdict in plain words in the page's
language (en/pa/hi), what to check on the paper and what to do next; the reason codes and
signature levels only behind the technical details."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.conftest import IssuingDepartment
from tests.pdf_tampering import alter_content
from tests.verifier.test_api import issue
from verifier.plain_words import MESSAGES, grouped, headline

EN, PA, HI = (MESSAGES.translator(code) for code in ("en", "pa", "hi"))
JARGON = (
    "TOTAL_PASSED",
    "TOTAL_FAILED",
    "INDETERMINATE",
    "B-LTA",
    "B-LT",
    "PAdES",
    "DIGEST_MISMATCH",
    "FORMAT_FAILURE",
)


def shows(page: httpx.Response, text: str) -> bool:
    """Whether the page prints ``text`` (as written, or as the template escapes it)."""
    return text in page.text or str(escape(text)) in page.text


def first_screen(html: str) -> str:
    """What the page shows without opening its technical details."""
    without_details = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", without_details)


@pytest.mark.parametrize("language", ["en", "pa", "hi"])
def test_the_qr_page_says_genuine_in_the_readers_language(
    client: TestClient, dept: IssuingDepartment, language: str
) -> None:
    record, _ = issue(client, dept)
    translate = MESSAGES.translator(language)

    page = client.get(f"/v/{record['id']}?lang={language}")

    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    assert page.headers["content-language"] == language
    for key in ("lookup.valid.title", "lookup.check_title", "next.title", "doc.number"):
        assert shows(page, translate(key))
    assert shows(page, translate("lookup.check_number", number=record["number"]))
    assert not any(word in first_screen(page.text) for word in JARGON)
    assert 'href="#main"' in page.text  # the skip link


def test_a_readable_number_is_the_id_in_groups_of_four() -> None:
    assert grouped("7qk2m4xa9bcd1e") == "7QK2 M4XA 9BCD 1E"


def test_revoked_superseded_and_unknown_pages_say_do_not_accept_and_what_next(
    client: TestClient, dept: IssuingDepartment
) -> None:
    record, _ = issue(client, dept)
    client.post(f"/api/v1/documents/{record['id']}/revoke", json={"reason": "income misstated"}, headers=dept.headers)

    revoked = client.get(f"/v/{record['id']}?lang=hi")
    unknown = client.get("/v/aaaaaaaaaaaaaaaaaaaaaaaaaa?lang=pa")

    assert 'data-status="revoked"' in revoked.text
    assert shows(revoked, HI("lookup.revoked.title"))
    assert shows(revoked, HI("next.ask_current"))
    assert "income misstated" in revoked.text
    assert unknown.status_code == 404
    assert shows(unknown, PA("lookup.unknown.title"))
    assert shows(unknown, PA("next.unknown"))
    assert 'class="verdict bad"' in unknown.text


def test_an_altered_file_reads_altered_do_not_accept_with_details_collapsed(
    client: TestClient, dept: IssuingDepartment
) -> None:
    _, pdf = issue(client, dept)
    tampered = alter_content(pdf)

    page = client.post("/verify?lang=pa", files={"file": ("c.pdf", bytes(tampered), "application/pdf")})

    assert page.status_code == 200
    assert 'data-verdict="altered"' in page.text
    assert shows(page, PA("verdict.altered.title"))
    assert shows(page, PA("next.reject_file"))
    assert not any(word in first_screen(page.text) for word in JARGON)
    details = re.search(r"<details class=\"technical\".*?</details>", page.text, re.S)
    assert details
    assert "TOTAL_FAILED" in details.group(0)


def test_a_genuine_file_shows_its_level_only_in_the_details(client: TestClient, dept: IssuingDepartment) -> None:
    _, pdf = issue(client, dept)

    page = client.post("/verify", files={"file": ("c.pdf", pdf, "application/pdf")})

    assert shows(page, EN("verdict.genuine.title"))
    assert not any(word in first_screen(page.text) for word in JARGON)


@pytest.mark.parametrize(
    ("indication", "codes", "expected"),
    [
        ("TOTAL_PASSED", [], "genuine"),
        ("TOTAL_FAILED", ["EXPIRED", "DIGEST_MISMATCH"], "altered"),
        ("TOTAL_FAILED", ["FORMAT_FAILURE"], "altered"),
        ("TOTAL_FAILED", ["NO_SIGNATURE"], "unsigned"),
        ("TOTAL_FAILED", ["UNTRUSTED_SIGNER"], "unknown_issuer"),
        ("TOTAL_FAILED", ["NOT_IN_REGISTRY"], "unknown_issuer"),
        ("TOTAL_FAILED", ["REVOKED"], "revoked"),
        ("TOTAL_FAILED", ["SUPERSEDED"], "superseded"),
        ("TOTAL_FAILED", ["EXPIRED"], "expired"),
        ("INDETERMINATE", ["REVOCATION_UNKNOWN"], "unconfirmed"),
    ],
)
def test_the_most_serious_finding_names_the_verdict(indication: str, codes: list[str], expected: str) -> None:
    assert headline(indication, codes) == expected
