"""The job wiring: jobs exist only once their transaction commits, on both backends; a
waiting job is not queued twice; the embedded deployment runs batches in the server
process on a process pool; every domain's periodic work is scheduled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.context import AppContext
from app.factory import create_app
from app.jobs import drain, registry, start_in_process
from sanad.jobs import TaskSpec, conninfo
from sanad.local_jobs import LocalQueue
from tests.conftest import Backend, IssuingDepartment, client_address
from tests.issuer.batches_helpers import rows_csv, submit

ran: list[dict[str, Any]] = []


def _record(context: object, **arguments: Any) -> None:
    ran.append(arguments)


@pytest.fixture
def recording(backend: Backend) -> Iterator[AppContext]:
    """A context whose registry has a task that records its arguments."""
    context = AppContext.assemble(
        backend.settings, backend.engine, backend.store, backend.context.kit.templates, backend.context.kit.renderer
    )
    context.registry.add("test", [TaskSpec("record", _record, queue="batches")])
    ran.clear()
    yield context
    context.jobs.close()


def test_a_job_runs_only_if_its_transaction_commits(recording: AppContext) -> None:
    with recording.sessions() as session:
        session.execute(text("SELECT 1"))
        recording.jobs.defer(session, "test:record", {"n": 1})
        session.rollback()
    with recording.sessions.begin() as session:
        recording.jobs.defer(session, "test:record", {"n": 2}, queueing_lock="record-2")
        recording.jobs.defer(session, "test:record", {"n": 2}, queueing_lock="record-2")

    drain(recording, queues=["batches"])

    assert ran == [{"n": 2}]


def test_every_domains_periodic_work_is_scheduled() -> None:
    names = {name for name, _ in registry().periodic}

    assert names == {
        "issuer:resume_batches",
        "issuer:archive_refresh",
        "issuer:sweep_long_term",
        "intake:escalate",
        "intake:finish_approvals",
        "intake:deliver_notices",
        "audit:checkpoint",
        "digilocker:deliver_pushes",
        "digilocker:forget_transactions",
    }


def test_the_connection_string_keeps_the_schema_and_credentials() -> None:
    url = "postgresql+psycopg://sanad:s%40cret@db:5432/sanad?options=-csearch_path%3Dtest_1"

    assert conninfo(url) == "postgresql://sanad:s%40cret@db:5432/sanad?options=-csearch_path%3Dtest_1"


def test_the_embedded_server_runs_batches_in_process(backend: Backend, dept: IssuingDepartment) -> None:
    if backend.name != "embedded":
        pytest.skip("with PostgreSQL, `sanad worker` processes run batches")
    settings = backend.settings.model_copy(update={"batch_processes": 2, "batch_chunk_rows": 2})
    context = AppContext.assemble(
        settings, backend.engine, backend.store, backend.context.kit.templates, backend.context.kit.renderer
    )
    assert isinstance(context.jobs, LocalQueue)
    start_in_process(context)
    try:
        with TestClient(create_app(context=context), client=client_address()) as client:
            batch = submit(client, dept, rows_csv(5)).json()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                status = client.get(f"/api/v1/batches/{batch['id']}", headers=dept.headers).json()
                if status["status"] == "completed":
                    break
                time.sleep(0.2)
    finally:
        context.jobs.close()

    assert status["status"] == "completed"
    assert status["rows_done"] == 5
