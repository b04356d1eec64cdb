"""Bulk issuing through faults: an object store outage in the middle of a chunk (both
backends), a real worker process killed with ``kill -9`` mid-batch and replaced, and
MinIO stopped for 30 seconds mid-batch (PostgreSQL + MinIO): every time, exactly one
document per row and no orphan object."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from issuer import batches, batches_issuing
from issuer.batches_models import UNFINISHED, Batch, BatchRow, BatchStatus, RowStatus
from issuer.models import Document
from issuer.service import find_orphans
from sanad.storage import MinioStore, ObjectMissing, StorageUnavailable
from tests.conftest import REPO, Backend, IssuingDepartment
from tests.issuer.batches_helpers import documents_per_key, results, rows_csv, run_jobs, submit
from tests.issuer.test_outages import unreachable_store
from tests.ops.drill_site import stop
from tests.private_services import MINIO_PASSWORD, MINIO_USER, minio_binary, serve_minio
from trust.local import free_port

#: Rows a worker's job issues in one transaction here.
CHUNK_ROWS = 3


def _documents_per_row(backend: Backend, batch_id: str) -> dict[str, int]:
    with backend.context.sessions() as s:
        return documents_per_key(s, f"batch:{batch_id}:")


def _orphans(backend: Backend) -> list[str]:
    """What ``sanad fsck`` would report, without its grace period."""
    with backend.context.sessions() as s:
        return find_orphans(s, backend.store, now=datetime.now(UTC) + timedelta(hours=1))


def _orphans_after_cleanup(backend: Backend, timeout: float = 90) -> list[str]:
    """Orphans once the deleting jobs the workers run have had ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (orphans := _orphans(backend)) and time.monotonic() < deadline:
        time.sleep(1)
    return orphans


def test_a_storage_outage_stops_the_chunk_and_a_rerun_finishes_it(
    client: TestClient, backend: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    batch = submit(client, dept, rows_csv(2)).json()
    with backend.context.sessions.begin() as s:  # started, as a worker would have
        s.execute(update(Batch).where(Batch.id == batch["id"]).values(status=BatchStatus.RUNNING))
    store = unreachable_store(backend, tmp_path)
    down = replace(backend.context, store=store, kit=replace(backend.context.kit, store=store))

    with pytest.raises(StorageUnavailable):
        batches.issue_rows(down, batch["id"], 1, 2)

    with backend.context.sessions() as s:
        statuses = set(s.scalars(select(BatchRow.status).where(BatchRow.batch_id == batch["id"])))
    assert statuses == {RowStatus.PENDING}
    assert _documents_per_row(backend, batch["id"]) == {}
    batches.issue_rows(backend.context, batch["id"], 1, 2)  # the job engine's retry, once storage is back
    run_jobs(backend)
    assert client.get(f"/api/v1/batches/{batch['id']}", headers=dept.headers).json()["status"] == "completed"
    assert set(_documents_per_row(backend, batch["id"]).values()) == {1}


def test_the_discard_job_deletes_only_objects_no_document_references(
    client: TestClient, backend: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    batch = submit(client, dept, rows_csv(1)).json()
    run_jobs(backend)
    with backend.context.sessions() as s:
        kept = s.scalars(select(Document.storage_key).where(Document.idempotency_key == f"batch:{batch['id']}:1")).one()
    stray = kept.rsplit("/", 1)[0] + "/left-by-a-failed-chunk.pdf"
    backend.store.put(stray, b"%PDF-1.7 stray", "application/pdf")

    batches_issuing.discard_objects(backend.context.sessions, backend.context.kit, [stray, kept])

    with pytest.raises(ObjectMissing):
        backend.store.get(stray)
    assert backend.store.get(kept).startswith(b"%PDF")


def test_the_discard_job_fails_while_the_store_is_down_so_the_engine_runs_it_again(
    backend: Backend, tmp_path: Path
) -> None:
    store = unreachable_store(backend, tmp_path)
    down = replace(backend.context.kit, store=store)

    with pytest.raises(StorageUnavailable):
        batches_issuing.discard_objects(backend.context.sessions, down, ["citizens/x/left-by-a-failed-chunk.pdf"])


def _worker_environment(backend: Backend, log_dir: Path) -> dict[str, str]:
    settings = backend.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANAD_") or k.startswith("SANAD_TEST_")}
    env.update(
        SANAD_ENV="test",
        SANAD_DATABASE_URL=settings.database_url,
        SANAD_STORAGE_BACKEND="minio",
        SANAD_MINIO_ENDPOINT=settings.minio_endpoint,
        SANAD_MINIO_ACCESS_KEY=settings.minio_access_key,
        SANAD_MINIO_SECRET_KEY=settings.minio_secret_key,
        SANAD_MINIO_BUCKET=settings.minio_bucket,
        SANAD_KEYS_DIR=str(settings.keys_dir),
        SANAD_BATCH_CHUNK_ROWS=str(CHUNK_ROWS),
        SANAD_PUBLIC_BASE_URL=settings.public_base_url,
    )
    return env


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).parent / "sanad"),
        "worker",
        "--concurrency",
        "1",
        "--queue",
        "batches",
        "--queue",
        "upkeep",
    ]
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_for(
    client: TestClient, dept: IssuingDepartment, batch_id: str, done: int | None, timeout: float
) -> dict[str, Any]:
    """The batch once ``done`` rows are issued (``done=None``: once it is finished), or as
    it is when ``timeout`` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"/api/v1/batches/{batch_id}", headers=dept.headers).json()
        reached = status["status"] not in UNFINISHED if done is None else int(status["rows_done"]) >= done
        if reached or time.monotonic() > deadline:
            return dict(status)
        time.sleep(0.1)


def test_a_worker_killed_mid_batch_is_replaced_and_every_row_is_issued_once(
    client: TestClient, backend: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    if backend.name != "postgres-minio":
        pytest.skip("the job engine's workers run on PostgreSQL")
    env = _worker_environment(backend, tmp_path)
    log = tmp_path / "workers.log"
    rows = 60  # long enough that the kill lands mid-batch: a chunk of 3 takes ~0.1 s
    batch = submit(client, dept, rows_csv(rows)).json()

    first = _start_worker(env, log)
    try:
        before = _wait_for(client, dept, batch["id"], 3, timeout=120)
    finally:
        first.send_signal(signal.SIGKILL)  # kill -9: no cleanup, its job stays "doing"
        first.wait(timeout=30)
    assert int(before["rows_done"]) >= 3, log.read_text()
    killed_at = _wait_for(client, dept, batch["id"], 0, timeout=0)
    assert int(killed_at["rows_done"]) < rows, "the batch finished before the kill; make it longer"

    second = _start_worker(env, log)
    try:
        after = _wait_for(client, dept, batch["id"], None, timeout=240)
        # The replacing run handed the killed run's objects to the deleting job when it
        # took the rows over: nothing is left for `sanad fsck`.
        orphans = _orphans_after_cleanup(backend)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)

    assert after["status"] == "completed", log.read_text()
    per_row = _documents_per_row(backend, batch["id"])
    assert sorted(per_row) == sorted(f"batch:{batch['id']}:{n}" for n in range(1, rows + 1))
    assert set(per_row.values()) == {1}
    assert {line["status"] for line in results(client, dept, batch["id"])} == {"issued"}
    assert orphans == []


def test_minio_stopped_for_30_seconds_mid_batch(
    client: TestClient, backend: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    """The drill on a MinIO of its own (the suite's is shared): the worker's chunk fails
    while the store is down, the job engine runs it again, and the batch completes."""
    if backend.name != "postgres-minio":
        pytest.skip("the job engine's workers run on PostgreSQL")
    binary = minio_binary()
    port, log = free_port(), tmp_path / "drill.log"
    minio = serve_minio(binary, tmp_path / "minio", port, log)
    try:  # whatever fails, the drill's MinIO (the one running at the end) is stopped
        store = MinioStore.connect(f"127.0.0.1:{port}", MINIO_USER, MINIO_PASSWORD, "drill")
        store.ensure_bucket()
        env = _worker_environment(backend, tmp_path) | {
            "SANAD_MINIO_ENDPOINT": f"127.0.0.1:{port}",
            "SANAD_MINIO_ACCESS_KEY": MINIO_USER,
            "SANAD_MINIO_SECRET_KEY": MINIO_PASSWORD,
            "SANAD_MINIO_BUCKET": "drill",
        }
        rows = 12
        batch = submit(client, dept, rows_csv(rows)).json()
        worker = _start_worker(env, log)
        try:
            _wait_for(client, dept, batch["id"], 2, timeout=120)
            minio.terminate()
            minio.wait(timeout=30)
            time.sleep(30)
            stalled = _wait_for(client, dept, batch["id"], rows, timeout=0)
            minio = serve_minio(binary, tmp_path / "minio", port, log)
            after = _wait_for(client, dept, batch["id"], None, timeout=240)
            # Objects stored just before the stop that the failed chunk could not delete then
            # are deleted by a job of their own, retried until the store answers.
            deadline = time.monotonic() + 90
            while True:
                with backend.context.sessions() as s:
                    orphans = find_orphans(s, store, now=datetime.now(UTC) + timedelta(hours=1))
                if not orphans or time.monotonic() > deadline:
                    break
                time.sleep(1)
        finally:
            stop(worker)
    finally:
        minio.terminate()
        minio.wait(timeout=30)

    assert int(stalled["rows_done"]) < rows, "the batch finished before the store stopped; make it longer"
    assert after["status"] == "completed", log.read_text()[-3000:]
    assert set(_documents_per_row(backend, batch["id"]).values()) == {1}
    assert len(_documents_per_row(backend, batch["id"])) == rows
    assert orphans == []
