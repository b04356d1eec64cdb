"""``python -m bench.digilocker``: DigiLocker's Pull URI at registry scale.

Seeds (or reuses) the database ``sanad_bench_digilocker_<documents>`` on the test
PostgreSQL with that many income certificates (plain SQL, keys dropped while loading as
``bench/locker_seed.py`` does; document ``i`` has the mobile number ``9`` + ``i`` in nine
digits), registers its department with DigiLocker, stores a signed-PDF-sized object for
a few hundred documents spread through the table, then sends signed Pull URI requests
(format ``both``: the PDF and the data) one after another through a real HTTP server
(uvicorn in a thread of this process), in ``--rounds`` rounds, and records the latency
(each round's, and the median and range of the rounds) in ``bench/RESULTS.md``. Before
measuring it runs ``EXPLAIN`` on every query one Pull URI request makes and stops if any
of them reads ``documents`` or ``citizens`` by a sequential scan.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import statistics
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.context import AppContext
from app.factory import create_app
from app.migrate import upgrade
from bench.locker_seed import _DOCUMENT_ID, _POSITIVE, _run_chunks, _without_keys, libpq_url
from bench.machine import REPO, describe_machine
from bench.report import Section, format_load, now, record_in_section
from bench.stats import percentile
from digilocker.configuration import configure
from digilocker.endpoints import answer_pull
from digilocker.messages import PULL_URI_REQUEST
from issuer.models import Document
from issuer.render import CertificateRenderer
from issuer.templates import load_templates
from sanad.db import make_engine
from sanad.departments import DepartmentNames, add_department, get_department
from sanad.settings import Environment, Settings, StorageBackend
from sanad.storage import FilesystemStore
from sanad.threaded_server import serve_in_thread
from trust.bootstrap import init_pki

DEPARTMENT = "REV"
ISSUER_ID = "in.gov.punjab.revenue"
API_KEY = "bench-digilocker-pull-api-key"
PDF_BYTES = 120_000
"""About the size of a signed B-LTA certificate."""
_EXAMPLE = json.loads((REPO / "templates" / "income-certificate" / "example.json").read_text("utf-8"))["data"]

_CITIZENS_SQL = """
INSERT INTO citizens (ref, department_id, citizen_id, mobile, created_at)
SELECT md5('dl-citizen-' || g.i), %(department)s, 'PB-CIT-' || lpad(g.i::text, 10, '0'),
       '9' || lpad(g.i::text, 9, '0'), timestamptz '2020-01-01 00:00+00'
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g(i)
"""

_DOCUMENTS_SQL = f"""
INSERT INTO documents (id, type, citizen_ref, holder_mobile, department_id, issued_at, valid_until, sha256,
                       signed_sha256, size, storage_key, status, version, holder_name, data)
SELECT {_DOCUMENT_ID}, 'income-certificate', md5('dl-citizen-' || g.i), '9' || lpad(g.i::text, 9, '0'),
       %(department)s,
       timestamptz '2021-01-01 00:00+00' + mod(hashint8extended(g.i, 2) & {_POSITIVE}, 157680000) * interval '1 second',
       date '2027-03-31',
       encode(sha256(int8send(g.i)), 'hex'), encode(sha256(int8send(g.i) || decode('03', 'hex')), 'hex'),
       {PDF_BYTES}, 'citizens/' || md5('dl-citizen-' || g.i) || '/' || {_DOCUMENT_ID} || '.pdf',
       'issued', 1, %(name)s, %(data)s::json
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g(i)
"""


def _mobile(i: int) -> str:
    return "9" + str(i).rjust(9, "0")


def _migrated(admin_url: str, name: str, *, fresh: bool = False) -> str:
    """The database ``name`` (created, or dropped and created again when ``fresh``), migrated."""
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def _missing_columns(conn: psycopg.Connection[tuple[object, ...]]) -> set[str]:
    """The registry's columns the database lacks: it was seeded before a migration it had
    already run was changed, so migrating it again cannot add them."""
    present = {
        str(row[0])
        for row in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'documents'")
    }
    return {column.name for column in Document.__table__.columns} - present


def _prepare_database(admin_url: str, documents: int) -> tuple[str, float | None]:
    """The bench database's SQLAlchemy URL, seeded unless it already holds ``documents``
    rows of the current schema; and the seconds seeding took (None when reused)."""
    name = f"sanad_bench_digilocker_{documents}"
    url = _migrated(admin_url, name)
    with psycopg.connect(libpq_url(url)) as conn:
        missing = _missing_columns(conn)
        count = conn.execute("SELECT count(*) FROM documents").fetchone()
        if not missing and count is not None and count[0] == documents:
            print(f"bench: reusing {name} ({documents:,} documents)", flush=True)
            return url, None
        if not missing:
            conn.execute("TRUNCATE documents, citizens, departments RESTART IDENTITY CASCADE")
            conn.commit()
    if missing:
        print(f"bench: {name} lacks {', '.join(sorted(missing))}: creating it again", flush=True)
        url = _migrated(admin_url, name, fresh=True)
    engine = make_engine(url)
    with Session(engine) as session:
        department = add_department(session, DEPARTMENT, DepartmentNames(en="Revenue", pa="ਮਾਲ", hi="राजस्व"))
        session.commit()
        department_id = department.id
    engine.dispose()
    params = {"department": department_id, "name": _EXAMPLE["holder_name"], "data": json.dumps(_EXAMPLE)}
    started = time.monotonic()
    with psycopg.connect(libpq_url(url)) as conn, _without_keys(conn, ["citizens", "documents"]):
        _run_chunks(libpq_url(url), _CITIZENS_SQL, params, documents, "citizens")
        _run_chunks(libpq_url(url), _DOCUMENTS_SQL, params, documents, "documents")
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE citizens")
        conn.execute("VACUUM ANALYZE documents")
    seconds = time.monotonic() - started
    print(f"bench: seeded {documents:,} documents in {seconds:.0f} s", flush=True)
    return url, seconds


def _pull_uri(number: str, mobile: str) -> bytes:
    ts = datetime.now(UTC).astimezone(ZoneInfo("Asia/Kolkata")).isoformat()
    root = ET.Element(
        "PullURIRequest",
        {"ver": "1.0", "ts": ts, "txn": secrets.token_hex(8), "orgId": ISSUER_ID, "format": "both"},
    )
    details = ET.SubElement(root, "DocDetails")
    for name, value in (("DocType", "INCER"), ("FullName", "Gurpreet Singh"), ("UDF1", number), ("UDF2", mobile)):
        ET.SubElement(details, name).text = value
    body: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return body


def _signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(API_KEY.encode(), body, hashlib.sha256).digest()
    return {"x-digilocker-hmac": base64.b64encode(digest).decode(), "Content-Type": "application/xml"}


def _in_process(context: AppContext, sample: list[tuple[str, str]], requests: int) -> tuple[list[float], float]:
    """The handler alone, as the server runs it, with its own session and commit: wall
    milliseconds per request, and this thread's CPU milliseconds per request."""
    timings = []
    cpu = 0.0
    for n in range(requests + 50):
        number, mobile = sample[n % len(sample)]
        body = _pull_uri(number, mobile)
        started, cpu_started = time.perf_counter(), time.thread_time()
        with context.sessions() as session:
            answer = answer_pull(body, _signed(body)["x-digilocker-hmac"], session, context, PULL_URI_REQUEST)
            session.commit()
        if n >= 50:
            timings.append((time.perf_counter() - started) * 1000)
            cpu += time.thread_time() - cpu_started
        if b'Status="1"' not in bytes(answer.body):
            raise SystemExit(f"unexpected answer: {answer.headers}")
    return timings, cpu * 1000 / requests


def query_plans(engine: Engine, context: AppContext, number: str, mobile: str) -> list[str]:
    """The plan of every query one Pull URI request makes (as PostgreSQL would run it with
    those very parameters); refuses a sequential scan of the big tables."""
    seen: list[tuple[str, object]] = []

    def remember(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        body = _pull_uri(number, mobile)
        with context.sessions() as session:
            answer_pull(body, _signed(body)["x-digilocker-hmac"], session, context, PULL_URI_REQUEST)
            session.rollback()  # the plans, not the request's effects
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    plans = []
    with engine.connect() as conn:
        for statement, parameters in seen:
            lines = [row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)]  # type: ignore[arg-type]
            plan = " / ".join(line.strip() for line in lines)
            for table in ("documents", "citizens"):
                if f"Seq Scan on {table}" in plan:
                    raise SystemExit(f"a sequential scan of {table}: {statement}\n{plan}")
            if " documents" in statement:
                plans.append(plan)
        conn.rollback()
    return plans


def _row(what: str, timings: list[float], cpu_ms: float) -> str:
    p50, p95, p99 = (percentile(timings, q) for q in (50, 95, 99))
    return f"| {what} | {p50:.1f} ms | {p95:.1f} ms | {p99:.1f} ms | {max(timings):.1f} ms | {cpu_ms:.1f} ms |\n"


def _through_http(client: httpx.Client, sample: list[tuple[str, str]], requests: int) -> tuple[list[float], float]:
    """One round: milliseconds per request, and this process's CPU milliseconds per request."""
    timings: list[float] = []
    cpu_started = time.process_time()
    for n in range(requests + 50):
        if n == 50:  # the first requests warm the connection pool and caches
            cpu_started = time.process_time()
        number, mobile = sample[n % len(sample)]
        body = _pull_uri(number, mobile)
        started = time.perf_counter()
        response = client.post("/digilocker/v1/pull-uri", content=body, headers=_signed(body))
        elapsed = (time.perf_counter() - started) * 1000
        if b'Status="1"' not in response.content:
            raise SystemExit(f"unexpected answer: {response.status_code} {response.headers}")
        if n >= 50:
            timings.append(elapsed)
    return timings, (time.process_time() - cpu_started) * 1000 / requests


def _spread(name: str, rounds: list[tuple[list[float], float]], q: float) -> str:
    """The median of the rounds' percentile ``q``, and its range: ``p99 41.0 ms [38.2-47.9]``."""
    values = [percentile(timings, q) for timings, _ in rounds]
    return f"{name} median {statistics.median(values):.1f} ms [{min(values):.1f}-{max(values):.1f}]"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.digilocker", description=__doc__)
    parser.add_argument("--documents", type=int, default=10_000_000, help="documents in the registry (10,000,000)")
    parser.add_argument("--requests", type=int, default=2000, help="Pull URI requests measured (2,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --requests through HTTP (3)")
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    admin_url = os.environ.get("SANAD_TEST_DATABASE_URL")
    if not admin_url:
        raise SystemExit('start the services: eval "$(bash scripts/services.sh env)"')
    url, seeded_in = _prepare_database(admin_url, args.documents)
    load = format_load(os.getloadavg())

    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys"
        init_pki(keys, base_url="http://127.0.0.1:9/pki")
        settings = Settings(
            _env_file=None,
            env=Environment.TEST,
            database_url=url,
            storage_backend=StorageBackend.FILESYSTEM,
            storage_path=Path(tmp) / "objects",
            keys_dir=keys,
        )
        store = FilesystemStore(settings.storage_path)
        templates = load_templates(settings.templates_dir)
        engine = make_engine(url)
        context = AppContext.assemble(settings, engine, store, templates, CertificateRenderer(templates))
        with context.sessions() as session:
            configure(
                session, settings.secret_key, get_department(session, DEPARTMENT), issuer_id=ISSUER_ID, api_key=API_KEY
            )
            session.commit()
            step = max(args.documents // 300, 1)
            sample = []
            for i in range(1, args.documents + 1, step):
                row = session.execute(
                    text("SELECT id, storage_key FROM documents WHERE holder_mobile = :m"), {"m": _mobile(i)}
                ).one()
                store.put(row.storage_key, secrets.token_bytes(PDF_BYTES), "application/pdf")
                sample.append((row.id, _mobile(i)))
        plans = query_plans(engine, context, *sample[len(sample) // 2])
        handler, handler_cpu = _in_process(context, sample, args.requests)
        rounds: list[tuple[list[float], float]] = []
        with serve_in_thread(create_app(context=context)) as base, httpx.Client(base_url=base) as client:
            for _ in range(args.rounds):
                rounds.append(_through_http(client, sample, args.requests))
        context.close()
    load_after = format_load(os.getloadavg())
    machine = describe_machine()
    seeding = (
        f"The registry was seeded in this run: {seeded_in / 60:.1f} minutes "
        "(`INSERT … SELECT generate_series` in chunks on 2 connections, keys dropped and rebuilt)."
        if seeded_in is not None
        else "The registry was seeded by an earlier run (kept)."
    )
    http_rows = "".join(
        _row(f"through HTTP, round {n} (uvicorn in a thread; client and server CPU)", timings, cpu_ms)
        for n, (timings, cpu_ms) in enumerate(rounds, 1)
    )
    markdown = (
        f"### {now():%Y-%m-%d %H:%M} UTC · digilocker · {args.documents:,} documents, "
        f"{args.rounds} × {args.requests:,} requests\n\n"
        f"{machine.describe()}; a shared machine (other engineers' test runs on the same cores): "
        f"load average {load} before the run, {load_after} after. {seeding}\n\n"
        "| Pull URI (format both: ~160 KB of base64 PDF + data), one request at a time "
        "| p50 | p95 | p99 | max | CPU of this process per request |\n"
        "|---|---|---|---|---|---|\n"
        f"{_row('the handler in process (no HTTP)', handler, handler_cpu)}"
        f"{http_rows}\n"
        f"Through HTTP over the {len(rounds)} rounds: {_spread('p50', rounds, 50)}; {_spread('p99', rounds, 99)}.\n\n"
        "Query plans of one request (`EXPLAIN`, no sequential scan of `documents` or `citizens`):\n\n"
        + "".join(f"- `{plan}`\n" for plan in plans)
    )
    print(markdown)
    if not args.no_record:
        record_in_section(markdown, SECTION)


SECTION = Section(
    text=(
        "## DigiLocker Pull URI (`python -m bench.digilocker`, `bench/digilocker.py`)\n\n"
        "Target: p99 ≤ 50 ms with 10 million documents in the registry. Each request is signed (HMAC-SHA256),\n"
        "checked for freshness and replay (one insert), looked up by the certificate number (primary key),\n"
        "matched on mobile and name, and answered with the stored PDF and the data as XML, base64-encoded.\n\n"
        "<!-- digilocker runs -->\n\n<!-- /digilocker runs -->\n\n"
    ),
    runs="<!-- digilocker runs -->",
    run="### ",
    end="<!-- /digilocker runs -->",
)


if __name__ == "__main__":
    main()
