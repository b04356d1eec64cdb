"""Submitting a batch: every row of the file checked, the valid rows stored and the
batch queued for the workers, in the caller's transaction.

Apart from the issuing machinery on purpose: ``sanad batch submit`` checks and stores a
file without loading the signing, rendering and storage stack, whose start-up (about
two seconds of imports and keys) would otherwise be part of every batch's time."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any, Protocol

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from issuer import batches_repository as repository
from issuer.batches_files import FileRow, Limits, detect_format, read_rows
from issuer.batches_models import Batch, BatchStatus, RowStatus
from issuer.exceptions import UnknownDocumentType
from issuer.schemas import DocumentCreate
from issuer.templates import TemplateSpec, load_templates, valid_until_problem, validate_data
from sanad.clock import today_in_india
from sanad.errors import Conflict, FieldError, Forbidden, InvalidInput
from sanad.ids import new_document_id, sha256_hex
from sanad.jobs import JobQueue
from sanad.models import Department
from sanad.settings import Settings

NAMESPACE = "issuer"
PROCESS_BATCH = f"{NAMESPACE}:process_batch"
ISSUE_ROWS = f"{NAMESPACE}:issue_rows"


class Templates(Protocol):
    """Where the document types are (the issuing kit has them)."""

    @property
    def templates(self) -> Mapping[str, TemplateSpec]: ...


class SubmitRuntime(Protocol):
    """What submitting needs: the application context has it, and so has the smaller
    one ``sanad batch submit`` builds."""

    @property
    def settings(self) -> Settings: ...

    @property
    def kit(self) -> Templates: ...

    @property
    def jobs(self) -> JobQueue: ...


class SubmittingRuntime(SubmitRuntime, Protocol):
    """A runtime that also opens the sessions to submit in."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...


@dataclass(frozen=True)
class _Types:
    templates: Mapping[str, TemplateSpec]


@dataclass(frozen=True)
class _SubmitOnly:
    """What checking, storing and queueing a file takes on the job engine's deployment:
    the database, the templates and the queue; no signer, renderer or object store."""

    settings: Settings
    sessions: sessionmaker[Session]
    kit: _Types
    jobs: JobQueue


@contextmanager
def submitting_runtime(settings: Settings) -> Iterator[_SubmitOnly]:
    """The runtime ``sanad batch submit`` checks and queues a file with on the job
    engine's deployment, closed after it."""
    from issuer import tasks
    from sanad.db import make_engine, make_session_factory
    from sanad.jobs import ProcrastinateQueue, Registry

    registry = Registry()
    registry.add(tasks.NAMESPACE, tasks.TASKS, tasks.PERIODIC)
    engine = make_engine(settings.database_url)
    queue = ProcrastinateQueue(registry)
    try:
        yield _SubmitOnly(settings, make_session_factory(engine), _Types(load_templates(settings.templates_dir)), queue)
    finally:
        queue.close()
        engine.dispose()


def allowed_types(settings: Settings, department_code: str) -> set[str] | None:
    """The types ``SANAD_DEPARTMENT_TYPES`` lets the department issue; None: any."""
    if not settings.department_types.strip():
        return None
    for entry in settings.department_types.split(";"):
        code, _, types = entry.partition("=")
        if code.strip().upper() == department_code.upper():
            return {t.strip() for t in types.split(",") if t.strip()}
    return set()


def _template(
    templates: Mapping[str, TemplateSpec], settings: Settings, department: Department, document_type: str
) -> TemplateSpec:
    spec = templates.get(document_type)
    if spec is None:
        raise UnknownDocumentType(document_type, templates)
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
    runtime: SubmitRuntime,
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
    spec = _template(runtime.kit.templates, runtime.settings, department, document_type)
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
