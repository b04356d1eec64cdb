"""A chunk of a batch, issued as one unit on both backends: one transaction records all
its rows, a second run of the same chunk at the same moment keeps exactly one document
per row and leaves no object behind, a run that died before its commit leaves nothing
once the chunk runs again, a run given up for dead records nothing, a cancel during
signing keeps nothing, and a holder's changed number is recorded exactly as a single
issue records it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, update

from issuer import batches, batches_issuing
from issuer import batches_repository as batch_repository
from issuer.batches_models import Batch, BatchStatus
from issuer.models import Document, HolderBindingMismatch
from issuer.service import _render_and_sign as render_and_sign
from issuer.service import find_orphans
from sanad.ids import new_document_id
from tests.conftest import Backend, IssuingDepartment, income_certificate
from tests.issuer.batches_helpers import csv_file, results, row, rows_csv, run_jobs, submit


@contextmanager
def _commits(engine: Engine) -> Iterator[list[int]]:
    """Counts the transactions committed on ``engine`` while the block runs."""
    counted: list[int] = []

    def count(connection: object) -> None:
        counted.append(1)

    event.listen(engine, "commit", count)
    try:
        yield counted
    finally:
        event.remove(engine, "commit", count)


def _running(backend: Backend, batch_id: str) -> None:
    """The batch as a worker's ``process_batch`` leaves it: running, no jobs waiting."""
    with backend.context.sessions.begin() as s:
        s.execute(
            update(Batch).where(Batch.id == batch_id).values(status=BatchStatus.RUNNING, started_at=datetime.now(UTC))
        )


def _documents_per_row(backend: Backend, batch_id: str) -> list[int]:
    with backend.context.sessions() as s:
        counts = s.execute(
            select(func.count())
            .select_from(Document)
            .where(Document.idempotency_key.like(f"batch:{batch_id}:%"))
            .group_by(Document.idempotency_key)
        )
        return sorted(int(n) for (n,) in counts)


def _orphans(backend: Backend) -> list[str]:
    with backend.context.sessions() as s:
        return find_orphans(s, backend.store, now=datetime.now(UTC) + timedelta(hours=1))


def test_a_chunk_is_recorded_in_one_transaction_whatever_its_size(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    batch = submit(client, dept, rows_csv(6)).json()
    _running(backend, batch["id"])

    with _commits(backend.engine) as commits:
        batches.issue_rows(backend.context, batch["id"], 1, 6)

    # The citizens and status indexes, then the documents with the rows' outcomes, then
    # the batch's close: never one per row.
    assert len(commits) <= 3, len(commits)
    status = client.get(f"/api/v1/batches/{batch['id']}", headers=dept.headers).json()
    assert (status["status"], status["rows_done"]) == ("completed", 6)
    assert _documents_per_row(backend, batch["id"]) == [1] * 6


def test_two_runs_of_one_chunk_at_once_keep_one_document_per_row(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    """What the job engine's lock normally prevents (a chunk handed out again while its
    first run still works): whichever run's claims on the rows were replaced records
    nothing and removes its own objects, or a run finds the rows already recorded."""
    batch = submit(client, dept, rows_csv(3)).json()
    _running(backend, batch["id"])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            batches.issue_rows(backend.context, batch["id"], 1, 3)
        except BaseException as e:  # reported below, with the assertion
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert errors == []
    assert _documents_per_row(backend, batch["id"]) == [1, 1, 1]
    lines = results(client, dept, batch["id"])
    assert [line["status"] for line in lines] == ["issued"] * 3
    with backend.context.sessions() as s:
        recorded = {line["document_id"] for line in lines}
        stored = set(s.scalars(select(Document.id).where(Document.idempotency_key.like(f"batch:{batch['id']}:%"))))
    assert recorded == stored
    status = client.get(f"/api/v1/batches/{batch['id']}", headers=dept.headers).json()
    assert (status["status"], status["rows_done"]) == ("completed", 3)
    assert _orphans(backend) == []


def test_a_batch_cancelled_while_its_chunk_is_signed_keeps_nothing_of_it(
    client: TestClient, backend: Backend, dept: IssuingDepartment, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = submit(client, dept, rows_csv(2)).json()
    _running(backend, batch["id"])
    sign = render_and_sign

    def cancel_then_sign(*args: object, **kwargs: object) -> object:
        client.post(f"/api/v1/batches/{batch['id']}/cancel", headers=dept.headers)
        return sign(*args, **kwargs)  # type: ignore[arg-type]

    # The department cancels while the first row is being signed.
    monkeypatch.setattr(batches_issuing, "_render_and_sign", cancel_then_sign)
    batches.issue_rows(backend.context, batch["id"], 1, 2)

    assert _documents_per_row(backend, batch["id"]) == []
    assert {line["status"] for line in results(client, dept, batch["id"])} == {"cancelled"}
    assert _orphans(backend) == []


def test_a_rows_new_number_for_a_known_citizen_is_recorded_as_a_mismatch(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    first = client.post(
        "/api/v1/documents",
        json={**income_certificate("MOVED-1"), "citizen_mobile": "9876500001"},
        headers=dept.headers,
    )
    assert first.status_code == 201, first.text
    batch = submit(
        client, dept, csv_file([row("MOVED-1", citizen_mobile="9876500002"), row("NEW-1", citizen_mobile="9876500003")])
    ).json()

    run_jobs(backend)

    lines = results(client, dept, batch["id"])
    assert [line["status"] for line in lines] == ["issued", "issued"]
    with backend.context.sessions() as s:
        mismatches = list(
            s.execute(
                select(HolderBindingMismatch.document_id, HolderBindingMismatch.previous_mobile).where(
                    HolderBindingMismatch.department_id == dept.department.id
                )
            )
        )
        ids = [line["document_id"] for line in lines]
        holders = {d.id: d.holder_mobile for d in s.scalars(select(Document).where(Document.id.in_(ids)))}
    assert [tuple(m) for m in mismatches] == [(lines[0]["document_id"], "9876500001")]
    assert holders == {lines[0]["document_id"]: "9876500002", lines[1]["document_id"]: "9876500003"}


class _Killed(BaseException):
    """The worker process dying: nothing after it runs, not even clean-up."""


def test_a_run_killed_before_its_commit_leaves_no_object_once_the_chunk_runs_again(
    client: TestClient, backend: Backend, dept: IssuingDepartment, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = submit(client, dept, rows_csv(3)).json()
    _running(backend, batch["id"])

    def die(*args: object, **kwargs: object) -> None:
        raise _Killed

    with monkeypatch.context() as dying:
        dying.setattr(batches_issuing, "_commit", die)  # every object stored, then kill -9
        dying.setattr(batches_issuing, "_discard", lambda *args, **kwargs: None)
        with pytest.raises(_Killed):
            batches.issue_rows(backend.context, batch["id"], 1, 3)
    left_behind = _orphans(backend)
    assert len(left_behind) == 3

    batches.issue_rows(backend.context, batch["id"], 1, 3)  # the job engine runs the chunk again
    run_jobs(backend)  # and the job deleting what the dead run stored

    assert _documents_per_row(backend, batch["id"]) == [1, 1, 1]
    assert _orphans(backend) == []
    lines = results(client, dept, batch["id"])
    assert [line["status"] for line in lines] == ["issued"] * 3
    assert not {key.rsplit("/", 1)[1].removesuffix(".pdf") for key in left_behind} & {
        line["document_id"] for line in lines
    }


def test_a_run_whose_rows_were_claimed_again_records_nothing_and_removes_its_objects(
    client: TestClient, backend: Backend, dept: IssuingDepartment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run the job engine gave up for dead (its worker stalled, not gone) while another
    run took the chunk over: the first finishes signing, then must not record."""
    batch = submit(client, dept, rows_csv(3)).json()
    _running(backend, batch["id"])
    commit = batches_issuing._commit

    def taken_over_then_commit(*args: object) -> object:
        with backend.context.sessions.begin() as s:
            batch_repository.claim_rows(s, batch["id"], {row: new_document_id() for row in (1, 2, 3)})
        return commit(*args)  # type: ignore[arg-type]

    with monkeypatch.context() as stalled:
        stalled.setattr(batches_issuing, "_commit", taken_over_then_commit)
        batches.issue_rows(backend.context, batch["id"], 1, 3)

    assert _documents_per_row(backend, batch["id"]) == []
    assert _orphans(backend) == []
    assert {line["status"] for line in results(client, dept, batch["id"])} == {"pending"}
    assert {line["document_id"] for line in results(client, dept, batch["id"])} == {None}

    batches.issue_rows(backend.context, batch["id"], 1, 3)  # the run that took over
    assert _documents_per_row(backend, batch["id"]) == [1, 1, 1]
    assert client.get(f"/api/v1/batches/{batch['id']}", headers=dept.headers).json()["status"] == "completed"
