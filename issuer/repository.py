"""Every SQL query of the issuer domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, literal, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from issuer.models import Document, DocumentStatus, StatusIndexAllocation
from sanad.ids import new_citizen_ref
from sanad.models import Citizen, Department


def citizen_ref(session: Session, citizen_id: str) -> str | None:
    return session.scalar(select(Citizen.ref).where(Citizen.citizen_id == citizen_id))


def ensure_citizen(session: Session, citizen_id: str, mobile: str | None = None) -> str:
    """The citizen's storage pseudonym, created on first use, in the caller's transaction.

    Race-safe without a commit of its own: the insert is ``INSERT ... ON CONFLICT DO
    NOTHING``. On PostgreSQL a concurrent first use of the same citizen waits for the
    other transaction's insert to end, then inserts nothing and reads the committed row
    (each statement sees what committed before it, at READ COMMITTED); on SQLite writers
    take turns. Either way there is one row and neither caller fails.

    A mobile number is recorded when the citizen has none; an existing one is kept, since
    it is what their locker sign-in rests on (log in and change it there, not here)."""
    row = session.execute(select(Citizen.ref, Citizen.mobile).where(Citizen.citizen_id == citizen_id)).one_or_none()
    if row is not None:
        if mobile is not None and row.mobile is None:
            session.execute(
                update(Citizen).where(Citizen.ref == row.ref, Citizen.mobile.is_(None)).values(mobile=mobile)
            )
        return str(row.ref)
    values = {"ref": new_citizen_ref(), "citizen_id": citizen_id, "mobile": mobile, "created_at": datetime.now(UTC)}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(Citizen).values(**values).on_conflict_do_nothing(index_elements=["citizen_id"]))
    ref = citizen_ref(session, citizen_id)
    assert ref is not None
    return ref


def citizen_refs_for_mobile(session: Session, mobile: str) -> list[str]:
    return list(session.scalars(select(Citizen.ref).where(Citizen.mobile == mobile).order_by(Citizen.ref)))


def holder_documents(
    session: Session,
    citizen_refs: Sequence[str],
    *,
    filters: Sequence[ColumnElement[bool]],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[tuple[Document, Department]]:
    """A holder's documents, newest first, from ``after`` (keyset pagination)."""
    if not citizen_refs:
        return []
    query = (
        select(Document, Department)
        .join(Department, Department.id == Document.department_id)
        .where(Document.citizen_ref.in_(citizen_refs), *filters)
    )
    if after is not None:
        issued_at, document_id = after
        newer_bound = tuple_(literal(issued_at, Document.issued_at.type), literal(document_id, Document.id.type))
        query = query.where(tuple_(Document.issued_at, Document.id) < newer_bound)
    query = query.order_by(Document.issued_at.desc(), Document.id.desc()).limit(limit)
    return [(row[0], row[1]) for row in session.execute(query)]


def by_idempotency_key(session: Session, department_id: int, key: str) -> Document | None:
    return session.scalar(
        select(Document).where(Document.department_id == department_id, Document.idempotency_key == key)
    )


def get(session: Session, document_id: str) -> Document | None:
    return session.get(Document, document_id)


def _one_with_department(session: Session, condition: ColumnElement[bool]) -> tuple[Document, Department] | None:
    row = session.execute(
        select(Document, Department).join(Department, Department.id == Document.department_id).where(condition)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def get_with_department(session: Session, document_id: str) -> tuple[Document, Department] | None:
    return _one_with_department(session, Document.id == document_id)


def by_signed_sha256_with_department(session: Session, sha256: str) -> tuple[Document, Department] | None:
    return _one_with_department(session, Document.signed_sha256 == sha256)


def referenced_storage_keys(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(Document.storage_key).where(Document.storage_key.in_(keys))))


def allocate_status_index(session: Session, now: datetime) -> int:
    """A fresh status-list index (flushed, not committed)."""
    allocation = StatusIndexAllocation(allocated_at=now)
    session.add(allocation)
    session.flush()
    return allocation.id


def status_entries(session: Session) -> list[tuple[int, str]]:
    """(status index, stored status) of every document the status list must not call valid."""
    rows = session.execute(
        select(Document.status_index, Document.status).where(
            Document.status_index.is_not(None), Document.status != DocumentStatus.ISSUED
        )
    )
    return [(int(index), str(status)) for index, status in rows]


def highest_status_index(session: Session) -> int:
    """The largest index handed out so far (0 before the first)."""
    return int(session.scalar(select(func.coalesce(func.max(StatusIndexAllocation.id), 0))) or 0)


def archive_due(
    session: Session, before: datetime, limit: int, document_ids: Sequence[str] | None = None
) -> list[Document]:
    """B-LTA documents whose newest archival timestamp loses its TSA certificate before
    ``before``, soonest first (only ``document_ids`` when given)."""
    query = select(Document).where(Document.archive_expires_at.is_not(None), Document.archive_expires_at < before)
    if document_ids is not None:
        query = query.where(Document.id.in_(document_ids))
    return list(session.scalars(query.order_by(Document.archive_expires_at).limit(limit)))
