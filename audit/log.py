"""Appending to the log, in the transaction of the change an entry records.

:func:`record` only notes the entry on the caller's session. Just before that session
commits, every entry it noted is given the next indices and written: the session's own
changes are flushed first, then the single row of ``audit_head`` is advanced by one
``UPDATE … RETURNING``, which holds that row's lock until the commit a moment later.
So concurrent transactions take their indices one after another, in the order they
commit, with no gaps (a rolled-back transaction never took any), and no deadlock: the
head is the last lock a transaction takes. On SQLite the database's single writer
already serialises them.

An entry noted inside a savepoint that is rolled back is dropped with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, insert, update
from sqlalchemy.orm import Session, SessionTransaction

from audit.entries import Entry, canonical_json
from audit.models import AuditEntry, AuditHead

HEAD_ID = 1
# Core statements, built once: the ORM's bulk path costs more than the two round trips.
_HEAD = cast(Table, AuditHead.__table__)
_ADVANCE_HEAD = (
    update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(size=_HEAD.c.size + bindparam("count")).returning(_HEAD.c.size)
)
_INSERT_ENTRY = insert(cast(Table, AuditEntry.__table__))
_PENDING = "audit.pending"
_HOOKED = "audit.hooked"


@dataclass(frozen=True)
class _Noted:
    at: datetime
    action: str
    subject: str
    actor: str
    details: Mapping[str, Any]
    within: SessionTransaction
    """The (nested) transaction it was noted in: dropped if that one rolls back."""


def record(
    session: Session,
    *,
    action: str,
    subject: str,
    actor: str,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append an entry to the log when ``session`` commits (never if it rolls back).

    ``action`` is what happened (``document.issue``), ``subject`` what it is about and
    ``actor`` who did it, each ``<kind>:<id>``; ``details`` holds strings, integers,
    booleans and null only (checked now: a float raises ``NotCanonical``)."""
    details = dict(details or {})
    canonical_json(details)
    if not session.info.get(_HOOKED):
        event.listen(session, "before_commit", _append)
        event.listen(session, "after_soft_rollback", _forget)
        session.info[_HOOKED] = True
    # Begun now if it was not yet (no SQL is sent), so a rollback before any query drops the entry too.
    within = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(_PENDING, []).append(
        _Noted(at or datetime.now(UTC), action, subject, actor, details, within)
    )


def pending(session: Session) -> int:
    """How many entries ``session`` will append when it commits."""
    return len(session.info.get(_PENDING, ()))


def _append(session: Session) -> None:
    noted: list[_Noted] = session.info.pop(_PENDING, [])
    if not noted:
        return
    # Everything else first, so that nothing waits on another lock while the head is held.
    session.flush()
    size = session.execute(_ADVANCE_HEAD, {"count": len(noted)}).scalar_one()
    first = size - len(noted)
    rows = []
    for offset, note in enumerate(noted):
        entry = Entry(first + offset, note.at, note.action, note.subject, note.actor, note.details)
        canonical = entry.canonical()
        rows.append(
            {
                "leaf_index": entry.index,
                "recorded_at": entry.at,
                "action": entry.action,
                "subject": entry.subject,
                "actor": entry.actor,
                "entry": canonical.decode("utf-8"),
                "leaf_hash": entry.leaf_hash(),
            }
        )
    session.execute(_INSERT_ENTRY, rows)


def _forget(session: Session, rolled_back: SessionTransaction) -> None:
    noted: list[_Noted] = session.info.get(_PENDING, [])
    if not noted:
        return
    if rolled_back.parent is None:
        session.info.pop(_PENDING, None)
        return
    session.info[_PENDING] = [note for note in noted if not _inside(note.within, rolled_back)]


def _inside(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
