"""The intake requests' parts alone, in this process on one core, and the pendency plans.

A submission, besides HTTP: the multipart body parsed (Starlette, as the endpoint does),
the caller found (staff and locker sessions in one statement), the form validated,
the two files sniffed and hashed, both put into MinIO, then one transaction (citizen
record, serial number, application, attachments, timeline entry, notice) and the answer
serialised (the whole submission builds it from the rows written, as the endpoint does;
"answer" alone reads an application back, as a GET does). Each part is timed alone with
a fresh database session, as a request gets one. The pendency report: the open-counts
query (bare SQL and through the ORM), the tallies, the whole ``pendency.pendency`` and
its JSON with every month's tallies read and with the settled months' sums kept as the
server keeps them; EXPLAIN ANALYZE shows the plans.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from fastapi.security import HTTPAuthorizationCredentials
from starlette.requests import Request

from app.context import AppContext
from bench.intake_load import FORM, OFFICES, SERVICE, Citizen, SubmissionBody
from bench.locker_parts import Statement, _captured, _explain
from bench.stages import Budget, NullStore, one_core
from bench.stats import Measurement
from intake import applications, pendency, repository
from intake.applications import Applicant
from intake.attachments import UploadedFile, check_files
from intake.dependencies import caller_between_transactions
from intake.endpoints import read_of, to_read
from intake.forms import validate_form
from intake.models import Application, IntakeChannel
from intake.pendency_settled import KEEP_FOR, SettledHistograms, live_from
from intake.schemas import PendencyLine, PendencyRead
from sanad.clock import today_in_india
from sanad.db import session_scope
from sanad.ids import sha256_hex


@dataclass(frozen=True)
class Parts:
    measurements: list[Measurement]
    plans: dict[str, str]
    """EXPLAIN (ANALYZE, BUFFERS) output by label."""


# --- submissions ---------------------------------------------------------------------------


async def _parse(body: bytes, content_type: str) -> tuple[dict[str, str], list[UploadedFile]]:
    """What ``submit_application`` reads from the request, with Starlette's parser."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/applications",
        "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())],
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request(scope, receive)
    async with request.form(max_files=20, max_fields=50) as form:
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        files = [
            UploadedFile(
                kind=k.removeprefix("attachment."),
                filename=v.filename or "",
                declared_type=v.content_type,
                data=await v.read(),
            )
            for k, v in form.multi_items()
            if not isinstance(v, str) and k.startswith("attachment.")
        ]
    return fields, files


class _Submissions:
    """The parts of one submission, each as a bench operation (citizen ``i`` of the pool)."""

    def __init__(self, context: AppContext, citizens: list[Citizen]) -> None:
        self.context = context
        self.citizens = citizens
        self.body = SubmissionBody()
        self.loop = asyncio.new_event_loop()
        self.sample = self.body.for_citizen(citizens[0].mobile, OFFICES[0])
        _, self.files = self.loop.run_until_complete(_parse(self.sample, SubmissionBody.content_type))
        self.service = context.intake.catalogue[SERVICE]
        self.no_store = replace(context.intake, store=NullStore())
        self.next = 0

    def citizen(self) -> Citizen:
        # Each submission needs a citizen of its own (a new citizen record is part of the work).
        self.next += 1
        if self.next >= len(self.citizens):
            raise RuntimeError("ran out of signed-in citizens for the in-process parts")
        return self.citizens[self.next]

    def close(self) -> None:
        self.loop.close()

    def parse(self, _: int) -> object:
        return self.loop.run_until_complete(_parse(self.sample, SubmissionBody.content_type))

    def caller(self, i: int) -> object:
        token = self.citizens[i % len(self.citizens)].token
        return caller_between_transactions(
            self.context, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
        )

    def validate(self, _: int) -> object:
        return validate_form(self.service, {**FORM, "mobile": self.citizens[0].mobile}, "en")

    def check_files(self, _: int) -> object:
        checked, _problems = check_files(self.service, self.files, "en")
        return [sha256_hex(c.file.data) for c in checked]

    def put_files(self, i: int) -> object:
        for file in self.files:
            self.context.store.put(f"applications/bench-parts/{i}/{file.kind}", file.data, "application/octet-stream")
        return None

    def _submit(self, kit: applications.IntakeKit) -> Callable[[int], object]:
        def run(i: int) -> object:
            citizen = self.citizen()
            with self.context.sessions() as session:
                return applications.submit(
                    session,
                    kit,
                    Applicant(mobile=citizen.mobile, language="en", channel=IntakeChannel.ONLINE),
                    service_code=SERVICE,
                    office_code=OFFICES[i % len(OFFICES)],
                    form={**FORM, "mobile": citizen.mobile},
                    files=self.files,
                    now=datetime.now(UTC),
                ).application

        return run

    def answer(self, number: str) -> Callable[[int], object]:
        def run(_: int) -> bytes:
            with self.context.sessions() as session:
                found = repository.by_number(session, number)
                assert found is not None
                return to_read(self.context, session, found).model_dump_json().encode()

        return run

    def whole(self, i: int) -> bytes:
        """What the endpoint does, in this process: parse, caller, submit, answer."""
        citizen = self.citizen()
        body = self.body.for_citizen(citizen.mobile, OFFICES[i % len(OFFICES)])
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=citizen.token)
        caller = caller_between_transactions(self.context, credentials)
        assert caller.mobile is not None
        fields, files = self.loop.run_until_complete(_parse(body, SubmissionBody.content_type))
        with session_scope(self.context.sessions) as session:
            submitted = applications.submit(
                session,
                self.context.intake,
                Applicant(mobile=caller.mobile, language="en", channel=IntakeChannel.ONLINE),
                service_code=fields["service"],
                office_code=fields["office"],
                form=json.loads(fields["form"]),
                files=files,
                now=datetime.now(UTC),
            )
            answer = read_of(self.context, submitted.application, submitted.timeline, submitted.attachments)
            return answer.model_dump_json().encode()


# --- pendency ------------------------------------------------------------------------------


def _statements(context: AppContext) -> tuple[Statement, Statement]:
    """The open-counts and tallies statements exactly as the ORM sends them."""
    today = today_in_india()
    with _captured(context.engine) as seen, context.sessions() as session:
        pendency.pendency(session, today=today, since_month=f"{today.year}-01")
    counts = [s for s in seen if "FROM applications" in s.sql]
    tallies = [s for s in seen if "FROM disposal_tallies" in s.sql]
    assert len(counts) == 1, seen
    assert len(tallies) == 1, seen
    return counts[0], tallies[0]


def _report(context: AppContext, settled: SettledHistograms | None) -> Callable[[int], bytes]:
    """The head office's whole report as JSON, every month's tallies read (``settled``
    None) or the settled months' sums kept as the server keeps them."""

    def report(_: int) -> bytes:
        today = today_in_india()
        since = f"{today.year}-01"
        with context.sessions() as session:
            rows = pendency.pendency(session, today=today, since_month=since, settled=settled)
        return _as_json(today, since, rows)

    return report


def _as_json(today: date, since: str, rows: list[pendency.PendencyRow]) -> bytes:
    """What ``GET /api/v1/pendency`` answers for ``rows``."""
    read = PendencyRead(
        today=today,
        since_month=since,
        rows=[PendencyLine.of(r) for r in rows],
        totals=PendencyLine.of(pendency.totals(rows)),
    )
    return read.model_dump_json().encode()


def _sql_only(url: str, statement: Statement) -> tuple[Callable[[int], object], Callable[[], None]]:
    conn = psycopg.connect(url, autocommit=True)

    def run(_: int) -> object:
        return conn.execute(statement.sql, statement.parameters, prepare=True).fetchall()

    return run, conn.close


def pendency_plans(url: str, context: AppContext) -> dict[str, str]:
    counts, tallies = _statements(context)
    return {
        "open counts (custom plan)": _explain(url, counts),
        "open counts (generic plan, as a prepared statement may use)": _explain(url, counts, generic=True),
        "disposal tallies since January": _explain(url, tallies),
    }


def measure_pendency(url: str, context: AppContext, budget: Budget) -> list[Measurement]:
    counts, tallies = _statements(context)
    today = today_in_india()
    since = f"{today.year}-01"
    counts_sql, close_counts = _sql_only(url, counts)
    tallies_sql, close_tallies = _sql_only(url, tallies)

    def open_counts(_: int) -> object:
        with context.sessions() as session:
            return repository.open_counts(session, [], today, today + timedelta(days=2))

    def tally_rows(_: int) -> object:
        with context.sessions() as session:
            return [list(t.histogram) for t in repository.tallies(session, [], since)]

    with context.sessions() as session:
        rows = pendency.pendency(session, today=today, since_month=since)

    def to_json(_: int) -> bytes:
        return _as_json(today, since, rows)

    try:
        with one_core():
            return [
                budget.run("open counts, bare SQL (prepared, psycopg)", counts_sql, "the statement the ORM sends"),
                budget.run("open counts, ORM (repository.open_counts)", open_counts, "fresh session"),
                budget.run("tallies, bare SQL (prepared, psycopg)", tallies_sql, "JSON histograms as text"),
                budget.run("tallies, ORM (repository.tallies)", tally_rows, "fresh session, JSON decoded"),
                budget.run("rows → JSON (PendencyRead)", to_json, f"{len(rows)} rows, no database"),
                budget.run(
                    "whole report in-process, every month read (no HTTP)",
                    _report(context, None),
                    "pendency.pendency + JSON, one session",
                ),
                budget.run(
                    "whole report in-process, settled months kept (as served)",
                    _report(context, SettledHistograms()),
                    f"live tallies from {live_from(today)}; kept sums read again every {KEEP_FOR:.0f} s",
                ),
            ]
    finally:
        close_counts()
        close_tallies()


def measure_submission(context: AppContext, citizens: list[Citizen], budget: Budget) -> list[Measurement]:
    """``citizens`` must be unused: every timed submission takes one of its own."""
    ops = _Submissions(context, citizens)
    try:
        first = ops._submit(context.intake)(0)
        assert isinstance(first, Application)
        with one_core():
            return [
                budget.run("multipart parse (Starlette request.form)", ops.parse, "2 files, 151 KB body"),
                budget.run("caller lookup (staff and locker sessions)", ops.caller, "1 statement, no transaction"),
                budget.run("form validation (validate_form)", ops.validate, "rev-income, 10 answers"),
                budget.run("files: sniff, size, SHA-256 × 2", ops.check_files, "50 KB PNG + 101 KiB PDF"),
                budget.run("MinIO put × 2", ops.put_files, "the two attachments"),
                budget.run(
                    "submit, database only (store stubbed)",
                    ops._submit(ops.no_store),
                    "new citizen record, serial, 6 rows, 1 commit",
                ),
                budget.run("submit (applications.submit)", ops._submit(context.intake), "database + MinIO"),
                budget.run("answer (to_read → JSON)", ops.answer(first.number), "2 queries + ApplicationRead"),
                budget.run(
                    "whole submission in-process (no HTTP)",
                    ops.whole,
                    "parse + caller + submit + answer (as the endpoint)",
                ),
            ]
    finally:
        ops.close()
