"""Revision 0023 (changes of a public record announced) on SQLite and PostgreSQL: on
PostgreSQL it adds the triggers that notify, and takes them away; SQLite has no NOTIFY."""

from __future__ import annotations

import sqlalchemy as sa

from app.migrate import downgrade, upgrade
from tests.app.test_migration_0007 import engine

__all__ = ["engine"]  # the two-backend fixture


def _triggers(engine: sa.Engine) -> set[str]:
    if engine.dialect.name != "postgresql":
        return set()
    query = sa.text(
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
        "AND tgrelid IN ('documents'::regclass, 'departments'::regclass)"
    )
    with engine.connect() as connection:
        return set(connection.scalars(query))


def test_the_public_record_triggers_come_and_go(engine: sa.Engine) -> None:
    upgrade(engine, "0022")
    before = _triggers(engine)
    upgrade(engine, "0023")
    after = _triggers(engine)
    downgrade(engine, "0022")
    again = _triggers(engine)

    expected = {
        "documents_public_record_changed",
        "documents_public_record_removed",
        "documents_public_record_added",
        "departments_public_records_changed",
    }
    assert before == set()
    assert after == (expected if engine.dialect.name == "postgresql" else set())
    assert again == set()
