"""A submission's rows, written as statements rather than through the unit of work: they
hold what a flush would have stored, and a failure among them leaves no row and no object."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select, text

from intake import repository
from intake.models import ApplicationEvent, Attachment
from tests.conftest import Backend, client_address
from tests.intake.helpers import apply, ensure_department
from tests.locker.conftest import new_mobile, sign_in


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    ensure_department(backend, "REV")


def test_the_rows_hold_what_a_flush_would_store(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    answer = apply(client, sign_in(client, backend, mobile))
    assert answer.status_code == 201, answer.text

    with backend.context.sessions() as session:
        stored = repository.by_number(session, answer.json()["number"])
        assert stored is not None
        assert (stored.version, stored.escalation_level, stored.pauses) == (1, 0, [])
        assert (stored.officer_values, stored.decided_at, stored.paused_at, stored.document_id) == (None,) * 4
        assert (stored.mobile, stored.status) == (mobile, "submitted")
        files = session.scalars(select(Attachment).where(Attachment.application_id == stored.id)).all()
        assert sorted(a.kind for a in files) == ["aadhaar", "affidavit"]
        assert all(a.replaced_at is None and a.replaced_by is None for a in files)
        # Columns given no value are SQL NULL, not JSON null, as a flush leaves them.
        nulls = session.execute(
            text("SELECT details IS NULL, remarks IS NULL FROM application_events WHERE application_id = :id"),
            {"id": stored.id},
        ).all()
        assert [tuple(row) for row in nulls] == [(True, True)]
        (entry,) = session.scalars(select(ApplicationEvent).where(ApplicationEvent.application_id == stored.id))
        assert (entry.kind, entry.actor) == ("submitted", "citizen, online")


@contextmanager
def failing(engine: Engine, table: str) -> Iterator[None]:
    """Every INSERT into ``table`` fails meanwhile, as a database failing mid-transaction would."""

    def refuse(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith(f"INSERT INTO {table} "):
            raise RuntimeError(f"insert into {table} refused")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


@pytest.mark.parametrize("table", ["application_attachments", "application_events", "notifications"])
def test_a_row_that_fails_leaves_no_row_and_no_object(client: TestClient, backend: Backend, table: str) -> None:
    mobile = new_mobile()
    headers = sign_in(client, backend, mobile)
    before = {info.key for info in backend.store.list("applications/")}

    with (
        TestClient(client.app, client=client_address(), raise_server_exceptions=False) as quiet,
        failing(backend.engine, table),
    ):
        refused = apply(quiet, headers)

    assert refused.status_code == 500
    with backend.context.sessions() as session:
        assert repository.of_mobile(session, mobile, 10) == []
    assert {info.key for info in backend.store.list("applications/")} == before
