"""Outages answer 503 with Retry-After and leave no row without its object, nor the reverse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app.context import AppContext
from app.factory import create_app
from issuer.models import Document
from sanad.db import make_read_session_factory, make_session_factory
from sanad.storage import FilesystemStore, MinioStore, ObjectStore
from tests.conftest import Backend, IssuingDepartment, income_certificate, unreachable_database

MARKER = "ਫੇਲ੍ਹ ਟ੍ਰਿਗਰ"  # a holder name the failure trigger below reacts to


def documents_of(backend: Backend, dept: IssuingDepartment) -> int:
    with backend.context.sessions() as s:
        count = s.scalar(select(func.count()).select_from(Document).where(Document.department_id == dept.department.id))
    return count or 0


def stored_keys(store: ObjectStore) -> set[str]:
    return {info.key for info in store.list("citizens/")}


def unreachable_store(backend: Backend, tmp_path: Path) -> ObjectStore:
    if isinstance(backend.store, MinioStore):
        # Nothing listens on port 1: every request fails to connect.
        return MinioStore.connect("127.0.0.1:1", "x", "y", backend.store.bucket)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's root should be")
    return FilesystemStore(blocker)


def app_with(context: AppContext) -> TestClient:
    return TestClient(create_app(context=context), raise_server_exceptions=False)


def test_storage_outage_is_503_and_writes_no_row(backend: Backend, dept: IssuingDepartment, tmp_path: Path) -> None:
    store = unreachable_store(backend, tmp_path)
    context = replace(backend.context, store=store, kit=replace(backend.context.kit, store=store))

    with app_with(context) as client:
        response = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)
        ready = client.get("/ready")

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert "retry" in response.json()["detail"]
    assert documents_of(backend, dept) == 0
    assert ready.status_code == 503
    assert ready.json()["storage"] == "unavailable"


def test_database_outage_is_503_and_writes_no_object(backend: Backend, dept: IssuingDepartment, tmp_path: Path) -> None:
    engine = unreachable_database(backend, tmp_path)
    context = replace(
        backend.context,
        engine=engine,
        sessions=make_session_factory(engine),
        read_sessions=make_read_session_factory(engine),
    )
    before = stored_keys(backend.store)

    with app_with(context) as client:
        response = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)
        ready = client.get("/ready")

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert stored_keys(backend.store) == before
    assert ready.status_code == 503
    assert ready.json()["database"] == "unavailable"


@pytest.fixture
def failing_inserts(backend: Backend) -> Iterator[None]:
    """A real database failure at commit time, after the object has been written."""
    with backend.engine.begin() as connection:
        if backend.name == "embedded":
            connection.execute(
                text(
                    "CREATE TRIGGER fail_marked_insert BEFORE INSERT ON documents "
                    f"WHEN NEW.holder_name = '{MARKER}' BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION fail_marked_insert() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.holder_name = '{MARKER}' THEN "
                    "RAISE EXCEPTION 'simulated connection failure' USING ERRCODE = '08006'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER fail_marked_insert BEFORE INSERT ON documents "
                    "FOR EACH ROW EXECUTE FUNCTION fail_marked_insert()"
                )
            )
    yield
    with backend.engine.begin() as connection:
        if backend.name == "embedded":
            connection.execute(text("DROP TRIGGER fail_marked_insert"))
        else:
            connection.execute(text("DROP TRIGGER fail_marked_insert ON documents"))
            connection.execute(text("DROP FUNCTION fail_marked_insert()"))


def test_failed_commit_removes_the_object_it_wrote(
    backend: Backend, dept: IssuingDepartment, failing_inserts: None
) -> None:
    before = stored_keys(backend.store)

    with app_with(backend.context) as client:
        response = client.post("/api/v1/documents", json=income_certificate(holder_name=MARKER), headers=dept.headers)
        healthy = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)

    # PostgreSQL reports a connection failure (503); SQLite an aborted statement (500).
    assert response.status_code == (500 if backend.name == "embedded" else 503)
    assert healthy.status_code == 201
    assert documents_of(backend, dept) == 1
    assert len(stored_keys(backend.store) - before) == 1  # only the healthy document's object
