"""A chunk's bookkeeping in a few statements: binding its citizens together gives what
binding them one request at a time gives, and recording its rows' outcomes at once
leaves a row recorded earlier as it was."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from issuer import batches_repository, repository
from issuer.batches_models import Batch, BatchRow, BatchStatus, RowStatus
from sanad.models import Citizen
from tests.conftest import Backend, create_department


def _requests(tag: str) -> list[tuple[str, str | None]]:
    """New and known citizens, a citizen named thrice with a change, one without a number."""
    return [
        (f"{tag}-known", "9800000001"),
        (f"{tag}-new", "9800000002"),
        (f"{tag}-new", None),
        (f"{tag}-known", "9800000003"),
        (f"{tag}-silent", None),
        (f"{tag}-new", "9800000004"),
        (f"{tag}-known", "9800000003"),
    ]


def test_binding_citizens_together_is_binding_them_one_by_one(backend: Backend) -> None:
    one_by_one, together = create_department(backend), create_department(backend)
    tag = secrets.token_hex(3)
    with backend.context.sessions.begin() as session:
        for dept in (one_by_one, together):  # a record that exists before, with a number
            repository.bind_citizen(session, dept.department.id, f"{tag}-known", "9800000000")

    with backend.context.sessions.begin() as session:
        expected = [repository.bind_citizen(session, one_by_one.department.id, c, m) for c, m in _requests(tag)]
        got = repository.bind_citizens(session, together.department.id, _requests(tag))

    assert [b.previous_mobile for b in got] == [b.previous_mobile for b in expected]
    assert [b.previous_mobile for b in got] == [
        "9800000000",
        None,
        "9800000002",
        "9800000001",
        None,
        "9800000002",
        "9800000003",
    ]
    refs = {c: b.ref for (c, _), b in zip(_requests(tag), got, strict=True)}
    assert all(refs[c] == b.ref for (c, _), b in zip(_requests(tag), got, strict=True))  # one record per citizen
    with backend.context.sessions() as session:

        def stored(department_id: int) -> dict[str, str | None]:
            query = select(Citizen.citizen_id, Citizen.mobile).where(Citizen.department_id == department_id)
            return {str(c).removeprefix(f"{tag}-"): m for c, m in session.execute(query)}

        assert stored(together.department.id) == stored(one_by_one.department.id)
        assert stored(together.department.id) == {"known": "9800000003", "new": "9800000004", "silent": None}


def test_status_indexes_are_fresh_and_distinct(backend: Backend) -> None:
    with backend.context.sessions.begin() as session:
        first = repository.allocate_status_indexes(session, datetime.now(UTC), 5)
        second = repository.allocate_status_indexes(session, datetime.now(UTC), 3)
        single = repository.allocate_status_index(session, datetime.now(UTC))
    assert len(set(first + second + [single])) == 9
    assert min(second) > max(first)
    assert single > max(second)


def test_recording_outcomes_together_leaves_an_earlier_record_alone(backend: Backend) -> None:
    dept = create_department(backend)
    batch_id = secrets.token_hex(8)
    now = datetime.now(UTC)
    with backend.context.sessions.begin() as session:
        session.add(
            Batch(
                id=batch_id,
                department_id=dept.department.id,
                type="income-certificate",
                status=BatchStatus.RUNNING,
                file_format="csv",
                file_sha256="0" * 64,
                request_hash="0" * 64,
                created_at=now,
            )
        )
        session.flush()
        for row in (1, 2, 3):
            session.add(BatchRow(batch_id=batch_id, row=row, citizen_id=f"C{row}", request={}))
        session.flush()
        # Row 3 was recorded by an earlier run.
        assert batches_repository.mark_rows(
            session, batch_id, {3: {"status": RowStatus.FAILED, "error": "earlier"}}
        ) == {3}

    outcomes: dict[int, dict[str, Any]] = {
        1: {"status": RowStatus.ISSUED, "document_id": "d1", "sha256": "a" * 64},
        2: {"status": RowStatus.FAILED, "error": "no such district", "document_id": None},
        3: {"status": RowStatus.ISSUED, "document_id": "d3", "sha256": "b" * 64},
    }
    with backend.context.sessions.begin() as session:
        assert batches_repository.mark_rows(session, batch_id, outcomes) == {1, 2}

    with backend.context.sessions() as session:
        rows = {
            r.row: (r.status, r.document_id, r.sha256, r.error)
            for r in session.scalars(select(BatchRow).where(BatchRow.batch_id == batch_id))
        }
    assert rows == {
        1: (RowStatus.ISSUED, "d1", "a" * 64, None),
        2: (RowStatus.FAILED, None, None, "no such district"),
        3: (RowStatus.FAILED, None, None, "earlier"),
    }
