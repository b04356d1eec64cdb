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

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, Protocol

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from issuer import batches_issuing as issuing
from issuer import batches_repository as repository
from issuer.batches_files import FileRow, Limits, detect_format, read_rows
from issuer.batches_models import UNFINISHED, Batch, BatchError, BatchRow, BatchStatus, RowStatus
from issuer.exceptions import UnknownDocumentType
from issuer.schemas import DocumentCreate
from issuer.service import IssuingKit, issue_document
from issuer.templates import TemplateSpec, valid_until_problem, validate_data
from sanad.clock import today_in_india
from sanad.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from sanad.ids import new_document_id, sha256_hex
from sanad.jobs import JobQueue
from sanad.models import Department
from sanad.notify import Channel
from sanad.settings import Settings

log = logging.getLogger(__name__)

NAMESPACE = "issuer"
PROCESS_BATCH = f"{NAMESPACE}:process_batch"
ISSUE_ROWS = f"{NAMESPACE}:issue_rows"
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


# --- submitting ----------------------------------------------------------------------


def allowed_types(settings: Settings, department_code: str) -> set[str] | None:
    """The types ``SANAD_DEPARTMENT_TYPES`` lets the department issue; None: any."""
    if not settings.department_types.strip():
        return None
    for entry in settings.department_types.split(";"):
        code, _, types = entry.partition("=")
        if code.strip().upper() == department_code.upper():
            return {t.strip() for t in types.split(",") if t.strip()}
    return set()


def _template(kit: IssuingKit, settings: Settings, department: Department, document_type: str) -> TemplateSpec:
    spec = kit.templates.get(document_type)
    if spec is None:
        raise UnknownDocumentType(document_type, kit.templates)
    allowed = allowed_types(settings, department.code)
    if allowed is not None and document_type not in allowed:
        names = ", ".join(sorted(allowed)) or "none"
        raise Forbidden(f"department {department.code} may not issue {document_type}; it may issue: {names}")
    return spec


def file_sha256(stream: IO[bytes]) -> str:
    """The SHA-256 of a file, read a block at a time; the stream is left at its start."""
    digest = hashlib.sha256()
    while block := stream.read(1 << 20):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()


def _check_row(
    spec: TemplateSpec, file_row: FileRow, today: date, *, columns: bool
) -> tuple[DocumentCreate | None, list[FieldError]]:
    """The row as an issuing request, or what is wrong with it. ``columns``: name data
    fields as CSV columns (``annual_income``) rather than paths (``data.annual_income``)."""
    if file_row.problems:
        return None, list(file_row.problems)
    errors: list[FieldError] = []
    request = None
    try:
        request = DocumentCreate.model_validate({"type": spec.type, **file_row.fields})
    except ValidationError as e:
        for error in e.errors():
            name = ".".join(str(p) for p in error["loc"]) or "row"
            errors.append(FieldError(name, "unknown field" if error["type"] == "extra_forbidden" else error["msg"]))
    data = file_row.fields.get("data")
    try:
        checked = validate_data(spec, data if data is not None else {}, today=today)
    except InvalidInput as e:
        errors.extend(
            FieldError(error.field.removeprefix("data.") if columns else error.field, error.message)
            for error in e.errors
        )
    else:
        if request is not None:
            request = request.model_copy(update={"data": checked})
    if (
        request is not None
        and request.valid_until is not None
        and (problem := valid_until_problem(spec, request.valid_until, today)) is not None
    ):
        errors.append(FieldError("valid_until", problem))
    return (None if errors else request), errors


def _row_request(request: DocumentCreate) -> dict[str, Any]:
    """What a batch row keeps: the request without its type, exactly as it is issued."""
    return request.model_dump(mode="json", exclude={"type"})


@dataclass
class _Checked:
    rows_total: int = 0
    invalid_rows: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    """Valid rows not yet written."""
    errors: list[dict[str, Any]] = field(default_factory=list)
    """Problems not yet written."""


def submit(
    session: Session,
    runtime: BatchRuntime,
    department: Department,
    *,
    document_type: str,
    stream: IO[bytes],
    dry_run: bool = False,
    idempotency_key: str | None = None,
) -> tuple[Batch, bool]:
    """Check a batch file and store it; returns the batch and whether it is a replay.

    Every row is checked before anything is issued: with any invalid row the batch is
    ``invalid`` and its errors list every problem; a dry run stops after the check.
    Otherwise the rows are stored and the batch is ``queued`` for the workers, in the
    caller's transaction. A file that cannot be read as a batch at all raises
    :class:`BadBatchFile` (or ``TooManyRows``) and nothing is stored."""
    spec = _template(runtime.kit, runtime.settings, department, document_type)
    digest = file_sha256(stream)
    request_hash = sha256_hex(json.dumps([document_type, dry_run, digest]))
    if idempotency_key is not None:
        existing = repository.by_idempotency_key(session, department.id, idempotency_key)
        if existing is not None:
            if existing.request_hash != request_hash:
                raise InvalidInput(
                    [FieldError("Idempotency-Key", "this key was already used with a different file, type or dry_run")]
                )
            return existing, True

    now = datetime.now(UTC)
    file_format = detect_format(stream)
    batch = Batch(
        id=new_document_id(),
        department_id=department.id,
        type=spec.type,
        status=BatchStatus.VALIDATING,
        dry_run=dry_run,
        file_format=file_format,
        file_sha256=digest,
        rows_total=0,
        rows_done=0,
        rows_failed=0,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_at=now,
    )
    session.add(batch)
    try:
        session.flush()
    except IntegrityError as e:  # the caller's scope rolls back
        raise Conflict("a batch with this Idempotency-Key is being submitted right now; ask for it again") from e

    checked = _store_rows(session, runtime.settings, spec, batch, stream, keep_rows=not dry_run)
    batch.rows_total = checked.rows_total
    if checked.invalid_rows:
        repository.drop_rows(session, batch.id)
        batch.status = BatchStatus.INVALID
        batch.finished_at = now
    elif dry_run:
        batch.status = BatchStatus.COMPLETED
        batch.finished_at = now
    else:
        batch.status = BatchStatus.QUEUED
        runtime.jobs.defer(session, PROCESS_BATCH, {"batch_id": batch.id}, queueing_lock=f"batch:{batch.id}")
    session.flush()
    return batch, False


def _store_rows(
    session: Session, settings: Settings, spec: TemplateSpec, batch: Batch, stream: IO[bytes], *, keep_rows: bool
) -> _Checked:
    """Check every row; store the valid ones (while no row is invalid) and every error,
    a page at a time, so a million rows never sit in memory."""
    limits = Limits(max_rows=settings.batch_max_rows, max_line_bytes=settings.batch_max_line_bytes)
    today = today_in_india()
    seen: dict[bytes, int] = {}
    result = _Checked()
    for file_row in read_rows(stream, spec, limits, batch.file_format):
        result.rows_total += 1
        request, errors = _check_row(spec, file_row, today, columns=batch.file_format == "csv")
        if request is not None:
            key = hashlib.sha256(json.dumps(_row_request(request), sort_keys=True).encode()).digest()
            first = seen.setdefault(key, file_row.row)
            if first != file_row.row:
                errors = [FieldError("row", f"duplicates row {first}: the same citizen and data twice")]
        if errors:
            result.invalid_rows += 1
            result.errors.extend(
                {"batch_id": batch.id, "row": file_row.row, "field": e.field[:200], "message": e.message}
                for e in errors
            )
        elif keep_rows and not result.invalid_rows:
            assert request is not None
            result.rows.append(
                {
                    "batch_id": batch.id,
                    "row": file_row.row,
                    "citizen_id": request.citizen_id,
                    "request": _row_request(request),
                    "status": RowStatus.PENDING,
                }
            )
        if len(result.rows) >= repository.PAGE:
            repository.add_rows(session, result.rows)
            result.rows.clear()
        if len(result.errors) >= repository.PAGE:
            repository.add_errors(session, result.errors)
            result.errors.clear()
    if not result.invalid_rows:
        repository.add_rows(session, result.rows)
    repository.add_errors(session, result.errors)
    return result


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
