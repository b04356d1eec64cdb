"""Certificate numbers a person can read and say: made, printed, unique, searchable, and
shown wherever the certificate is, while the random id stays in the QR code and URL."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from issuer import numbers, numbers_repository, service
from issuer.models import Document
from sanad.clock import today_in_india
from tests.conftest import Backend, IssuingDepartment, create_department, income_certificate, require_tool
from tests.locker.conftest import issue_to, new_mobile, sign_in


def _issue(client: TestClient, dept: IssuingDepartment, **body: object) -> dict[str, object]:
    response = client.post("/api/v1/documents", json={**income_certificate(), **body}, headers=dept.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _serial(number: object) -> int:
    return int(str(number).rsplit("-", 1)[1])


def _pdf(client: TestClient, dept: IssuingDepartment, document_id: object) -> bytes:
    return client.get(f"/api/v1/documents/{document_id}/content", headers=dept.headers).content


# --- the number's shape ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("document_type", "abbreviation"),
    [
        ("income-certificate", "INC"),
        ("caste-certificate", "CAS"),
        ("residence-certificate", "RES"),
        ("birth-certificate", "BIR"),
        ("learner-licence", "LL"),
        ("trade-licence", "TL"),
    ],
)
def test_each_template_type_has_a_short_abbreviation(document_type: str, abbreviation: str) -> None:
    assert numbers.type_abbreviation(document_type) == abbreviation


def test_a_number_names_state_department_type_year_and_serial() -> None:
    prefix = numbers.number_prefix("REV", "income-certificate")

    assert numbers.certificate_number(prefix, 2026, 123) == "PB-REV-INC-C-2026-000123"
    assert numbers.number_prefix("pb-rev", "income-certificate") == "PB-REV-INC"  # the state is not repeated
    assert numbers.certificate_number(prefix, 2026, 1234567) == "PB-REV-INC-C-2026-1234567"
    assert len(numbers.certificate_number(numbers.number_prefix("X" * 32, "a-b-c-d-e"), 2026, 10**9)) <= (
        numbers.MAX_LENGTH
    )


def test_a_number_typed_as_people_type_it_is_read_as_printed() -> None:
    assert numbers.normalise(" pb rev inc c 2026 000123 ") == "PB-REV-INC-C-2026-000123"
    assert numbers.normalise("pb-rev-inc c–2026/000123") == "PB-REV-INC-C-2026-000123"


# --- issuing --------------------------------------------------------------------------


def test_issuing_gives_the_next_readable_number_of_the_department_type_and_year(
    client: TestClient, dept: IssuingDepartment
) -> None:
    first, second = _issue(client, dept), _issue(client, dept)

    year = today_in_india().year
    assert re.fullmatch(rf"PB-{dept.department.code}-INC-C-{year}-\d{{6}}", str(first["number"]))
    assert _serial(second["number"]) == _serial(first["number"]) + 1
    assert first["id"] != first["number"]  # the unguessable id stays the URL's
    assert str(first["verify_url"]).endswith(f"/v/{first['id']}")


def test_another_department_counts_its_own_numbers(client: TestClient, backend: Backend) -> None:
    one, other = create_department(backend), create_department(backend)

    assert _serial(_issue(client, one)["number"]) == 1
    assert _serial(_issue(client, other)["number"]) == 1


def test_the_number_is_printed_and_recorded_in_the_attached_data(
    client: TestClient, dept: IssuingDepartment, tmp_path: Path
) -> None:
    issued = _issue(client, dept)
    pdf = _pdf(client, dept, issued["id"])
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)

    text = subprocess.run(
        [require_tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    with path.open("rb") as file:
        names = PdfFileReader(file).root["/Names"]["/EmbeddedFiles"]["/Names"]
        attached = names[1].get_object()["/EF"]["/F"].get_object().data

    assert str(issued["number"]) in text
    assert json.loads(attached)["number"] == issued["number"]
    assert json.loads(attached)["document_id"] == issued["id"]


def test_a_replayed_request_keeps_its_number(client: TestClient, dept: IssuingDepartment) -> None:
    body = income_certificate()
    headers = {**dept.headers, "Idempotency-Key": f"k-{secrets.token_hex(4)}"}

    first = client.post("/api/v1/documents", json=body, headers=headers).json()
    again = client.post("/api/v1/documents", json=body, headers=headers).json()

    assert again["number"] == first["number"]


def test_a_failed_issuance_leaves_a_gap_and_never_gives_its_number_again(
    client: TestClient, dept: IssuingDepartment
) -> None:
    first = _issue(client, dept)
    refused = client.post(
        "/api/v1/documents", json=income_certificate(holder_name="ᏣᎳᎩ"), headers=dept.headers
    )  # no font has these letters: refused at rendering, after the number was taken
    after = _issue(client, dept)

    assert refused.status_code == 422
    assert _serial(after["number"]) == _serial(first["number"]) + 2


def test_a_corrected_version_gets_a_number_of_its_own(client: TestClient, dept: IssuingDepartment) -> None:
    old = _issue(client, dept)

    new = client.post(
        f"/api/v1/documents/{old['id']}/supersede",
        json={"data": income_certificate()["data"], "reason": "the father's name was misspelt"},
        headers=dept.headers,
    )

    assert new.status_code == 201, new.text
    assert new.json()["number"] != old["number"]
    assert _serial(new.json()["number"]) == _serial(old["number"]) + 1


def test_numbers_are_unique_in_the_registry(backend: Backend, client: TestClient, dept: IssuingDepartment) -> None:
    issued = _issue(client, dept)

    with backend.context.sessions() as s:
        twin = s.get(Document, _issue(client, dept)["id"])
        assert twin is not None
        twin.number = str(issued["number"])
        with pytest.raises(IntegrityError):
            s.flush()


# --- serials --------------------------------------------------------------------------


def test_serials_come_in_order_and_per_year(backend: Backend) -> None:
    prefix = f"PB-T{secrets.token_hex(3).upper()}-INC"
    with backend.context.sessions() as s:
        taken = numbers_repository.allocate_serials(s, prefix, 2026, 3)
        one_more = numbers_repository.allocate_serials(s, prefix, 2026)
        next_year = numbers_repository.allocate_serials(s, prefix, 2027)
        s.commit()

    assert taken == [1, 2, 3]
    assert one_more == [4]
    assert next_year == [1]


def test_serials_carry_on_after_numbers_given_before_the_counter_existed(backend: Backend) -> None:
    from issuer.models import CertificateNumberCounter

    prefix = f"PB-T{secrets.token_hex(3).upper()}-INC"
    with backend.context.sessions() as s:
        s.add(CertificateNumberCounter(prefix=prefix, year=2026, last=41))
        s.commit()
        serial = numbers_repository.allocate_serials(s, prefix, 2026)
        s.commit()

    assert serial == [42]


def test_a_number_reserved_at_issue_is_committed_at_once(backend: Backend, dept: IssuingDepartment) -> None:
    now = datetime.now(UTC)
    with backend.context.sessions() as s:
        first = service.reserve_index_and_number(s, dept.department, "income-certificate", now)[1]
        s.rollback()  # the issuance failed: its number is still spent
        second = service.reserve_index_and_number(s, dept.department, "income-certificate", now)[1]

    assert _serial(second) == _serial(first) + 1


# --- finding and showing it -------------------------------------------------------------


def test_the_department_finds_a_document_by_its_number_typed_loosely(
    client: TestClient, dept: IssuingDepartment
) -> None:
    issued = _issue(client, dept)
    typed = str(issued["number"]).lower().replace("-", " ")

    found = client.get("/api/v1/documents", params={"number": typed}, headers=dept.headers)

    assert found.status_code == 200
    assert [item["id"] for item in found.json()["items"]] == [issued["id"]]
    assert found.json()["items"][0]["number"] == issued["number"]


def test_another_departments_number_finds_nothing(client: TestClient, backend: Backend) -> None:
    owner, other = create_department(backend), create_department(backend)
    issued = _issue(client, owner)

    found = client.get("/api/v1/documents", params={"number": issued["number"]}, headers=other.headers)
    nothing = client.get("/api/v1/documents", params={"number": "PB-XX-INC-C-2026-999999"}, headers=owner.headers)

    assert found.status_code == nothing.status_code == 200
    assert found.json() == nothing.json() == {"items": []}


@pytest.mark.parametrize("typed", ["PB-REV\x00-INC", "PB–REV–ÍNC–C–2026–000001", "x" * 41])
def test_a_search_for_what_no_number_looks_like_finds_nothing(
    client: TestClient, dept: IssuingDepartment, typed: str
) -> None:
    # PostgreSQL refuses a NUL byte in text: such a search must not reach it (it was a 500).
    found = client.get("/api/v1/documents", params={"number": typed}, headers=dept.headers)
    assert (found.status_code, found.json()) == (200, {"items": []})


def test_searching_needs_a_number_and_a_key(client: TestClient, dept: IssuingDepartment) -> None:
    assert client.get("/api/v1/documents", headers=dept.headers).status_code == 422
    assert client.get("/api/v1/documents", params={"number": "x" * 61}, headers=dept.headers).status_code == 422
    assert client.get("/api/v1/documents", params={"number": "PB-REV-INC-C-2026-000001"}).status_code == 401


def test_the_verification_page_shows_the_number(client: TestClient, dept: IssuingDepartment) -> None:
    issued = _issue(client, dept)

    page = client.get(f"/v/{issued['id']}")
    record = client.get(f"/v/{issued['id']}", headers={"Accept": "application/json"})

    assert page.status_code == 200
    assert str(issued["number"]) in page.text
    assert record.json()["document"]["number"] == issued["number"]


def test_the_locker_shows_the_number(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    issued = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)

    listing = client.get("/api/v1/locker/documents", headers=headers).json()["items"]

    assert [item["number"] for item in listing] == [issued["number"]]


def test_every_document_issued_has_a_number(backend: Backend, client: TestClient, dept: IssuingDepartment) -> None:
    _issue(client, dept)

    with backend.context.sessions() as s:
        unnumbered = s.scalar(select(func.count()).select_from(Document).where(Document.number.is_(None)))

    assert unnumbered == 0
