"""Officer-filled fields: declared in the catalogue, never asked of the citizen, filled on
the approval page (or in the API's decision) and printed on the certificate."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accounts.models import StaffRole
from intake.catalogue import Catalogue, load_catalogue
from intake.exceptions import CatalogueError
from issuer.models import Document
from issuer.templates import TemplateSpec
from tests.conftest import Backend, require_tool
from tests.intake.helpers import PDF, apply, ensure_department, png, staff_headers
from tests.intake.test_pages import assert_page, staff_client, stored
from tests.locker.conftest import new_mobile, sign_in, sign_in_with_forms
from tests.locker.test_pages import csrf_of

CATALOGUE = Path(__file__).resolve().parents[2] / "catalogue"
PROPERTY_ID = "LDH-W23-004512"
TRADE_FORM: dict[str, Any] = {
    "owner_name": "ਸੁਖਵਿੰਦਰ ਸਿੰਘ ਗਿੱਲ",
    "owner_name_en": "Sukhwinder Singh Gill",
    "trade_name": "ਗਿੱਲ ਸਵੀਟਸ",
    "trade_name_en": "Gill Sweets",
    "trade_category": "sweet_shop_bakery",
    "premises_address": "ਦੁਕਾਨ ਨੰ. 14, ਮਾਲ ਰੋਡ",
    "premises_address_en": "Shop No. 14, Mall Road",
    "mobile": "9876543210",
}


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    ensure_department(backend, "LG")


@pytest.fixture(scope="module")
def catalogue(templates: dict[str, TemplateSpec]) -> Catalogue:
    return load_catalogue(CATALOGUE, templates)


def trade_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("attachment.aadhaar", ("aadhaar.png", png(), "image/png")),
        ("attachment.premises-proof", ("deed.pdf", PDF, "application/pdf")),
        ("attachment.property-tax-receipt", ("receipt.pdf", PDF, "application/pdf")),
    ]


def applied_for_licence(client: TestClient, backend: Backend) -> tuple[dict[str, str], str]:
    """A signed-in citizen's trade licence application; returns their header and its number."""
    headers = sign_in(client, backend, new_mobile())
    response = apply(client, headers, form=TRADE_FORM, files=trade_files(), service="lg-trade-licence", office="MC-LDH")
    assert response.status_code == 201, response.text
    return headers, str(response.json()["number"])


def issued_text(client: TestClient, headers: dict[str, str], document_id: str, tmp_path: Path) -> str:
    content = client.get(f"/api/v1/locker/documents/{document_id}/content", headers=headers, follow_redirects=False)
    pdf = content.content if content.status_code == 200 else httpx.get(content.headers["location"]).content
    path = tmp_path / "licence.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [require_tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def documents_of_type(backend: Backend, doc_type: str) -> int:
    with backend.context.sessions() as s:
        return s.scalar(select(func.count()).select_from(Document).where(Document.type == doc_type)) or 0


# --- the catalogue -------------------------------------------------------------------------------------


def test_the_trade_licence_declares_the_property_id_for_the_officer_only(catalogue: Catalogue) -> None:
    licence = catalogue["lg-trade-licence"]

    assert [f.name for f in licence.officer_fields] == ["property_id"]
    assert "property_id" not in {f.name for f in licence.fields}
    assert licence.certificate.data["property_id"] == "property_id"
    assert all(getattr(licence.officer_fields[0].label, lang) for lang in ("en", "pa", "hi"))


def test_an_officer_field_named_like_a_form_field_is_refused(
    tmp_path: Path, templates: dict[str, TemplateSpec]
) -> None:
    text = (CATALOGUE / "lg-trade-licence.yaml").read_text(encoding="utf-8")
    (tmp_path / "lg-trade-licence.yaml").write_text(
        text.replace("  - name: property_id\n", "  - name: ward\n"), encoding="utf-8"
    )

    with pytest.raises(CatalogueError, match=r"officer_fields\[0\]\.name: duplicate field name 'ward'"):
        load_catalogue(tmp_path, templates)


# --- never asked of the citizen -------------------------------------------------------------------------


def test_neither_the_citizens_form_nor_the_counters_asks_for_it(client: TestClient, backend: Backend) -> None:
    sign_in_with_forms(client, backend, new_mobile())
    page = client.get("/apply/lg-trade-licence")
    assert_page(page, 200, "Name of the business")
    assert "property_id" not in page.text
    assert "Property ID" not in page.text

    with staff_client(backend, StaffRole.OPERATOR, department="LG", office="MC-LDH") as operator:
        counter = operator.get("/desk/apply/lg-trade-licence")
        assert_page(counter, 200, "Name of the business")
        assert "property_id" not in counter.text
        assert "Property ID" not in counter.text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Property ID of the premises (from the property tax record) is filled in by the office"),
        ("pa", "ਕਾਰੋਬਾਰ ਵਾਲੀ ਥਾਂ ਦੀ ਪ੍ਰਾਪਰਟੀ ਆਈਡੀ (ਪ੍ਰਾਪਰਟੀ ਟੈਕਸ ਰਿਕਾਰਡ ਤੋਂ) ਦਫ਼ਤਰ ਫ਼ੈਸਲੇ ਸਮੇਂ ਭਰਦਾ ਹੈ"),
    ],
)
def test_a_citizen_sending_it_through_the_api_gets_a_clear_422(
    client: TestClient, backend: Backend, lang: str, expected: str
) -> None:
    headers = sign_in(client, backend, new_mobile())

    response = apply(
        client,
        headers,
        form={**TRADE_FORM, "property_id": PROPERTY_ID},
        files=trade_files(),
        service="lg-trade-licence",
        office="MC-LDH",
        lang=lang,
    )

    assert response.status_code == 422, response.text
    assert [(f["field"], f["message"].startswith(expected)) for f in response.json()["fields"]] == [
        ("property_id", True)
    ]


# --- filled on approval --------------------------------------------------------------------------------


def test_approving_through_the_api_without_it_is_refused_and_nothing_is_issued(
    client: TestClient, backend: Backend
) -> None:
    _, number = applied_for_licence(client, backend)
    officer = staff_headers(client, backend, StaffRole.OFFICER, department="LG", office="MC-LDH")
    before = documents_of_type(backend, "trade-licence")

    missing = client.post(f"/api/v1/applications/{number}/decisions", json={"action": "approve"}, headers=officer)
    invalid = client.post(
        f"/api/v1/applications/{number}/decisions",
        json={"action": "approve", "officer_values": {"property_id": "no spaces allowed"}},
        headers=officer,
    )
    on_a_rejection = client.post(
        f"/api/v1/applications/{number}/decisions",
        json={"action": "reject", "remarks": "incomplete", "officer_values": {"property_id": PROPERTY_ID}},
        headers=officer,
    )

    assert missing.status_code == 422, missing.text
    assert missing.json()["fields"] == [
        {"field": "property_id", "message": "Property ID of the premises (from the property tax record) is required"}
    ]
    assert invalid.status_code == 422
    assert invalid.json()["fields"][0]["field"] == "property_id"
    assert on_a_rejection.status_code == 422
    assert on_a_rejection.json()["fields"][0]["field"] == "officer_values"
    assert stored(backend, number).status == "submitted"
    assert documents_of_type(backend, "trade-licence") == before


def test_approving_through_the_api_with_it_prints_it_on_the_licence(
    client: TestClient, backend: Backend, tmp_path: Path
) -> None:
    headers, number = applied_for_licence(client, backend)
    officer = staff_headers(client, backend, StaffRole.OFFICER, department="LG", office="MC-LDH")

    decided = client.post(
        f"/api/v1/applications/{number}/decisions",
        json={"action": "approve", "officer_values": {"property_id": f"  {PROPERTY_ID} "}},
        headers=officer,
    )

    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "issued"
    assert decided.json()["officer_values"] == {"property_id": PROPERTY_ID}
    assert stored(backend, number).officer_values == {"property_id": PROPERTY_ID}
    text = issued_text(client, headers, decided.json()["document_id"], tmp_path)
    assert PROPERTY_ID in text
    assert "Property ID" in text


def test_the_approval_page_asks_for_it_refuses_without_it_and_issues_with_it(
    client: TestClient, backend: Backend, tmp_path: Path
) -> None:
    headers, number = applied_for_licence(client, backend)

    with staff_client(backend, StaffRole.OFFICER, department="LG", office="MC-LDH") as officer:
        check = officer.get(f"/desk/applications/{number}/approve?lang=hi")
        assert_page(check, 200, "व्यवसाय परिसर की प्रॉपर्टी आईडी (संपत्ति कर रिकॉर्ड से)")
        assert 'name="field.property_id"' in check.text
        version = re.findall(r'name="version" value="(\d+)"', check.text)[0]

        refused = officer.post(
            f"/desk/applications/{number}/decisions?lang=hi",
            data={"csrf": csrf_of(check), "action": "approve", "version": version, "field.property_id": ""},
            follow_redirects=False,
        )
        assert_page(refused, 422, "व्यवसाय परिसर की प्रॉपर्टी आईडी (संपत्ति कर रिकॉर्ड से) भरना अनिवार्य है")
        assert 'aria-invalid="true"' in refused.text
        assert stored(backend, number).status == "submitted"

        approved = officer.post(
            f"/desk/applications/{number}/decisions",
            data={"csrf": csrf_of(refused), "action": "approve", "version": version, "field.property_id": PROPERTY_ID},
            follow_redirects=False,
        )
        assert approved.status_code == 303, approved.text

    application = stored(backend, number)
    assert application.status == "issued"
    assert application.document_id
    assert PROPERTY_ID in issued_text(client, headers, application.document_id, tmp_path)
