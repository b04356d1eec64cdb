"""Pendency for head office: what is open where, what is late, how fast cases close.

Open counts come from one grouped query over open applications (a small, indexed share
of the table); disposal times come from monthly histograms kept at decision time, read
as plain rows and added up in place, so neither grows with the millions of closed
applications. The server keeps the sum of the months that can no longer change
(:mod:`intake.pendency_settled`) and reads only the live month's tallies: reading and
adding up a year of them was most of the report's time."""

from __future__ import annotations

import csv
import io
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate, chain, zip_longest

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from intake import appeals_repository, repository
from intake.appeals_models import Appeal
from intake.models import Application, DisposalTally
from intake.pendency_settled import SETTLED, SettledHistograms, add_into, live_from
from sanad.departments import list_departments

STATUSES = ("submitted", "under_review", "returned", "approved")


@dataclass
class PendencyRow:
    department: str
    office: str
    service: str
    open_by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    overdue: int = 0
    due_soon: int = 0
    """Due today or within the next ``soon_days`` calendar days."""
    disposed: int = 0
    histogram: list[int] = field(default_factory=list)
    first_appeals: int = 0
    """Pending first appeals (to the first appellate authority)."""
    second_appeals: int = 0
    """Pending second appeals (to the commission)."""
    appeals_overdue: int = 0
    """Pending appeals, first or second, past their own time limit."""

    @property
    def open(self) -> int:
        return sum(self.open_by_status.values())

    @property
    def average_disposal_days(self) -> float | None:
        # Σ days × cases is Σ over each day of the cases disposed after it: additions in C
        # (accumulate, sum) instead of a multiplication per bucket, a third of the time.
        running = list(accumulate(self.histogram))
        if not running or running[-1] == 0:
            return None
        total = running[-1]
        return round((len(running) * total - sum(running)) / total, 1)

    @property
    def p90_disposal_days(self) -> int | None:
        return percentile(self.histogram, 0.9)


def percentile(histogram: list[int], q: float) -> int | None:
    """The smallest d with at least ``q`` of the cases disposed within d working days."""
    running = list(accumulate(histogram))
    if not running or running[-1] == 0:
        return None
    return min(bisect_left(running, q * running[-1]), len(histogram) - 1)


def pendency(
    session: Session,
    *,
    today: date,
    since_month: str,
    department_id: int | None = None,
    office: str | None = None,
    service: str | None = None,
    soon_days: int = 2,
    settled: SettledHistograms | None = None,
) -> list[PendencyRow]:
    """One row per department, office and service with open or disposed cases.

    With ``settled``, the months that can no longer change are summed once and kept
    there (:mod:`intake.pendency_settled`); without, every month is read (the reference
    the kept sums are tested against)."""
    open_filters: list[ColumnElement[bool]] = []
    tally_filters: list[ColumnElement[bool]] = []
    appeal_filters: list[ColumnElement[bool]] = []
    if department_id is not None:
        open_filters.append(Application.department_id == department_id)
        tally_filters.append(DisposalTally.department_id == department_id)
        appeal_filters.append(Appeal.department_id == department_id)
    if office is not None:
        open_filters.append(Application.office_code == office)
        tally_filters.append(DisposalTally.office_code == office)
        appeal_filters.append(Appeal.office_code == office)
    if service is not None:
        open_filters.append(Application.service_code == service)
        tally_filters.append(DisposalTally.service_code == service)
        appeal_filters.append(Appeal.service_code == service)
    codes: Mapping[int, str] = {d.id: d.code for d in list_departments(session)}
    rows: dict[tuple[int, str, str], PendencyRow] = {}

    def row(dept: int, office_code: str, service_code: str) -> PendencyRow:
        key = (dept, office_code, service_code)
        if key not in rows:
            rows[key] = PendencyRow(department=codes.get(dept, str(dept)), office=office_code, service=service_code)
        return rows[key]

    soon = today + timedelta(days=soon_days)
    for dept, office_code, service_code, status, count, overdue, due_soon in repository.open_counts(
        session, open_filters, today, soon
    ):
        target = row(dept, office_code, service_code)
        target.open_by_status[status] = target.open_by_status.get(status, 0) + count
        target.overdue += overdue
        target.due_soon += due_soon
    for dept, office_code, service_code, histogram in _disposals(
        session, tally_filters, (department_id, office, service), since_month, live_from(today), settled
    ):
        target = row(dept, office_code, service_code)
        if target.histogram:
            add_into(target.histogram, histogram)
        else:  # most places: the settled months' sum, then the live month's tally
            target.histogram = list(histogram)
        target.disposed += sum(histogram)
    for dept, office_code, service_code, level, count, overdue in appeals_repository.pending_counts(
        session, appeal_filters, today
    ):
        target = row(dept, office_code, service_code)
        if level == 1:
            target.first_appeals += count
        else:
            target.second_appeals += count
        target.appeals_overdue += overdue
    return sorted(rows.values(), key=lambda r: (r.department, r.office, r.service))


def warm(sessions: Callable[[], Session], today: date) -> None:
    """Computes the whole state's report once, as head office opens it, so that a server
    process's first report does not pay for the settled months' sums and the statements'
    first compilation (a fresh worker's first answer took 220-310 ms, the next 25-45)."""
    with sessions() as session:
        pendency(session, today=today, since_month=f"{today.year}-01", settled=SETTLED)


def _disposals(
    session: Session,
    filters: list[ColumnElement[bool]],
    chosen: tuple[int | None, str | None, str | None],
    since_month: str,
    live_month: str,
    settled: SettledHistograms | None,
) -> Iterable[tuple[int, str, str, Sequence[int]]]:
    """(department, office, service, histogram) rows whose sum is the period's disposals:
    the settled months' kept sums, if any, then the months still live."""
    if settled is None or since_month >= live_month:
        return repository.disposal_histograms(session, filters, since_month)
    kept = settled.histograms(
        session,
        (*chosen, since_month, live_month),
        lambda reading: repository.disposal_histograms(reading, filters, since_month, before=live_month),
    )
    return chain(
        ((*place, histogram) for place, histogram in kept.items()),
        repository.disposal_histograms(session, filters, live_month),
    )


def totals(rows: list[PendencyRow]) -> PendencyRow:
    total = PendencyRow(department="ALL", office="ALL", service="ALL")
    for r in rows:
        for status, count in r.open_by_status.items():
            total.open_by_status[status] = total.open_by_status.get(status, 0) + count
        total.overdue += r.overdue
        total.due_soon += r.due_soon
        total.disposed += r.disposed
        total.first_appeals += r.first_appeals
        total.second_appeals += r.second_appeals
        total.appeals_overdue += r.appeals_overdue
    # Bucket by bucket across every row at once, in C.
    total.histogram = [sum(bucket) for bucket in zip_longest(*(r.histogram for r in rows), fillvalue=0)]
    return total


def as_csv(rows: list[PendencyRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "department",
            "office",
            "service",
            *STATUSES,
            "open",
            "overdue",
            "due_soon",
            "disposed",
            "avg_days",
            "p90_days",
            "first_appeals",
            "second_appeals",
            "appeals_overdue",
        ]
    )
    for r in [*rows, totals(rows)]:
        writer.writerow(
            [
                r.department,
                r.office,
                r.service,
                *(r.open_by_status.get(s, 0) for s in STATUSES),
                r.open,
                r.overdue,
                r.due_soon,
                r.disposed,
                "" if r.average_disposal_days is None else r.average_disposal_days,
                "" if r.p90_disposal_days is None else r.p90_disposal_days,
                r.first_appeals,
                r.second_appeals,
                r.appeals_overdue,
            ]
        )
    return out.getvalue()
