"""What an approval's certificate says about itself: the office and officer who issued it,
the English values the holder confirmed, and a number the officer's desk finds it by."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accounts.models import StaffRole
from issuer.models import Document
from tests.conftest import Backend
from tests.intake.helpers import ensure_department, staff_headers
from tests.intake.test_applications_api import submitted
from tests.intake.test_pages import staff_client


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    for code in ("REV", "LG"):
        ensure_department(backend, code)


def _desk_numbers(page: str) -> list[str]:
    return re.findall(r'data-number="([^"]+)"', page)


def test_a_certificate_number_read_out_finds_its_application(client: TestClient, backend: Backend) -> None:
    _mobile, _headers, application = submitted(client, backend)
    number = str(application["number"])
    officer = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-SMR")
    decided = client.post(f"/api/v1/applications/{number}/decisions", json={"action": "approve"}, headers=officer)
    assert decided.status_code == 200, decided.text
    with backend.context.sessions() as s:
        certificate = s.scalar(select(Document.number).where(Document.id == decided.json()["document_id"]))
    assert certificate is not None

    with staff_client(backend, StaffRole.OFFICER, office="TEH-SMR") as desk:
        found = desk.get("/desk", params={"q": certificate.lower().replace("-", " ")})
    with staff_client(backend, StaffRole.OFFICER, department="LG") as other_desk:
        not_theirs = other_desk.get("/desk", params={"q": certificate})

    assert found.status_code == 200
    assert _desk_numbers(found.text) == [number]
    assert number not in _desk_numbers(not_theirs.text)


def test_the_certificate_names_the_office_and_the_approving_officer(client: TestClient, backend: Backend) -> None:
    _mobile, _headers, application = submitted(client, backend)
    officer = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-SMR")
    decided = client.post(
        f"/api/v1/applications/{application['number']}/decisions", json={"action": "approve"}, headers=officer
    )
    assert decided.status_code == 200, decided.text

    with backend.context.sessions() as s:
        document = s.get(Document, decided.json()["document_id"])
        assert document is not None
        issued_by, data = document.issued_by, document.data

    assert issued_by == {
        "office": {"en": "Tehsil Office, Samrala", "pa": "ਤਹਿਸੀਲ ਦਫ਼ਤਰ, ਸਮਰਾਲਾ"},
        "officer": "Test Officer",
        "designation": {"en": "Tehsildar", "pa": "ਤਹਿਸੀਲਦਾਰ"},
    }
    assert (data["relation_name_en"], data["district_en"]) == ("Harjeet Singh", "Ludhiana")
