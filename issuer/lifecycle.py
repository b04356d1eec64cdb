"""A document's life after issue: superseded by a corrected version, renewed into a new
validity, suspended and reinstated.

A correction or renewal is a new signed document (the old one's version + 1, holder and
type kept) issued through ``service.issue_document``; in the same transaction, just before
its commit, the old row is marked superseded and linked to it by a conditional update. So
either both rows change or neither does, and of two corrections of one document at once
the second is refused (409) and its stored file discarded.

Suspension is reversible: the status list carries value 2 ("suspended", as in the IETF
Token Status List) while it lasts and 0 again once reinstated, because every snapshot is
rebuilt from the registry's current statuses.

Every change is recorded in the audit log in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

import audit
from issuer import events, lifecycle_repository, repository, service
from issuer.models import Document, DocumentStatus
from issuer.schemas import DocumentCreate, IssuedBy
from issuer.service import IssuingKit
from sanad.clock import today_in_india
from sanad.errors import Conflict, FieldError, InvalidInput
from sanad.models import Department

SUSPENSION_REASONS = ("under_investigation", "court_order", "data_error_reported", "other")
"""Why a document may be suspended; ``other`` needs a note saying why."""


@dataclass(frozen=True)
class Successor:
    """What a new version changes; the rest (type, holder, number) is the old one's."""

    action: str
    """``supersede`` or ``renew``: the audit log's ``document.<action>``."""
    data: dict[str, Any]
    valid_until: date | None
    reason: str


def _actor(department: Department) -> str:
    return f"department:{department.code}"


def _refuse_replacing(document: Document, verb: str) -> None:
    if document.status == DocumentStatus.REVOKED:
        raise Conflict(f"a revoked document cannot be {verb}; issue a new document instead")
    if document.status == DocumentStatus.SUPERSEDED:
        raise Conflict(
            f"the document was already superseded by {document.superseded_by_id}; that is the version to be {verb}"
        )


def supersede(
    session: Session,
    kit: IssuingKit,
    department: Department,
    document_id: str,
    successor: Successor,
    *,
    idempotency_key: str | None = None,
) -> tuple[Document, bool]:
    """Issue the next version of a document and mark this one superseded by it.

    Returns the new version and whether it is a replay of an earlier request with the same
    ``idempotency_key``. Ends the caller's transaction, as issuing does."""
    old = service.get_for_department(session, department, document_id)
    if idempotency_key is not None:
        earlier = repository.by_idempotency_key(session, department.id, idempotency_key)
        if earlier is not None and earlier.supersedes_id != old.id:
            raise InvalidInput([FieldError("Idempotency-Key", "this key was already used with a different request")])
    else:
        earlier = None
    if earlier is None:
        verb = "renewed" if successor.action == "renew" else "superseded"
        _refuse_replacing(old, verb)
    citizen_id = service.citizen_id_of(session, old.citizen_ref)
    request = DocumentCreate(
        type=old.type,
        citizen_id=citizen_id,
        citizen_mobile=old.holder_mobile,
        data=successor.data,
        valid_until=successor.valid_until,
        # The next version names the same issuing office and officer.
        issued_by=IssuedBy.model_validate(old.issued_by) if old.issued_by else None,
    )
    old_id, old_version = old.id, old.version

    def link(session: Session, new: Document) -> None:
        new.version = old_version + 1
        new.supersedes_id = old_id
        session.flush()  # the old row's link refers to the new one
        if not lifecycle_repository.mark_superseded(session, old_id, new.id):
            raise Conflict("the document was revoked or superseded while its new version was being issued")
        events.publish(session, old, events.SUPERSEDED)
        audit.record(
            session,
            action=f"document.{successor.action}",
            subject=f"document:{old_id}",
            actor=_actor(department),
            details={"new_document": new.id, "version": new.version, "reason": successor.reason},
        )

    return service.issue_document(
        session,
        kit,
        department,
        request,
        idempotency_key=idempotency_key,
        reserved_namespace=service.is_reserved_citizen_id(citizen_id),
        before_commit=link,
    )


def renew(
    session: Session,
    kit: IssuingKit,
    department: Department,
    document_id: str,
    valid_until: date | None,
    *,
    idempotency_key: str | None = None,
) -> tuple[Document, bool]:
    """Issue a licence again with the same data and a new validity (the template's
    period from today when ``valid_until`` is not given), superseding the old one."""
    old = service.get_for_department(session, department, document_id)
    spec = kit.templates.get(old.type)
    if spec is None or not spec.renewable:
        renewable = ", ".join(sorted(t for t, s in kit.templates.items() if s.renewable)) or "none"
        raise InvalidInput(
            [FieldError("document", f"{old.type} documents cannot be renewed; renewable types: {renewable}")]
        )
    if valid_until is not None and old.valid_until is not None and valid_until <= old.valid_until:
        raise InvalidInput(
            [FieldError("valid_until", f"must be later than the current validity ({old.valid_until.isoformat()})")]
        )
    successor = Successor(action="renew", data=dict(old.data), valid_until=valid_until, reason="renewal")
    return supersede(session, kit, department, document_id, successor, idempotency_key=idempotency_key)


def suspend(session: Session, department: Department, document_id: str, reason: str, note: str | None) -> Document:
    """Take a document out of force until it is reinstated. Commits (see ``service.revoke``)."""
    if reason not in SUSPENSION_REASONS:
        known = ", ".join(SUSPENSION_REASONS)
        raise InvalidInput([FieldError("reason", f"unknown reason {reason!r}; known: {known}")])
    if reason == "other" and not note:
        raise InvalidInput([FieldError("note", "say why the document is suspended when the reason is 'other'")])
    document = service.get_for_department(session, department, document_id)
    if not lifecycle_repository.mark_suspended(session, document.id, reason, note):
        session.refresh(document)
        if document.status == DocumentStatus.SUSPENDED:
            raise Conflict("the document is already suspended")
        raise Conflict(f"a {document.status} document cannot be suspended")
    events.publish(session, document, events.SUSPENDED)
    _record_and_commit(session, department, document, "suspend", {"reason": reason, "note": note})
    return document


def reinstate(session: Session, department: Department, document_id: str, note: str | None) -> Document:
    """Return a suspended document to force. Commits (see ``service.revoke``)."""
    document = service.get_for_department(session, department, document_id)
    if not lifecycle_repository.mark_reinstated(session, document.id):
        raise Conflict(f"only a suspended document can be reinstated; this one is {document.status}")
    events.publish(session, document, events.REINSTATED)
    _record_and_commit(session, department, document, "reinstate", {"note": note})
    return document


def _record_and_commit(
    session: Session, department: Department, document: Document, action: str, details: dict[str, str | None]
) -> None:
    audit.record(
        session,
        action=f"document.{action}",
        subject=f"document:{document.id}",
        actor=_actor(department),
        details=details,
    )
    # Durable before the caller drops the published status list (as ``service.revoke``).
    session.commit()


@dataclass(frozen=True)
class Version:
    id: str
    version: int
    status: str
    """As a person reads it: valid, expired, revoked, superseded or suspended."""
    issued_at: datetime
    valid_until: date | None


def versions(session: Session, document: Document) -> list[Version]:
    """Every version of ``document`` (itself included) that reaches the same locker,
    oldest first."""
    today = today_in_india()
    return [
        Version(
            id=d.id,
            version=d.version,
            status="valid" if (s := service.effective_status(d, today)) == DocumentStatus.ISSUED else s,
            issued_at=d.issued_at,
            valid_until=d.valid_until,
        )
        for d in lifecycle_repository.versions_of(session, document)
        if d.holder_mobile == document.holder_mobile
    ]
