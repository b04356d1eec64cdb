"""An application still in intake answers Status 9 (pending); once approved, its number
finds the certificate."""

from __future__ import annotations

from fastapi.testclient import TestClient

from accounts.models import StaffRole
from sanad.models import Department
from tests.conftest import Backend
from tests.digilocker.helpers import hmac_header, pull_uri_body, read_answer, register
from tests.intake.helpers import ensure_department, staff_headers
from tests.intake.test_applications_api import submitted


def test_an_application_in_intake_is_pending_then_found(client: TestClient, backend: Backend) -> None:
    ensure_department(backend, "REV")
    mobile, _headers, application = submitted(client, backend)
    with backend.context.sessions() as s:
        partner = register(backend, s.query(Department).filter_by(code="REV").one())
    number = str(application["number"])

    def pull(full_name: str) -> tuple[str, str | None, str]:
        body = pull_uri_body(partner, number=number, mobile=mobile, full_name=full_name)
        response = client.post("/digilocker/v1/pull-uri", content=body, headers=hmac_header(body, partner.api_key))
        answer = read_answer(response.content)
        return answer.status, answer.uri, response.headers.get("X-Sanad-Reason", "")

    assert pull("Gurpreet Singh")[:2] == ("9", None)
    assert pull("ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ")[0] == "9"
    assert pull("Someone Else")[0] == "0"  # pending is only said to the applicant

    officer = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-SMR")
    decided = client.post(f"/api/v1/applications/{number}/decisions", json={"action": "approve"}, headers=officer)
    assert decided.status_code == 200, decided.text
    status, uri, _ = pull("Gurpreet Singh")
    assert (status, uri) == ("1", f"{partner.issuer_id}-INCER-{decided.json()['document_id']}")


def test_a_rejected_application_is_status_0(client: TestClient, backend: Backend) -> None:
    ensure_department(backend, "REV")
    mobile, _headers, application = submitted(client, backend)
    with backend.context.sessions() as s:
        partner = register(backend, s.query(Department).filter_by(code="REV").one())
    officer = staff_headers(client, backend, StaffRole.OFFICER, office="TEH-SMR")
    number = str(application["number"])
    rejected = client.post(
        f"/api/v1/applications/{number}/decisions",
        json={"action": "reject", "remarks": "income proof missing"},
        headers=officer,
    )
    assert rejected.status_code == 200, rejected.text
    body = pull_uri_body(partner, number=number, mobile=mobile, full_name="Gurpreet Singh")
    response = client.post("/digilocker/v1/pull-uri", content=body, headers=hmac_header(body, partner.api_key))
    assert read_answer(response.content).status == "0"
    assert "rejected" in response.headers["X-Sanad-Reason"]
