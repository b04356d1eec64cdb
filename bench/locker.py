"""``python -m bench locker``: the citizen locker at registry scale, through the real server.

Seeds (or reuses) a database of 10 million documents with one citizen holding 1,000,
signs that citizen in through the API, then measures the requests' parts in-process, the
listing (one client, a few and many concurrent clients), and the downloads: the API's 307
to MinIO alone, the whole download through MinIO, MinIO alone, and the filesystem
backend streaming the bytes. Results are printed and recorded in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from datetime import timedelta
from types import FrameType

import httpx
import psycopg

from app.context import AppContext
from bench.backends import Deployment, deployment_store
from bench.locker_load import (
    HttpRun,
    LockerClient,
    OtherLoad,
    content_redirect,
    content_streamed,
    content_via_redirect,
    list_page,
    page_cursors,
    sign_in,
    storage_only,
)
from bench.locker_parts import measure_parts
from bench.locker_report import LockerRun, record_locker, render_locker_run
from bench.locker_seed import MOBILE, HeldObject, LockerData, Scale, prepare
from bench.machine import describe_machine
from bench.report import RESULTS, now
from bench.server import Server
from bench.stages import Budget

FULL = Budget(rounds=5, seconds=2.0, min_ops=20, warmup=20)
QUICK = Budget(rounds=3, seconds=0.5, min_ops=10, warmup=10)
LIGHT_LOAD = 4
"""Concurrent clients of the listing's light-load row: two per core."""
_POSTGRES_SETTINGS = ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench locker", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer and shorter rounds (same data)")
    parser.add_argument("--reseed", action="store_true", help="drop the bench database and seed it again")
    parser.add_argument("--documents", type=int, default=Scale.documents, help="documents in the registry (10M)")
    parser.add_argument("--citizens", type=int, help="citizens they are spread over (default: documents × 0.15)")
    parser.add_argument("--holder-documents", type=int, default=Scale.holder_documents, help="the bench citizen's")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent keep-alive clients (default 16)")
    parser.add_argument("--rounds", type=int, help="rounds per HTTP measurement (5, quick: 3)")
    parser.add_argument("--no-record", action="store_true", help=f"print only; leave {RESULTS.name} alone")
    return parser.parse_args(argv)


def _stop_on_sigterm() -> None:
    # An exception unwinds the servers' context managers, so no server outlives the run.
    def handler(signum: int, _: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def _postgres_settings(data: LockerData) -> str:
    with psycopg.connect(data.libpq_url) as conn:
        values = [(name, conn.execute(f"SHOW {name}").fetchone()) for name in _POSTGRES_SETTINGS]
    return ", ".join(f"{name} {value[0] if value else '?'}" for name, value in values)


def _presigned(data: LockerData) -> list[tuple[HeldObject, str]]:
    env = data.minio_env
    store = deployment_store(env)
    return [(h, store.download_url(h.storage_key, f"{h.id}.pdf", timedelta(hours=1)) or "") for h in data.held]


def main(argv: list[str]) -> int:
    args = _parse(argv)
    _stop_on_sigterm()
    quick = args.quick
    rounds = args.rounds or (3 if quick else 5)
    serial_requests = 150 if quick else 400
    concurrent_requests = 200 if quick else 1000
    download_requests = 300 if quick else 2000
    warmup = 2 * args.concurrency
    command = "python -m bench locker" + "".join(f" {a}" for a in argv)
    scale = Scale(
        documents=args.documents,
        citizens=args.citizens or max(args.documents * 3 // 20, 1),
        holder_documents=args.holder_documents,
    )
    data = prepare(scale, reseed=args.reseed)
    started = now()
    load_before = os.getloadavg()
    minio = Deployment("postgres-minio", data.minio_env, data.workdir / "minio", "", data.service_pids)
    filesystem = Deployment("postgres-filesystem", data.filesystem_env, data.workdir / "filesystem", "", {})
    for deployment in (minio, filesystem):
        deployment.workdir.mkdir(parents=True, exist_ok=True)
    downloads: list[tuple[str, HttpRun]] = []

    with Server(minio, workers=args.workers) as server:
        token = sign_in(server.base_url, data.libpq_url, MOBILE)
        cursors: list[str | None] = [None, *page_cursors(server.base_url, token)]
        headers = {"Authorization": f"Bearer {token}"}
        page_bytes = len(httpx.get(f"{server.base_url}/api/v1/locker/documents?limit=50", headers=headers).content)
        print("bench: the requests' parts in-process ...", flush=True)
        context = AppContext.build(minio.settings())
        try:
            parts = measure_parts(data, context, token, QUICK if quick else FULL)
        finally:
            context.close()
        roots = {"sanad server": server.pid, **data.service_pids}
        client = LockerClient(server.base_url, token, roots, server.worker_pids())
        neighbours = OtherLoad(roots)
        listing = [
            client.measure(
                "first page",
                list_page([None]),
                concurrency=1,
                rounds=rounds,
                requests=serial_requests,
                warmup=50,
            ),
            client.measure(
                f"any page (all {len(cursors)}, cursors in turn)",
                list_page(cursors),
                concurrency=1,
                rounds=rounds,
                requests=serial_requests,
                warmup=50,
            ),
            client.measure(
                "first page",
                list_page([None]),
                concurrency=LIGHT_LOAD,
                rounds=rounds,
                requests=concurrent_requests,
                warmup=warmup,
            ),
            client.measure(
                "first page",
                list_page([None]),
                concurrency=args.concurrency,
                rounds=rounds,
                requests=concurrent_requests,
                warmup=warmup,
            ),
        ]
        downloads += [
            (
                "minio",
                client.measure(
                    "API only: the 307 to MinIO (bytes not fetched)",
                    content_redirect(data.held),
                    concurrency=args.concurrency,
                    rounds=rounds,
                    requests=download_requests,
                    warmup=warmup,
                ),
            ),
            (
                "minio",
                client.measure(
                    "whole download: the 307, then the PDF from MinIO",
                    content_via_redirect(data.held),
                    concurrency=args.concurrency,
                    rounds=rounds,
                    requests=download_requests,
                    warmup=warmup,
                ),
            ),
            (
                "minio",
                client.measure(
                    "MinIO alone: presigned GET, no API request (for comparison)",
                    storage_only(_presigned(data)),
                    concurrency=args.concurrency,
                    rounds=rounds,
                    requests=download_requests,
                    warmup=warmup,
                ),
            ),
        ]
        other_loads = [neighbours.finish()]
    with Server(filesystem, workers=args.workers) as server:
        roots = {"sanad server": server.pid, **data.service_pids}
        client = LockerClient(server.base_url, token, roots, server.worker_pids())
        neighbours = OtherLoad(roots)
        downloads.append(
            (
                "filesystem",
                client.measure(
                    "API streams the bytes (200)",
                    content_streamed(data.held),
                    concurrency=args.concurrency,
                    rounds=rounds,
                    requests=download_requests,
                    warmup=warmup,
                ),
            )
        )
        other_loads.append(neighbours.finish())
    # The busier of the two phases: a shared machine shows in either.
    other_load = (max(o[0] for o in other_loads), max(o[1] for o in other_loads))
    run = LockerRun(
        command=command,
        mode="quick" if quick else "full",
        machine=describe_machine(),
        started=started,
        data=data,
        workers=args.workers,
        listing=listing,
        downloads=downloads,
        parts=parts,
        load=(load_before, os.getloadavg()),
        other_load=other_load,
        page_bytes=page_bytes,
        postgres_settings=_postgres_settings(data),
    )
    markdown = render_locker_run(run)
    print(markdown)
    if not args.no_record:
        record_locker(markdown)
        print(f"bench: recorded in {RESULTS}")
    errors = sum(len(r.errors) for r in listing) + sum(len(r.errors) for _, r in downloads)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
