"""Revision 0021 (the counter's duplicate check) on SQLite and PostgreSQL: it adds the
index a citizen's recent applications for a service are found by, and takes it away."""

from __future__ import annotations

import sqlalchemy as sa

from app.migrate import downgrade, upgrade
from tests.app.test_migration_0007 import engine

__all__ = ["engine"]  # the two-backend fixture


def _indexes(engine: sa.Engine) -> dict[str, list[str | None]]:
    return {index["name"] or "": index["column_names"] for index in sa.inspect(engine).get_indexes("applications")}


def test_the_duplicate_lookup_index_comes_and_goes(engine: sa.Engine) -> None:
    upgrade(engine, "0020")
    before = _indexes(engine)
    upgrade(engine, "0021")
    after = _indexes(engine)
    downgrade(engine, "0020")
    again = _indexes(engine)

    assert "ix_applications_mobile" not in before
    assert after["ix_applications_mobile"] == ["mobile", "service_code", "submitted_at"]
    assert again == before
