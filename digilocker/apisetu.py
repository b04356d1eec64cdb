"""API Setu's verification form, as Punjab eDistrict publishes it (``edistrictpb``): a
verifier with the citizen's consent posts the certificate's number and the holder's
name (and date of birth where the certificate has one) and gets the certificate back
as PDF, XML or JSON.

The gateway authenticates itself with ``X-APISETU-CLIENTID`` (the department's partner
client id) and ``X-APISETU-APIKEY`` (the API key of its registration), compared in
constant time. The citizen's consent artifact is verified first (:mod:`digilocker.consent`),
and each certificate given out is noted in the audit log with the consent that allowed it.
Any mismatch of number, name or date reads as one "no record found"."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

import audit
from digilocker import consent, repository
from digilocker.configuration import PartnerRegistration
from digilocker.data_content import certificate_xml
from digilocker.doctypes import template_for
from digilocker.exceptions import ApiSetuError
from digilocker.matching import birth_date_matches, holder_names, name_matches
from digilocker.pull import document_id_of, uri_of
from issuer import service as issuer
from issuer.models import Document, DocumentStatus
from issuer.service import IssuingKit
from sanad.clock import today_in_india
from sanad.errors import NotFound
from sanad.mobile import normalize_mobile
from sanad.models import Department

NUMBER_PARAMETERS = ("CertificateNumber", "DSNNo", "DSN", "RegistrationID")
"""Names under which eDistrict's forms carry the certificate's number."""
FORMATS = ("pdf", "xml", "json")


class VerificationRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    txnId: str = Field(description="A unique id for this request, a UUID.", max_length=64)
    format: str = Field(description="pdf, xml or json.", max_length=8)
    certificateParameters: dict[str, str] = Field(
        description="CertificateNumber (or DSNNo / RegistrationID), FullName, DOB (DD-MM-YYYY) where the "
        "certificate has one, optionally Mobile.",
        max_length=20,
    )
    consentArtifact: dict[str, Any] | None = Field(
        default=None,
        description="The citizen's consent, as API Setu forwards it, signed by the consent manager; required "
        "(see digilocker/consent.py for what is checked).",
    )


@dataclass(frozen=True)
class Verified:
    media_type: str
    body: bytes | dict[str, object]


def authenticate(
    registrations: list[PartnerRegistration], client_id: str | None, api_key: str | None
) -> PartnerRegistration:
    found = None
    for registration in registrations:
        same_client = hmac.compare_digest((client_id or "").encode(), (registration.client_id or "").encode())
        same_key = hmac.compare_digest((api_key or "").encode(), registration.api_key.encode())
        if same_client and same_key and registration.client_id and found is None:
            found = registration
    if found is None:
        raise ApiSetuError(401, "invalid_authentication", "Authentication failed")
    return found


def _not_found() -> ApiSetuError:
    return ApiSetuError(404, "record_not_found", "No record found")


def _document(
    session: Session, registration: PartnerRegistration, doc_type: str, parameters: dict[str, str], kit: IssuingKit
) -> Document:
    template = template_for(registration.doc_types, doc_type.upper())
    spec = kit.templates.get(template) if template else None
    if spec is None:
        raise ApiSetuError(404, "url_not_found", "Your API url or path is incorrect")
    number = next((parameters[name].strip() for name in NUMBER_PARAMETERS if parameters.get(name)), "")
    full_name = parameters.get("FullName", "")
    if not number or not full_name:
        raise ApiSetuError(400, "missing_parameter", "Please provide all mandatory parameters")
    department = session.get(Department, registration.department_id)
    document_id = document_id_of(number)
    if department is None or document_id is None:
        raise _not_found()
    try:
        document = issuer.get_for_department(session, department, document_id)
    except NotFound:
        raise _not_found() from None
    mobile = parameters.get("Mobile")
    if mobile:
        try:
            mobile = normalize_mobile(mobile)
        except ValueError:
            raise _not_found() from None
    if (
        document.type != spec.type
        or (mobile and document.holder_mobile != mobile)
        or not name_matches(full_name, holder_names(spec, document.data))
        or not birth_date_matches(parameters.get("DOB"), spec, document.data)
        or document.status != DocumentStatus.ISSUED
    ):
        raise _not_found()
    return document


def verify(
    session: Session,
    kit: IssuingKit,
    registration: PartnerRegistration,
    doc_type: str,
    request: VerificationRequest,
    now: datetime,
) -> Verified:
    try:
        uuid.UUID(request.txnId)
    except ValueError:
        raise ApiSetuError(400, "invalid_txnid", "The txnId parameter must be in UUID format") from None
    fmt = request.format.lower()
    if fmt not in FORMATS:
        raise ApiSetuError(400, "invalid_format", "The format parameter is invalid")
    expected = consent.Expected(issuer_id=registration.issuer_id, doc_type=doc_type, now=now)
    given = consent.verify(request.consentArtifact, consent.configured_key(session), expected)
    if not repository.remember_txn(session, registration.department_id, f"apisetu:{request.txnId}", now):
        raise ApiSetuError(400, "invalid_txnid", "This txnId was already used")
    document = _document(session, registration, doc_type, request.certificateParameters, kit)
    # Which consent let whom see the certificate: the citizen may ask, and an auditor check.
    audit.record(
        session,
        action="document.disclose",
        subject=f"document:{document.id}",
        actor=f"apisetu:{given.consumer_id[:100]}",
        details={"consent_id": given.consent_id, "purpose": given.purpose[:200], "txn": request.txnId},
        at=now,
    )
    spec = kit.templates[document.type]
    uri = uri_of(registration, document)
    status = issuer.effective_status(document, today_in_india())
    if fmt == "pdf":
        return Verified("application/pdf", kit.store.get(document.storage_key))
    department = session.get(Department, registration.department_id)
    code = department.code if department else ""
    if fmt == "xml":
        return Verified("application/xml", certificate_xml(document, spec, uri, status, code))
    return Verified(
        "application/json",
        {
            "uri": uri,
            "number": document.id,
            "type": registration.doc_types[document.type],
            "name": spec.title.en,
            "issuer": code,
            "issuedAt": document.issued_at.isoformat(),
            "validUntil": document.valid_until.isoformat() if document.valid_until else None,
            "status": status,
            "sha256": document.sha256,
            "data": document.data,
        },
    )
