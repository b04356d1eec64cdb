"""The public verifier's budget: a file that is not a PDF is refused before any parsing,
each address has a share of uploads per window, and a process checks only so many files
at once."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import httpx
from fastapi.testclient import TestClient

from app.factory import create_app
from tests.concurrency import at_once, from_address, live_server
from tests.conftest import Backend, IssuingDepartment, client_address, income_certificate
from verifier.capacity import CheckingSlots

VERIFY = "/api/v1/verify"
ALMOST_20_MB = 20 * 2**20 - 2**17


def pdf_file(data: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("upload.pdf", data, "application/pdf")}


def limited_client(backend: Backend, **settings: object) -> TestClient:
    changed = backend.context.settings.model_copy(update=settings)
    return TestClient(create_app(context=replace(backend.context, settings=changed)), client=client_address())


def test_twenty_megabytes_that_are_not_a_pdf_are_refused_at_once(backend: Backend) -> None:
    not_a_pdf = os.urandom(ALMOST_20_MB)
    # 20 MB of zeros between a PDF header and an end marker: pyHanko took 8 s over it.
    lookalike = b"%PDF-1.7\n" + bytes(ALMOST_20_MB) + b"\n%%EOF\n"

    with live_server(backend) as url:
        answers = []
        for data in (not_a_pdf, lookalike):
            started = time.monotonic()
            response = httpx.post(url + VERIFY, files=pdf_file(data), headers=from_address(), timeout=30)
            answers.append((response, time.monotonic() - started))

    (refused, took), (lookalike_refused, lookalike_took) = answers
    assert refused.status_code == 400
    assert refused.json()["detail"] == "the uploaded file is not a PDF"
    assert took < 2  # uploading 20 MB included; pyHanko's parse took 8 s
    assert lookalike_refused.status_code == 400
    assert "cross-reference" in lookalike_refused.json()["detail"]
    assert lookalike_took < 2


def test_the_eleventh_upload_within_a_minute_from_one_address_is_429(backend: Backend) -> None:
    with TestClient(create_app(context=backend.context), client=client_address()) as client:
        answers = [client.post(VERIFY, files=pdf_file(b"not a pdf")) for _ in range(10)]
        refused = client.post(VERIFY, files=pdf_file(b"not a pdf"))
        page = client.post("/verify", files=pdf_file(b"not a pdf"))

    assert {a.status_code for a in answers} == {400}  # refused files count too
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["detail"].startswith("too many files checked from this address; try again in ")
    assert page.status_code == 429  # the upload page shares the count
    assert "Too many files were checked from this connection just now" in page.text
    assert 0 < int(page.headers["Retry-After"]) <= 60


def test_twenty_uploads_at_once_from_one_address_get_exactly_their_share(backend: Backend) -> None:
    address = from_address()
    with live_server(backend, verify_uploads_per_window=5) as url:
        answers = at_once(
            20, lambda _: httpx.post(url + VERIFY, files=pdf_file(b"not a pdf"), headers=address, timeout=30)
        )

    assert sorted(a.status_code for a in answers) == [400] * 5 + [429] * 15


def test_a_process_checks_only_so_many_files_at_once(backend: Backend, dept: IssuingDepartment) -> None:
    with limited_client(backend, verify_max_concurrent=1) as client:
        issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()
        pdf = client.get(f"/api/v1/documents/{issued['id']}/content", headers=dept.headers).content
        first = client.post(VERIFY, files=pdf_file(b"not a pdf"))  # the slots are made on first use
        slots: CheckingSlots = client.app.state.checking_slots  # type: ignore[attr-defined]
        with slots.slot():  # another upload is being checked
            busy = client.post(VERIFY, files=pdf_file(pdf))
            page = client.post("/verify", files=pdf_file(pdf))
        free_again = client.post(VERIFY, files=pdf_file(pdf))

    assert first.status_code == 400  # refused before it needed a slot
    assert busy.status_code == 503
    assert busy.json()["error"] == "verifier_busy"
    assert busy.headers["Retry-After"] == "2"
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "2"
    assert free_again.status_code == 200
    assert free_again.json()["indication"] == "TOTAL_PASSED"
