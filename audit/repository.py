"""Every query of the audit log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.log import HEAD_ID
from audit.models import AuditCheckpoint, AuditEntry, AuditHead

#: Rows read at a time when walking the whole log.
BATCH = 5000


def head_size(session: Session) -> int:
    """How many entries the head says were appended."""
    return session.execute(select(AuditHead.size).where(AuditHead.id == HEAD_ID)).scalar_one()


def entry_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def entry(session: Session, leaf_index: int) -> AuditEntry | None:
    return session.get(AuditEntry, leaf_index)


def walk(session: Session, *, start: int = 0, end: int | None = None) -> Iterator[AuditEntry]:
    """Entries in index order, read in batches (the log may be large)."""
    after = start - 1
    while True:
        query = select(AuditEntry).where(AuditEntry.leaf_index > after)
        if end is not None:
            query = query.where(AuditEntry.leaf_index < end)
        rows = session.execute(query.order_by(AuditEntry.leaf_index).limit(BATCH)).scalars().all()
        yield from rows
        if len(rows) < BATCH:
            return
        after = rows[-1].leaf_index
        session.expunge_all()


def leaf_hashes(session: Session, size: int) -> list[bytes]:
    """The stored leaf hashes of entries [0, size), in index order."""
    rows = session.execute(
        select(AuditEntry.leaf_hash).where(AuditEntry.leaf_index < size).order_by(AuditEntry.leaf_index)
    )
    return [bytes(value) for value in rows.scalars()]


def about(session: Session, subjects: Sequence[str], *, limit: int) -> list[AuditEntry]:
    """The newest entries about any of ``subjects``."""
    if not subjects:
        return []
    query = (
        select(AuditEntry).where(AuditEntry.subject.in_(subjects)).order_by(AuditEntry.leaf_index.desc()).limit(limit)
    )
    return list(session.execute(query).scalars())


def checkpoints(session: Session) -> list[AuditCheckpoint]:
    return list(session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars())


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    return session.execute(query).scalar_one_or_none()
