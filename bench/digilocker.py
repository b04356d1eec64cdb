"""``python -m bench.digilocker``: DigiLocker's Pull URI at registry scale.

Seeds (or reuses) the database ``sanad_bench_digilocker_<documents>`` on the test
PostgreSQL with that many income certificates (plain SQL, keys dropped while loading as
``bench/locker_seed.py`` does; document ``i`` has the mobile number ``9`` + ``i`` in nine
digits), registers its department with DigiLocker, stores a signed-PDF-sized object for
a few hundred documents spread through the table, then sends signed Pull URI requests
(format ``both``: the PDF and the data) one after another through a real HTTP server
(uvicorn in a thread of this process) and records the latency in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
from sqlalchemy import text
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


def _prepare_database(admin_url: str, documents: int) -> str:
    """The bench database's SQLAlchemy URL, seeded unless it already holds ``documents``."""
    name = f"sanad_bench_digilocker_{documents}"
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    with psycopg.connect(libpq_url(url)) as conn:
        count = conn.execute("SELECT count(*) FROM documents").fetchone()
        if count is not None and count[0] == documents:
            print(f"bench: reusing {name} ({documents:,} documents)", flush=True)
            return url
        conn.execute("TRUNCATE documents, citizens, departments RESTART IDENTITY CASCADE")
        conn.commit()
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
    print(f"bench: seeded {documents:,} documents in {time.monotonic() - started:.0f} s", flush=True)
    return url


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


def _row(what: str, timings: list[float], cpu_ms: float) -> str:
    p50, p95, p99 = (percentile(timings, q) for q in (50, 95, 99))
    return f"| {what} | {p50:.1f} ms | {p95:.1f} ms | {p99:.1f} ms | {max(timings):.1f} ms | {cpu_ms:.1f} ms |\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.digilocker", description=__doc__)
    parser.add_argument("--documents", type=int, default=10_000_000, help="documents in the registry (10,000,000)")
    parser.add_argument("--requests", type=int, default=2000, help="Pull URI requests measured (2,000)")
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    admin_url = os.environ.get("SANAD_TEST_DATABASE_URL")
    if not admin_url:
        raise SystemExit('start the services: eval "$(bash scripts/services.sh env)"')
    url = _prepare_database(admin_url, args.documents)
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
        context = AppContext.assemble(settings, make_engine(url), store, templates, CertificateRenderer(templates))
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
        handler, handler_cpu = _in_process(context, sample, args.requests)
        timings: list[float] = []
        cpu_started = time.process_time()
        with serve_in_thread(create_app(context=context)) as base, httpx.Client(base_url=base) as client:
            for n in range(args.requests + 50):
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
        http_cpu = (time.process_time() - cpu_started) * 1000 / args.requests
        context.close()
    machine = describe_machine()
    markdown = (
        f"### {now():%Y-%m-%d %H:%M} UTC · digilocker · {args.documents:,} documents, {args.requests:,} requests\n\n"
        f"{machine.describe()}; load average before the run {load}.\n\n"
        "| Pull URI (format both: ~160 KB of base64 PDF + data), one request at a time "
        "| p50 | p95 | p99 | max | CPU of this process per request |\n"
        "|---|---|---|---|---|---|\n"
        f"{_row('the handler in process (no HTTP)', handler, handler_cpu)}"
        f"{_row('through HTTP (uvicorn in a thread; client and server CPU)', timings, http_cpu)}"
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
