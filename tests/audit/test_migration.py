"""Migration 0016: the log's tables, the head's first row and the append-only guard go up
and come down cleanly on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from app.migrate import downgrade, upgrade
from audit import repository
from tests.audit.conftest import FreshLog

TABLES = {"audit_entries", "audit_head", "audit_checkpoints"}


def test_the_log_migrates_down_and_up_again(fresh: FreshLog) -> None:
    fresh.append(2)
    downgrade(fresh.engine, "0015")
    assert not TABLES & set(inspect(fresh.engine).get_table_names())
    upgrade(fresh.engine)
    assert set(inspect(fresh.engine).get_table_names()) >= TABLES
    with fresh.sessions() as s:
        assert repository.head_size(s) == 0  # a new, empty log
    fresh.append(1)
    with fresh.sessions() as s:
        assert [e.leaf_index for e in repository.walk(s)] == [0]
