"""Every SQL query of appeals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from intake.appeals_models import Appeal, AppealStatus
from intake.models import Application


def of_application(session: Session, application_id: str) -> list[Appeal]:
    """An application's appeals, the first before the second."""
    return list(session.scalars(select(Appeal).where(Appeal.application_id == application_id).order_by(Appeal.level)))


def at_level(session: Session, application_id: str, level: int) -> Appeal | None:
    return session.scalar(select(Appeal).where(Appeal.application_id == application_id, Appeal.level == level))


def desk(
    session: Session,
    *,
    level: int,
    department_id: int | None,
    office_code: str | None,
    pending: bool,
    limit: int,
) -> list[tuple[Appeal, Application]]:
    """An authority's appeals with their applications: pending ones by due date (most
    urgent first), or decided ones, latest first. ``None`` for a department or office: all."""
    query = select(Appeal, Application).join(Application, Application.id == Appeal.application_id)
    query = query.where(Appeal.level == level)
    if department_id is not None:
        query = query.where(Appeal.department_id == department_id)
    if office_code is not None:
        query = query.where(Appeal.office_code == office_code)
    if pending:
        query = query.where(Appeal.status == AppealStatus.PENDING).order_by(Appeal.due_on, Appeal.filed_at)
    else:
        query = query.where(Appeal.status != AppealStatus.PENDING).order_by(Appeal.decided_at.desc())
    return [(appeal, application) for appeal, application in session.execute(query.limit(limit)).tuples()]


def pending_counts(
    session: Session, filters: Sequence[ColumnElement[bool]], today: date
) -> list[tuple[int, str, str, int, int, int]]:
    """(department, office, service, level, pending, overdue) of pending appeals."""
    overdue = func.sum(case((Appeal.due_on < today, 1), else_=0))
    rows = session.execute(
        select(Appeal.department_id, Appeal.office_code, Appeal.service_code, Appeal.level, func.count(), overdue)
        .where(Appeal.status == AppealStatus.PENDING, *filters)
        .group_by(Appeal.department_id, Appeal.office_code, Appeal.service_code, Appeal.level)
    )
    return [(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5] or 0)) for r in rows]
