"""Bulk issuing through a PostgreSQL restart: a real ``sanad worker`` issues a batch
while its database is restarted under it; the batch completes with exactly one document
per row and no object without its row.

The drill runs on a PostgreSQL cluster of its own (its own data directory and port,
removed afterwards), since the suite's cluster is shared by every other test."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError

from app.context import AppContext
from app.factory import create_app
from app.migrate import upgrade
from issuer.batches_models import UNFINISHED, Batch
from issuer.render import CertificateRenderer
from issuer.service import find_orphans
from issuer.templates import TemplateSpec
from sanad.db import make_engine
from sanad.storage import MinioStore
from tests.conftest import Backend, client_address, create_department
from tests.issuer.batches_helpers import rows_csv, submit
from tests.issuer.test_batches_faults import _documents_per_row, _start_worker, _worker_environment
from tests.ops.drill_site import stop
from tests.private_services import Cluster, private_cluster


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with private_cluster("sanad_drill") as server:
        yield server


def _progress(url: str, batch_id: str) -> tuple[str, int] | None:
    """(status, rows done) of the batch, or None while the database does not answer."""
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            status, done = connection.execute(select(Batch.status, Batch.rows_done).where(Batch.id == batch_id)).one()
            return str(status), int(done)
    except OperationalError:
        return None
    finally:
        engine.dispose()


def _wait(url: str, batch_id: str, *, done: int | None, timeout: float) -> tuple[str, int] | None:
    """The batch once ``done`` rows are issued (None: once it is finished), or as it is at
    the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        seen = _progress(url, batch_id)
        if seen is not None:
            reached = seen[0] not in UNFINISHED if done is None else seen[1] >= done
            if reached:
                return seen
        if time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def test_postgresql_restarted_mid_batch(
    backend: Backend,
    cluster: Cluster,
    templates: dict[str, TemplateSpec],
    renderer: CertificateRenderer,
    tmp_path: Path,
) -> None:
    if backend.name != "postgres-minio":
        pytest.skip("the job engine's workers run on PostgreSQL")
    url = f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/sanad_drill"
    # A bucket of its own too: every object in it must belong to the drill's database.
    bucket = f"sanad-drill-{secrets.token_hex(4)}"
    settings = backend.settings.model_copy(update={"database_url": url, "minio_bucket": bucket})
    store = MinioStore.connect(settings.minio_endpoint, settings.minio_access_key, settings.minio_secret_key, bucket)
    store.ensure_bucket()
    engine = make_engine(url)
    upgrade(engine)
    context = AppContext.assemble(settings, engine, store, templates, renderer)
    drill = Backend("postgres-minio", settings, engine, store, context)
    dept = create_department(drill)
    rows = 15
    with TestClient(create_app(context=context), client=client_address()) as client:
        batch = submit(client, dept, rows_csv(rows)).json()
    log = tmp_path / "worker.log"
    worker = _start_worker(_worker_environment(drill, tmp_path), log)
    try:
        before = _wait(url, batch["id"], done=3, timeout=180)
        assert before is not None, log.read_text()[-3000:]
        assert before[1] >= 3, log.read_text()[-3000:]
        cluster.restart()
        at_restart = _progress(url, batch["id"])
        after = _wait(url, batch["id"], done=None, timeout=300)
        with context.sessions() as s:
            orphans = find_orphans(s, store, now=datetime.now(UTC) + timedelta(hours=1))
        per_row = _documents_per_row(drill, batch["id"])
    finally:
        stop(worker)
        for info in store.list():
            store.delete(info.key)
        store.client.remove_bucket(bucket)
        engine.dispose()

    assert at_restart is not None
    assert at_restart[1] < rows, "the batch finished before the restart; make it longer"
    assert after == ("completed", rows), log.read_text()[-3000:]
    assert sorted(per_row) == sorted(f"batch:{batch['id']}:{n}" for n in range(1, rows + 1))
    assert set(per_row.values()) == {1}
    assert orphans == []  # what `sanad fsck` reports, without its grace period
