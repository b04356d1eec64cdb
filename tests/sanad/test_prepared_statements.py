"""Statements run on the driver inside a session's transaction (``sanad.db``): a prepared
insert stores what SQLAlchemy's insert stores, a prepared read sees the transaction's own
writes, statements sent together in a pipeline fail together, and every error is
SQLAlchemy's, a dropped connection one the app answers 503."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, bindparam, event, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from intake.models import Notification
from sanad import db
from sanad.db import PreparedInsert, PreparedRead, pipelined
from tests.conftest import Backend

_table = Notification.__table__
assert isinstance(_table, Table)
NOTIFICATIONS: Table = _table
ROWS = PreparedInsert(NOTIFICATIONS)
BY_PURPOSE = PreparedRead(
    select(Notification.recipient, Notification.status, Notification.attempts, Notification.next_attempt_at)
    .where(Notification.purpose == bindparam("purpose"))
    .order_by(Notification.recipient)
)


def _row(purpose: str, recipient: str, **more: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "channel": "sms",
        "recipient": recipient,
        "purpose": purpose,
        "body": "ਸਨਦ: hello",
        "next_attempt_at": now,
        "created_at": now,
        **more,
    }


@pytest.fixture
def purpose() -> str:
    return f"test_{secrets.token_hex(6)}"


@pytest.fixture
def session(backend: Backend) -> Iterator[Session]:
    with backend.context.sessions() as s:
        yield s
        s.rollback()


def _stored(session: Session, purpose: str) -> list[tuple[Any, ...]]:
    query = (
        select(Notification.recipient, Notification.status, Notification.attempts, Notification.last_error)
        .where(Notification.purpose == purpose)
        .order_by(Notification.recipient)
    )
    return [tuple(row) for row in session.execute(query)]


def test_a_prepared_insert_stores_what_sqlalchemys_insert_stores(session: Session, purpose: str) -> None:
    # Left out: status and attempts (Python-side defaults), last_error (none: SQL NULL).
    ROWS.run(session, [_row(purpose, "a"), _row(purpose, "b")])
    session.connection().execute(insert(NOTIFICATIONS), [_row(purpose, "c")])

    assert _stored(session, purpose) == [
        ("a", "pending", 0, None),
        ("b", "pending", 0, None),
        ("c", "pending", 0, None),
    ]


def test_a_prepared_read_sees_the_transactions_own_writes_in_utc(session: Session, purpose: str) -> None:
    written = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    ROWS.run(session, [_row(purpose, "a", next_attempt_at=written, attempts=3)])

    (row,) = BY_PURPOSE.rows_in(session, {"purpose": purpose})

    assert (row.recipient, row.status, row.attempts) == ("a", "pending", 3)
    assert row.next_attempt_at == written
    assert row.next_attempt_at.tzinfo is not None


def test_objects_pending_in_the_session_go_first(session: Session, purpose: str) -> None:
    session.add(Notification(**_row(purpose, "orm", status="pending", attempts=0)))

    assert [row.recipient for row in BY_PURPOSE.rows_in(session, {"purpose": purpose})] == ["orm"]


def test_statements_sent_together_are_all_stored(session: Session, purpose: str) -> None:
    with pipelined(session):
        ROWS.run(session, [_row(purpose, "a")])
        ROWS.run(session, [_row(purpose, "b"), _row(purpose, "c")])

    assert [row[0] for row in _stored(session, purpose)] == ["a", "b", "c"]


def test_a_block_that_fails_sends_nothing(backend: Backend, session: Session, purpose: str) -> None:
    if backend.name == "embedded":
        pytest.skip("on SQLite the statements run as the block runs")

    def fail_after_an_insert() -> None:
        with pipelined(session):
            ROWS.run(session, [_row(purpose, "a")])
            raise RuntimeError("the caller's own failure")

    with pytest.raises(RuntimeError):
        fail_after_an_insert()

    assert _stored(session, purpose) == []


def test_more_values_than_a_statement_should_carry_go_insert_by_insert(
    session: Session, purpose: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "MAX_PARAMETERS", 10)
    with pipelined(session):
        ROWS.run(session, [_row(purpose, "a"), _row(purpose, "b")])
        ROWS.run(session, [_row(purpose, "c")])

    assert [row[0] for row in _stored(session, purpose)] == ["a", "b", "c"]


def _three_rows_sent_together(session: Session, purpose: str, clashing_id: int) -> None:
    with pipelined(session):
        ROWS.run(session, [_row(purpose, "a")])
        ROWS.run(session, [_row(purpose, "b", id=clashing_id)])
        ROWS.run(session, [_row(purpose, "c", id=clashing_id)])


def test_a_statement_that_fails_among_others_is_sqlalchemys_error_and_stores_nothing(
    backend: Backend, purpose: str
) -> None:
    with backend.context.sessions() as session:
        taken = session.scalar(select(func.max(Notification.id))) or 0  # given already, or given by "b"
        with pytest.raises(IntegrityError):
            _three_rows_sent_together(session, purpose, taken)
        session.rollback()
        assert _stored(session, purpose) == []


def test_listeners_see_the_prepared_statements(backend: Backend, session: Session, purpose: str) -> None:
    seen: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split("(")[0].strip())

    event.listen(backend.engine, "before_cursor_execute", remember)
    try:
        ROWS.run(session, [_row(purpose, "a")])
        BY_PURPOSE.rows_in(session, {"purpose": purpose})
    finally:
        event.remove(backend.engine, "before_cursor_execute", remember)

    assert seen[0] == "INSERT INTO notifications"
    assert seen[1].startswith("SELECT notifications.recipient")


def test_a_connection_dropped_under_a_session_is_an_invalidated_connection(backend: Backend, purpose: str) -> None:
    if backend.name == "embedded":
        pytest.skip("SQLite has no connection to lose")
    with backend.context.sessions() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with backend.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        with pytest.raises(DBAPIError) as dropped:
            BY_PURPOSE.rows_in(session, {"purpose": purpose})
        session.rollback()

    assert dropped.value.connection_invalidated
    with backend.context.sessions() as session:  # the pool hands out a live one
        assert BY_PURPOSE.rows_in(session, {"purpose": purpose}) == []
