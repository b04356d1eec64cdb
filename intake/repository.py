"""Every SQL query of the intake domain. (Tracking misses are counted where every sign-in
limit is, in :mod:`accounts.limits`.)"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, Table, Text, case, cast, func, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

from intake.models import (
    PENDING,
    Application,
    ApplicationCounter,
    ApplicationEvent,
    ApplicationStatus,
    Attachment,
    DisposalTally,
)
from sanad import sequences
from sanad.db import PreparedInsert

OPEN = (*PENDING, ApplicationStatus.APPROVED)
"""Not yet disposed: pending, or approved with the certificate still being issued."""


def next_serial(session: Session, prefix: str, year: int) -> int:
    """The next number for ``prefix`` and ``year``; never one given before.

    On PostgreSQL it comes from a sequence per prefix and year, which no transaction
    holds: a counter row locked until each submission committed made a service's
    submissions wait in line. A submission that fails after taking its number leaves that
    number unused. On SQLite (one writer at a time anyway) the counter row is kept, and a
    rollback gives the number back."""
    if session.get_bind().dialect.name == "postgresql":
        return _next_in_sequence(session, prefix, year)
    statement = (
        sqlite.insert(ApplicationCounter)
        .values(prefix=prefix, year=year, last=1)
        .on_conflict_do_update(index_elements=["prefix", "year"], set_={"last": ApplicationCounter.last + 1})
        .returning(ApplicationCounter.last)
    )
    return int(session.execute(statement).scalar_one())


def serial_sequence(prefix: str, year: int) -> str:
    """The sequence's name (:func:`sanad.sequences.sequence_name`)."""
    return sequences.sequence_name("application_serial", prefix, year)


def _next_in_sequence(session: Session, prefix: str, year: int) -> int:
    def counted() -> int | None:  # numbered by the counter row before (an upgraded deployment)
        return session.scalar(
            select(ApplicationCounter.last).where(ApplicationCounter.prefix == prefix, ApplicationCounter.year == year)
        )

    return sequences.take(session, serial_sequence(prefix, year), 1, counted)[0]


def insert_submission(
    session: Session, application: Application, attachments: Sequence[Attachment], first_event: ApplicationEvent
) -> None:
    """Insert a new application, its attachments and its first timeline entry, in the
    session's transaction, as three statements made from the objects' values. The objects
    stay outside the session: the rows are wholly known, nothing reads them back, and the
    unit of work's bookkeeping for them cost more CPU than the statements themselves (as
    did SQLAlchemy's own per statement: they are prepared inserts). Nothing is read back,
    so they may be sent together (:func:`sanad.db.pipelined`)."""
    _APPLICATION_ROWS.run(session, [_values(application)])
    _ATTACHMENT_ROWS.run(session, [_values(a) for a in attachments])
    _EVENT_ROWS.run(session, [_values(first_event)])


def _table(model: type[DeclarativeBase]) -> Table:
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


_APPLICATION_ROWS = PreparedInsert(_table(Application))
_ATTACHMENT_ROWS = PreparedInsert(_table(Attachment))
_EVENT_ROWS = PreparedInsert(_table(ApplicationEvent))


def _values(row: DeclarativeBase) -> dict[str, object]:
    """The columns ``row`` was given a value for; the others get their defaults, as a
    flush would give them."""
    given = vars(row)
    return {prop.columns[0].key: given[prop.key] for prop in inspect(type(row)).column_attrs if prop.key in given}


def by_number(session: Session, number: str) -> Application | None:
    return session.scalar(select(Application).where(Application.number == number))


def by_id(session: Session, application_id: str) -> Application | None:
    return session.get(Application, application_id)


def events_of(session: Session, application_id: str) -> list[ApplicationEvent]:
    return list(
        session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == application_id)
            .order_by(ApplicationEvent.at, ApplicationEvent.id)
        )
    )


def attachments_of(session: Session, application_id: str) -> list[Attachment]:
    return list(
        session.scalars(select(Attachment).where(Attachment.application_id == application_id).order_by(Attachment.kind))
    )


def queue(
    session: Session, department_id: int, office_code: str | None, statuses: Sequence[str], limit: int
) -> list[Application]:
    """A desk's work, most urgent (earliest due) first."""
    query = select(Application).where(Application.department_id == department_id, Application.status.in_(statuses))
    if office_code is not None:
        query = query.where(Application.office_code == office_code)
    return list(session.scalars(query.order_by(Application.due_on, Application.submitted_at).limit(limit)))


def search(
    session: Session,
    department_id: int,
    office_code: str | None,
    *,
    number: str | None,
    mobile: str | None,
    name: str,
    limit: int,
    document_id: str | None = None,
) -> list[Application]:
    """A desk's applications (any status) whose number contains ``number``, whose
    mobile number is ``mobile``, whose applicant's name contains ``name``, or whose
    certificate is ``document_id``; newest first."""
    matches: list[ColumnElement[bool]] = [
        func.lower(Application.applicant_name).contains(name.lower(), autoescape=True)
    ]
    if number:
        matches.append(Application.number.contains(number, autoescape=True))
    if mobile:
        matches.append(Application.mobile == mobile)
    if document_id:
        matches.append(Application.document_id == document_id)
    query = select(Application).where(Application.department_id == department_id, or_(*matches))
    if office_code is not None:
        query = query.where(Application.office_code == office_code)
    return list(session.scalars(query.order_by(Application.submitted_at.desc()).limit(limit)))


def of_mobile(session: Session, mobile: str, limit: int) -> list[Application]:
    return list(
        session.scalars(
            select(Application)
            .where(Application.mobile == mobile)
            .order_by(Application.submitted_at.desc())
            .limit(limit)
        )
    )


def recent_for_service(session: Session, mobile: str, service_code: str, since: datetime) -> list[Application]:
    """A citizen's applications for one service filed since ``since``, newest first: the
    candidates a duplicate is looked for among (``ix_applications_mobile``)."""
    return list(
        session.scalars(
            select(Application)
            .where(
                Application.mobile == mobile,
                Application.service_code == service_code,
                Application.submitted_at >= since,
            )
            .order_by(Application.submitted_at.desc())
        )
    )


def overdue_undecided(session: Session, today: date, limit: int) -> list[Application]:
    """Applications past their due date with the clock running (not with the citizen)."""
    return list(
        session.scalars(
            select(Application)
            .where(
                Application.status.in_(OPEN),
                Application.status != ApplicationStatus.RETURNED,
                Application.status != ApplicationStatus.APPROVED,
                Application.due_on < today,
                Application.escalation_level < 2,
            )
            .order_by(Application.due_on)
            .limit(limit)
        )
    )


def approved_awaiting_issue(session: Session, limit: int) -> list[str]:
    return list(
        session.scalars(select(Application.id).where(Application.status == ApplicationStatus.APPROVED).limit(limit))
    )


def open_counts(
    session: Session, filters: Sequence[ColumnElement[bool]], today: date, soon: date
) -> list[tuple[int, str, str, str, int, int, int]]:
    """(department, office, service, status, count, overdue, due soon) of open applications."""
    overdue = func.sum(case((Application.due_on < today, 1), else_=0))
    due_soon = func.sum(case(((Application.due_on >= today) & (Application.due_on <= soon), 1), else_=0))
    rows = session.execute(
        select(
            Application.department_id,
            Application.office_code,
            Application.service_code,
            Application.status,
            func.count(),
            overdue,
            due_soon,
        )
        .where(Application.status.in_(OPEN), *filters)
        .group_by(Application.department_id, Application.office_code, Application.service_code, Application.status)
    )
    return [(r[0], r[1], r[2], r[3], int(r[4]), int(r[5] or 0), int(r[6] or 0)) for r in rows]


def tallies(session: Session, filters: Sequence[ColumnElement[bool]], since_month: str) -> list[DisposalTally]:
    return list(session.scalars(select(DisposalTally).where(DisposalTally.month >= since_month, *filters)))


def locked_tally(
    session: Session, department_id: int, office_code: str, service_code: str, month: str, buckets: int
) -> DisposalTally:
    """The month's tally, created empty if absent, locked until the transaction ends
    (two disposals at once must not lose a count)."""
    key = {"department_id": department_id, "office_code": office_code, "service_code": service_code, "month": month}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(DisposalTally).values(**key, histogram=[0] * buckets).on_conflict_do_nothing())
    tally = session.scalar(
        select(DisposalTally)
        .where(*(getattr(DisposalTally, name) == value for name, value in key.items()))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert tally is not None
    return tally


def attachment_keys_referenced(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(Attachment.storage_key).where(Attachment.storage_key.in_(keys))))


def disposal_histograms(
    session: Session, filters: Sequence[ColumnElement[bool]], since_month: str, *, before: str | None = None
) -> list[tuple[int, str, str, tuple[int, ...]]]:
    """(department, office, service, histogram) of each month's tally since
    ``since_month`` (and before the month ``before``, if given), as plain rows: building
    ORM objects for a year of tallies cost more than adding them up. (Summing them in SQL,
    by unnesting the JSON arrays or by one sum per bucket, measured 4-12 times slower than
    adding the rows up in Python.)"""
    rows = session.execute(
        select(
            DisposalTally.department_id,
            DisposalTally.office_code,
            DisposalTally.service_code,
            cast(DisposalTally.histogram, Text),
        ).where(
            DisposalTally.month >= since_month,
            *([] if before is None else [DisposalTally.month < before]),
            *filters,
        )
    )
    return [(r[0], r[1], r[2], _histogram(r[3])) for r in rows]


@functools.lru_cache(maxsize=4096)
def _histogram(text: str) -> tuple[int, ...]:
    """A tally's histogram from its JSON text. The live month's tallies are read on every
    pendency request and few change between two requests: decoding each one every time
    (~10 µs) was a tenth of the report's CPU, a hit here costs ~0.1 µs."""
    return tuple(json.loads(text))


def move_applicant_mobile(session: Session, old_mobile: str, new_mobile: str) -> int:
    """Every application made with ``old_mobile`` now goes with ``new_mobile`` (the
    citizen's list, tracking, notices, the issued certificate's locker); how many moved."""
    moved = session.execute(
        update(Application)
        .where(Application.mobile == old_mobile)
        .values(mobile=new_mobile)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(moved, "rowcount", 0) or 0)
