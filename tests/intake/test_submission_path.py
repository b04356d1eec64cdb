"""What keeps a submission cheap: the answer comes from the rows just written, the filing
runs off the event loop, and an application number is one statement."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from intake import applications, repository
from tests.conftest import Backend
from tests.intake.helpers import apply, ensure_department
from tests.locker.conftest import new_mobile, sign_in


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    ensure_department(backend, "REV")


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL ``engine`` sends meanwhile."""
    seen: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", remember)


def test_the_submission_answer_is_what_reading_the_application_gives(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())

    answer = apply(client, headers)
    assert answer.status_code == 201, answer.text
    read = client.get(f"/api/v1/applications/{answer.json()['number']}", headers=headers)

    assert read.status_code == 200
    assert answer.json() == read.json()


def test_a_submission_does_not_read_back_what_it_wrote(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())

    with statements(backend.engine) as seen:
        answer = apply(client, headers)

    assert answer.status_code == 201, answer.text
    read_back = [s for s in seen if "FROM application_events" in s or "FROM application_attachments" in s]
    assert read_back == []


def test_the_filing_runs_off_the_event_loop(
    client: TestClient, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filing waits on the database and object storage; on the event loop it would hold
    up every other request the worker serves."""
    on_a_loop: list[bool] = []
    file = applications.submit

    def watched(*args: Any, **kwargs: Any) -> applications.Submitted:
        try:
            asyncio.get_running_loop()
            on_a_loop.append(True)
        except RuntimeError:
            on_a_loop.append(False)
        return file(*args, **kwargs)

    monkeypatch.setattr(applications, "submit", watched)
    headers = sign_in(client, backend, new_mobile())

    answer = apply(client, headers)

    assert answer.status_code == 201, answer.text
    assert on_a_loop == [False]


def test_a_number_is_one_statement_once_its_sequence_exists(backend: Backend) -> None:
    if backend.name == "embedded":
        pytest.skip("SQLite keeps a counter row, one writer at a time")
    prefix = "PB-T-" + secrets.token_hex(3).upper()
    with backend.context.sessions() as session:
        repository.next_serial(session, prefix, 2026)
        with statements(backend.engine) as seen:
            second = repository.next_serial(session, prefix, 2026)
        session.commit()

    assert second == 2
    assert len(seen) == 1, seen
    assert "SAVEPOINT" not in seen[0]


def test_a_sequence_made_by_a_transaction_that_rolled_back_is_made_again(backend: Backend) -> None:
    prefix = "PB-T-" + secrets.token_hex(3).upper()
    with backend.context.sessions() as session:
        repository.next_serial(session, prefix, 2026)
        session.rollback()  # takes the new sequence (or counter row) with it
        again = [repository.next_serial(session, prefix, 2026) for _ in range(2)]
        session.commit()

    assert again == [1, 2]
