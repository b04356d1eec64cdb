"""The seal and the ``certificate.json`` attachment, read back out of an issued PDF."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from issuer.seal import data_hash
from tests.conftest import Backend, IssuingDepartment
from tests.verifier.helpers import fetch, issue
from verifier.pdf_seal import read_seal_and_attachment
from verifier.seal_check import verify_seal


def test_issued_pdf_carries_a_seal_over_its_attachment(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    record, pdf = issue(client, dept)
    seal, attachment = read_seal_and_attachment(pdf)
    assert seal is not None
    assert attachment is not None

    check = verify_seal(seal, fetch(client, backend).trusted_jwks())

    assert check.passed, check.findings
    claims = check.claims
    assert claims is not None
    assert claims.document_id == record["id"]
    assert claims.department == dept.department.code
    assert claims.holder_name == "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ"
    assert claims.valid_until is not None
    assert claims.valid_until.isoformat() == record["valid_until"]
    assert claims.data_hash == data_hash(attachment)
    assert json.loads(attachment)["document_id"] == record["id"]
    # The certificate prints the plain URL; the seal rides only in the QR code and its link.
    assert record["verify_url"] == f"{backend.settings.public_base_url}/v/{record['id']}"
