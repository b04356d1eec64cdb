"""Issuing documents: validate, render, sign, store the object, then commit the row.

Write order (the one place it is decided): the object is written first under a fresh
random id, the row is committed second. A crash between the two leaves an object no row
references, which ``sanad fsck --fix`` removes; a row without its object cannot happen.

That commit is the only one an issuance makes: the citizen record, the binding mismatch
(if any) and the document are flushed into the same transaction, so a failed issuance
keeps none of its rows (the status-list index is taken apart, see below).

Holder binding (docs/holder-binding.md): a document reaches the locker of the number its
own request named (``documents.holder_mobile``) and no other. Citizen ids are per
department, and ids under ``RESERVED_CITIZEN_PREFIX`` only Sanad itself assigns.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Date, Engine, Select, String, and_, bindparam, not_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import audit
from issuer import archive, events, long_term, long_term_tasks, numbers, numbers_repository, repository
from issuer.exceptions import ReservedCitizenId, UnknownDocumentType
from issuer.models import Document, DocumentStatus, HolderBindingMismatch
from issuer.privacy import mask_name
from issuer.render import CertificateRenderer, IssuerInfo, certificate_json
from issuer.schemas import DocumentCreate, DocumentRead, HolderMismatchRead, IssuedBy, IssueWarning
from issuer.seal import SealClaims, data_hash, make_seal, sealed_url
from issuer.sign import DepartmentSigner, SignedDocument, SignerRegistry
from issuer.templates import TemplateSpec, valid_until_problem, validate_data
from sanad import metrics
from sanad.clock import today_in_india
from sanad.db import PreparedRead
from sanad.errors import Conflict, FieldError, InvalidInput, NotFound
from sanad.i18n import LocalizedText
from sanad.ids import new_document_id, sha256_hex
from sanad.jobs import JobQueue
from sanad.models import Department
from sanad.reconcile import find_unreferenced
from sanad.storage import ObjectStore

log = logging.getLogger(__name__)

PDF = "application/pdf"

RESERVED_CITIZEN_PREFIX = "sanad."
"""Citizen ids Sanad assigns itself (the holders of certificates issued on approved
applications): random after the prefix, and refused in any department's request, so no
department can claim one in advance."""

HOLDER_MOBILE_CHANGED = "holder_mobile_changed"
NO_HOLDER_MOBILE = "no_holder_mobile"


@dataclass(frozen=True)
class IssuingKit:
    """Everything issuance needs, built once at start-up."""

    templates: dict[str, TemplateSpec]
    renderer: CertificateRenderer
    signers: SignerRegistry
    store: ObjectStore
    public_base_url: str
    long_term_jobs: JobQueue | None = None
    """Where a document's long-term revision is deferred to (issue at B-T, answer, add
    B-LT/B-LTA shortly after); None: issuing adds it in line, waiting for fresh data."""

    def verify_url(self, document_id: str) -> str:
        return f"{self.public_base_url}/v/{document_id}"


@dataclass(frozen=True)
class PublicRecord:
    """A registry entry as anyone holding the document may see it."""

    id: str
    number: str | None
    """The certificate number printed on it (:mod:`issuer.numbers`)."""
    type: str
    status: str
    issuer_code: str
    issuer_name: LocalizedText
    issued_at: datetime
    valid_until: date | None
    holder: str
    """Masked holder name."""
    revocation_reason: str | None
    signature_level: str | None = None
    """The PAdES level the stored file has reached (B-B, B-T, B-LT, B-LTA)."""
    long_term_pending: bool = False
    """The stored file is still at B-T: its long-term revision is added shortly."""
    version: int = 1
    superseded_by: str | None = None
    """The id of the version that replaced this one (status superseded)."""
    suspension_reason: str | None = None


def storage_key(citizen_ref: str, document_id: str) -> str:
    return f"citizens/{citizen_ref}/{document_id}.pdf"


def effective_status(document: Document, today: date) -> str:
    return _status_on(document.status, document.valid_until, today)


def _status_on(status: str, valid_until: date | None, today: date) -> str:
    if status == DocumentStatus.ISSUED and valid_until is not None and valid_until < today:
        return "expired"
    return status


class NamedDepartment(Protocol):
    """A department's names: its row, or the columns a read selected of it."""

    @property
    def name_en(self) -> str: ...
    @property
    def name_pa(self) -> str: ...
    @property
    def name_hi(self) -> str: ...


def department_name(department: NamedDepartment) -> LocalizedText:
    return LocalizedText(en=department.name_en, pa=department.name_pa, hi=department.name_hi)


def _issuer_info(department: Department, issued_by: IssuedBy | None = None) -> IssuerInfo:
    return IssuerInfo(
        code=department.code,
        name=department_name(department),
        issued_by=issued_by.printed() if issued_by else None,
    )


def _request_hash(request: DocumentCreate) -> str:
    # A request without `issued_by` hashes as it did before the field existed, so retrying
    # an earlier request is still a replay.
    body = request.model_dump(mode="json", exclude={"issued_by"} if request.issued_by is None else None)
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return sha256_hex(canonical)


def _resolve_validity(spec: TemplateSpec, requested: date | None, issued_at: datetime) -> date | None:
    today = today_in_india(issued_at)
    if requested is not None:
        if (problem := valid_until_problem(spec, requested, today)) is not None:
            raise InvalidInput([FieldError("valid_until", problem)])
        return requested
    if spec.default_validity_days is None:
        return None
    return today + timedelta(days=spec.default_validity_days)


def _replay(existing: Document, request_hash: str) -> Document:
    if existing.request_hash != request_hash:
        raise InvalidInput([FieldError("Idempotency-Key", "this key was already used with a different request body")])
    return existing


def is_reserved_citizen_id(citizen_id: str) -> bool:
    return citizen_id.lower().startswith(RESERVED_CITIZEN_PREFIX)


def issue_document(
    session: Session,
    kit: IssuingKit,
    department: Department,
    request: DocumentCreate,
    *,
    idempotency_key: str | None = None,
    reserved_namespace: bool = False,
    before_commit: Callable[[Session, Document], None] | None = None,
) -> tuple[Document, bool]:
    """Issue one document. Returns it and whether it is a replay of an earlier request.

    The document reaches the locker of ``request.citizen_mobile`` only (none without
    one). A number other than the one the department's previous request named for the
    citizen is recorded as a mismatch, committed with the document: ``issue_warnings``
    tells the issuer.

    ``reserved_namespace`` is for Sanad's own issuing only (approved applications): it
    allows a citizen id under ``RESERVED_CITIZEN_PREFIX``, which any department's request
    is refused (422).

    ``before_commit`` runs on the new row just before the commit (``issuer.lifecycle``
    links versions there); what it raises fails the issuance.

    Ends the caller's transaction unless it is a replay: committed once the object is
    stored, rolled back if issuing fails. Call it with nothing pending that must not
    share that fate."""
    if not reserved_namespace and is_reserved_citizen_id(request.citizen_id):
        raise ReservedCitizenId(RESERVED_CITIZEN_PREFIX)
    spec = kit.templates.get(request.type)
    if spec is None:
        raise UnknownDocumentType(request.type, kit.templates)
    data = validate_data(spec, request.data)
    request_hash = _request_hash(request)
    if idempotency_key is not None:
        existing = repository.by_idempotency_key(session, department.id, idempotency_key)
        if existing is not None:
            return _replay(existing, request_hash), True

    issued_at = datetime.now(UTC).replace(microsecond=0)
    valid_until = _resolve_validity(spec, request.valid_until, issued_at)
    signer = kit.signers.get(department.code)
    document_id = new_document_id()
    status_index, number = reserve_index_and_number(session, department, spec.type, issued_at)
    try:
        signing = _render_and_sign(
            kit,
            spec,
            signer,
            department,
            Numbered(document_id, number),
            data,
            issued_at,
            valid_until,
            status_index,
            issued_by=request.issued_by,
            defer_long_term=kit.long_term_jobs is not None,
        )
        # Taken after rendering: a first issue to this citizen holds the new row's lock
        # only from here to the commit.
        binding = repository.bind_citizen(session, department.id, request.citizen_id, request.citizen_mobile)
        citizen_ref = binding.ref
        key = storage_key(citizen_ref, document_id)
        with metrics.issue_stage("store"):
            kit.store.put(key, signing.pdf, PDF)
    except BaseException:
        session.rollback()  # a failed issuance keeps none of its rows, whoever the caller
        raise
    document = new_document_row(
        spec,
        request,
        department,
        signing,
        Numbered(document_id, number),
        citizen_ref=citizen_ref,
        storage_key=key,
        data=data,
        issued_at=issued_at,
        valid_until=valid_until,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        status_index=status_index,
    )

    try:
        session.add(document)
        previous, requested = binding.previous_mobile, request.citizen_mobile
        if previous is not None and requested is not None and previous != requested:
            session.flush()  # the mismatch row refers to the document
            session.add(_mismatch(document, previous, requested, issued_at))
        if signing.long_term_pending and kit.long_term_jobs is not None:
            long_term_tasks.defer_augmentation(session, kit.long_term_jobs, [document_id])
        if before_commit is not None:
            before_commit(session, document)
        events.publish(session, document, events.ISSUED)
        audit.record(
            session,
            action="document.issue",
            subject=f"document:{document_id}",
            actor=f"department:{department.code}",
            details={"type": spec.type, "sha256": document.sha256},
        )
        # The crash-safe step: the row (with the citizen and the index) becomes durable
        # only now that its object is stored, and the object goes if it cannot.
        session.commit()
    except IntegrityError:
        # Another request with the same idempotency key committed first: keep its document.
        session.rollback()
        _discard(kit.store, key)
        if idempotency_key is not None:
            winner = repository.by_idempotency_key(session, department.id, idempotency_key)
            if winner is not None:
                return _replay(winner, request_hash), True
        raise
    except BaseException:
        try:  # a rollback on a connection the database dropped may raise too
            session.rollback()
        finally:
            _discard(kit.store, key)
        raise
    metrics.DOCUMENTS_ISSUED.labels(str(document.signature_level)).inc()
    return document, False


def _mismatch(document: Document, previous: str, requested: str, at: datetime) -> HolderBindingMismatch:
    return HolderBindingMismatch(
        department_id=document.department_id,
        citizen_ref=document.citizen_ref,
        document_id=document.id,
        previous_mobile=previous,
        requested_mobile=requested,
        source="issue",
        detected_at=at,
    )


def issue_warnings(session: Session, document: Document) -> list[IssueWarning]:
    """What the issuer should know about how ``document`` was bound to its holder: the
    same on a replay of its request as on the first answer."""
    warnings = [
        IssueWarning(
            code=HOLDER_MOBILE_CHANGED,
            detail=(
                f"your department's previous document for this citizen id named mobile {m.previous_mobile}; this "
                f"one names {m.requested_mobile} and reaches only that number's locker. Documents already issued "
                "stay with the number named for them. If this number is wrong, revoke the document and issue it "
                "again with the right one."
            ),
        )
        for m in repository.mismatches_of_document(session, document.id)
    ]
    if document.holder_mobile is None:
        warnings.append(
            IssueWarning(
                code=NO_HOLDER_MOBILE,
                detail="no citizen_mobile was given, so this document reaches no citizen's locker; "
                "issue it again with the holder's mobile number to deliver it there.",
            )
        )
    return warnings


def holder_mismatches(
    session: Session, department: Department, *, cursor: str | None, limit: int
) -> tuple[list[HolderMismatchRead], str | None]:
    """The department's recorded binding mismatches, newest first, and the next cursor."""
    before = None
    if cursor is not None:
        if not cursor.isdigit() or len(cursor) > 18:
            raise InvalidInput([FieldError("cursor", "is not a cursor this API returned")])
        before = int(cursor)
    rows = repository.mismatches_of_department(session, department.id, before_id=before, limit=limit + 1)
    items = [
        HolderMismatchRead(
            document_id=m.document_id,
            citizen_id=citizen_id,
            previous_mobile=m.previous_mobile,
            requested_mobile=m.requested_mobile,
            source=m.source,
            detected_at=m.detected_at,
        )
        for m, citizen_id in rows[:limit]
    ]
    return items, (str(rows[limit - 1][0].id) if len(rows) > limit else None)


@dataclass(frozen=True)
class Numbered:
    """A document's two names: the random id its QR code and URL carry, and the number
    printed on it for people (:mod:`issuer.numbers`)."""

    document_id: str
    number: str


def reserve_index_and_number(
    session: Session, department: Department, document_type: str, issued_at: datetime
) -> tuple[int, str]:
    """A status-list index and a certificate number of the department's ``document_type``,
    both committed at once in one short transaction of their own.

    Both are printed (the index in the seal), so they are needed before rendering. Taken
    in the issuance's own transaction, the inserts would hold a write lock through
    rendering and signing (~100 ms), which on SQLite serialises every writer. An index or
    number whose issuance then fails is simply never used: the index's bit stays "valid"
    for no document, and the number is a gap (:mod:`issuer.numbers`)."""
    with Session(bind=session.get_bind()) as own, own.begin():
        index = repository.allocate_status_index(own, issued_at)
        return index, take_numbers(own, department, document_type, issued_at)[0]


def take_numbers(
    session: Session, department: Department, document_type: str, issued_at: datetime, count: int = 1
) -> list[str]:
    """``count`` certificate numbers of the department's ``document_type`` for the year of
    ``issued_at`` in India, in the caller's (short) transaction."""
    prefix = numbers.number_prefix(department.code, document_type)
    year = today_in_india(issued_at).year
    serials = numbers_repository.allocate_serials(session, prefix, year, count)
    return [numbers.certificate_number(prefix, year, serial) for serial in serials]


def new_document_row(
    spec: TemplateSpec,
    request: DocumentCreate,
    department: Department,
    signing: SignedDocument,
    names: Numbered,
    *,
    citizen_ref: str,
    storage_key: str,
    data: dict[str, object],
    issued_at: datetime,
    valid_until: date | None,
    idempotency_key: str | None,
    request_hash: str,
    status_index: int,
) -> Document:
    """The registry row of a document just signed (not yet added to any session): one
    shape for single issuing and for a batch's chunks."""
    signed = signing.pdf
    digest = sha256_hex(signed)
    end = signing.signed_revision_end
    return Document(
        id=names.document_id,
        number=names.number,
        type=spec.type,
        citizen_ref=citizen_ref,
        holder_mobile=request.citizen_mobile,
        department_id=department.id,
        issued_at=issued_at,
        valid_until=valid_until,
        sha256=digest,
        # The same bytes unless a long-term revision follows the signed one: hashed once.
        signed_sha256=digest if end == len(signed) else sha256_hex(signed[:end]),
        # The level asked for; the file is at B-T until its long-term revision is added.
        signature_level=signing.recorded_level,
        long_term_pending=signing.long_term_pending,
        archive_expires_at=signing.archive_expires_at,
        size=len(signed),
        storage_key=storage_key,
        status=DocumentStatus.ISSUED,
        version=1,
        holder_name=str(data[spec.holder_field]),
        data=data,
        issued_by=request.issued_by.printed() if request.issued_by else None,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        status_index=status_index,
    )


def _render_and_sign(
    kit: IssuingKit,
    spec: TemplateSpec,
    signer: DepartmentSigner,
    department: Department,
    names: Numbered,
    data: dict[str, object],
    issued_at: datetime,
    valid_until: date | None,
    status_index: int,
    *,
    issued_by: IssuedBy | None = None,
    defer_long_term: bool = False,
) -> SignedDocument:
    """The certificate, rendered with its number, issuing office and sealed QR code and
    signed (at B-T, its long-term revision to follow, with ``defer_long_term``)."""
    issuer = _issuer_info(department, issued_by)
    document_id = names.document_id
    attachment = certificate_json(
        spec,
        document_id=document_id,
        number=names.number,
        data=data,
        issuer=issuer,
        issued_at=issued_at,
        valid_until=valid_until,
    )
    seal_claims = SealClaims(
        document_id=document_id,
        type=spec.type,
        department=department.code,
        holder_name=str(data[spec.holder_field]),
        issued_on=today_in_india(issued_at),
        valid_until=valid_until,
        status_index=status_index,
        data_hash=data_hash(attachment),
    )
    with metrics.issue_stage("render"):
        pdf = kit.renderer.render(
            spec,
            document_id=document_id,
            number=names.number,
            verify_url=sealed_url(kit.verify_url(document_id), make_seal(signer, seal_claims)),
            data=data,
            issuer=issuer,
            issued_at=issued_at,
            valid_until=valid_until,
            attachment=attachment,
        )
    with metrics.issue_stage("sign"):
        return signer.sign_document(pdf, defer_long_term=defer_long_term)


def _discard(store: ObjectStore, key: str) -> None:
    try:
        store.delete(key)
    except Exception:
        log.warning("could not remove unreferenced object %s; 'sanad fsck --fix' will", key, exc_info=True)


def get_for_department(session: Session, department: Department, document_id: str) -> Document:
    document = repository.get(session, document_id)
    # Another department's document is reported exactly like a missing one.
    if document is None or document.department_id != department.id:
        raise NotFound("no such document")
    return document


def find_by_number(session: Session, department_id: int, number: str) -> Document | None:
    """The department's document printed with ``number``, however a person typed it
    (case, spaces); another department's is not found."""
    printed = numbers.normalise(number)
    if not numbers.could_be_printed(printed):
        return None
    return numbers_repository.by_number(session, department_id, printed)


def read_content(session: Session, store: ObjectStore, department: Department, document_id: str) -> bytes:
    document = get_for_department(session, department, document_id)
    return store.get(document.storage_key)


def revoke(session: Session, department: Department, document_id: str, reason: str) -> Document:
    document = get_for_department(session, department, document_id)
    # One conditional update, not a read then a write: of two revocations at once, one
    # revokes and the other is told it was already done.
    if not repository.mark_revoked(session, document.id, reason, datetime.now(UTC)):
        raise Conflict("the document is already revoked")
    events.publish(session, document, events.REVOKED)
    audit.record(
        session,
        action="document.revoke",
        subject=f"document:{document.id}",
        actor=f"department:{department.code}",
        details={"reason": reason},
    )
    # Durable before the caller drops the published status list: a snapshot rebuilt
    # before this commit would miss the revocation and be served for its whole lifetime.
    session.commit()
    return document


def to_read(
    document: Document, department: Department, kit: IssuingKit, *, warnings: Sequence[IssueWarning] = ()
) -> DocumentRead:
    return DocumentRead(
        id=document.id,
        number=document.number,
        type=document.type,
        status=effective_status(document, today_in_india()),
        sha256=document.sha256,
        signed_sha256=document.signed_sha256,
        signature_level=document.signature_level,
        long_term_pending=document.long_term_pending,
        archive_expires_at=document.archive_expires_at,
        size=document.size,
        verify_url=kit.verify_url(document.id),
        department=department.code,
        issued_at=document.issued_at,
        valid_until=document.valid_until,
        version=document.version,
        revoked_at=document.revoked_at,
        revocation_reason=document.revocation_reason,
        supersedes_id=document.supersedes_id,
        superseded_by_id=document.superseded_by_id,
        suspension_reason=document.suspension_reason,
        holder_mobile=document.holder_mobile,
        warnings=list(warnings),
    )


def public_record(session: Session, document_id: str) -> PublicRecord | None:
    row = repository.public_row(session, document_id=document_id)
    return None if row is None else _public_of_row(row)


def _public_of_row(row: Any) -> PublicRecord:
    """The record from ``repository.public_row``'s columns."""
    return PublicRecord(
        id=row.id,
        number=row.number,
        type=row.type,
        status=_status_on(row.status, row.valid_until, today_in_india()),
        issuer_code=row.code,
        issuer_name=department_name(row),
        issued_at=row.issued_at,
        valid_until=row.valid_until,
        holder=mask_name(row.holder_name),
        revocation_reason=row.revocation_reason,
        signature_level="B-T" if row.long_term_pending else row.signature_level,
        long_term_pending=row.long_term_pending,
        version=row.version,
        superseded_by=row.superseded_by_id,
        suspension_reason=row.suspension_reason,
    )


def status_list_entries(session: Session) -> tuple[int, list[tuple[int, str]]]:
    """For the status list: the highest index handed out, and (index, status) of every
    document that is no longer plainly issued (revoked, superseded)."""
    return repository.highest_status_index(session), repository.status_entries(session)


def public_record_by_signed_sha256(session: Session, sha256: str) -> PublicRecord | None:
    """The document whose certified revision has this digest."""
    row = repository.public_row(session, signed_sha256=sha256)
    return None if row is None else _public_of_row(row)


# --- a holder's documents (the locker reads through these) ---------------------------

HOLDER_STATUSES = ("valid", "expired", "revoked", "superseded", "suspended")


@dataclass(frozen=True)
class HolderFilter:
    """Narrowing of a holder's document list; ``None`` means any."""

    type: str | None = None
    department: str | None = None
    """Department code."""
    status: str | None = None
    """One of ``HOLDER_STATUSES`` (``valid`` is issued and not expired)."""


def _status_condition(status: str, today: date | ColumnElement[date]) -> ColumnElement[bool]:
    issued = Document.status == DocumentStatus.ISSUED
    lapsed = and_(Document.valid_until.is_not(None), Document.valid_until < today)
    if status == "valid":
        return and_(issued, not_(lapsed))
    if status == "expired":
        return and_(issued, lapsed)
    return Document.status == status


_HOLDER_DOCUMENT_FIELDS = tuple(column.key for column in repository.HOLDER_DOCUMENT_COLUMNS)


@dataclass(frozen=True, slots=True)
class HolderDepartment:
    """The issuer of a holder's document, as the locker shows it."""

    code: str
    name_en: str
    name_pa: str
    name_hi: str


@dataclass(frozen=True, slots=True)
class HolderDocument:
    """What the locker shows of a document (``repository.HOLDER_DOCUMENT_COLUMNS``)."""

    id: str
    number: str | None
    type: str
    status: str
    issued_at: datetime
    valid_until: date | None
    holder_name: str
    sha256: str
    size: int
    storage_key: str
    revocation_reason: str | None
    department: HolderDepartment

    @classmethod
    def of_row(cls, row: Any) -> HolderDocument:
        """From a row with ``HOLDER_DOCUMENT_COLUMNS`` (named as the fields) and
        ``HOLDER_DEPARTMENT_COLUMNS``."""
        values = row._mapping
        department = HolderDepartment(values["code"], values["name_en"], values["name_pa"], values["name_hi"])
        return cls(**{key: values[key] for key in _HOLDER_DOCUMENT_FIELDS}, department=department)

    def public_status(self, today: date) -> str:
        """valid, expired, revoked, superseded or suspended."""
        status = _status_on(self.status, self.valid_until, today)
        return "valid" if status == DocumentStatus.ISSUED else status


_HOLDER_MOBILE = bindparam("holder_mobile", type_=String())


@functools.cache
def _holder_page_query(
    holder_mobile: ColumnElement[str], type_given: bool, department_given: bool, status: str | None, paged: bool
) -> Select[Any]:
    """The page query for one shape of filter, built once (``status`` is one of
    ``HOLDER_STATUSES`` or None, and ``holder_mobile`` one of a few constants, so there
    are few)."""
    conditions: list[ColumnElement[bool]] = []
    if type_given:
        conditions.append(Document.type == bindparam("type"))
    if department_given:
        conditions.append(Document.department_id.in_(repository.department_ids_with_code(bindparam("department"))))
    if status is not None:
        conditions.append(_status_condition(status, bindparam("today", type_=Date())))
    return repository.holder_page_query(holder_mobile, conditions, paged=paged)


def holder_page(
    source: Session | Engine,
    holder_mobile: str | ColumnElement[str],
    holder_filter: HolderFilter,
    *,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
    parameters: Mapping[str, object] | None = None,
) -> list[HolderDocument]:
    """As :func:`holder_documents`, as plain records of what the locker shows.
    ``holder_mobile`` is a number the caller proved, or a module-level scalar subquery
    that proves it in the same round trip (its own ``parameters`` given). Given an engine,
    the page is read on the driver directly, outside any transaction (``PreparedRead``)."""
    status = holder_filter.status
    if status is not None and status not in HOLDER_STATUSES:
        raise ValueError(f"not a holder status: {status!r}")  # callers check what people send
    mobile = _HOLDER_MOBILE if isinstance(holder_mobile, str) else holder_mobile
    shape = (mobile, holder_filter.type is not None, holder_filter.department is not None, status, bool(after))
    values: dict[str, object] = {**(parameters or {}), "limit": limit}
    if isinstance(holder_mobile, str):
        values["holder_mobile"] = holder_mobile
    if holder_filter.type is not None:
        values["type"] = holder_filter.type
    if holder_filter.department is not None:
        values["department"] = holder_filter.department
    if status is not None:
        values["today"] = today_in_india()
    if after is not None:
        values["after_issued_at"], values["after_id"] = after
    if isinstance(source, Engine):
        return [HolderDocument.of_row(row) for row in _holder_page_read(*shape).rows(source, values)]
    return [HolderDocument.of_row(row) for row in source.execute(_holder_page_query(*shape), values)]


@functools.cache
def _holder_page_read(*shape: Any) -> PreparedRead:
    return PreparedRead(_holder_page_query(*shape))


def reserved_citizen(session: Session, department: Department, mobile: str) -> tuple[str, str]:
    """(citizen id, storage pseudonym) of the holder with ``mobile`` in the department's
    reserved namespace (``RESERVED_CITIZEN_PREFIX`` + random), created on first use in
    the caller's transaction. For Sanad's own issuing: issue to the id with
    ``reserved_namespace=True``."""
    return repository.reserved_citizen(session, department.id, RESERVED_CITIZEN_PREFIX, mobile)


def citizen_id_of(session: Session, citizen_ref: str) -> str:
    citizen_id = repository.citizen_id_of(session, citizen_ref)
    if citizen_id is None:
        raise NotFound("no such citizen record")
    return citizen_id


def holder_documents(
    session: Session,
    holder_mobile: str,
    holder_filter: HolderFilter,
    *,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[tuple[Document, Department]]:
    """The documents whose issuing request named ``holder_mobile``, with their issuers,
    newest first. Call it only with a number the caller proved (a locker sign-in)."""
    conditions: list[ColumnElement[bool]] = []
    if holder_filter.type is not None:
        conditions.append(Document.type == holder_filter.type)
    if holder_filter.department is not None:
        conditions.append(Document.department_id.in_(repository.department_ids_with_code(holder_filter.department)))
    if holder_filter.status is not None:
        conditions.append(_status_condition(holder_filter.status, today_in_india()))
    return repository.holder_documents(session, holder_mobile, filters=conditions, after=after, limit=limit)


def holder_with_document_query(holders: Select[Any], holder_mobile: str) -> Select[Any]:
    """``holders`` with the document of the parameter ``document_id`` when it was issued
    to the number in their column ``holder_mobile`` (:class:`HolderDocument`'s columns,
    null otherwise); give it only numbers the caller proved. Build it once."""
    return repository.holder_with_document_query(holders, holder_mobile)


def held_document_of(row: Any) -> HolderDocument:
    """The document a row of :func:`holder_with_document_query` found; another holder's
    is reported exactly like a missing one."""
    if row.id is None:
        raise NotFound("no such document in your locker")
    return HolderDocument.of_row(row)


def holder_document(session: Session, holder_mobile: str, document_id: str) -> tuple[Document, Department]:
    """One document issued to ``holder_mobile``; any other is reported exactly like a missing one."""
    found = repository.get_with_department(session, document_id) if len(document_id) <= 32 else None
    if found is None or found[0].holder_mobile is None or found[0].holder_mobile != holder_mobile:
        raise NotFound("no such document in your locker")
    return found


def public_status(document: Document) -> str:
    """The status a person reads: valid, expired, revoked or superseded."""
    status = effective_status(document, today_in_india())
    return "valid" if status == DocumentStatus.ISSUED else status


def find_orphans(session: Session, store: ObjectStore, *, now: datetime | None = None) -> list[str]:
    """Objects under ``citizens/`` that no document row references (older than the grace period)."""
    return find_unreferenced(
        store, "citizens/", lambda keys: repository.referenced_storage_keys(session, keys), now=now
    )


@dataclass(frozen=True)
class ArchiveRefresh:
    refreshed: list[str]
    """Documents given a new archival timestamp."""
    failed: dict[str, str]
    raised: list[str] = field(default_factory=list)
    """Documents left at B-T at issue that now have their long-term evidence."""
    waiting: dict[str, str] = field(default_factory=dict)
    """Documents still at B-T: why their evidence could not be had this time."""


def refresh_archives(
    session: Session,
    kit: IssuingKit,
    *,
    now: datetime,
    within: timedelta,
    limit: int = 1000,
    document_ids: Sequence[str] | None = None,
) -> ArchiveRefresh:
    """Bring documents issued at B-T up to the deployment's long-term level (their
    revocation data could not be had at issue), then add a new archival timestamp to every
    B-LTA document whose newest one's TSA certificate expires before ``now + within``.

    Each changed file is a new object (the old bytes plus one revision): written first,
    then the row moves to it, then the old object is deleted — the issuing write order.
    A document that fails is reported and left as it was, to be retried on the next run.
    """
    profile = kit.signers.profile
    pending = add_long_term_revisions(session, kit, limit=limit, document_ids=document_ids, legacy=True)
    failed = dict(pending.failed)
    refreshed: list[str] = []
    for document in repository.archive_due(session, now + within, limit, document_ids):
        try:
            stored = kit.store.get(document.storage_key)
            pdf = archive.refresh(stored, profile, now=now)
            old_key = _store_new_file(kit, document, stored, pdf, now)
            document.archive_expires_at = archive.describe(pdf).archive_expires_at
            document.archive_refreshed_at = now
            _commit_move(session, kit, old_key, document.storage_key)
            refreshed.append(document.id)
        except Exception as e:  # one bad document must not stop the archive
            session.rollback()
            log.warning("archive refresh of %s failed", document.id, exc_info=True)
            failed[document.id] = str(e)
    return ArchiveRefresh(refreshed, failed, pending.raised, pending.waiting)


def add_long_term_revisions(
    session: Session,
    kit: IssuingKit,
    *,
    document_ids: Sequence[str] | None = None,
    issued_before: datetime | None = None,
    limit: int = 1000,
    legacy: bool = False,
) -> ArchiveRefresh:
    """Add the long-term revision (B-LT, or B-LTA with its document timestamp) to documents
    whose file is still at B-T: ``document_ids``, or every one issued before
    ``issued_before``; ``legacy`` also takes documents recorded at B-T by earlier releases.

    Each file becomes a new object (the old bytes plus one revision): written first under
    a new key, then the row moves to it and stops being pending (one commit per document),
    then the old object is deleted. A crash anywhere leaves the row on a file that
    verifies, at B-T or at its level; at worst an unreferenced object ``sanad fsck`` finds.
    Documents whose evidence cannot be had yet are reported ``waiting`` and stay pending."""
    profile = kit.signers.profile
    raised: list[str] = []
    waiting: dict[str, str] = {}
    failed: dict[str, str] = {}
    if not profile.level.long_term:
        return ArchiveRefresh([], failed, raised, waiting)
    candidates = repository.long_term_pending_ids(session, limit, document_ids, issued_before, legacy=legacy)
    for document_id in candidates:
        # Locked and checked again: another worker (the sweep, a retry) may have added it.
        document = repository.lock_long_term_pending(session, document_id, legacy=legacy)
        if document is None:
            session.rollback()
            continue
        try:
            stored = kit.store.get(document.storage_key)
            result = archive.raise_to_level(stored, profile)
            old_key = _store_new_file(kit, document, stored, result.pdf, datetime.now(UTC))
            document.signature_level = result.level
            document.long_term_pending = False
            document.archive_expires_at = result.archive_expires_at
            _commit_move(session, kit, old_key, document.storage_key)
            raised.append(document_id)
        except long_term.LongTermUnavailable as e:
            session.rollback()
            log.info("long-term evidence for %s still unavailable: %s", document_id, e)
            waiting[document_id] = str(e)
        except Exception as e:  # one bad document must not stop the others
            session.rollback()
            log.warning("raising %s to %s failed", document_id, profile.level, exc_info=True)
            failed[document_id] = str(e)
    return ArchiveRefresh([], failed, raised, waiting)


def _store_new_file(kit: IssuingKit, document: Document, stored: bytes, pdf: bytes, now: datetime) -> str:
    """Store ``pdf`` (the document's ``stored`` file plus revisions) as a new object and
    point the row at it; returns the old object's key, for ``_commit_move``."""
    # Only appended to, and to the file the row describes: the certified revision (a
    # prefix of it) is then intact, without parsing the file again.
    if sha256_hex(stored) != document.sha256 or not pdf.startswith(stored):
        raise ValueError("the new file does not extend the stored one: the certified revision could have changed")
    old_key = document.storage_key
    base = storage_key(document.citizen_ref, document.id).removesuffix(".pdf")
    # Never a key in use: two writers of the same document (a sweep and a job, a raise
    # and a renewal in one second) must not overwrite each other's object.
    new_key = f"{base}.a{int(now.timestamp())}{secrets.token_hex(3)}.pdf"
    digest = sha256_hex(pdf)
    kit.store.put(new_key, pdf, PDF, sha256=digest)
    document.storage_key = new_key
    document.sha256 = digest
    document.size = len(pdf)
    return old_key


def _commit_move(session: Session, kit: IssuingKit, old_key: str, new_key: str) -> None:
    try:
        # Per document (a job's unit), and before the old object goes: the row moves to
        # the new object only once it is stored.
        session.commit()
    except BaseException:
        session.rollback()
        _discard(kit.store, new_key)
        raise
    _discard(kit.store, old_key)
