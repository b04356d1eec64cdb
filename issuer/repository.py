"""Every SQL query of the issuer domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, bindparam, func, literal, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from issuer.models import Document, DocumentStatus, HolderBindingMismatch, StatusIndexAllocation
from sanad.db import PreparedInsert, PreparedRead
from sanad.ids import new_citizen_ref
from sanad.models import Citizen, Department


@dataclass(frozen=True)
class CitizenBinding:
    """A citizen record as an issuing request finds it."""

    ref: str
    previous_mobile: str | None
    """The number the department's previous request for this citizen named (``None``: no
    earlier request named one, or this request created the record)."""


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def bind_citizen(session: Session, department_id: int, citizen_id: str, mobile: str | None) -> CitizenBinding:
    """The department's citizen record, created on first use, in the caller's transaction;
    a request that names a number makes it the record's latest.

    Race-safe without a commit of its own: the insert is ``INSERT ... ON CONFLICT DO
    NOTHING``. On PostgreSQL a concurrent first use of the same citizen waits for the
    other transaction's insert to end, then inserts nothing and reads the committed row
    (each statement sees what committed before it, at READ COMMITTED); on SQLite writers
    take turns. Either way there is one row, and the later request sees the earlier one's
    number as the previous one."""
    key = (Citizen.department_id == department_id, Citizen.citizen_id == citizen_id)
    row = session.execute(select(Citizen.ref, Citizen.mobile).where(*key)).one_or_none()
    if row is None:
        values = {
            "ref": new_citizen_ref(),
            "department_id": department_id,
            "citizen_id": citizen_id,
            "mobile": mobile,
            "created_at": datetime.now(UTC),
        }
        statement = _insert(session)(Citizen).values(**values)
        statement = statement.on_conflict_do_nothing(index_elements=["department_id", "citizen_id"])
        created = session.scalar(statement.returning(Citizen.ref))
        if created is not None:
            return CitizenBinding(ref=created, previous_mobile=None)
        row = session.execute(select(Citizen.ref, Citizen.mobile).where(*key)).one()
    if mobile is not None and row.mobile != mobile:
        session.execute(update(Citizen).where(Citizen.ref == row.ref).values(mobile=mobile))
    return CitizenBinding(ref=str(row.ref), previous_mobile=row.mobile)


def bind_citizens(
    session: Session, department_id: int, requests: Sequence[tuple[str, str | None]]
) -> list[CitizenBinding]:
    """:func:`bind_citizen` for each (citizen id, mobile) of ``requests`` in order, with
    the same outcome as calling it once per request, in a few statements: one read of
    the records, the missing ones created together, and one change per record whose
    latest number moves."""
    citizen_ids = sorted({citizen_id for citizen_id, _ in requests})
    if not citizen_ids:
        return []
    key = (Citizen.department_id == department_id, Citizen.citizen_id.in_(citizen_ids))
    found = {
        str(c): (str(ref), mobile)
        for c, ref, mobile in session.execute(select(Citizen.citizen_id, Citizen.ref, Citizen.mobile).where(*key))
    }
    first_mobile: dict[str, str | None] = {}
    for citizen_id, mobile in requests:
        first_mobile.setdefault(citizen_id, mobile)
    created: set[str] = set()
    if missing := [c for c in citizen_ids if c not in found]:
        now = datetime.now(UTC)
        values = [
            {
                "ref": new_citizen_ref(),
                "department_id": department_id,
                "citizen_id": c,
                "mobile": first_mobile[c],
                "created_at": now,
            }
            for c in missing
        ]
        statement = _insert(session)(Citizen).values(values)
        statement = statement.on_conflict_do_nothing(index_elements=["department_id", "citizen_id"])
        for citizen_id, ref in session.execute(statement.returning(Citizen.citizen_id, Citizen.ref)):
            found[str(citizen_id)] = (str(ref), first_mobile[str(citizen_id)])
            created.add(str(citizen_id))
        if raced := [c for c in missing if c not in found]:  # created meanwhile by another transaction
            query = select(Citizen.citizen_id, Citizen.ref, Citizen.mobile).where(
                Citizen.department_id == department_id, Citizen.citizen_id.in_(raced)
            )
            found.update({str(c): (str(ref), mobile) for c, ref, mobile in session.execute(query)})
    latest = {citizen_id: mobile for citizen_id, (_, mobile) in found.items()}
    stored = dict(latest)
    bindings = []
    for citizen_id, mobile in requests:
        ref = found[citizen_id][0]
        if citizen_id in created:  # the request that created the record names no earlier number
            created.discard(citizen_id)
            bindings.append(CitizenBinding(ref=ref, previous_mobile=None))
            continue
        bindings.append(CitizenBinding(ref=ref, previous_mobile=latest[citizen_id]))
        if mobile is not None:
            latest[citizen_id] = mobile
    changed = [{"ref": found[c][0], "mobile": m} for c, m in latest.items() if m != stored[c]]
    if changed:
        session.execute(update(Citizen), changed)
    return bindings


def allocate_status_indexes(session: Session, now: datetime, count: int) -> list[int]:
    """``count`` fresh status-list indexes in one insert (flushed, not committed)."""
    allocations = [StatusIndexAllocation(allocated_at=now) for _ in range(count)]
    session.add_all(allocations)
    session.flush()
    return [allocation.id for allocation in allocations]


def reserved_citizen(session: Session, department_id: int, prefix: str, mobile: str) -> tuple[str, str]:
    """(citizen id, ref) of the department's record in the reserved namespace for this
    number, created on first use as ``<prefix><ref>``: random, so nobody can name it in
    advance. Two concurrent first uses may make two records; each document still carries
    its own number, so that only splits the number's storage folder in two."""
    rows = _RESERVED_CITIZEN.rows_in(session, {"department_id": department_id, "mobile": mobile, "prefix": prefix})
    if rows:
        return str(rows[0].citizen_id), str(rows[0].ref)
    ref = new_citizen_ref()
    citizen_id = f"{prefix}{ref}"
    # A statement rather than a flush: nothing is read back, and the unit of work's
    # bookkeeping cost more CPU than the insert (every first-time applicant makes one).
    _CITIZEN_ROWS.run(
        session,
        [
            {
                "ref": ref,
                "department_id": department_id,
                "citizen_id": citizen_id,
                "mobile": mobile,
                "created_at": datetime.now(UTC),
            }
        ],
    )
    return citizen_id, ref


# On the driver: a first-time applicant's every submission asks it, and SQLAlchemy's ORM
# machinery cost more CPU than the lookup.
_RESERVED_CITIZEN = PreparedRead(
    select(Citizen.citizen_id, Citizen.ref)
    .where(
        Citizen.department_id == bindparam("department_id"),
        Citizen.mobile == bindparam("mobile"),
        Citizen.citizen_id.startswith(bindparam("prefix")),
    )
    .order_by(Citizen.created_at, Citizen.ref)
    .limit(1)
)
_citizens = Citizen.__table__
assert isinstance(_citizens, Table)
_CITIZEN_ROWS = PreparedInsert(_citizens)


def citizen_id_of(session: Session, citizen_ref: str) -> str | None:
    return session.scalar(select(Citizen.citizen_id).where(Citizen.ref == citizen_ref))


def holder_documents(
    session: Session,
    holder_mobile: str,
    *,
    filters: Sequence[ColumnElement[bool]],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[tuple[Document, Department]]:
    """The documents issued to ``holder_mobile``, newest first, from ``after`` (keyset
    pagination), with their issuers. ``filters`` name only ``documents``' columns.

    The page is cut from ``documents`` alone, then joined: one backward range scan of
    ``ix_documents_holder_mobile_newest`` that stops after ``limit`` rows, whatever plan
    the join to ``departments`` would otherwise tempt the planner into."""
    page = select(Document).where(Document.holder_mobile == holder_mobile, *filters)
    if after is not None:
        issued_at, document_id = after
        newer_bound = tuple_(literal(issued_at, Document.issued_at.type), literal(document_id, Document.id.type))
        page = page.where(tuple_(Document.issued_at, Document.id) < newer_bound)
    cut = page.order_by(Document.issued_at.desc(), Document.id.desc()).limit(limit).subquery()
    held = aliased(Document, cut)
    query = (
        select(held, Department)
        .join(Department, Department.id == held.department_id)
        .order_by(held.issued_at.desc(), held.id.desc())
    )
    return [(row[0], row[1]) for row in session.execute(query)]


#: What every view of a document shows, the locker's and the public record's.
_SHOWN_COLUMNS = (
    Document.id,
    Document.number,
    Document.type,
    Document.status,
    Document.issued_at,
    Document.valid_until,
    Document.holder_name,
)
#: What a locker shows of a document, read as plain columns: building ORM objects of the
#: whole row (its data and issuing details included) cost more than the query.
HOLDER_DOCUMENT_COLUMNS = (
    *_SHOWN_COLUMNS,
    Document.sha256,
    Document.size,
    Document.storage_key,
    Document.revocation_reason,
)
HOLDER_DEPARTMENT_COLUMNS = (Department.code, Department.name_en, Department.name_pa, Department.name_hi)


def holder_page_query(
    holder_mobile: ColumnElement[str], filters: Sequence[ColumnElement[bool]], *, paged: bool
) -> Select[Any]:
    """A page of the documents of ``holder_mobile`` (a parameter, or a scalar subquery)
    (``HOLDER_DOCUMENT_COLUMNS``) with their issuers' ``HOLDER_DEPARTMENT_COLUMNS``, newest
    first, with the parameter ``limit`` and, when ``paged``, the keyset cursor
    ``after_issued_at`` and ``after_id``. Built once per shape of filter and reused:
    building it cost more than running it.

    The page is cut from ``documents`` alone, then joined, as in :func:`holder_documents`."""
    page = select(*HOLDER_DOCUMENT_COLUMNS, Document.department_id).where(
        Document.holder_mobile == holder_mobile, *filters
    )
    if paged:
        newer_bound = tuple_(
            bindparam("after_issued_at", type_=Document.issued_at.type), bindparam("after_id", type_=Document.id.type)
        )
        page = page.where(tuple_(Document.issued_at, Document.id) < newer_bound)
    cut = page.order_by(Document.issued_at.desc(), Document.id.desc()).limit(bindparam("limit")).subquery()
    shown = [cut.c[column.key] for column in HOLDER_DOCUMENT_COLUMNS]
    return (
        select(*shown, *HOLDER_DEPARTMENT_COLUMNS)
        .join(Department, Department.id == cut.c.department_id)
        .order_by(cut.c.issued_at.desc(), cut.c.id.desc())
    )


def holder_with_document_query(holders: Select[Any], holder_mobile: str) -> Select[Any]:
    """Each row of ``holders`` (its column ``holder_mobile`` the number it proved) with the
    ``HOLDER_DOCUMENT_COLUMNS`` and ``HOLDER_DEPARTMENT_COLUMNS`` of the document with the
    parameter ``document_id`` if that number is the document's own, else with nulls: who
    is asking and what they may read, in one round trip (two primary-key lookups)."""
    holder = holders.subquery()
    held = Document.__table__.join(Department.__table__, Department.id == Document.department_id)
    mine = and_(Document.id == bindparam("document_id"), Document.holder_mobile == holder.c[holder_mobile])
    return select(holder, *HOLDER_DOCUMENT_COLUMNS, *HOLDER_DEPARTMENT_COLUMNS).select_from(
        holder.outerjoin(held, mine)
    )


def department_ids_with_code(code: str | ColumnElement[str]) -> Select[tuple[int]]:
    """A subquery: the id of the department with this code (none if there is none)."""
    return select(Department.id).where(Department.code == code)


# --- binding mismatches --------------------------------------------------------------------


def mismatches_of_document(session: Session, document_id: str) -> list[HolderBindingMismatch]:
    return list(
        session.scalars(
            select(HolderBindingMismatch)
            .where(HolderBindingMismatch.document_id == document_id)
            .order_by(HolderBindingMismatch.id)
        )
    )


def mismatches_of_department(
    session: Session, department_id: int, *, before_id: int | None, limit: int
) -> list[tuple[HolderBindingMismatch, str]]:
    """The department's recorded mismatches with each citizen id, newest first."""
    query = (
        select(HolderBindingMismatch, Citizen.citizen_id)
        .join(Citizen, Citizen.ref == HolderBindingMismatch.citizen_ref)
        .where(HolderBindingMismatch.department_id == department_id)
    )
    if before_id is not None:
        query = query.where(HolderBindingMismatch.id < before_id)
    rows = session.execute(query.order_by(HolderBindingMismatch.id.desc()).limit(limit))
    return [(row[0], str(row[1])) for row in rows]


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


#: What a document's public record shows, read as plain columns: on the QR target, the
#: most-read route, building ORM objects of both whole rows cost more than the query.
_PUBLIC_COLUMNS = (
    *_SHOWN_COLUMNS,
    Document.revocation_reason,
    Document.signature_level,
    Document.long_term_pending,
    Document.version,
    Document.superseded_by_id,
    Document.suspension_reason,
    *HOLDER_DEPARTMENT_COLUMNS,
)
_PUBLIC = select(*_PUBLIC_COLUMNS).join(Department, Department.id == Document.department_id)


def public_row(session: Session, *, document_id: str | None = None, signed_sha256: str | None = None) -> Any:
    """The public columns (``_PUBLIC_COLUMNS``, by name) of the document with this id or
    this certified digest, or None."""
    condition = Document.id == document_id if document_id is not None else Document.signed_sha256 == signed_sha256
    return session.execute(_PUBLIC.where(condition)).one_or_none()


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


def _long_term_pending(legacy: bool) -> ColumnElement[bool]:
    pending = Document.long_term_pending.is_(True)
    # Earlier releases recorded a document left at B-T by its level alone; only ever
    # asked under a long-term signing level, where every B-T document waits.
    return or_(pending, Document.signature_level == "B-T") if legacy else pending


def long_term_pending_ids(
    session: Session,
    limit: int,
    document_ids: Sequence[str] | None = None,
    issued_before: datetime | None = None,
    *,
    legacy: bool = False,
) -> list[str]:
    """Documents whose long-term revision is still to be added, oldest first (only
    ``document_ids`` when given; only those issued before ``issued_before`` when given)."""
    query = select(Document.id).where(_long_term_pending(legacy))
    if document_ids is not None:
        query = query.where(Document.id.in_(document_ids))
    if issued_before is not None:
        query = query.where(Document.issued_at < issued_before)
    return list(session.scalars(query.order_by(Document.issued_at, Document.id).limit(limit)))


def lock_long_term_pending(session: Session, document_id: str, *, legacy: bool = False) -> Document | None:
    """The document, locked until the caller's commit, if its long-term revision is still
    to be added and no other transaction holds it (PostgreSQL; SQLite has one writer)."""
    query = (
        select(Document)
        .where(Document.id == document_id, _long_term_pending(legacy))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def mark_revoked(session: Session, document_id: str, reason: str, at: datetime) -> bool:
    """Revoke the document in one conditional update; False when it already was (even by a
    concurrent request: on PostgreSQL the second update waits for the first to commit and
    then finds nothing left to change, on SQLite writers take turns)."""
    result = session.execute(
        update(Document)
        .where(Document.id == document_id, Document.status != DocumentStatus.REVOKED)
        .values(status=DocumentStatus.REVOKED, revoked_at=at, revocation_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def move_holder_mobile(session: Session, old_mobile: str, new_mobile: str) -> int:
    """Every document issued to ``old_mobile`` is now held by ``new_mobile``, and every
    citizen record naming it names the new one; how many documents moved."""
    moved = session.execute(
        update(Document)
        .where(Document.holder_mobile == old_mobile)
        .values(holder_mobile=new_mobile)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Citizen)
        .where(Citizen.mobile == old_mobile)
        .values(mobile=new_mobile)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(moved, "rowcount", 0) or 0)
