"""The locker's listing on PostgreSQL is one backward range scan of
``ix_documents_holder_mobile_newest``: no sort, no scan of other holders' rows, whether
for the first page or a keyset page further on."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session

from issuer import service
from issuer.service import HolderFilter
from tests.conftest import Backend, IssuingDepartment

HOLDERS = 10_000
HOLDER = "8999999999"
STRIDE = 26
"""Every STRIDE-th document is the listed holder's: 2,000, spread through the years as
the bench's 1,000 of 10 million are, so far more than a page."""


@pytest.fixture
def registry(backend: Backend, dept: IssuingDepartment) -> Iterator[tuple[Connection, str]]:
    """52,000 documents over 10,000 numbers and one more holding 2,000, one a minute,
    analysed, in a transaction rolled back after."""
    if backend.name != "postgres-minio":
        pytest.skip("query plans are PostgreSQL's; SQLite uses the same index")
    tag = secrets.token_hex(4)
    with backend.engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(
                text(
                    "INSERT INTO citizens (ref, department_id, citizen_id, created_at) "
                    "VALUES (:ref, :department, :ref, now())"
                ),
                {"ref": f"plan-{tag}", "department": dept.department.id},
            )
            connection.execute(
                text(
                    "INSERT INTO documents (id, type, citizen_ref, holder_mobile, department_id, issued_at, sha256, "
                    "signed_sha256, size, storage_key, status, version, holder_name, data) "
                    "SELECT md5(:tag || g.i), 'income-certificate', :ref, "
                    "CASE WHEN mod(g.i, :stride) = 0 THEN :holder "
                    "ELSE '8' || lpad(mod(g.i, :holders)::text, 9, '0') END, "
                    ":department, "
                    "timestamptz '2021-01-01 00:00+00' + g.i * interval '1 minute', "
                    "md5(:tag || 'a' || g.i) || md5(:tag || 'b' || g.i), md5(:tag || 'c' || g.i) || md5('d' || g.i), "
                    "1, 'plan/' || :tag || '/' || g.i, 'issued', 1, 'x', '{}' "
                    "FROM generate_series(1, :rows) AS g(i)"
                ),
                {
                    "tag": tag,
                    "ref": f"plan-{tag}",
                    "holders": HOLDERS,
                    "stride": STRIDE,
                    "holder": HOLDER,
                    "department": dept.department.id,
                    "rows": STRIDE * 2_000,
                },
            )
            connection.execute(text("ANALYZE documents"))
            yield connection, HOLDER
        finally:
            transaction.rollback()


def _statement(connection: Connection, after: tuple[datetime, str] | None, mobile: str) -> tuple[str, Any]:
    """The very statement the ORM sends for one page, and its parameters."""
    sent: list[tuple[str, Any]] = []

    def capture(_c: object, _cursor: object, sql: str, parameters: Any, _ctx: object, _many: bool) -> None:
        sent.append((sql, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            service.holder_documents(session, mobile, HolderFilter(), after=after, limit=51)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    [statement] = [s for s in sent if "FROM documents" in s[0]]
    return statement


def _plan(connection: Connection, after: tuple[datetime, str] | None, mobile: str) -> dict[str, Any]:
    sql, parameters = _statement(connection, after, mobile)
    raw = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, parameters).scalar()
    assert raw is not None
    plan: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _path_to(plan: dict[str, Any], relation: str) -> list[dict[str, Any]]:
    """The nodes from the root down to the scan of ``relation``."""
    if plan.get("Relation Name") == relation:
        return [plan]
    for child in plan.get("Plans", []):
        below = _path_to(child, relation)
        if below:
            return [plan, *below]
    return []


@pytest.mark.parametrize("page", ["first", "keyset"])
def test_the_listing_is_one_backward_index_range_scan(page: str, registry: tuple[Connection, str]) -> None:
    connection, mobile = registry
    after = (datetime(2021, 1, 19, tzinfo=UTC), "zzzz") if page == "keyset" else None  # halfway

    plan = _plan(connection, after, mobile)
    shown = json.dumps(plan, indent=1)

    assert [n.get("Relation Name") for n in _nodes(plan)].count("documents") == 1, shown
    *above, scan = _path_to(plan, "documents")
    assert (scan["Node Type"], scan.get("Index Name"), scan.get("Scan Direction")) == (
        "Index Scan",
        "ix_documents_holder_mobile_newest",
        "Backward",
    ), shown
    assert "holder_mobile" in scan["Index Cond"]
    if page == "keyset":
        assert "issued_at" in scan["Index Cond"]
    # The page is cut straight from the index order: nothing sorts between the scan and
    # the limit, so it reads a page's rows, not the holder's whole history.
    cut = [n["Node Type"] for n in reversed(above)]
    assert "Limit" in cut, shown
    assert not [n for n in cut[: cut.index("Limit")] if "Sort" in n], shown


def test_sqlite_lists_through_the_same_index_without_sorting(backend: Backend) -> None:
    if backend.name != "embedded":
        pytest.skip("SQLite's plan")
    with backend.engine.connect() as connection:
        sql, parameters = _statement(connection, (datetime(2021, 1, 19, tzinfo=UTC), "zzzz"), HOLDER)
        plan = [str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters)]

    assert [step for step in plan if "USING INDEX ix_documents_holder_mobile_newest (holder_mobile=?" in step], plan
