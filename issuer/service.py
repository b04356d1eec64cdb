"""Issuing documents: validate, render, sign, store the object, then commit the row.

Write order (the one place it is decided): the object is written first under a fresh
random id, the row is committed second. A crash between the two leaves an object no row
references, which ``sanad fsck --fix`` removes; a row without its object cannot happen.

That commit is the only one an issuance makes: the citizen record and the status-list
index are flushed into the same transaction, so a failed issuance keeps none of its rows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, not_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer import archive, repository
from issuer.exceptions import UnknownDocumentType
from issuer.models import Document, DocumentStatus
from issuer.privacy import mask_name
from issuer.render import CertificateRenderer, IssuerInfo, certificate_json
from issuer.schemas import DocumentCreate, DocumentRead
from issuer.seal import SealClaims, data_hash, make_seal, sealed_url
from issuer.sign import DepartmentSigner, SignedDocument, SignerRegistry
from issuer.templates import TemplateSpec, validate_data
from sanad.clock import today_in_india
from sanad.errors import Conflict, FieldError, InvalidInput, NotFound
from sanad.i18n import LocalizedText
from sanad.ids import new_document_id, sha256_hex
from sanad.models import Department
from sanad.reconcile import find_unreferenced
from sanad.storage import ObjectStore

log = logging.getLogger(__name__)

PDF = "application/pdf"


@dataclass(frozen=True)
class IssuingKit:
    """Everything issuance needs, built once at start-up."""

    templates: dict[str, TemplateSpec]
    renderer: CertificateRenderer
    signers: SignerRegistry
    store: ObjectStore
    public_base_url: str

    def verify_url(self, document_id: str) -> str:
        return f"{self.public_base_url}/v/{document_id}"


@dataclass(frozen=True)
class PublicRecord:
    """A registry entry as anyone holding the document may see it."""

    id: str
    type: str
    status: str
    issuer_code: str
    issuer_name: LocalizedText
    issued_at: datetime
    valid_until: date | None
    holder: str
    """Masked holder name."""
    revocation_reason: str | None


def storage_key(citizen_ref: str, document_id: str) -> str:
    return f"citizens/{citizen_ref}/{document_id}.pdf"


def effective_status(document: Document, today: date) -> str:
    if document.status == DocumentStatus.ISSUED and document.valid_until is not None and document.valid_until < today:
        return "expired"
    return document.status


def _department_name(department: Department) -> LocalizedText:
    return LocalizedText(en=department.name_en, pa=department.name_pa, hi=department.name_hi)


def _issuer_info(department: Department) -> IssuerInfo:
    return IssuerInfo(code=department.code, name=_department_name(department))


def _request_hash(request: DocumentCreate) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return sha256_hex(canonical)


def _resolve_validity(spec: TemplateSpec, requested: date | None, issued_at: datetime) -> date | None:
    today = today_in_india(issued_at)
    if requested is not None:
        if requested < today:
            raise InvalidInput([FieldError("valid_until", "must not be in the past")])
        return requested
    if spec.default_validity_days is None:
        return None
    return today + timedelta(days=spec.default_validity_days)


def _replay(existing: Document, request_hash: str) -> Document:
    if existing.request_hash != request_hash:
        raise InvalidInput([FieldError("Idempotency-Key", "this key was already used with a different request body")])
    return existing


def issue_document(
    session: Session,
    kit: IssuingKit,
    department: Department,
    request: DocumentCreate,
    *,
    idempotency_key: str | None = None,
) -> tuple[Document, bool]:
    """Issue one document. Returns it and whether it is a replay of an earlier request.

    Ends the caller's transaction unless it is a replay: committed once the object is
    stored, rolled back if issuing fails. Call it with nothing pending that must not
    share that fate."""
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
    status_index = _reserve_status_index(session, issued_at)
    try:
        signing = _render_and_sign(
            kit, spec, signer, department, document_id, data, issued_at, valid_until, status_index
        )
        # Taken after rendering: a first issue to this citizen holds the new row's lock
        # only from here to the commit.
        citizen_ref = repository.ensure_citizen(session, request.citizen_id, request.citizen_mobile)
        key = storage_key(citizen_ref, document_id)
        kit.store.put(key, signing.pdf, PDF)
    except BaseException:
        session.rollback()  # a failed issuance keeps none of its rows, whoever the caller
        raise
    signed = signing.pdf
    document = Document(
        id=document_id,
        type=spec.type,
        citizen_ref=citizen_ref,
        department_id=department.id,
        issued_at=issued_at,
        valid_until=valid_until,
        sha256=sha256_hex(signed),
        signed_sha256=sha256_hex(signed[: signing.signed_revision_end]),
        signature_level=signer.profile.level,
        archive_expires_at=signing.archive_expires_at,
        size=len(signed),
        storage_key=key,
        status=DocumentStatus.ISSUED,
        version=1,
        holder_name=str(data[spec.holder_field]),
        data=data,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        status_index=status_index,
    )

    try:
        session.add(document)
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
        session.rollback()
        _discard(kit.store, key)
        raise
    return document, False


def _reserve_status_index(session: Session, issued_at: datetime) -> int:
    """A status-list index, committed at once in a short transaction of its own.

    The index is printed in the seal, so it is needed before rendering. Taken in the
    issuance's own transaction, its insert would hold a write lock through rendering and
    signing (~100 ms), which on SQLite serialises every writer. An index whose issuance
    then fails is simply never used: its bit in the status list stays "valid" for no
    document."""
    with Session(bind=session.get_bind()) as own, own.begin():
        return repository.allocate_status_index(own, issued_at)


def _render_and_sign(
    kit: IssuingKit,
    spec: TemplateSpec,
    signer: DepartmentSigner,
    department: Department,
    document_id: str,
    data: dict[str, object],
    issued_at: datetime,
    valid_until: date | None,
    status_index: int,
) -> SignedDocument:
    """The certificate, rendered with its sealed QR code and signed."""
    issuer = _issuer_info(department)
    attachment = certificate_json(
        spec, document_id=document_id, data=data, issuer=issuer, issued_at=issued_at, valid_until=valid_until
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
    pdf = kit.renderer.render(
        spec,
        document_id=document_id,
        verify_url=sealed_url(kit.verify_url(document_id), make_seal(signer, seal_claims)),
        data=data,
        issuer=issuer,
        issued_at=issued_at,
        valid_until=valid_until,
        attachment=attachment,
    )
    return signer.sign_document(pdf)


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


def read_content(session: Session, store: ObjectStore, department: Department, document_id: str) -> bytes:
    document = get_for_department(session, department, document_id)
    return store.get(document.storage_key)


def revoke(session: Session, department: Department, document_id: str, reason: str) -> Document:
    document = get_for_department(session, department, document_id)
    if document.status == DocumentStatus.REVOKED:
        raise Conflict("the document is already revoked")
    document.status = DocumentStatus.REVOKED
    document.revoked_at = datetime.now(UTC)
    document.revocation_reason = reason
    # Durable before the caller drops the published status list: a snapshot rebuilt
    # before this commit would miss the revocation and be served for its whole lifetime.
    session.commit()
    return document


def to_read(document: Document, department: Department, kit: IssuingKit) -> DocumentRead:
    return DocumentRead(
        id=document.id,
        type=document.type,
        status=effective_status(document, today_in_india()),
        sha256=document.sha256,
        signed_sha256=document.signed_sha256,
        signature_level=document.signature_level,
        archive_expires_at=document.archive_expires_at,
        size=document.size,
        verify_url=kit.verify_url(document.id),
        department=department.code,
        issued_at=document.issued_at,
        valid_until=document.valid_until,
        version=document.version,
        revoked_at=document.revoked_at,
        revocation_reason=document.revocation_reason,
    )


def _public(document: Document, department: Department) -> PublicRecord:
    return PublicRecord(
        id=document.id,
        type=document.type,
        status=effective_status(document, today_in_india()),
        issuer_code=department.code,
        issuer_name=_department_name(department),
        issued_at=document.issued_at,
        valid_until=document.valid_until,
        holder=mask_name(document.holder_name),
        revocation_reason=document.revocation_reason,
    )


def public_record(session: Session, document_id: str) -> PublicRecord | None:
    found = repository.get_with_department(session, document_id)
    return None if found is None else _public(*found)


def status_list_entries(session: Session) -> tuple[int, list[tuple[int, str]]]:
    """For the status list: the highest index handed out, and (index, status) of every
    document that is no longer plainly issued (revoked, superseded)."""
    return repository.highest_status_index(session), repository.status_entries(session)


def public_record_by_signed_sha256(session: Session, sha256: str) -> PublicRecord | None:
    """The document whose certified revision has this digest."""
    found = repository.by_signed_sha256_with_department(session, sha256)
    return None if found is None else _public(*found)


# --- a holder's documents (the locker reads through these) ---------------------------

HOLDER_STATUSES = ("valid", "expired", "revoked", "superseded")


@dataclass(frozen=True)
class HolderFilter:
    """Narrowing of a holder's document list; ``None`` means any."""

    type: str | None = None
    department: str | None = None
    """Department code."""
    status: str | None = None
    """One of ``HOLDER_STATUSES`` (``valid`` is issued and not expired)."""


def _status_condition(status: str, today: date) -> ColumnElement[bool]:
    issued = Document.status == DocumentStatus.ISSUED
    lapsed = and_(Document.valid_until.is_not(None), Document.valid_until < today)
    if status == "valid":
        return and_(issued, not_(lapsed))
    if status == "expired":
        return and_(issued, lapsed)
    return Document.status == status


def citizen_ref_for(session: Session, citizen_id: str, mobile: str | None) -> str:
    """The storage pseudonym of a citizen record, created on first use (in the caller's
    transaction: the caller's scope commits it)."""
    return repository.ensure_citizen(session, citizen_id, mobile)


def citizen_refs_for_mobile(session: Session, mobile: str) -> list[str]:
    """Every citizen record an issuer tied to this mobile number."""
    return repository.citizen_refs_for_mobile(session, mobile)


def holder_documents(
    session: Session,
    citizen_refs: list[str],
    holder_filter: HolderFilter,
    *,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[tuple[Document, Department]]:
    """The holder's documents with their issuers, newest first."""
    conditions: list[ColumnElement[bool]] = []
    if holder_filter.type is not None:
        conditions.append(Document.type == holder_filter.type)
    if holder_filter.department is not None:
        conditions.append(Department.code == holder_filter.department)
    if holder_filter.status is not None:
        conditions.append(_status_condition(holder_filter.status, today_in_india()))
    return repository.holder_documents(session, citizen_refs, filters=conditions, after=after, limit=limit)


def holder_document(session: Session, citizen_refs: list[str], document_id: str) -> tuple[Document, Department]:
    """One of the holder's documents; anyone else's is reported exactly like a missing one."""
    found = repository.get_with_department(session, document_id) if len(document_id) <= 32 else None
    if found is None or found[0].citizen_ref not in citizen_refs:
        raise NotFound("no such document in your locker")
    return found


def public_status(document: Document) -> str:
    """The status a person reads: valid, expired, revoked or superseded."""
    status = effective_status(document, today_in_india())
    return "valid" if status == DocumentStatus.ISSUED else status


def department_name(department: Department) -> LocalizedText:
    return _department_name(department)


def find_orphans(session: Session, store: ObjectStore, *, now: datetime | None = None) -> list[str]:
    """Objects under ``citizens/`` that no document row references (older than the grace period)."""
    return find_unreferenced(
        store, "citizens/", lambda keys: repository.referenced_storage_keys(session, keys), now=now
    )


@dataclass(frozen=True)
class ArchiveRefresh:
    refreshed: list[str]
    failed: dict[str, str]


def refresh_archives(
    session: Session,
    kit: IssuingKit,
    *,
    now: datetime,
    within: timedelta,
    limit: int = 1000,
    document_ids: Sequence[str] | None = None,
) -> ArchiveRefresh:
    """Add a new archival timestamp to every B-LTA document whose newest one's TSA
    certificate expires before ``now + within``.

    Each refreshed file is a new object (the old bytes plus one revision): written first,
    then the row moves to it, then the old object is deleted — the issuing write order.
    A document that fails is reported and left as it was, to be retried on the next run.
    """
    refreshed: list[str] = []
    failed: dict[str, str] = {}
    for document in repository.archive_due(session, now + within, limit, document_ids):
        try:
            old_key = document.storage_key
            pdf = archive.refresh(kit.store.get(old_key), kit.signers.profile, now=now)
            facts = archive.describe(pdf)
            if facts.signed_sha256 != document.signed_sha256:
                raise ValueError("the refreshed file no longer contains the certified revision")
            base = storage_key(document.citizen_ref, document.id).removesuffix(".pdf")
            new_key = f"{base}.a{int(now.timestamp())}.pdf"
            kit.store.put(new_key, pdf, PDF)
            document.storage_key = new_key
            document.sha256 = sha256_hex(pdf)
            document.size = len(pdf)
            document.archive_expires_at = facts.archive_expires_at
            document.archive_refreshed_at = now
            try:
                # Per document (a job's unit), and before the old object goes: the row
                # moves to the new object only once it is stored.
                session.commit()
            except BaseException:
                session.rollback()
                _discard(kit.store, new_key)
                raise
            _discard(kit.store, old_key)
            refreshed.append(document.id)
        except Exception as e:  # one bad document must not stop the archive
            session.rollback()
            log.warning("archive refresh of %s failed", document.id, exc_info=True)
            failed[document.id] = str(e)
    return ArchiveRefresh(refreshed, failed)
