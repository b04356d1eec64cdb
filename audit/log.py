"""Appending to the log, in the transaction of the change an entry records.

:func:`record` only notes the entry on the caller's session. Just before that session
commits, every entry it noted is given the next indices and written: the session's own
changes are flushed first, then the single row of ``audit_head`` is advanced, which
holds that row's lock until the commit a moment later, and the entries are inserted.
So concurrent transactions take their indices one after another, in the order they
commit, with no gaps (a rolled-back transaction never took any), and no deadlock: the
head is the last lock a transaction takes (the entries' own rows are new, with indices
no one else holds). On SQLite the database's single writer already serialises them.

An entry's text names its index, which only the advanced head gives. On PostgreSQL the
append is one statement, so one round trip: a ``WITH`` that advances the head and inserts
the entries, each sent as its canonical text before and after the index's digits
(:meth:`~audit.entries.Entry.canonical_around_index`), the server placing the digits and
taking the leaf hash. SQLite is in-process, with no round trip to save: there the head's
``UPDATE … RETURNING`` comes first and the entries are finished here.

An entry noted inside a savepoint that is rolled back is dropped with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, event, insert, update
from sqlalchemy.orm import Session, SessionTransaction

from audit.entries import Entry
from audit.merkle import leaf_hash
from audit.models import AuditEntry, AuditHead

HEAD_ID = 1
# Core statements, built once, run on the session's connection: the ORM's execute path
# costs more CPU than the statements themselves.
_HEAD = cast(Table, AuditHead.__table__)
_ADVANCE_HEAD = (
    update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(size=_HEAD.c.size + bindparam("count")).returning(_HEAD.c.size)
)
_INSERT_ENTRY = insert(cast(Table, AuditEntry.__table__))
# PostgreSQL's append, in the driver's own parameter style: it runs nowhere else, and
# executing it as given skips the compiled-statement cache ``text()`` would look it up in
# (about 0.05 ms of the client's CPU, a third of what the statement costs it).
# ``{noted}`` yields the noted entries, each with its index: the head's old size plus its
# place among them. Each entry's text is spliced around the index's digits, and its leaf
# hash is RFC 9162's SHA-256(0x00 || entry) (as :func:`audit.merkle.leaf_hash`), taken by
# the server over the UTF-8 of that text (``decode`` makes the 0x00 whatever the server's
# setting for backslashes in string literals).
_APPEND_IN_ONE_STATEMENT = f"""
WITH head AS (
    UPDATE audit_head SET size = size + %(count)s WHERE id = {HEAD_ID} RETURNING size - %(count)s AS first_index
), placed AS (
    {{noted}}
)
INSERT INTO audit_entries (leaf_index, recorded_at, action, subject, actor, entry, leaf_hash)
SELECT leaf_index, recorded_at, action, subject, actor, spliced.entry,
       sha256(decode('00', 'hex') || convert_to(spliced.entry, 'UTF8'))
FROM placed, LATERAL (SELECT before_index || leaf_index::text || after_index AS entry) AS spliced
"""
# One entry (most transactions): plain parameters, which the driver sends far more cheaply
# than arrays.
_APPEND_ONE = _APPEND_IN_ONE_STATEMENT.format(
    noted="""SELECT first_index AS leaf_index, CAST(%(recorded_at)s AS timestamptz) AS recorded_at,
        CAST(%(action)s AS text) AS action, CAST(%(subject)s AS text) AS subject, CAST(%(actor)s AS text) AS actor,
        CAST(%(before_index)s AS text) AS before_index, CAST(%(after_index)s AS text) AS after_index
    FROM head"""
)
# Several: one array per column, unnested in order, however many entries there are.
_APPEND_SEVERAL = _APPEND_IN_ONE_STATEMENT.format(
    noted="""SELECT head.first_index + noted.place - 1 AS leaf_index, noted.*
    FROM head, unnest(
        CAST(%(recorded_at)s AS timestamptz[]), CAST(%(action)s AS text[]), CAST(%(subject)s AS text[]),
        CAST(%(actor)s AS text[]), CAST(%(before_index)s AS text[]), CAST(%(after_index)s AS text[])
    ) WITH ORDINALITY AS noted(recorded_at, action, subject, actor, before_index, after_index, place)"""
)
_PENDING = "audit.pending"
_HOOKED = "audit.hooked"


@dataclass(frozen=True)
class _Noted:
    at: datetime
    action: str
    subject: str
    actor: str
    before_index: str
    after_index: str
    """Its canonical text either side of the index's digits, which the append fills in."""
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
    booleans and null only (checked now: a float raises ``NotCanonical``); ``at`` is
    timezone-aware (a naive one raises ``ValueError``)."""
    at = at or datetime.now(UTC)
    if at.tzinfo is None:
        raise ValueError("naive datetime given where UTC is required")
    # The canonical text is made (and the details checked) now, once; only the index waits.
    before_index, after_index = Entry(0, at, action, subject, actor, dict(details or {})).canonical_around_index()
    if not session.info.get(_HOOKED):
        event.listen(session, "before_commit", _append)
        event.listen(session, "after_soft_rollback", _forget)
        session.info[_HOOKED] = True
    # Begun now if it was not yet (no SQL is sent), so a rollback before any query drops the entry too.
    within = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(_PENDING, []).append(_Noted(at, action, subject, actor, before_index, after_index, within))


def pending(session: Session) -> int:
    """How many entries ``session`` will append when it commits."""
    return len(session.info.get(_PENDING, ()))


def _append(session: Session) -> None:
    noted: list[_Noted] = session.info.pop(_PENDING, [])
    if not noted:
        return
    # Everything else first, so that nothing waits on another lock while the head is held.
    session.flush()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _append_in_one_statement(connection, noted)
    else:
        _append_after_the_head(connection, noted)


def _append_in_one_statement(connection: Connection, noted: Sequence[_Noted]) -> None:
    columns: dict[str, list[Any]] = {
        "recorded_at": [note.at for note in noted],
        "action": [note.action for note in noted],
        "subject": [note.subject for note in noted],
        "actor": [note.actor for note in noted],
        "before_index": [note.before_index for note in noted],
        "after_index": [note.after_index for note in noted],
    }
    if len(noted) == 1:
        connection.exec_driver_sql(_APPEND_ONE, {"count": 1} | {name: values[0] for name, values in columns.items()})
    else:
        connection.exec_driver_sql(_APPEND_SEVERAL, {"count": len(noted)} | columns)


def _append_after_the_head(connection: Connection, noted: Sequence[_Noted]) -> None:
    size = connection.execute(_ADVANCE_HEAD, {"count": len(noted)}).scalar_one()
    rows = []
    for index, note in enumerate(noted, start=size - len(noted)):
        entry = f"{note.before_index}{index}{note.after_index}"
        rows.append(
            {
                "leaf_index": index,
                "recorded_at": note.at,
                "action": note.action,
                "subject": note.subject,
                "actor": note.actor,
                "entry": entry,
                "leaf_hash": leaf_hash(entry.encode("utf-8")),
            }
        )
    connection.execute(_INSERT_ENTRY, rows)


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
