"""``python -m bench.audit``: what an audit append adds to a transaction, on SQLite and
on PostgreSQL.

Each operation is one transaction that changes one row (a department's name) and
commits. Measured three ways over the same loop:

- *append*: the work the log adds inside the transaction, timed directly: noting the
  entry (``audit.record``) plus writing it (on PostgreSQL one statement that advances the
  head and inserts the entry; on SQLite the head's ``UPDATE … RETURNING``, then the
  ``INSERT``), run just before the commit as the session hook runs it;
- *append CPU*: this process's CPU time for the same (the database server's is not in
  it), which a busy machine inflates far less than the wall-clock time;
- *with* and *without*: the whole transaction with and without an entry, alternating,
  so both see the same machine.

PostgreSQL is the test server of ``scripts/services.sh`` (``SANAD_TEST_DATABASE_URL``),
in a schema of its own removed afterwards; SQLite is a file in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, make_url, text, update
from sqlalchemy.orm import Session

import audit
from app.migrate import upgrade
from audit.log import _append
from bench.machine import describe_machine
from bench.report import RESULTS, Section, format_load, now, record_in_section
from bench.stats import percentile
from sanad.db import make_engine, make_session_factory
from sanad.departments import DepartmentNames, add_department
from sanad.models import Department

SECTION = Section(
    text=(
        "## Audit log appends (`python -m bench.audit`)\n\n"
        "What one audit entry adds to a transaction that changes one row and commits. *append* is\n"
        "the log's own work inside the transaction (note the entry, advance the head, insert the\n"
        "entry: one statement on PostgreSQL), *append CPU* this process's CPU time for it;\n"
        "*with*/*without* are whole transactions,\n"
        "alternating. Budget: append p99 ≤ 1 ms. Compare the load average: the machine is shared.\n\n"
        "<!-- audit runs -->\n\n<!-- end audit runs -->\n\n"
    ),
    runs="<!-- audit runs -->",
    run="<!-- audit run -->",
    end="<!-- end audit runs -->",
)


@contextmanager
def _sqlite() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'bench.db'}")
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def _postgres() -> Iterator[Engine]:
    url = os.environ.get("SANAD_TEST_DATABASE_URL")
    if not url:
        raise SystemExit('SANAD_TEST_DATABASE_URL is not set: eval "$(bash scripts/services.sh env)"')
    schema = f"bench_audit_{secrets.token_hex(4)}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(scoped.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _change(session: Session, department_id: int, n: int) -> None:
    session.execute(update(Department).where(Department.id == department_id).values(name_en=f"Bench {n}"))


def measure(engine: Engine, operations: int) -> dict[str, list[float]]:
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as s:
        department = add_department(s, "BENCH", DepartmentNames(en="Bench", pa="ਬੈਂਚ", hi="बेंच"))
        s.commit()
        department_id = department.id
    timings: dict[str, list[float]] = {"append": [], "append CPU": [], "with": [], "without": []}
    for n in range(operations + 50):
        warm = n >= 50
        with sessions() as s:
            started = time.perf_counter()
            _change(s, department_id, n)
            s.commit()
            if warm:
                timings["without"].append(time.perf_counter() - started)
        with sessions() as s:
            started = time.perf_counter()
            _change(s, department_id, n)
            s.flush()
            appending, appending_cpu = time.perf_counter(), time.thread_time()
            audit.record(
                s, action="bench.change", subject=f"department:{department_id}", actor="bench", details={"n": n}
            )
            _append(s)  # what the commit's hook would run; timed here on its own
            appended, appended_cpu = time.perf_counter(), time.thread_time()
            s.commit()
            if warm:
                timings["append"].append(appended - appending)
                timings["append CPU"].append(appended_cpu - appending_cpu)
                timings["with"].append(time.perf_counter() - started)
    return timings


def _row(backend: str, name: str, values: list[float]) -> str:
    p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
    return f"| {backend} | {name} | {len(values)} | {p50:.3f} | {p99:.3f} | {max(values) * 1000:.3f} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--no-record", action="store_true", help=f"print only; leave {RESULTS.name} alone")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    rows = []
    for backend, open_engine in (("SQLite", _sqlite), ("PostgreSQL", _postgres)):
        with open_engine() as engine:
            timings = measure(engine, args.operations)
        rows += [_row(backend, name, values) for name, values in timings.items()]
    machine = describe_machine()
    markdown = "\n".join(
        [
            "<!-- audit run -->",
            f"### {now():%Y-%m-%d %H:%M} UTC — {machine.describe()}",
            "",
            f"Load average before/after: {format_load(load_before)} / {format_load(os.getloadavg())}.",
            "",
            "| backend | what | n | p50 ms | p99 ms | max ms |",
            "|---|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(markdown)
    if not args.no_record:
        record_in_section(markdown, SECTION)


if __name__ == "__main__":
    main()
