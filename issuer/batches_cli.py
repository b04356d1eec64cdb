"""``sanad batch``: submit a batch file, follow it with a progress bar, read its results,
cancel it — from the shell, as the API would."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from issuer.cli import DEFAULT_DEPARTMENT
from sanad.cli import app_context, load_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.orm import Session

    from issuer.batches import BatchRuntime
    from issuer.batches_models import Batch
    from issuer.batches_submit import SubmittingRuntime

app = typer.Typer(help="Bulk issuing: a file of rows, one document per row.", no_args_is_help=True)
"""``sanad batch``; the root command adds it."""

DepartmentCode = Annotated[str, typer.Option("--department", help="Issuing department code")]
BatchId = Annotated[str, typer.Argument(help="The batch's id")]
AsCsv = Annotated[bool, typer.Option("--csv", help="CSV instead of JSON Lines")]


def _error(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "--"
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def progress_line(batch: Batch) -> str:
    """``[#####-----] 1,234/10,000 rows  45.2 rows/s  ETA 3m12s  running``."""
    from issuer.batches import progress

    done = batch.rows_done + batch.rows_failed
    width = 30
    filled = width * done // batch.rows_total if batch.rows_total else 0
    rate = progress(batch)
    speed = f"{rate.rate_per_s:.1f}" if rate.rate_per_s is not None else "--"
    failed = f" ({batch.rows_failed:,} failed)" if batch.rows_failed else ""
    return (
        f"[{'#' * filled}{'-' * (width - filled)}] {done:,}/{batch.rows_total:,} rows{failed}  "
        f"{speed} rows/s  ETA {_duration(rate.eta_s)}  {batch.status}"
    )


def _summary(batch: Batch) -> str:
    return (
        f"batch {batch.id}: {batch.status}, {batch.rows_total:,} rows, {batch.rows_done:,} issued, "
        f"{batch.rows_failed:,} failed"
    )


def _follow(runtime: BatchRuntime, department_code: str, batch_id: str) -> Batch:
    """Show the batch's progress until it is finished; returns it then."""
    from issuer import batches
    from issuer.batches_models import UNFINISHED
    from sanad.departments import get_department

    interactive = sys.stderr.isatty()
    last_line = 0.0
    while True:
        with runtime.sessions() as session:
            batch = batches.get_for_department(session, get_department(session, department_code), batch_id)
        line = progress_line(batch)
        if interactive:
            typer.echo(f"\r{line}\033[K", err=True, nl=False)
        elif time.monotonic() - last_line >= 5 or batch.status not in UNFINISHED:
            typer.echo(line, err=True)
            last_line = time.monotonic()
        if batch.status not in UNFINISHED:
            if interactive:
                typer.echo("", err=True)
            return batch
        time.sleep(0.5)


@app.command("submit")
def submit(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV with a header row, or JSON Lines (UTF-8)", exists=True)],
    type_: Annotated[str, typer.Option("--type", help="Document type of every row, e.g. income-certificate")],
    department: DepartmentCode = DEFAULT_DEPARTMENT,
    wait: Annotated[bool, typer.Option("--wait", help="Show progress until the batch finishes")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only check the file; issue nothing")] = False,
    idempotency_key: Annotated[
        str | None,
        typer.Option(help="Resubmitting with the same key returns the same batch (default: one per file and type)"),
    ] = None,
) -> None:
    """Check a batch file (every row, before anything is issued) and queue it. Submitting
    the same file again returns the batch it made, so nothing is issued twice."""
    from issuer.batches_models import BatchStatus
    from issuer.batches_submit import submitting_runtime
    from sanad.jobs import uses_job_engine

    settings = load_settings()
    code = department.upper()
    if not wait and uses_job_engine(settings):
        # Checking and queueing only: the workers issue, so none of the issuing machinery.
        with submitting_runtime(settings) as light:
            _submit_file(light, file, type_, code, dry_run=dry_run, idempotency_key=idempotency_key)
        return
    from trust.local import serving_pki

    runtime: BatchRuntime
    with app_context(ctx, settings) as runtime, serving_pki(settings):
        if wait:
            runtime.jobs.work_here(runtime)  # the embedded deployment: this command does the work
        batch = _submit_file(runtime, file, type_, code, dry_run=dry_run, idempotency_key=idempotency_key)
        if wait and not dry_run:
            batch = _follow(runtime, code, batch.id)
            typer.echo(_summary(batch))
            raise typer.Exit(0 if batch.status == BatchStatus.COMPLETED else 1)


def _submit_file(
    runtime: SubmittingRuntime, file: Path, type_: str, code: str, *, dry_run: bool, idempotency_key: str | None
) -> Batch:
    """Check and store ``file`` as a batch, and say what became of it."""
    from issuer import batches_submit
    from issuer.batches_models import BatchStatus
    from sanad.db import session_scope
    from sanad.departments import get_department
    from sanad.errors import SanadError

    try:
        with session_scope(runtime.sessions) as session, file.open("rb") as stream:
            # Hashed as it is read, like every other pass over the file: a million rows
            # never sit in memory at once.
            key = idempotency_key or f"file:{type_}:{batches_submit.file_sha256(stream)}"
            batch, replayed = batches_submit.submit(
                session,
                runtime,
                get_department(session, code),
                document_type=type_,
                stream=stream,
                dry_run=dry_run,
                idempotency_key=key,
            )
    except SanadError as e:
        for problem in getattr(e, "errors", []):
            typer.echo(f"  {problem.field}: {problem.message}", err=True)
        raise _error(e.message) from e
    typer.echo(f"batch {batch.id} ({'already submitted' if replayed else 'submitted'}): {batch.status}")
    if batch.status == BatchStatus.INVALID:
        typer.echo(f"{batch.rows_total:,} rows checked; see `sanad batch errors {batch.id}`", err=True)
        raise typer.Exit(1)
    return batch


@app.command("status")
def status(
    ctx: typer.Context,
    batch_id: BatchId,
    department: DepartmentCode = DEFAULT_DEPARTMENT,
    wait: Annotated[bool, typer.Option("--wait", help="Show progress until the batch finishes")] = False,
) -> None:
    """A batch's status and progress."""
    from issuer import batches
    from sanad.departments import get_department
    from sanad.errors import SanadError

    runtime: BatchRuntime
    with app_context(ctx, load_settings()) as runtime:
        try:
            if wait:
                batch = _follow(runtime, department.upper(), batch_id)
            else:
                with runtime.sessions() as session:
                    batch = batches.get_for_department(session, get_department(session, department.upper()), batch_id)
                typer.echo(progress_line(batch), err=True)
        except SanadError as e:
            raise _error(e.message) from e
        typer.echo(_summary(batch))


def _export(
    ctx: typer.Context,
    batch_id: str,
    department: str,
    *,
    columns: tuple[str, ...],
    records: Callable[[Session, BatchRuntime, Batch], Iterator[tuple[object, ...]]],
    csv: bool,
    out: Path | None = None,
) -> None:
    """Write a batch's records as CSV or JSON Lines, to ``out`` or the terminal."""
    from issuer import batches
    from issuer.batches_export import csv_lines, json_lines
    from sanad.departments import get_department
    from sanad.errors import SanadError

    runtime: BatchRuntime
    with app_context(ctx, load_settings()) as runtime, runtime.sessions() as session:
        try:
            batch = batches.get_for_department(session, get_department(session, department.upper()), batch_id)
        except SanadError as e:
            raise _error(e.message) from e
        lines = (csv_lines if csv else json_lines)(columns, records(session, runtime, batch))
        if out is None:
            for piece in lines:
                typer.echo(piece, nl=False)
            return
        with out.open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(lines)


def _result_records(session: Session, runtime: BatchRuntime, batch: Batch) -> Iterator[tuple[object, ...]]:
    from issuer import batches

    for r in batches.results(session, runtime.kit, batch):
        yield (r.row, r.citizen_id, r.document_id, r.sha256, r.verify_url, r.status, r.error)


def _error_records(session: Session, runtime: BatchRuntime, batch: Batch) -> Iterator[tuple[object, ...]]:
    from issuer import batches

    for e in batches.errors(session, batch):
        yield (e.row, e.field, e.message)


@app.command("results")
def results(
    ctx: typer.Context,
    batch_id: BatchId,
    department: DepartmentCode = DEFAULT_DEPARTMENT,
    csv: AsCsv = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file")] = None,
) -> None:
    """One line per row: row, citizen_id, document_id, sha256, verify_url, status, error."""
    from issuer.batches_endpoints import RESULT_COLUMNS

    _export(ctx, batch_id, department, columns=RESULT_COLUMNS, records=_result_records, csv=csv, out=out)


@app.command("errors")
def errors(
    ctx: typer.Context,
    batch_id: BatchId,
    department: DepartmentCode = DEFAULT_DEPARTMENT,
    csv: AsCsv = False,
) -> None:
    """Every problem of an invalid batch: row, field, message."""
    from issuer.batches_endpoints import ERROR_COLUMNS

    _export(ctx, batch_id, department, columns=ERROR_COLUMNS, records=_error_records, csv=csv)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    batch_id: BatchId,
    department: DepartmentCode = DEFAULT_DEPARTMENT,
) -> None:
    """Stop a batch: rows not yet issued never will be."""
    from issuer import batches
    from sanad.db import session_scope
    from sanad.departments import get_department
    from sanad.errors import SanadError

    runtime: BatchRuntime
    with app_context(ctx, load_settings()) as runtime:
        try:
            with session_scope(runtime.sessions) as session:
                batch = batches.cancel(session, get_department(session, department.upper()), batch_id)
        except SanadError as e:
            raise _error(e.message) from e
        typer.echo(_summary(batch))
