"""The consent artifact on API Setu's form: only a consent signed by the configured
consent manager, for this issuer and document type and in force now, lets a
certificate out; each other one is refused in API Setu's vocabulary with its reason."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from audit.models import AuditEntry
from digilocker.consent import CLOCK_SKEW, configure_key
from digilocker.models import ApisetuConsentKey
from sanad.errors import InvalidInput
from tests.conftest import Backend, IssuingDepartment
from tests.digilocker.helpers import Partner, register
from tests.digilocker.standin import ConsentManagerStandIn, _utc
from tests.locker.conftest import issue_to, new_mobile

Consent = dict[str, Any]


@pytest.fixture
def partner(backend: Backend, dept: IssuingDepartment, consent_manager: ConsentManagerStandIn) -> Partner:
    return register(backend, dept.department, apisetu=True)


@pytest.fixture
def parameters(client: TestClient, dept: IssuingDepartment) -> dict[str, str]:
    record = issue_to(client, dept, new_mobile())
    return {"CertificateNumber": str(record["id"]), "FullName": "Gurpreet Singh"}


def _ask(client: TestClient, partner: Partner, parameters: dict[str, str], artifact: Any) -> Any:
    body = {"txnId": str(uuid.uuid4()), "format": "json", "certificateParameters": parameters}
    if artifact is not None:
        body["consentArtifact"] = artifact
    headers = {"X-APISETU-CLIENTID": partner.client_id, "X-APISETU-APIKEY": partner.api_key}
    return client.post("/apisetu/v1/incer/certificate", json=body, headers=headers)


def _changed(change: Callable[[Consent], None]) -> Callable[[ConsentManagerStandIn, Partner], Any]:
    """An artifact whose consent is changed *before* signing: well signed, wrong claims."""

    def artifact(manager: ConsentManagerStandIn, partner: Partner) -> Any:
        consent = manager.consent(partner.issuer_id, "INCER")
        change(consent)
        return manager.sign(consent)

    return artifact


def _in(days: float) -> str:
    return _utc(datetime.now(UTC) + timedelta(days=days))


def _set(path: str, value: Any) -> Callable[[Consent], None]:
    def change(consent: Consent) -> None:
        *parents, last = path.split(".")
        target = consent
        for name in parents:
            target = target[name]
        target[last] = value

    return change


def test_a_signed_consent_for_this_certificate_lets_it_out_and_is_audited(
    client: TestClient,
    backend: Backend,
    partner: Partner,
    parameters: dict[str, str],
    consent_manager: ConsentManagerStandIn,
) -> None:
    artifact = consent_manager.artifact(partner.issuer_id, "INCER")
    answer = _ask(client, partner, parameters, artifact)
    assert answer.status_code == 200, answer.text
    with backend.context.sessions() as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.subject == f"document:{parameters['CertificateNumber']}")
            .where(AuditEntry.action == "document.disclose")
        ).one()  # fmt: skip
    assert entry.actor == "apisetu:bank-of-punjab-kyc"
    assert artifact["consent"]["consentId"] in entry.entry


@pytest.mark.parametrize(
    ("make", "status", "error", "reason"),
    [
        pytest.param(
            lambda m, p: None, 400, "missing_parameter", "consentArtifact is missing", id="missing"
        ),
        pytest.param(
            lambda m, p: {"consent": m.consent(p.issuer_id, "INCER")},
            400, "invalid_parameter", "signature must be an object", id="unsigned",
        ),
        pytest.param(
            _changed(lambda c: c.pop("permission")), 400, "invalid_parameter", "permission", id="no-permission"
        ),
        pytest.param(
            _changed(_set("timestamp", "yesterday")), 400, "invalid_parameter", "timestamp", id="bad-timestamp"
        ),
        pytest.param(
            _changed(_set("consentId", "not-a-uuid")), 400, "invalid_consentid", "UUID", id="consent-id"
        ),
        pytest.param(
            _changed(_set("permission.dateRange", {"from": _in(-30), "to": _in(-1)})), 401, "invalid_authorization",
            "expired", id="expired",
        ),
        pytest.param(
            _changed(_set("permission.dateRange", {"from": _in(1), "to": _in(30)})), 401, "invalid_authorization",
            "only from", id="not-yet-valid",
        ),
        pytest.param(
            _changed(_set("permission.dateRange", {"from": _in(1), "to": _in(-1)})), 400, "invalid_parameter",
            "ends before it begins", id="window-backwards",
        ),
        pytest.param(
            _changed(_set("timestamp", _in(1))), 401, "invalid_authorization", "future", id="given-in-the-future"
        ),
        pytest.param(
            _changed(_set("dataProvider.id", "in.gov.punjab.elsewhere")), 401, "invalid_authorization",
            "data provider", id="another-issuer",
        ),
        pytest.param(
            _changed(_set("data.id", "RSCER")), 401, "invalid_authorization", "not for INCER certificates",
            id="another-doc-type",
        ),
        pytest.param(
            _changed(_set("purpose.description", "")), 400, "invalid_parameter", "purpose", id="no-purpose"
        ),
    ],
)  # fmt: skip
def test_a_bad_consent_is_refused_with_its_reason(
    client: TestClient,
    partner: Partner,
    parameters: dict[str, str],
    consent_manager: ConsentManagerStandIn,
    make: Callable[[ConsentManagerStandIn, Partner], Any],
    status: int,
    error: str,
    reason: str,
) -> None:
    answer = _ask(client, partner, parameters, make(consent_manager, partner))
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error
    assert body["errorDescription"]
    assert reason in body["detail"]


def test_an_altered_artifact_fails_its_signature(
    client: TestClient, partner: Partner, parameters: dict[str, str], consent_manager: ConsentManagerStandIn
) -> None:
    artifact = consent_manager.artifact(partner.issuer_id, "INCER")
    stretched = copy.deepcopy(artifact)
    stretched["consent"]["permission"]["dateRange"]["to"] = _in(365)  # a year more than was consented
    answer = _ask(client, partner, parameters, stretched)
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_authorization")
    assert "signature does not verify" in answer.json()["detail"]
    flipped = copy.deepcopy(artifact)
    signature = flipped["signature"]["signature"]
    flipped["signature"]["signature"] = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _ask(client, partner, parameters, flipped).status_code == 401
    assert _ask(client, partner, parameters, artifact).status_code == 200  # the untouched one still works


def test_a_consent_signed_with_another_key_is_refused(
    client: TestClient, partner: Partner, parameters: dict[str, str], consent_manager: ConsentManagerStandIn
) -> None:
    impostor = ec.generate_private_key(ec.SECP256R1())
    artifact = consent_manager.sign(consent_manager.consent(partner.issuer_id, "INCER"), key=impostor)
    answer = _ask(client, partner, parameters, artifact)
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_authorization")
    assert "signature" in answer.json()["detail"]


def test_the_clock_skew_is_allowed_and_no_more(
    client: TestClient, partner: Partner, parameters: dict[str, str], consent_manager: ConsentManagerStandIn
) -> None:
    slightly_ahead = _changed(_set("timestamp", _utc(datetime.now(UTC) + CLOCK_SKEW / 2)))
    assert _ask(client, partner, parameters, slightly_ahead(consent_manager, partner)).status_code == 200


def test_without_a_configured_key_no_consent_is_accepted(
    client: TestClient,
    backend: Backend,
    partner: Partner,
    parameters: dict[str, str],
    consent_manager: ConsentManagerStandIn,
) -> None:
    with backend.context.sessions() as s:
        s.execute(delete(ApisetuConsentKey))
        s.commit()
    answer = _ask(client, partner, parameters, consent_manager.artifact(partner.issuer_id, "INCER"))
    assert (answer.status_code, answer.json()["error"]) == (503, "service_unavailable")
    assert "no consent manager key" in answer.json()["detail"]
    assert answer.headers["Retry-After"]


def test_only_a_public_key_we_can_verify_with_is_configured(backend: Backend) -> None:
    with backend.context.sessions() as s, pytest.raises(InvalidInput, match="PEM public key"):
        configure_key(s, "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n", "test", datetime.now(UTC))
