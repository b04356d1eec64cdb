"""Revision 0020 (certificate numbers) on documents issued before it, on SQLite and
PostgreSQL: each gets a number in issue order per department, type and year, and issuing
carries on after them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.migrate import downgrade, upgrade
from issuer.numbers_repository import allocate_serials
from tests.app.test_migration_0007 import _document as _issued
from tests.app.test_migration_0007 import _insert, _rows, engine

__all__ = ["engine"]  # the two-backend fixture

# 18:40 UTC on 31 December is already 1 January in India: the year a number carries.
NEW_YEAR_IN_INDIA = datetime(2025, 12, 31, 18, 40, tzinfo=UTC)


def _document(
    connection: sa.Connection, document_id: str, department_id: int, document_type: str, at: datetime
) -> None:
    _issued(connection, document_id, "r-1", department_id, day=0)
    connection.execute(
        sa.text("UPDATE documents SET type = :type, issued_at = :at WHERE id = :id"),
        {"type": document_type, "at": at, "id": document_id},
    )


def _issued_before(connection: sa.Connection) -> None:
    for department_id, code in ((1, "REV"), (2, "PB-LG")):
        _insert(
            connection,
            "departments",
            id=department_id,
            code=code,
            name_en=code,
            name_pa=code,
            name_hi=code,
            created_at=NEW_YEAR_IN_INDIA,
        )
    _insert(connection, "citizens", ref="r-1", department_id=1, citizen_id="C1", created_at=NEW_YEAR_IN_INDIA)
    day = timedelta(days=1)
    # Inserted out of order: numbers follow the time of issue, not the insertion.
    _document(connection, "rev-c", 1, "income-certificate", NEW_YEAR_IN_INDIA + 2 * day)
    _document(connection, "rev-a", 1, "income-certificate", NEW_YEAR_IN_INDIA - day)
    _document(connection, "rev-b", 1, "income-certificate", NEW_YEAR_IN_INDIA)
    _document(connection, "rev-caste", 1, "caste-certificate", NEW_YEAR_IN_INDIA + day)
    _document(connection, "lg-trade", 2, "trade-licence", NEW_YEAR_IN_INDIA + day)


def test_documents_issued_before_get_numbers_in_issue_order(engine: sa.Engine) -> None:
    upgrade(engine, "0019")
    with engine.begin() as connection:
        _issued_before(connection)

    upgrade(engine, "0020")

    assert dict(_rows(engine, "SELECT id, number FROM documents")) == {
        "rev-a": "PB-REV-INC-C-2025-000001",
        "rev-b": "PB-REV-INC-C-2026-000001",
        "rev-c": "PB-REV-INC-C-2026-000002",
        "rev-caste": "PB-REV-CAS-C-2026-000001",
        "lg-trade": "PB-LG-TL-C-2026-000001",
    }
    with Session(engine) as session:
        assert allocate_serials(session, "PB-REV-INC", 2026) == [3]  # issuing carries on after them
        assert allocate_serials(session, "PB-REV-INC", 2025) == [2]
        session.commit()


def test_the_revision_goes_back_cleanly(engine: sa.Engine) -> None:
    upgrade(engine, "0019")
    with engine.begin() as connection:
        _issued_before(connection)
    upgrade(engine, "0020")
    with Session(engine) as session:
        allocate_serials(session, "PB-REV-INC", 2026)
        session.commit()

    downgrade(engine, "0019")
    upgrade(engine, "0020")

    assert dict(_rows(engine, "SELECT id, number FROM documents"))["rev-c"] == "PB-REV-INC-C-2026-000002"
    with Session(engine) as session:
        assert allocate_serials(session, "PB-REV-INC", 2026) == [3]
