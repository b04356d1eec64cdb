"""Answering DigiLocker's pull requests: find the certificate the search fields name,
check that the person asking is its holder, and hand over the URI, the signed PDF (byte
for byte) and its data.

Every refusal after authentication is ``Status 0`` with one reason for the operator's
log; the reasons that follow a lookup ("no matching certificate") are the same whether
the number is unknown, belongs to someone else or the name differs, so not even an
authenticated caller can tell which search field was wrong."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from digilocker import repository
from digilocker.authentication import is_fresh
from digilocker.configuration import PartnerRegistration
from digilocker.data_content import certificate_xml
from digilocker.doctypes import template_for
from digilocker.matching import birth_date_matches, holder_names, name_matches
from digilocker.messages import PULL_URI_REQUEST, PullAnswer, PullRequest, Status
from intake.applications import IntakeKit, for_citizen
from intake.models import PENDING
from issuer import service as issuer
from issuer.models import Document, DocumentStatus
from issuer.service import IssuingKit
from issuer.templates import TemplateSpec
from sanad.clock import today_in_india
from sanad.errors import NotFound
from sanad.mobile import normalize_mobile
from sanad.models import Department

log = logging.getLogger(__name__)

NO_MATCH = "no certificate matches these search fields"
#: Sanad's document ids: 128 random bits as 26 lowercase base32 characters.
_DOCUMENT_ID_LENGTH = 26
_BASE32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def uri_of(registration: PartnerRegistration, document: Document) -> str:
    """``<issuer id>-<DOCTYPE>-<document id>``."""
    return f"{registration.issuer_id}-{registration.doc_types[document.type]}-{document.id}"


def _refuse(reason: str, status: Status = Status.NOT_FOUND) -> PullAnswer:
    return PullAnswer(status=status, reason=reason)


def check_envelope(
    session: Session, registration: PartnerRegistration, request: PullRequest, now: datetime
) -> PullAnswer | None:
    """The checks every pull request passes first: its orgId, its freshness and its
    transaction id (a replay is refused; the id is kept for the replay window)."""
    if request.org_id != registration.issuer_id:
        return _refuse("orgId is not this issuer's id")
    if not is_fresh(request.ts, now):
        return _refuse("ts is missing, malformed or too far from the current time")
    if len(request.txn) > 100:
        return _refuse("txn is longer than 100 characters")
    if not repository.remember_txn(session, registration.department_id, request.txn, now):
        return _refuse("txn was already used (a replayed request)")
    return None


def document_id_of(value: str) -> str | None:
    """The document id a typed certificate number stands for (printed ids may be typed in
    capitals), or ``None`` when it is not one (an application's number, say)."""
    candidate = value.strip().lower()
    return candidate if len(candidate) == _DOCUMENT_ID_LENGTH and set(candidate) <= _BASE32 else None


def _holder_is_asking(request: PullRequest, spec: TemplateSpec, document: Document) -> bool:
    full_name = request.details.get("FullName", "")
    if not full_name or not name_matches(full_name, holder_names(spec, document.data)):
        return False
    return birth_date_matches(request.details.get("DOB"), spec, document.data)


def _found(
    kit: IssuingKit,
    registration: PartnerRegistration,
    department: Department,
    request: PullRequest,
    document: Document,
    spec: TemplateSpec,
) -> PullAnswer:
    uri = uri_of(registration, document)
    status = issuer.effective_status(document, today_in_india())
    pdf = kit.store.get(document.storage_key) if request.wants_pdf else None
    data = certificate_xml(document, spec, uri, status, department.code) if request.wants_data else None
    issued_to = None
    if request.kind == PULL_URI_REQUEST:
        english = document.data.get(spec.holder_field + "_en")
        issued_to = {
            "name": str(english or document.holder_name),
            "phone": document.holder_mobile or "",
        }
    return PullAnswer(status=Status.FOUND, uri=uri, pdf=pdf, data_xml=data, issued_to=issued_to)


def _search_values(registration: PartnerRegistration, request: PullRequest) -> dict[str, str] | str:
    """The search fields by meaning, or the reason they cannot be read."""
    values = {}
    for element, meaning in registration.search_fields.items():
        value = request.details.get(element, "").strip()
        if not value:
            return f"search field {element} ({meaning}) is missing"
        values[meaning] = value
    return values


def answer_pull_uri(
    session: Session,
    kit: IssuingKit,
    intake: IntakeKit,
    registration: PartnerRegistration,
    request: PullRequest,
    now: datetime,
) -> PullAnswer:
    doc_type = request.details.get("DocType", "")
    template = template_for(registration.doc_types, doc_type)
    spec = kit.templates.get(template) if template else None
    if spec is None:
        return _refuse(f"unknown DocType {doc_type[:20]!r} for this issuer")
    values = _search_values(registration, request)
    if isinstance(values, str):
        return _refuse(values)
    mobile = None
    if "mobile" in values:
        try:
            mobile = normalize_mobile(values["mobile"])
        except ValueError:
            return _refuse(NO_MATCH)
    number = values["certificate_number"]
    document_id = document_id_of(number) or _printed_number(session, registration, number)
    if document_id is None:
        department = session.get(Department, registration.department_id)
        assert department is not None  # the registration's foreign key
        return _answer_application(session, intake, registration, department, request, spec, number, mobile, now)
    found = _document(session, registration, document_id, mobile)
    if found is None:
        return _refuse(NO_MATCH)
    return _answer_document(session, kit, registration, found[1], request, spec, found[0], mobile, now)


def _printed_number(session: Session, registration: PartnerRegistration, number: str) -> str | None:
    """The id of the registration's department's document printed with ``number``
    (``PB-REV-INC-C-2026-000123``), or ``None``: an application's number, or no document."""
    document = issuer.find_by_number(session, registration.department_id, number)
    return document.id if document is not None else None


def _document(
    session: Session, registration: PartnerRegistration, number: str, mobile: str | None
) -> tuple[Document, Department] | None:
    """The registration's department's document ``number`` (held by ``mobile`` when
    given): one query when the mobile number is a search field."""
    try:
        if mobile is not None:
            document, department = issuer.holder_document(session, mobile, number)
        else:
            own = session.get(Department, registration.department_id)
            if own is None:
                return None
            document, department = issuer.get_for_department(session, own, number), own
    except NotFound:
        return None
    return (document, department) if department.id == registration.department_id else None


def _answer_document(
    session: Session,
    kit: IssuingKit,
    registration: PartnerRegistration,
    department: Department,
    request: PullRequest,
    spec: TemplateSpec,
    document: Document,
    mobile: str | None,
    now: datetime,
) -> PullAnswer:
    if document.type != spec.type or (mobile is not None and document.holder_mobile != mobile):
        return _refuse(NO_MATCH)
    if not _holder_is_asking(request, spec, document):
        return _refuse(NO_MATCH)
    if document.status != DocumentStatus.ISSUED:
        return _refuse(f"the certificate is {document.status}")
    digilocker_id = request.details.get("DigiLockerId", "")
    if digilocker_id:
        repository.link(session, document.id, digilocker_id[:64], now)
    return _found(kit, registration, department, request, document, spec)


def _answer_application(
    session: Session,
    intake: IntakeKit,
    registration: PartnerRegistration,
    department: Department,
    request: PullRequest,
    spec: TemplateSpec,
    number: str,
    mobile: str | None,
    now: datetime,
) -> PullAnswer:
    """A number that is an application's: pending while it is decided, the certificate
    once issued."""
    if mobile is None:
        return _refuse(NO_MATCH)  # an application is only ever found with its mobile number
    try:
        application = for_citizen(session, mobile, number)
    except NotFound:
        return _refuse(NO_MATCH)
    service = intake.catalogue.get(application.service_code)
    if application.department_id != department.id or service is None or service.certificate.template != spec.type:
        return _refuse(NO_MATCH)
    if application.document_id is not None:
        document = issuer.get_for_department(session, department, application.document_id)
        return _answer_document(session, intake.issuing, registration, department, request, spec, document, mobile, now)
    full_name = request.details.get("FullName", "")
    english = application.form.get(service.certificate.holder_field + "_en")
    names = [application.applicant_name, *([english] if isinstance(english, str) else [])]
    if not full_name or not name_matches(full_name, names):
        return _refuse(NO_MATCH)
    if application.status in PENDING or application.status == "approved":
        return _refuse("the application is still being decided", Status.PENDING)
    return _refuse(f"the application was {application.status}")


def answer_pull_doc(
    session: Session, kit: IssuingKit, registration: PartnerRegistration, request: PullRequest
) -> PullAnswer:
    uri = request.details.get("URI", "")
    parts = uri.rsplit("-", 2)
    if len(parts) != 3 or parts[0] != registration.issuer_id:
        return _refuse("URI is not one of this issuer's")
    _, doc_type, document_id = parts
    template = template_for(registration.doc_types, doc_type)
    if template is None:
        return _refuse(f"unknown DocType {doc_type[:20]!r} for this issuer")
    department = session.get(Department, registration.department_id)
    assert department is not None
    if document_id_of(document_id) != document_id:
        return _refuse(NO_MATCH)
    try:
        document = issuer.get_for_department(session, department, document_id)
    except NotFound:
        return _refuse(NO_MATCH)
    digilocker_id = request.details.get("DigiLockerId", "")
    if document.type != template or not digilocker_id or not repository.is_linked(session, document.id, digilocker_id):
        # Only the account that pulled the document, or that it was pushed to, fetches it.
        return _refuse(NO_MATCH)
    if document.status != DocumentStatus.ISSUED:
        return _refuse(f"the certificate is {document.status}")
    return _found(kit, registration, department, request, document, kit.templates[document.type])
