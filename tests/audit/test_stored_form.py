"""What an append stores is what ``sanad audit verify`` recomputes: the entry's canonical
text at its index and that text's leaf hash, byte for byte, although on PostgreSQL the
server splices in the index and takes the hash. And there it is one statement."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

import audit
from audit.entries import Entry, parse
from audit.models import AuditEntry
from tests.conftest import Backend

# Text that JSON keeps as UTF-8, quotes and backslashes it escapes, and keys and strings
# that look like the entry's own index.
AWKWARD: dict[str, Any] = {
    "name": "ਗੁਰਪ੍ਰੀਤ ਕੌਰ",
    "village": "ਸ੍ਰੀ ਅਨੰਦਪੁਰ ਸਾਹਿਬ",
    "hi": "परीक्षण",
    "beyond the plane": "𝄞 🙂",
    "quoted": 'say "index":0, then \\ and \n',
    "index": 7,
    "nested": {"index": 0, "subject": '","index":0,"'},
    "list": [None, True, 0, "ੴ"],
}


def _at(seconds: int) -> datetime:
    return datetime(2026, 12, 6, 4, 30, 0, 123456, tzinfo=UTC) + timedelta(seconds=seconds)


def _stored(backend: Backend, subject: str) -> list[AuditEntry]:
    with backend.context.sessions() as s:
        query = select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.leaf_index)
        return list(s.execute(query).scalars())


def _assert_as_verify_recomputes(row: AuditEntry, expected: Entry) -> None:
    at_its_index = replace(expected, index=row.leaf_index)
    assert row.entry.encode("utf-8") == at_its_index.canonical()
    assert bytes(row.leaf_hash) == at_its_index.leaf_hash()
    assert parse(row.entry.encode("utf-8")) == at_its_index


@pytest.mark.parametrize("index", [0, 1, 9, 10, 41, 99_999, 10**15])
def test_the_text_around_the_index_makes_the_canonical_form_at_any_index(index: int) -> None:
    entry = Entry(index, _at(0), "test.split", 'test:"index":0', "staff:ਅਫ਼ਸਰ", AWKWARD)
    before, after = replace(entry, index=12345).canonical_around_index()
    assert (before + str(index) + after).encode("utf-8") == entry.canonical()


def test_one_entry_is_stored_as_its_canonical_form_and_hash(backend: Backend) -> None:
    subject = f"test:{secrets.token_hex(6)}"
    with backend.context.sessions() as s:
        audit.record(s, action="test.one", subject=subject, actor="staff:ਅਫ਼ਸਰ", details=AWKWARD, at=_at(1))
        s.commit()
    (row,) = _stored(backend, subject)
    _assert_as_verify_recomputes(row, Entry(0, _at(1), "test.one", subject, "staff:ਅਫ਼ਸਰ", AWKWARD))


def test_several_entries_and_a_rolled_back_savepoint_are_stored_as_their_canonical_forms(backend: Backend) -> None:
    subject = f"test:{secrets.token_hex(6)}"
    kept = [Entry(0, _at(n), f"test.step{n}", subject, "staff:tester", {"n": n, "ਨਾਮ": f"ਕਦਮ {n}"}) for n in range(4)]
    with backend.context.sessions() as s:
        for entry in kept[:2]:
            audit.record(s, action=entry.action, subject=subject, actor=entry.actor, details=entry.details, at=entry.at)
        savepoint = s.begin_nested()
        audit.record(s, action="test.dropped", subject=subject, actor="staff:tester", details=AWKWARD, at=_at(9))
        savepoint.rollback()
        with s.begin_nested():
            audit.record(
                s, action=kept[2].action, subject=subject, actor="staff:tester", details=kept[2].details, at=kept[2].at
            )
        audit.record(
            s, action=kept[3].action, subject=subject, actor="staff:tester", details=kept[3].details, at=kept[3].at
        )
        s.commit()
    rows = _stored(backend, subject)
    assert [row.leaf_index for row in rows] == list(range(rows[0].leaf_index, rows[0].leaf_index + 4))
    assert [row.action for row in rows] == [entry.action for entry in kept]
    for row, entry in zip(rows, kept, strict=True):
        assert row.recorded_at == entry.at
        _assert_as_verify_recomputes(row, entry)


@pytest.mark.parametrize("count", [1, 3])
def test_postgresql_appends_in_one_statement(backend: Backend, count: int) -> None:
    sent: list[str] = []

    def remember(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    subject = f"test:{secrets.token_hex(6)}"
    with backend.context.sessions() as s:
        for n in range(count):
            audit.record(s, action="test.trip", subject=subject, actor="staff:tester", details={"n": n})
        s.connection()  # the transaction's own start is not the append's
        event.listen(backend.engine, "before_cursor_execute", remember)
        try:
            s.commit()
        finally:
            event.remove(backend.engine, "before_cursor_execute", remember)
    assert len(_stored(backend, subject)) == count
    touching_the_log = [statement for statement in sent if "audit_" in statement]
    assert len(touching_the_log) == (1 if backend.engine.dialect.name == "postgresql" else 2)


def test_a_naive_time_is_refused_when_noted(backend: Backend) -> None:
    with backend.context.sessions() as s, pytest.raises(ValueError, match="naive"):
        audit.record(s, action="test.naive", subject="test:x", actor="staff:tester", at=datetime(2026, 12, 6))
