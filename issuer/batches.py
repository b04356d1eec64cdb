"""Bulk issuing: a department submits a file of rows; every row is checked before
anything is signed, then background jobs issue them, a chunk of rows per job.

Exactly once per row, across crashes, restarts, outages and resubmissions:

- a batch is stored with its rows and its first job in one transaction (the job row is
  written on the same connection on PostgreSQL); a resubmission with the same
  ``Idempotency-Key`` returns the batch it made;
- each row is issued through :func:`issuer.service.issue_document`, like any document,
  with the idempotency key ``batch:<batch id>:<row>``: a chunk that runs again after a
  crash finds the document the first run issued (the unique key makes a second one
  impossible even when two runs race);
- a row stays ``pending`` until its chunk records the outcome, with the batch's counters,
  in one transaction per chunk; an outage (database, object store, timestamp authority)
  stops the chunk, which the job engine runs again later;
- an unfinished batch whose progress stops (its worker died) is handed out again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from issuer import batches_issuing as issuing
from issuer import batches_repository as repository
from issuer.batches_models import UNFINISHED, Batch, BatchError, BatchRow, BatchStatus, RowStatus
from issuer.batches_submit import ISSUE_ROWS, PROCESS_BATCH
from issuer.schemas import DocumentCreate
from issuer.service import IssuingKit, issue_document
from sanad.errors import Conflict, NotFound
from sanad.jobs import JobQueue
from sanad.models import Department
from sanad.notify import Channel
from sanad.settings import Settings

log = logging.getLogger(__name__)

#: A batch with no recorded progress for this long after it was stored is handed out
#: again (its first job was lost: the embedded runner keeps jobs in memory only).
FIRST_JOB_GRACE = timedelta(seconds=30)


class BatchRuntime(Protocol):
    """What bulk issuing needs from the application context."""

    settings: Settings
    sessions: sessionmaker[Session]
    kit: IssuingKit
    channel: Channel
    jobs: JobQueue


# --- reading ---------------------------------------------------------------------------


def of_department(session: Session, department_id: int, limit: int = 100) -> list[Batch]:
    """The department's latest batches, newest first."""
    return repository.recent(session, department_id, limit)


def get_for_department(session: Session, department: Department, batch_id: str) -> Batch:
    return get_of_department(session, department.id, batch_id)


def get_of_department(session: Session, department_id: int, batch_id: str) -> Batch:
    batch = repository.get(session, batch_id)
    # Another department's batch is reported exactly like a missing one.
    if batch is None or batch.department_id != department_id:
        raise NotFound("no such batch")
    return batch


@dataclass(frozen=True)
class Progress:
    rate_per_s: float | None
    """Rows done per second since the batch started."""
    eta_s: int | None
    """Seconds until the last row, at that rate."""


def progress(batch: Batch, now: datetime | None = None) -> Progress:
    done = batch.rows_done + batch.rows_failed
    if batch.started_at is None or done == 0:
        return Progress(None, None)
    end = batch.finished_at or now or datetime.now(UTC)
    elapsed = max((end - batch.started_at).total_seconds(), 0.001)
    rate = done / elapsed
    remaining = 0 if batch.status not in UNFINISHED else max(batch.rows_total - done, 0)
    return Progress(round(rate, 2), round(remaining / rate))


def errors(session: Session, batch: Batch) -> Iterator[BatchError]:
    return repository.errors(session, batch.id)


@dataclass(frozen=True)
class ResultLine:
    row: int
    citizen_id: str
    document_id: str | None
    sha256: str | None
    verify_url: str | None
    status: str
    """``issued``, ``failed``, ``pending`` (still to come) or ``cancelled``."""
    error: str | None


def results(session: Session, kit: IssuingKit, batch: Batch) -> Iterator[ResultLine]:
    for row in repository.rows(session, batch.id):
        status = row.status
        if status == RowStatus.PENDING and batch.status == BatchStatus.CANCELLED:
            status = "cancelled"
        issued = row.document_id if row.status == RowStatus.ISSUED else None
        yield ResultLine(
            row=row.row,
            citizen_id=row.citizen_id,
            # A pending row's id is only a run's claim: no document has it yet.
            document_id=issued,
            sha256=row.sha256,
            verify_url=kit.verify_url(issued) if issued else None,
            status=status,
            error=row.error,
        )


RESULT_COLUMNS = ("row", "citizen_id", "document_id", "sha256", "verify_url", "status", "error")
ERROR_COLUMNS = ("row", "field", "message")
Record = tuple[object, ...]


def result_records(sessions: sessionmaker[Session], kit: IssuingKit, batch: Batch) -> Iterator[Record]:
    """One record per row (``RESULT_COLUMNS``), read in a session of its own: a streamed
    answer is sent after the request's session has closed."""
    with sessions() as own:
        for r in results(own, kit, batch):
            yield (r.row, r.citizen_id, r.document_id, r.sha256, r.verify_url, r.status, r.error)


def error_records(sessions: sessionmaker[Session], batch: Batch) -> Iterator[Record]:
    """One record per problem (``ERROR_COLUMNS``), read in a session of its own."""
    with sessions() as own:
        for e in errors(own, batch):
            yield (e.row, e.field, e.message)


def cancel(session: Session, department: Department, batch_id: str) -> Batch:
    """Stop a batch: rows not yet issued never will be (a row being signed at this moment
    may still be issued). A finished batch cannot be cancelled."""
    batch = get_for_department(session, department, batch_id)
    if batch.status not in UNFINISHED:
        raise Conflict(f"the batch is {batch.status}; only a validating, queued or running batch can be cancelled")
    now = datetime.now(UTC)
    if not repository.move(session, batch.id, UNFINISHED, status=BatchStatus.CANCELLED, finished_at=now):
        raise Conflict("the batch finished at this moment; it can no longer be cancelled")
    session.refresh(batch)
    return batch


# --- working (the job engine's tasks) ----------------------------------------------------


def process_batch(runtime: BatchRuntime, batch_id: str) -> None:
    """Start (or restart) a batch: one ``issue_rows`` job per chunk with pending rows.
    Running it twice is harmless: a chunk already waiting is not queued again, a chunk's
    jobs run one at a time (one lock), and a chunk with nothing pending does nothing."""
    chunk_rows = runtime.settings.batch_chunk_rows
    with runtime.sessions.begin() as session:
        batch = repository.get(session, batch_id)
        if batch is None or batch.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING):
            return
        now = datetime.now(UTC)
        if batch.status == BatchStatus.QUEUED:
            repository.move(session, batch_id, [BatchStatus.QUEUED], status=BatchStatus.RUNNING, started_at=now)
        chunks = repository.pending_chunks(session, batch_id, chunk_rows)
        for chunk in chunks:
            first = chunk * chunk_rows + 1
            runtime.jobs.defer(
                session,
                ISSUE_ROWS,
                {"batch_id": batch_id, "first": first, "last": first + chunk_rows - 1},
                lock=f"batch:{batch_id}:{chunk}",
                queueing_lock=f"batch:{batch_id}:{chunk}",
            )
        repository.move(session, batch_id, [BatchStatus.RUNNING], progress_at=now)
    if not chunks:
        _finish_if_done(runtime, batch_id)


def issue_rows(runtime: BatchRuntime, batch_id: str, first: int, last: int) -> None:
    """Issue the pending rows ``first``..``last`` of a batch and record their outcomes,
    one transaction for the chunk (:mod:`issuer.batches_issuing`)."""
    pending = _pending(runtime, batch_id, first, last)
    if pending is not None and pending[2]:
        try:
            issuing.issue_chunk(runtime.sessions, runtime.kit, runtime.jobs, *pending[:2], batch_id, pending[2])
        except issuing.Cancelled:
            return
        except issuing.Superseded:
            log.warning("batch %s rows %d-%d were claimed by a later run; leaving them to it", batch_id, first, last)
            return
        except issuing.ChunkRaced:
            log.warning(
                "batch %s rows %d-%d met another run's documents; issuing them one by one", batch_id, first, last
            )
            _issue_one_by_one(runtime, batch_id, first, last)
    _finish_if_done(runtime, batch_id)


def _pending(
    runtime: BatchRuntime, batch_id: str, first: int, last: int
) -> tuple[Department, str, list[BatchRow]] | None:
    """The running batch's department, document type and pending rows ``first``..``last``
    (detached: issuing works in sessions of its own); None unless the batch is running."""
    with runtime.sessions() as session:
        batch = repository.get(session, batch_id)
        if batch is None or batch.status != BatchStatus.RUNNING:
            return None
        department = session.get(Department, batch.department_id)
        assert department is not None
        document_type = batch.type
        rows = repository.pending_rows(session, batch_id, first, last)
        session.expunge_all()
    return department, document_type, rows


def _issue_one_by_one(runtime: BatchRuntime, batch_id: str, first: int, last: int) -> None:
    """The chunk row by row through the single-document path, which settles a race on a
    row's idempotency key by returning the document that won. What was issued is recorded
    even when an outage stops the chunk."""
    pending = _pending(runtime, batch_id, first, last)
    if pending is None:
        return
    department, document_type, rows = pending
    outcomes: dict[int, dict[str, Any]] = {}
    try:
        with runtime.sessions() as session:
            for row in rows:
                if repository.status(session, batch_id) != BatchStatus.RUNNING:
                    return  # cancelled
                session.rollback()  # end the read so issuing starts a transaction of its own
                outcomes[row.row] = _issue_one(session, runtime.kit, department, document_type, batch_id, row)
    finally:
        _record(runtime, batch_id, outcomes)


def _issue_one(
    session: Session, kit: IssuingKit, department: Department, document_type: str, batch_id: str, row: BatchRow
) -> dict[str, Any]:
    request = DocumentCreate.model_validate({"type": document_type, **row.request})
    try:
        document, _ = issue_document(
            session, kit, department, request, idempotency_key=issuing.row_key(batch_id, row.row)
        )
    except Exception as e:
        if issuing.is_outage(e):
            raise
        return issuing.failure(e, batch_id, row.row)
    return {"status": RowStatus.ISSUED, "document_id": document.id, "sha256": document.sha256}


def _record(runtime: BatchRuntime, batch_id: str, outcomes: dict[int, dict[str, Any]]) -> None:
    if not outcomes:
        return
    with runtime.sessions.begin() as session:
        repository.record_outcomes(session, batch_id, outcomes, datetime.now(UTC))


def _finish_if_done(runtime: BatchRuntime, batch_id: str) -> None:
    """Close the batch once no row is pending. Run after the caller's rows are committed,
    so of two chunks that end together at least the later one sees none pending, and of
    two that both do, one closes it."""
    with runtime.sessions.begin() as session:
        if repository.has_pending(session, batch_id):
            return
        batch = repository.get(session, batch_id)
        if batch is None or batch.status != BatchStatus.RUNNING:
            return
        status = BatchStatus.COMPLETED_WITH_ERRORS if batch.rows_failed else BatchStatus.COMPLETED
        now = datetime.now(UTC)
        if repository.move(session, batch_id, [BatchStatus.RUNNING], status=status, finished_at=now, progress_at=now):
            session.refresh(batch)
            _notify(session, runtime, batch)


def _notify(session: Session, runtime: BatchRuntime, batch: Batch) -> None:
    """Tell the department its batch is done (best effort: the batch is done regardless)."""
    department = session.get(Department, batch.department_id)
    assert department is not None
    message = (
        f"Sanad: batch {batch.id} ({batch.type}) is {batch.status.replace('_', ' ')}: "
        f"{batch.rows_done} of {batch.rows_total} rows issued, {batch.rows_failed} failed."
    )
    try:
        runtime.channel.send(session, f"department:{department.code}", message, "batch_finished")
    except Exception:
        log.warning("could not notify department %s that batch %s finished", department.code, batch.id, exc_info=True)


def resume_stalled(runtime: BatchRuntime) -> int:
    """Hand out again every unfinished batch whose progress stopped (its worker died, or
    its first job was lost); returns how many."""
    now = datetime.now(UTC)
    stall = timedelta(seconds=runtime.settings.batch_stall_seconds)
    with runtime.sessions.begin() as session:
        batch_ids = set(repository.stalled(session, now - stall))
        batch_ids |= {b for b in repository.stalled(session, now - FIRST_JOB_GRACE) if _never_started(session, b)}
        for batch_id in sorted(batch_ids):
            log.warning("batch %s made no progress; handing it out again", batch_id)
            runtime.jobs.defer(session, PROCESS_BATCH, {"batch_id": batch_id}, queueing_lock=f"batch:{batch_id}")
    return len(batch_ids)


def _never_started(session: Session, batch_id: str) -> bool:
    batch = repository.get(session, batch_id)
    return batch is not None and batch.status == BatchStatus.QUEUED and batch.progress_at is None


def resume_all(runtime: BatchRuntime) -> int:
    """At start-up of the embedded runner (the only one): every unfinished batch."""
    with runtime.sessions.begin() as session:
        batch_ids = repository.stalled(session, datetime.now(UTC) + timedelta(days=1), limit=10_000)
        for batch_id in batch_ids:
            runtime.jobs.defer(session, PROCESS_BATCH, {"batch_id": batch_id}, queueing_lock=f"batch:{batch_id}")
    return len(batch_ids)
