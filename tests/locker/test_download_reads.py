"""The signed-in reads (the listing, a document, its download) run on the driver directly
(``sanad.db.PreparedRead``) on a pool without pre-ping: they read what the ORM reads, a
database restart costs no read an error, an outage answers 503 with Retry-After, and no
connection goes back to the pool in autocommit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import ProgrammingError

from app.factory import create_app
from issuer.models import Document
from locker import documents
from sanad.db import PreparedRead
from tests.conftest import Backend, IssuingDepartment, unreachable_database
from tests.locker.conftest import issue_to, new_mobile, sign_in


def _content(document_id: object) -> str:
    return f"/api/v1/locker/documents/{document_id}/content"


def test_the_driver_read_finds_what_the_orm_finds(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    issued = issue_to(client, dept, mobile)
    token = sign_in(client, backend, mobile)["Authorization"].removeprefix("Bearer ")

    held = documents.signed_in_document(backend.context.read_engine, token, datetime.now(UTC), str(issued["id"]))

    with backend.context.sessions() as session:
        row = session.get_one(Document, issued["id"])
    for field in ("id", "number", "type", "issued_at", "valid_until", "holder_name", "sha256", "size", "storage_key"):
        assert getattr(held.document, field) == getattr(row, field), field
    assert held.document.issued_at.tzinfo is not None  # UTC-aware on SQLite too
    assert held.department.code == dept.department.code
    assert held.status == "valid"


def test_a_read_leaves_no_connection_in_autocommit(backend: Backend) -> None:
    """The main pool's connections run transactions: a driver read on it, good or failed,
    must not hand one back in autocommit."""
    # One connection, so the next checkout is the one the reads used.
    engine = create_engine(backend.engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    good = PreparedRead(select(func.count()).select_from(Document))
    bad = PreparedRead(select(func.count()).select_from(text("no_such_table")))

    assert good.rows(engine, {})[0]._mapping["count"] >= 0
    with pytest.raises(ProgrammingError if backend.name != "embedded" else Exception):
        bad.rows(engine, {})

    good.rows(engine, {})
    with engine.connect() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE kept_or_not (n INTEGER)"))
        connection.commit()
        connection.execute(text("INSERT INTO kept_or_not VALUES (1)"))
        connection.rollback()  # undone only inside a transaction
        assert connection.execute(text("SELECT count(*) FROM kept_or_not")).scalar() == 0
    engine.dispose()


def _read_pool_pids(backend: Backend, connections: int) -> set[int]:
    """Fill the read pool with ``connections`` connections; their server processes."""
    held = [backend.context.read_engine.raw_connection() for _ in range(connections)]
    pids = set()
    for connection in held:
        cursor = connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
        assert row is not None
        pids.add(int(row[0]))
        cursor.close()
    for connection in held:
        connection.close()
    return pids


@pytest.mark.parametrize("first", [0, 1, 2])
def test_a_database_restart_costs_no_read_an_error(
    client: TestClient, backend: Backend, dept: IssuingDepartment, first: int
) -> None:
    if backend.name == "embedded":
        pytest.skip("SQLite has no server to restart")
    mobile = new_mobile()
    document = issue_to(client, dept, mobile)
    headers = sign_in(client, backend, mobile)
    pids = _read_pool_pids(backend, 4)

    # What a restart does to every pooled connection, without stopping the shared server.
    with backend.engine.connect() as admin:
        admin.execute(
            text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"), {"pids": list(pids)}
        )
        admin.commit()
        for _ in range(100):
            alive = admin.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(CAST(:pids AS int[]))"),
                {"pids": list(pids)},
            ).scalar()
            admin.rollback()
            if alive == 0:
                break

    urls = [_content(document["id"]), "/api/v1/locker/documents", f"/api/v1/locker/documents/{document['id']}"]
    urls = urls[first:] + urls[:first]  # each read meets the dropped connections first once
    answers = [client.get(url, headers=headers, follow_redirects=False) for url in urls * 3]
    assert all(answer.status_code in (200, 307) for answer in answers), [a.text for a in answers]
    assert [a.json()["items"][0]["id"] for a in answers if a.url.path.endswith("/documents")] == [document["id"]] * 3


def test_a_database_outage_on_the_read_path_is_503_with_retry_after(
    backend: Backend, dept: IssuingDepartment, tmp_path: Path
) -> None:
    mobile = new_mobile()
    with TestClient(create_app(context=backend.context)) as client:
        document = issue_to(client, dept, mobile)
        headers = sign_in(client, backend, mobile)
    context = replace(backend.context, read_engine=unreachable_database(backend, tmp_path))

    with TestClient(create_app(context=context), raise_server_exceptions=False) as client:
        for url in (_content(document["id"]), f"/api/v1/locker/documents/{document['id']}", "/api/v1/locker/documents"):
            response = client.get(url, headers=headers, follow_redirects=False)
            assert response.status_code == 503, url
            assert response.headers["Retry-After"].isdigit()
            assert "retry" in response.json()["detail"]
