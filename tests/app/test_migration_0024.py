"""Revision 0024 (a submission's files packed into one object) on SQLite and PostgreSQL:
attachments stored before it keep their objects and read as whole objects; after it two
attachments may share a key; a downgrade refuses while any attachment is packed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.migrate import downgrade, upgrade
from tests.app.test_migration_0007 import _application as _issued_application
from tests.app.test_migration_0007 import _document, _insert, _rows, engine

__all__ = ["engine"]  # the two-backend fixture

AT = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)


def _application(connection: sa.Connection) -> None:
    _insert(connection, "departments", id=3, code="REV", name_en="REV", name_pa="REV", name_hi="REV", created_at=AT)
    _insert(connection, "citizens", ref="r-1", department_id=3, citizen_id="C1", created_at=AT)
    _document(connection, "doc-1", "r-1", 3, day=0)
    _issued_application(connection, "RI-1", "r-1", "9876543210", "doc-1")


def _attachment(connection: sa.Connection, attachment_id: str, key: str, **more: object) -> None:
    _insert(
        connection,
        "application_attachments",
        id=attachment_id,
        application_id="app-RI-1",
        kind=attachment_id,
        filename=f"{attachment_id}.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        storage_key=key,
        uploaded_at=AT,
        **more,
    )


def _unique_columns(engine: sa.Engine) -> list[list[str]]:
    return [u["column_names"] for u in sa.inspect(engine).get_unique_constraints("application_attachments")]


def test_attachments_from_before_read_whole_and_keys_may_then_be_shared(engine: sa.Engine) -> None:
    upgrade(engine, "0023")
    with engine.begin() as connection:
        _application(connection)
        _attachment(connection, "photo", "applications/r-1/app-1/photo.png")
    assert _unique_columns(engine) == [["storage_key"]]

    upgrade(engine, "0024")
    with engine.begin() as connection:
        _attachment(connection, "deed", "applications/r-1/app-1/answer.tar", storage_offset=512)
        _attachment(connection, "proof", "applications/r-1/app-1/answer.tar", storage_offset=1024)

    rows = _rows(engine, "SELECT id, storage_key, storage_offset FROM application_attachments ORDER BY id")
    assert rows == [
        ("deed", "applications/r-1/app-1/answer.tar", 512),
        ("photo", "applications/r-1/app-1/photo.png", None),
        ("proof", "applications/r-1/app-1/answer.tar", 1024),
    ]
    assert _unique_columns(engine) == []
    indexes = {i["name"]: i["column_names"] for i in sa.inspect(engine).get_indexes("application_attachments")}
    assert indexes["ix_application_attachments_storage_key"] == ["storage_key"]


def test_a_downgrade_refuses_packed_attachments_and_restores_the_unique_key_without_them(
    engine: sa.Engine,
) -> None:
    upgrade(engine, "0024")
    with engine.begin() as connection:
        _application(connection)
        _attachment(connection, "photo", "applications/r-1/app-1/photo.png")
        _attachment(connection, "deed", "applications/r-1/app-1/submitted.tar", storage_offset=512)

    with pytest.raises(RuntimeError, match="packed"):
        downgrade(engine, "0023")

    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM application_attachments WHERE id = 'deed'"))
    downgrade(engine, "0023")

    assert _unique_columns(engine) == [["storage_key"]]
    columns = {c["name"] for c in sa.inspect(engine).get_columns("application_attachments")}
    assert "storage_offset" not in columns
    assert _rows(engine, "SELECT id FROM application_attachments") == [("photo",)]
