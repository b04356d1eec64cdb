"""Every SQL query of bulk issuing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from issuer.batches_models import UNFINISHED, Batch, BatchError, BatchRow, RowStatus
from issuer.models import Document
from sanad.models import Citizen

Model = TypeVar("Model", BatchError, BatchRow)

#: Rows read or written per statement when a batch is stored or listed.
PAGE = 1000


def get(session: Session, batch_id: str) -> Batch | None:
    return session.get(Batch, batch_id) if len(batch_id) <= 32 else None


def by_idempotency_key(session: Session, department_id: int, key: str) -> Batch | None:
    return session.scalar(select(Batch).where(Batch.department_id == department_id, Batch.idempotency_key == key))


def recent(session: Session, department_id: int, limit: int) -> list[Batch]:
    """The department's batches, newest first."""
    query = select(Batch).where(Batch.department_id == department_id)
    return list(session.scalars(query.order_by(Batch.created_at.desc(), Batch.id).limit(limit)))


def add_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(BatchRow), list(rows))


def add_errors(session: Session, errors: Sequence[dict[str, Any]]) -> None:
    if errors:
        session.execute(insert(BatchError), list(errors))


def drop_rows(session: Session, batch_id: str) -> None:
    session.execute(delete(BatchRow).where(BatchRow.batch_id == batch_id))


def status(session: Session, batch_id: str) -> str | None:
    return session.scalar(select(Batch.status).where(Batch.id == batch_id))


def pending_rows(session: Session, batch_id: str, first: int, last: int) -> list[BatchRow]:
    return list(
        session.scalars(
            select(BatchRow)
            .where(BatchRow.batch_id == batch_id, BatchRow.status == RowStatus.PENDING)
            .where(BatchRow.row >= first, BatchRow.row <= last)
            .order_by(BatchRow.row)
        )
    )


def claim_rows(session: Session, batch_id: str, document_ids: Mapping[int, str]) -> dict[int, str | None]:
    """Give each still-pending row of ``document_ids`` the id its document will have when
    this run records it. Returns, by row, the id each claimed row held before (a claim of
    a run that died or is being replaced, ``None`` if none); a row no longer pending is
    neither claimed nor returned. The rows stay locked until the transaction ends."""
    held = _locked_claims(session, batch_id, document_ids)
    if held:
        claims = [{"batch_id": batch_id, "row": row, "document_id": document_ids[row]} for row in held]
        session.execute(update(BatchRow), claims)
    return held


def claims_hold(session: Session, batch_id: str, document_ids: Mapping[int, str]) -> bool:
    """Whether every row of ``document_ids`` is still pending and claimed with that id:
    False once a later run has claimed one (this run was given up for dead). Locks the
    rows, so no later claim can land before this transaction ends."""
    return _locked_claims(session, batch_id, document_ids) == dict(document_ids)


def _locked_claims(session: Session, batch_id: str, rows: Iterable[int]) -> dict[int, str | None]:
    """The claim each pending row of ``rows`` carries, the rows locked in row order (the
    order both claiming and checking take them in, so two runs cannot deadlock)."""
    found = session.execute(
        select(BatchRow.row, BatchRow.document_id)
        .where(BatchRow.batch_id == batch_id, BatchRow.row.in_(list(rows)))
        .where(BatchRow.status == RowStatus.PENDING)
        .order_by(BatchRow.row)
        .with_for_update()
    )
    return {int(row): claim for row, claim in found}


def pending_chunks(session: Session, batch_id: str, chunk_rows: int) -> list[int]:
    """The 0-based numbers of the chunks that still have a pending row."""
    chunk = (BatchRow.row - 1) // chunk_rows
    query = select(chunk).where(BatchRow.batch_id == batch_id, BatchRow.status == RowStatus.PENDING)
    return sorted({int(n) for n in session.scalars(query.distinct())})


def has_pending(session: Session, batch_id: str) -> bool:
    query = select(BatchRow.row).where(BatchRow.batch_id == batch_id, BatchRow.status == RowStatus.PENDING)
    return session.scalar(query.limit(1)) is not None


def documents_by_keys(session: Session, department_id: int, keys: Sequence[str]) -> dict[str, Document]:
    """The department's documents issued with these idempotency keys, by key."""
    if not keys:
        return {}
    query = select(Document).where(Document.department_id == department_id, Document.idempotency_key.in_(keys))
    return {str(d.idempotency_key): d for d in session.scalars(query)}


def citizen_refs(session: Session, department_id: int, citizen_ids: Sequence[str]) -> dict[str, str]:
    """The storage pseudonyms of the department's citizens among ``citizen_ids`` that have a record."""
    query = select(Citizen.citizen_id, Citizen.ref).where(
        Citizen.department_id == department_id, Citizen.citizen_id.in_(citizen_ids)
    )
    return {str(citizen_id): str(ref) for citizen_id, ref in session.execute(query)}


def mark_rows(session: Session, batch_id: str, outcomes: Mapping[int, Mapping[str, Any]]) -> set[int]:
    """Record the outcomes of the rows still pending among ``outcomes`` (by row: the
    columns to set) in one statement; returns the rows recorded (one recorded before, by
    a rerun, is left as it was)."""
    if not outcomes:
        return set()
    names = sorted({name for values in outcomes.values() for name in values})
    assignments = {
        name: case(
            {row: values[name] for row, values in outcomes.items() if name in values},
            value=BatchRow.row,
            else_=getattr(BatchRow, name),
        )
        for name in names
    }
    recorded = session.execute(
        update(BatchRow)
        .where(BatchRow.batch_id == batch_id, BatchRow.row.in_(list(outcomes)), BatchRow.status == RowStatus.PENDING)
        .values(assignments)
        .returning(BatchRow.row)
        .execution_options(synchronize_session=False)
    )
    return {int(row) for row in recorded.scalars()}


def record_outcomes(
    session: Session, batch_id: str, outcomes: Mapping[int, Mapping[str, Any]], now: datetime
) -> tuple[int, int]:
    """Record the rows' outcomes (:func:`mark_rows`) and count those recorded now into the
    batch's progress; returns (issued, failed) as counted."""
    marked = mark_rows(session, batch_id, outcomes)
    issued = sum(outcomes[row]["status"] == RowStatus.ISSUED for row in marked)
    failed = sum(outcomes[row]["status"] == RowStatus.FAILED for row in marked)
    count_progress(session, batch_id, issued, failed, now)
    return issued, failed


def count_progress(session: Session, batch_id: str, issued: int, failed: int, now: datetime) -> None:
    session.execute(
        update(Batch)
        .where(Batch.id == batch_id)
        .values(rows_done=Batch.rows_done + issued, rows_failed=Batch.rows_failed + failed, progress_at=now)
    )


def move(session: Session, batch_id: str, from_statuses: Sequence[str], **values: Any) -> bool:
    """Change a batch's status only from one of ``from_statuses``: of two workers that
    try at once, one succeeds."""
    result = session.execute(
        update(Batch).where(Batch.id == batch_id, Batch.status.in_(from_statuses)).values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def stalled(session: Session, quiet_since: datetime, limit: int = 100) -> list[str]:
    """Unfinished batches with no progress since ``quiet_since``."""
    last_seen = func.coalesce(Batch.progress_at, Batch.created_at)
    query = select(Batch.id).where(Batch.status.in_(UNFINISHED), last_seen < quiet_since)
    return list(session.scalars(query.order_by(Batch.created_at).limit(limit)))


def _pages(session: Session, model: type[Model], batch_id: str, key: InstrumentedAttribute[int]) -> Iterator[Model]:
    """Every ``model`` of a batch in ``key`` order, a page per query (keyset paging: a
    million rows are never held at once, and each page is one index range)."""
    after = -1
    while True:
        query = select(model).where(model.batch_id == batch_id, key > after)
        page = list(session.scalars(query.order_by(key).limit(PAGE)))
        yield from page
        if len(page) < PAGE:
            return
        after = getattr(page[-1], key.key)


def errors(session: Session, batch_id: str) -> Iterator[BatchError]:
    return _pages(session, BatchError, batch_id, BatchError.id)


def rows(session: Session, batch_id: str) -> Iterator[BatchRow]:
    return _pages(session, BatchRow, batch_id, BatchRow.row)
