"""The bulk issuing API for departments: submit a file of rows, follow it, read its
errors and results, cancel it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Response, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from issuer import batches, batches_submit
from issuer.batches_dependencies import BatchContext
from issuer.batches_export import csv_lines, json_lines
from issuer.batches_models import Batch
from issuer.batches_schemas import BatchErrorRead, BatchErrors, BatchRead
from sanad.dependencies import CurrentDepartment, DbSession

router = APIRouter(prefix="/api/v1/batches", tags=["batches"])

RESULT_COLUMNS, ERROR_COLUMNS = batches.RESULT_COLUMNS, batches.ERROR_COLUMNS
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid API key."},
    404: {"description": "No such batch for this department."},
    503: {"description": "Database unavailable; retry after `Retry-After` seconds."},
}


def to_read(batch: Batch) -> BatchRead:
    progress = batches.progress(batch)
    return BatchRead(
        id=batch.id,
        type=batch.type,
        status=batch.status,
        dry_run=batch.dry_run,
        rows_total=batch.rows_total,
        rows_done=batch.rows_done,
        rows_failed=batch.rows_failed,
        rate_per_s=progress.rate_per_s,
        eta_s=progress.eta_s,
        created_at=batch.created_at,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
        error=batch.error,
    )


@router.post(
    "",
    status_code=202,
    response_model=BatchRead,
    responses={
        **_ERRORS,
        403: {"description": "The department may not issue this type."},
        413: {"description": "More rows than a batch may have, or a body over the upload limit."},
        422: {"description": "Unknown type, or a file that cannot be read: its encoding, columns or a line too long."},
    },
)
def submit_batch(
    response: Response,
    context: BatchContext,
    session: DbSession,
    department: CurrentDepartment,
    file: Annotated[UploadFile, File(description="CSV with a header row, or JSON Lines; UTF-8.")],
    type: Annotated[str, Form(description="The document type of every row, e.g. `income-certificate`.")],
    dry_run: Annotated[bool, Form(description="Only check the file; issue nothing.")] = False,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> BatchRead:
    """Submit a batch of documents to issue, one per row.

    CSV columns: `citizen_id`, optional `citizen_mobile` and `valid_until`, then the
    template's data fields by their names in `data` of `POST /api/v1/documents`. A JSON
    Lines file has one issuing request per line (`citizen_id`, `citizen_mobile`,
    `valid_until`, `data`). Every row is checked before anything is issued: when a row is
    invalid the batch is `invalid` and `GET …/errors` lists every problem; with
    `dry_run=true` the batch stops after the check. Otherwise it is `queued` and workers
    issue its rows; follow it with `GET /api/v1/batches/{id}`. A file that cannot be read
    at all (not UTF-8, unknown or missing columns, a line over the limit, too many rows)
    is refused and nothing is kept. The same `Idempotency-Key` with the same file returns
    the same batch, never a second one."""
    batch, replayed = batches_submit.submit(
        session,
        context,
        department,
        document_type=type,
        stream=file.file,
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/v1/batches/{batch.id}"
    return to_read(batch)


@router.get("/{batch_id}", response_model=BatchRead, responses=_ERRORS)
def get_batch(batch_id: str, session: DbSession, department: CurrentDepartment) -> BatchRead:
    """A batch's status and progress: rows done and failed, rows per second, and the
    seconds left at that rate."""
    return to_read(batches.get_for_department(session, department, batch_id))


def _wants_csv(accept: str | None) -> bool:
    return accept is not None and "text/csv" in accept.lower()


def _stream(lines: Iterator[str], media_type: str, filename: str) -> StreamingResponse:
    disposition = f'attachment; filename="{filename}"'
    return StreamingResponse(lines, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get(
    "/{batch_id}/errors",
    response_model=BatchErrors,
    responses={**_ERRORS, 200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def batch_errors(
    batch_id: str,
    context: BatchContext,
    session: DbSession,
    department: CurrentDepartment,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Every problem of an invalid batch: row number, field and message. JSON by
    default; CSV with `Accept: text/csv`."""
    batch = batches.get_for_department(session, department, batch_id)
    if _wants_csv(accept):
        records = batches.error_records(context.sessions, batch)
        return _stream(csv_lines(ERROR_COLUMNS, records), "text/csv; charset=utf-8", f"batch-{batch.id}-errors.csv")
    errors = [BatchErrorRead(row=e.row, field=e.field, message=e.message) for e in batches.errors(session, batch)]
    return JSONResponse(BatchErrors(id=batch.id, status=batch.status, errors=errors).model_dump(mode="json"))


@router.get(
    "/{batch_id}/results",
    responses={**_ERRORS, 200: {"content": {"application/jsonl": {}, "text/csv": {}}}},
    response_class=StreamingResponse,
)
def batch_results(
    batch_id: str,
    context: BatchContext,
    session: DbSession,
    department: CurrentDepartment,
    accept: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """One line per row: `row, citizen_id, document_id, sha256, verify_url, status,
    error`, where status is `issued`, `failed`, `pending` or `cancelled`. JSON Lines by
    default; CSV with `Accept: text/csv`."""
    batch = batches.get_for_department(session, department, batch_id)
    records = batches.result_records(context.sessions, context.kit, batch)
    if _wants_csv(accept):
        return _stream(csv_lines(RESULT_COLUMNS, records), "text/csv; charset=utf-8", f"batch-{batch.id}.csv")
    return _stream(json_lines(RESULT_COLUMNS, records), "application/jsonl", f"batch-{batch.id}.jsonl")


@router.post("/{batch_id}/cancel", response_model=BatchRead, responses={**_ERRORS, 409: {"description": "Finished."}})
def cancel_batch(batch_id: str, session: DbSession, department: CurrentDepartment) -> BatchRead:
    """Stop a batch. Rows not yet issued never will be; the results list them as
    `cancelled`."""
    return to_read(batches.cancel(session, department, batch_id))
