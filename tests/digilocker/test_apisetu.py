"""API Setu's verification form: the certificate for its number, holder's name and date of
birth, to the gateway holding the department's client id and API key."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment
from tests.digilocker.helpers import Partner, register
from tests.digilocker.standin import CONSENT_MANAGER, ConsentManagerStandIn
from tests.locker.conftest import issue_to, new_mobile


@pytest.fixture
def partner(backend: Backend, dept: IssuingDepartment, consent_manager: ConsentManagerStandIn) -> Partner:
    return register(backend, dept.department, apisetu=True)


def _ask(
    client: TestClient, partner: Partner, parameters: dict[str, str], *, fmt: str = "pdf", doc_type: str = "incer",
    txn: str | None = None, key: str | None = None,
) -> Any:  # fmt: skip
    body = {
        "txnId": txn or str(uuid.uuid4()),
        "format": fmt,
        "certificateParameters": parameters,
        "consentArtifact": CONSENT_MANAGER.artifact(partner.issuer_id, doc_type),
    }
    headers = {"X-APISETU-CLIENTID": partner.client_id, "X-APISETU-APIKEY": key or partner.api_key}
    return client.post(f"/apisetu/v1/{doc_type}/certificate", json=body, headers=headers)


def test_the_certificate_comes_back_as_pdf_xml_or_json(
    client: TestClient, dept: IssuingDepartment, partner: Partner
) -> None:
    record = issue_to(client, dept, new_mobile())
    parameters = {"CertificateNumber": str(record["id"]), "FullName": "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ", "UID": "123412341234"}
    pdf = _ask(client, partner, parameters)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == client.get(f"/api/v1/documents/{record['id']}/content", headers=dept.headers).content
    xml = _ask(client, partner, {**parameters, "FullName": "Gurpreet Singh"}, fmt="xml")
    assert ET.fromstring(xml.content).get("number") == record["id"]  # noqa: S314
    data = _ask(client, partner, {"DSNNo": str(record["id"]), "FullName": "Gurpreet Singh"}, fmt="json").json()
    assert (data["type"], data["status"], data["data"]["holder_name_en"]) == ("INCER", "issued", "Gurpreet Singh")


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"FullName": "Someone Else"}, 404, "record_not_found"),
        ({"CertificateNumber": "a" * 26}, 404, "record_not_found"),
        ({"FullName": ""}, 400, "missing_parameter"),
        ({"Mobile": "9000000001"}, 404, "record_not_found"),
    ],
)
def test_a_mismatch_is_no_record_found(
    client: TestClient, dept: IssuingDepartment, partner: Partner, change: dict[str, str], status: int, error: str
) -> None:
    record = issue_to(client, dept, new_mobile())
    response = _ask(client, partner, {"CertificateNumber": str(record["id"]), "FullName": "Gurpreet Singh", **change})
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["errorDescription"]


def test_bad_requests_and_wrong_keys_are_refused(client: TestClient, dept: IssuingDepartment, partner: Partner) -> None:
    record = issue_to(client, dept, new_mobile())
    good = {"CertificateNumber": str(record["id"]), "FullName": "Gurpreet Singh"}
    assert _ask(client, partner, good, key="wrong-key-wrong-key").status_code == 401
    assert _ask(client, partner, good, txn="not-a-uuid").json()["error"] == "invalid_txnid"
    assert _ask(client, partner, good, fmt="docx").json()["error"] == "invalid_format"
    assert _ask(client, partner, good, doc_type="xxcer").json()["error"] == "url_not_found"
    txn = str(uuid.uuid4())
    assert _ask(client, partner, good, txn=txn).status_code == 200
    assert _ask(client, partner, good, txn=txn).json()["error"] == "invalid_txnid"  # replayed
