"""The locker requests' parts alone, in this process on one core, and the listing's plan.

Besides HTTP, a listing request finds the session's account (one query), runs
``issuer.service.holder_documents`` on the number it proved (one query, 51 rows for a page of 50)
and builds the JSON page; a download finds the account the same way, looks the document
up (one query) and signs a MinIO URL or reads the file. Each part is timed alone, with a
fresh database session per operation as a request gets one. The listing query is also
timed as bare SQL (the very statement SQLAlchemy sends, prepared, through psycopg), and
EXPLAIN ANALYZE shows its plan: with the parameters (a custom plan) and as the generic
plan PostgreSQL may switch to once psycopg prepares the statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, event

from accounts.citizens import account_for_token
from app.context import AppContext
from bench.locker_seed import MOBILE, HeldObject, LockerData
from bench.stages import Budget, one_core
from bench.stats import Measurement
from issuer import service as issuer_service
from issuer.service import HolderFilter
from locker import documents
from locker.endpoints import content_response, to_locker_document
from locker.holder import holder_of
from locker.schemas import DocumentPage
from sanad.storage import FilesystemStore

PAGE = 50
PLAN_PAGE = 10
"""The page (1-based) whose cursor query is explained besides the first."""
LINK_LIFETIME = timedelta(seconds=60)


@dataclass(frozen=True)
class Statement:
    """SQL exactly as the ORM sent it to psycopg."""

    sql: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class Parts:
    measurements: list[Measurement]
    plans: dict[str, str]
    """EXPLAIN (ANALYZE, BUFFERS) output by label."""


@contextmanager
def _captured(engine: Engine) -> Iterator[list[Statement]]:
    seen: list[Statement] = []

    def capture(_conn: object, _cursor: object, sql: str, parameters: Any, _context: object, _many: bool) -> None:
        seen.append(Statement(sql, dict(parameters)))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _listing_statement(context: AppContext, mobile: str, after: tuple[datetime, str] | None) -> Statement:
    with _captured(context.engine) as seen, context.sessions() as session:
        issuer_service.holder_documents(session, mobile, HolderFilter(), after=after, limit=PAGE + 1)
    listing = [s for s in seen if "FROM documents" in s.sql]
    assert len(listing) == 1, seen
    return listing[0]


def _explain(url: str, statement: Statement, *, generic: bool = False) -> str:
    with psycopg.connect(url) as conn:
        if generic:
            conn.execute("SET plan_cache_mode = force_generic_plan")
        explain = "EXPLAIN (ANALYZE, BUFFERS) " + statement.sql
        conn.execute(explain, statement.parameters).fetchall()  # the first run warms the caches
        rows = conn.execute(explain, statement.parameters).fetchall()
    return "\n".join(str(row[0]) for row in rows)


def _sql_only(url: str, statement: Statement) -> tuple[Callable[[int], object], Callable[[], None]]:
    conn = psycopg.connect(url, autocommit=True)

    def run(_: int) -> object:
        rows = conn.execute(statement.sql, statement.parameters, prepare=True).fetchall()
        assert len(rows) == PAGE + 1
        return rows

    return run, conn.close


class _Requests:
    """The parts of a listing and of a download, each as a bench operation."""

    def __init__(self, context: AppContext, token: str) -> None:
        self.context = context
        self.token = token
        with context.sessions() as session:
            account = account_for_token(session, token, datetime.now(UTC))
            assert account is not None, "the bench token is not valid"
            self.mobile = holder_of(account).mobile
            self.page, _ = documents.list_documents(session, self.mobile, HolderFilter(), limit=PAGE)
        assert self.mobile == MOBILE, self.mobile

    def sign_in_check(self, _: int) -> object:
        with self.context.sessions() as session:
            account = account_for_token(session, self.token, datetime.now(UTC))
            assert account is not None
            return holder_of(account)

    def query(self, mobile: str) -> Callable[[int], object]:
        def run(_: int) -> object:
            with self.context.sessions() as session:
                rows = issuer_service.holder_documents(session, mobile, HolderFilter(), limit=PAGE + 1)
                assert len(rows) == PAGE + 1
                return rows

        return run

    def build_page(self, _: int) -> bytes:
        page = DocumentPage(items=[to_locker_document(self.context, held) for held in self.page], next_cursor="x")
        return page.model_dump_json().encode()

    def lookup(self, held: Sequence[HeldObject]) -> Callable[[int], object]:
        def run(i: int) -> object:
            with self.context.sessions() as session:
                return documents.get_document(session, self.mobile, held[i % len(held)].id)

        return run

    def presign(self, held: Sequence[HeldObject]) -> Callable[[int], object]:
        def run(i: int) -> object:
            document = held[i % len(held)]
            return self.context.store.download_url(document.storage_key, f"{document.id}.pdf", LINK_LIFETIME)

        return run

    def download_whole(self, held: Sequence[HeldObject]) -> Callable[[int], object]:
        """As the download endpoint serves it: the session check and the document in one
        statement, on the driver directly (no transaction)."""

        def run(i: int) -> object:
            found = documents.signed_in_document(
                self.context.read_engine, self.token, datetime.now(UTC), held[i % len(held)].id
            )
            return content_response(documents.content_of(self.context.store, found.document))

        return run

    def whole(self, _: int) -> bytes:
        """As the listing endpoint serves it: the session check folded into the page's query."""
        page, cursor = documents.signed_in_documents(
            self.context.read_engine, self.token, datetime.now(UTC), HolderFilter(), limit=PAGE
        )
        items = [to_locker_document(self.context, held) for held in page]
        return DocumentPage(items=items, next_cursor=cursor).model_dump_json().encode()


def measure_parts(data: LockerData, context: AppContext, token: str, budget: Budget) -> Parts:
    """``context`` is the MinIO deployment's, as its server builds it."""
    ops = _Requests(context, token)
    url = data.libpq_url
    first = _listing_statement(context, ops.mobile, None)
    # The cursor a client paging through sends for page PLAN_PAGE: the last row of the page before.
    last_before = data.held[(PLAN_PAGE - 1) * PAGE - 1]
    with context.sessions() as session:
        bound = issuer_service.holder_document(session, ops.mobile, last_before.id)[0]
        after = (bound.issued_at, bound.id)
    paged = _listing_statement(context, ops.mobile, after)
    plans = {
        "first page (custom plan)": _explain(url, first),
        "first page (generic plan, as a prepared statement may use)": _explain(url, first, generic=True),
        f"page {PLAN_PAGE} (keyset cursor)": _explain(url, paged),
    }
    files = FilesystemStore(Path(data.filesystem_env["SANAD_STORAGE_PATH"]))
    sql_only, close = _sql_only(url, first)
    try:
        with one_core():
            measurements = [
                budget.run(
                    "listing query, bare SQL (prepared, psycopg)",
                    sql_only,
                    "the statement the ORM sends; 51 rows fetched",
                ),
                budget.run(
                    "listing query, ORM (issuer.service.holder_documents)",
                    ops.query(ops.mobile),
                    "fresh session: pool checkout, pre-ping, query, 51 rows → objects",
                ),
                budget.run(
                    "session check (token → account)",
                    ops.sign_in_check,
                    "1 query, fresh session",
                ),
                budget.run("page → JSON (50 × LockerDocument)", ops.build_page, "no database"),
                budget.run(
                    "whole listing in-process (no HTTP)",
                    ops.whole,
                    "session check folded into the query + JSON, on the driver (as served)",
                ),
                budget.run(
                    "document lookup (holder_document)",
                    ops.lookup(data.held),
                    "one query by id, fresh session",
                ),
                budget.run(
                    "presigned URL (MinioStore.download_url)",
                    ops.presign(data.held),
                    "no network; signed by sanad.presign",
                ),
                budget.run(
                    "file read (FilesystemStore.get)",
                    lambda i: files.get(data.held[i % len(data.held)].storage_key),
                    f"{data.held[0].size / 1024:.0f} KiB, page cache",
                ),
                budget.run(
                    "whole download in-process, MinIO (no HTTP)",
                    ops.download_whole(data.held),
                    "session check and lookup in one query + presign + 307, on the driver (as served)",
                ),
            ]
    finally:
        close()
    return Parts(measurements, plans)
