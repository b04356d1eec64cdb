"""Every SQL query of the DigiLocker domain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from digilocker.models import (
    ApisetuConsentKey,
    DigilockerIssuer,
    DigilockerLink,
    DigilockerPush,
    DigilockerReplay,
    PushStatus,
)
from sanad.db import Base


def issuer_for_department(session: Session, department_id: int) -> DigilockerIssuer | None:
    return session.get(DigilockerIssuer, department_id)


def all_issuers(session: Session) -> list[DigilockerIssuer]:
    return list(session.scalars(select(DigilockerIssuer)))


def issuer_by_issuer_id(session: Session, issuer_id: str) -> DigilockerIssuer | None:
    return session.scalar(select(DigilockerIssuer).where(DigilockerIssuer.issuer_id == issuer_id))


def _insert(session: Session) -> Callable[[type[Base]], postgresql.Insert | sqlite.Insert]:
    # One statement that ignores a duplicate: no savepoint round trips on the pull path.
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def remember_txn(session: Session, department_id: int, txn: str, now: datetime) -> bool:
    """Record a transaction id; False if it was already recorded (a replay). Two requests
    with the same id at once: the unique constraint lets one through."""
    statement = (
        _insert(session)(DigilockerReplay)
        .values(department_id=department_id, txn=txn, seen_at=now)
        .on_conflict_do_nothing(index_elements=["department_id", "txn"])
        .returning(DigilockerReplay.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def forget_txns_before(session: Session, cutoff: datetime) -> int:
    result = session.execute(delete(DigilockerReplay).where(DigilockerReplay.seen_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def link(session: Session, document_id: str, digilocker_id: str, now: datetime) -> None:
    session.execute(
        _insert(session)(DigilockerLink)
        .values(document_id=document_id, digilocker_id=digilocker_id, linked_at=now)
        .on_conflict_do_nothing(index_elements=["document_id", "digilocker_id"])
    )


def is_linked(session: Session, document_id: str, digilocker_id: str) -> bool:
    found = session.scalar(
        select(DigilockerLink.id).where(
            DigilockerLink.document_id == document_id, DigilockerLink.digilocker_id == digilocker_id
        )
    )
    return found is not None


def add_push(session: Session, push: DigilockerPush) -> None:
    """Queue a push; a document has one row per action. A (add) and D (delete) happen once
    in a document's life; U (update) again on every suspension and reinstatement, so an
    earlier U row is queued again (its account kept) rather than a second one added: one
    U brings DigiLocker up to date however many changes it stands for."""
    earlier = session.scalar(
        select(DigilockerPush).where(
            DigilockerPush.document_id == push.document_id, DigilockerPush.action == push.action
        )
    )
    if earlier is None:
        session.add(push)
    elif push.action == "U":
        earlier.status = PushStatus.PENDING
        earlier.attempts = 0
        earlier.next_attempt_at = push.next_attempt_at
        earlier.last_error = None
        earlier.sent_at = None
        earlier.details = push.details


def due_pushes(session: Session, now: datetime, limit: int) -> list[DigilockerPush]:
    return list(
        session.scalars(
            select(DigilockerPush)
            .where(DigilockerPush.status == PushStatus.PENDING, DigilockerPush.next_attempt_at <= now)
            .order_by(DigilockerPush.next_attempt_at, DigilockerPush.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def pushes(session: Session, status: str | None, limit: int, department_id: int | None = None) -> list[DigilockerPush]:
    query = select(DigilockerPush).order_by(DigilockerPush.id.desc()).limit(limit)
    if status is not None:
        query = query.where(DigilockerPush.status == status)
    if department_id is not None:
        query = query.where(DigilockerPush.department_id == department_id)
    return list(session.scalars(query))


def retry_push(session: Session, push_id: int, now: datetime) -> bool:
    result = session.execute(
        update(DigilockerPush)
        .where(DigilockerPush.id == push_id, DigilockerPush.status == PushStatus.FAILED)
        .values(status=PushStatus.PENDING, next_attempt_at=now, attempts=0)
    )
    return bool(getattr(result, "rowcount", 0))


def consent_key(session: Session) -> ApisetuConsentKey | None:
    return session.get(ApisetuConsentKey, 1)


def save_consent_key(session: Session, key: ApisetuConsentKey) -> None:
    session.merge(key)
    session.flush()


def troubled_pushes(session: Session, department_id: int | None, limit: int) -> list[DigilockerPush]:
    """Failed pushes and those being retried (pending after a failed attempt), newest first."""
    query = (
        select(DigilockerPush)
        .where(
            or_(
                DigilockerPush.status == PushStatus.FAILED,
                and_(DigilockerPush.status == PushStatus.PENDING, DigilockerPush.attempts > 0),
            )
        )
        .order_by(DigilockerPush.id.desc())
        .limit(limit)
    )
    if department_id is not None:
        query = query.where(DigilockerPush.department_id == department_id)
    return list(session.scalars(query))


def push_of_department(session: Session, push_id: int, department_id: int | None) -> DigilockerPush | None:
    push = session.get(DigilockerPush, push_id)
    if push is None or (department_id is not None and push.department_id != department_id):
        return None
    return push
