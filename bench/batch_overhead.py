"""``python -m bench batch-overhead``: what the batch path itself costs per row, on
PostgreSQL + MinIO, with rendering and signing replaced by stand-ins.

Rendering and signing are the same work on every path (see ``python -m bench render``
and ``levels``); what a batch adds is its bookkeeping: reading its rows, the citizen
records, status-list indexes, the documents' rows, the rows' outcomes and counters, and
one object put per row. Here each row's "rendering" returns a fixed PDF and its
"signature" appends a distinct comment (the registry wants unique digests), so the rate
is that of the bookkeeping and the real object puts alone. The chunks run one after
another in this process (as one job thread of a worker does).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import func, select, text

from app.context import AppContext
from bench.backends import SANAD, Deployment, deploy, development_pki, subprocess_env
from bench.batch import _example_rows
from bench.machine import describe_machine
from bench.report import format_load
from bench.stages import _FixedRenderer, _UniqueSigner
from issuer import batches
from issuer.batches_models import Batch, BatchStatus
from issuer.models import Document
from issuer.render import CertificateRenderer
from issuer.sign import SignerRegistry

_TABLES = ("documents", "citizens", "status_index_allocations", "batch_rows")


def _bytes_per_document(context: AppContext) -> str:
    """What each issued document occupies: its rows in PostgreSQL (the document, its
    citizen record and status index, and its batch row, with their indexes) and its
    object in MinIO."""
    with context.sessions() as session:
        count = session.scalar(select(func.count()).select_from(Document)) or 1
        average_object = session.scalar(select(func.avg(Document.size))) or 0
        sizes = {
            table: int(session.scalar(text(f"SELECT pg_total_relation_size('{table}')")) or 0) for table in _TABLES
        }
    per_table = ", ".join(f"{table} {size / count:,.0f}" for table, size in sizes.items())
    return (
        f"bytes per document ({count:,} documents): PostgreSQL {sum(sizes.values()) / count:,.0f} "
        f"({per_table}); MinIO {float(average_object):,.0f} (the signed PDF; MinIO adds its own metadata)"
    )


def _validation_peak_rss(deployment: Deployment, rows: int) -> str:
    file = deployment.workdir / "validate.csv"
    file.write_bytes(_example_rows(rows, f"validate-{time.time_ns()}"))
    command = [str(SANAD), "batch", "submit", str(file), "--type", "income-certificate", "--department", "REV"]
    process = subprocess.Popen(
        [*command, "--dry-run"],
        cwd=deployment.workdir,
        env=subprocess_env(deployment.env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    began = time.perf_counter()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - began
    if status != 0:
        raise RuntimeError(f"sanad batch submit --dry-run failed ({status})")
    size = file.stat().st_size
    return f"{usage.ru_maxrss / 1024:,.0f} MiB for a {size / 2**20:,.0f} MiB file, in {elapsed:.0f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench batch-overhead", description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000, help="rows per batch (default 2,000)")
    parser.add_argument("--rounds", type=int, default=3, help="batches (default 3)")
    parser.add_argument(
        "--validate-rows", type=int, default=0, help="also check a file of this many rows and report the peak RSS"
    )
    args = parser.parse_args(argv)
    load_before = format_load(os.getloadavg())
    rates: list[float] = []
    cpu_ms: list[float] = []
    with deploy("postgres-minio") as deployment, development_pki(deployment.env):
        context = AppContext.build(deployment.settings())
        context.load_signing_keys()
        chunk = context.settings.batch_chunk_rows
        for round_number in range(args.rounds + 1):  # the first, of one chunk, warms up
            rows = chunk if round_number == 0 else args.rows
            file = deployment.workdir / f"overhead-{round_number}.csv"
            file.write_bytes(_example_rows(rows, f"overhead-{round_number}-{time.time_ns()}"))
            output = deployment.run_cli(
                "batch", "submit", str(file), "--type", "income-certificate", "--department", "REV"
            )
            batch_id = output.split()[1]
            with context.sessions.begin() as session:
                batch = session.get(Batch, batch_id)
                assert batch is not None
                batch.status, batch.started_at = BatchStatus.RUNNING, datetime.now(UTC)
            if round_number == 0:
                batches.issue_rows(context, batch_id, 1, chunk)
                with context.sessions() as session:
                    document = (
                        session.query(Document).filter(Document.idempotency_key.like(f"batch:{batch_id}:%")).first()
                    )
                    assert document is not None
                    signed = context.kit.store.get(document.storage_key)
                signer = context.kit.signers.get("REV")
                kit = replace(
                    context.kit,
                    renderer=cast(CertificateRenderer, _FixedRenderer(signed)),
                    signers=cast(SignerRegistry, _UniqueSigner(signed, signer)),
                )
                context = replace(context, kit=kit)
                continue
            began, cpu_began = time.perf_counter(), time.process_time()
            for first in range(1, rows + 1, chunk):
                batches.issue_rows(context, batch_id, first, first + chunk - 1)
            elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu_began
            with context.sessions() as session:
                finished = session.get(Batch, batch_id)
                assert finished is not None
                assert (finished.status, finished.rows_done) == (BatchStatus.COMPLETED, rows), finished.status
            rates.append(rows / elapsed)
            cpu_ms.append(1000 * cpu / rows)
            print(f"bench: {rows / elapsed:.0f} rows/s, {1000 * cpu / rows:.2f} ms CPU per row", flush=True)
        storage = _bytes_per_document(context)
        peak = _validation_peak_rss(deployment, args.validate_rows) if args.validate_rows else None
        context.close()
    print(storage)
    if peak is not None:
        print(f"checking a file of {args.validate_rows:,} rows (`sanad batch submit --dry-run`): peak RSS {peak}")
    print(
        f"{describe_machine().describe()}; load average {load_before} → {format_load(os.getloadavg())}\n"
        f"batch path without render and sign: {statistics.median(rates):.0f} rows/s median "
        f"({min(rates):.0f}–{max(rates):.0f}), {statistics.median(cpu_ms):.2f} ms CPU per row in the worker, "
        f"{args.rows:,} rows × {args.rounds} rounds, chunks of {chunk}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
