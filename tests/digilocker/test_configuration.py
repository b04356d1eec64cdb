"""``sanad digilocker configure``: the registration is stored with its secrets sealed,
never printed or logged; doc type codes come from defaults and per-department overrides.
``sanad digilocker consent-key``: the consent manager's public key, from a PEM file."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from digilocker.configuration import registration
from digilocker.credentials import CredentialsUnreadable, seal, unseal
from digilocker.doctypes import DEFAULT_DOC_TYPES
from tests.conftest import Backend, IssuingDepartment
from tests.digilocker.helpers import hmac_header, pull_uri_body, read_answer, register
from tests.digilocker.standin import CONSENT_MANAGER
from tests.locker.conftest import issue_to, new_mobile
from tests.shell import embedded_deployment, sanad

API_KEY = "pull-api-key-from-the-portal-0001"
CLIENT_SECRET = "push-client-secret-from-the-portal-0002"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return embedded_deployment(tmp_path, monkeypatch)


def test_configure_stores_sealed_secrets_and_prints_none(env: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert sanad("init")[0] == 0
    assert sanad("department", "add", "REV", "--name-en", "Revenue", "--name-pa", "ਮਾਲ", "--name-hi", "राजस्व")[0] == 0
    with caplog.at_level(logging.DEBUG):
        status, output = sanad(
            "digilocker", "configure", "rev", "--issuer-id", "in.gov.punjab.revenue", "--api-key", API_KEY,
            "--client-id", "PBREV01", "--client-secret", CLIENT_SECRET, "--doc-type", "learner-licence=DRVLR",
            "--search", "UDF1=certificate_number", "--search", "UDF2=mobile",
        )  # fmt: skip
    assert status == 0, output
    assert "in.gov.punjab.revenue" in output
    assert "/digilocker/v1/pull-uri" in output
    assert "learner-licence=DRVLR" in output
    assert "income-certificate=INCER" in output
    for secret in (API_KEY, CLIENT_SECRET):
        assert secret not in output
        assert secret not in caplog.text
    stored = (env / "sanad.db").read_bytes()
    assert API_KEY.encode() not in stored
    assert CLIENT_SECRET.encode() not in stored
    with sqlite3.connect(env / "sanad.db") as db:
        (sealed,) = db.execute("SELECT api_key_sealed FROM digilocker_issuers").fetchone()
    assert sealed != API_KEY

    status, output = sanad("digilocker", "pushes")
    assert (status, output.strip()) == (0, "0 push(es)")


def test_configure_refuses_bad_values(env: Path) -> None:
    assert sanad("init")[0] == 0
    assert sanad("department", "add", "REV", "--name-en", "Revenue", "--name-pa", "ਮਾਲ", "--name-hi", "राजस्व")[0] == 0
    status, _ = sanad("digilocker", "configure", "REV", "--issuer-id", "x", "--api-key", "short")
    assert status != 0
    status, _ = sanad(
        "digilocker",
        "configure",
        "REV",
        "--issuer-id",
        "x",
        "--api-key",
        API_KEY,
        "--doc-type",
        "income-certificate=in cer",
    )
    assert status != 0
    status, _ = sanad(
        "digilocker", "configure", "REV", "--issuer-id", "x", "--api-key", API_KEY, "--search", "UDF1=aadhaar"
    )
    assert status != 0


def test_a_sealed_secret_opens_only_with_the_same_secret_key() -> None:
    sealed = seal("a" * 40, "the secret")
    assert unseal("a" * 40, sealed) == "the secret"
    with pytest.raises(CredentialsUnreadable):
        unseal("b" * 40, sealed)


def test_the_registration_never_shows_its_secrets(backend: Backend, dept: IssuingDepartment) -> None:
    partner = register(backend, dept.department)
    with backend.context.sessions() as s:
        found = registration(s, backend.settings.secret_key, dept.department.id)
    assert found is not None
    assert found.api_key == partner.api_key
    assert partner.api_key not in repr(found)
    assert partner.client_secret not in repr(found)
    assert found.doc_types == DEFAULT_DOC_TYPES


def test_a_department_maps_its_own_doc_types(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    # Codes are the department's to choose on the portal; its own replace the defaults.
    partner = register(backend, dept.department, doc_types={"income-certificate": "PBINC"})
    mobile = new_mobile()
    record = issue_to(client, dept, mobile)
    for doc_type, status in (("PBINC", "1"), ("INCER", "0")):
        body = pull_uri_body(
            partner, number=str(record["id"]), mobile=mobile, full_name="Gurpreet Singh", doc_type=doc_type
        )
        response = client.post("/digilocker/v1/pull-uri", content=body, headers=hmac_header(body, partner.api_key))
        answer = read_answer(response.content)
        assert answer.status == status
    assert answer.uri is None


def test_the_secrets_may_come_from_the_environment(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert sanad("init")[0] == 0
    assert sanad("department", "add", "REV", "--name-en", "Revenue", "--name-pa", "ਮਾਲ", "--name-hi", "राजस्व")[0] == 0
    monkeypatch.setenv("SANAD_DIGILOCKER_API_KEY", API_KEY)
    monkeypatch.setenv("SANAD_DIGILOCKER_CLIENT_SECRET", CLIENT_SECRET)
    status, output = sanad(
        "digilocker", "configure", "REV", "--issuer-id", "in.gov.punjab.revenue", "--client-id", "C1"
    )
    assert status == 0, output
    assert "pushing: client C1" in output
    assert API_KEY not in output


def test_a_new_api_key_works_at_once(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    first = register(backend, dept.department)
    record = issue_to(client, dept, mobile := new_mobile())
    body = pull_uri_body(first, number=str(record["id"]), mobile=mobile, full_name="Gurpreet Singh")
    assert (
        client.post("/digilocker/v1/pull-uri", content=body, headers=hmac_header(body, first.api_key)).status_code
        == 200
    )
    second = register(backend, dept.department)  # a new issuer id and key for the same department
    body = pull_uri_body(second, number=str(record["id"]), mobile=mobile, full_name="Gurpreet Singh")
    response = client.post("/digilocker/v1/pull-uri", content=body, headers=hmac_header(body, second.api_key))
    assert read_answer(response.content).status == "1"


def test_the_consent_manager_key_is_set_from_a_pem_file(env: Path, tmp_path: Path) -> None:
    assert sanad("init")[0] == 0
    pem = tmp_path / "consent-manager.pem"
    pem.write_text(CONSENT_MANAGER.public_pem())
    status, output = sanad("digilocker", "consent-key", str(pem))
    assert status == 0, output
    with sqlite3.connect(env / "sanad.db") as db:
        (fingerprint,) = db.execute("SELECT fingerprint FROM apisetu_consent_keys").fetchone()
    assert f"SHA-256 {fingerprint}" in output
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    status, output = sanad("digilocker", "consent-key", str(not_a_key))
    assert status == 2
    assert "is not a PEM public key" in output
