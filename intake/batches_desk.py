"""The desk's page of bulk issuing batches: a department's staff see their department's
batches with progress (rows done and failed, rate, time left) and download each one's
results and errors as CSV. Another department's batch is never listed, and its files
answer 404 exactly like a missing batch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from accounts.staff import StaffMember
from intake.dependencies import Context
from intake.views_common import PAGES, SignedInMember
from issuer import batches
from issuer.batches_export import csv_lines
from issuer.batches_models import Batch, BatchStatus
from sanad.dependencies import DbSession
from sanad.errors import Forbidden

router = APIRouter(prefix="/desk", include_in_schema=False, route_class=PAGES.route_class)

#: Batches listed on the page, newest first.
LISTED = 100


@dataclass(frozen=True)
class BatchLine:
    """One batch as the page shows it."""

    id: str
    type: str
    status: str
    created: str
    total: int
    done: int
    failed: int
    rate: float | None
    eta: int | None
    has_errors: bool


def _line(batch: Batch, now: datetime) -> BatchLine:
    progress = batches.progress(batch, now)
    return BatchLine(
        id=batch.id,
        type=batch.type,
        status=batch.status.replace("_", " "),
        created=f"{batch.created_at:%Y-%m-%d %H:%M} UTC",
        total=batch.rows_total,
        done=batch.rows_done,
        failed=batch.rows_failed,
        rate=progress.rate_per_s,
        eta=progress.eta_s,
        has_errors=batch.status == BatchStatus.INVALID,
    )


def _department_of(member: StaffMember) -> int:
    if member.department_id is None:
        raise Forbidden("batches are listed for the staff of the department that submitted them")
    return member.department_id


@router.get("/batches")
def batches_page(request: Request, session: DbSession, member: SignedInMember) -> Response:
    department_id = _department_of(member)
    now = datetime.now().astimezone()
    items = [_line(batch, now) for batch in batches.of_department(session, department_id, LISTED)]
    return PAGES.render(request, "desk_batches.html", {"items": items})


def _csv(lines: Iterator[str], filename: str) -> StreamingResponse:
    disposition = f'attachment; filename="{filename}"'
    return StreamingResponse(lines, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


@router.get("/batches/{batch_id}/results.csv")
def batch_results(batch_id: str, context: Context, session: DbSession, member: SignedInMember) -> StreamingResponse:
    batch = batches.get_of_department(session, _department_of(member), batch_id)
    records = batches.result_records(context.sessions, context.kit, batch)
    return _csv(csv_lines(batches.RESULT_COLUMNS, records), f"batch-{batch.id}.csv")


@router.get("/batches/{batch_id}/errors.csv")
def batch_errors(batch_id: str, context: Context, session: DbSession, member: SignedInMember) -> StreamingResponse:
    batch = batches.get_of_department(session, _department_of(member), batch_id)
    records = batches.error_records(context.sessions, batch)
    return _csv(csv_lines(batches.ERROR_COLUMNS, records), f"batch-{batch.id}-errors.csv")
