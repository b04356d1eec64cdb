"""``python -m bench intake``: citizens' applications at state scale, through the real server.

Seeds (or reuses) a database of 1,000,000 applications, waits for the machine to be
quiet, then, with ``sanad serve --workers 2`` on PostgreSQL + MinIO: the head office
pendency report (1 and 4 clients), the report's and a submission's parts in-process
(with EXPLAIN ANALYZE of the report's queries), submissions by signed-in citizens
(16 and 32 keep-alive connections, each request from another citizen), and approvals,
each of which issues a certificate. wrk sends the pendency report and the submissions
(only 200 and 201 answers count); Python clients send the approvals.
Results are printed and recorded in ``bench/RESULTS.md``. What the run created is
removed afterwards (and before the next run, should this one be killed).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import psycopg

from app.context import AppContext
from bench import cpu
from bench.backends import Deployment, objects_removed_at, remove_bucket
from bench.intake_load import (
    SubmissionBody,
    add_approver,
    approve,
    check_pendency,
    check_submission,
    signed_in_citizens,
    submissions,
    submitted_numbers,
)
from bench.intake_load import staff_session as staff_token
from bench.intake_parts import measure_pendency, measure_submission, pendency_plans
from bench.intake_report import IntakeRun, Phase, record_intake, render_intake_run
from bench.intake_seed import IntakeData, Scale, prepare, remove_bench_rows, vacuum
from bench.intake_wrk import WrkPhases, citizens_per_round
from bench.locker_load import HttpRun, LockerClient, Operation, OtherLoad
from bench.machine import describe_machine
from bench.report import RESULTS, now
from bench.server import Server
from bench.stages import Budget
from bench.stats import Measurement
from bench.wrk import Each

FULL = Budget(rounds=5, seconds=2.0, min_ops=20, warmup=20)
QUICK = Budget(rounds=3, seconds=0.5, min_ops=10, warmup=10)
PARTS_CITIZENS = 20_000
"""Citizens set aside for the in-process submissions (each takes a new one): three stages
submit for ``FULL``'s 5 × 2 s plus warm-up, ~1,600 a second for the database-only one."""
QUIET_LOAD = 0.8
PHASES = ("pendency", "parts", "submissions", "approvals")
_OTHERS = re.compile(r"\bpytest\b|-m bench\b")
_POSTGRES_SETTINGS = ("shared_buffers", "work_mem", "jit", "synchronous_commit", "max_parallel_workers_per_gather")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench intake", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer and shorter rounds (same data)")
    parser.add_argument("--reseed", action="store_true", help="drop the bench database and seed it again")
    parser.add_argument("--applications", type=int, default=Scale.applications, help="seeded applications (1M)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    parser.add_argument(
        "--concurrency", default="16,32", help="keep-alive clients for submissions, comma-separated (16,32)"
    )
    parser.add_argument("--seconds", type=float, help="seconds per wrk round (5, quick: 2)")
    parser.add_argument("--approval-concurrency", type=int, default=8, help="clients approving at once (8)")
    parser.add_argument("--rounds", type=int, help="rounds per HTTP measurement (5, quick: 3)")
    parser.add_argument("--wait-quiet", type=float, default=20.0, help="minutes to wait for an idle machine (20)")
    parser.add_argument(
        "--only",
        default=",".join(PHASES),
        help=f"comma-separated subset of {','.join(PHASES)} (approvals need submissions)",
    )
    parser.add_argument("--no-record", action="store_true", help=f"print only; leave {RESULTS.name} alone")
    args = parser.parse_args(argv)
    wanted = {p.strip() for p in args.only.split(",") if p.strip()}
    if not wanted <= set(PHASES) or ("approvals" in wanted and "submissions" not in wanted):
        parser.error(f"--only takes {', '.join(PHASES)}; approvals need submissions")
    args.only = wanted
    return args


def _stop_on_sigterm() -> None:
    # An exception unwinds the server's context manager and the clean-up below.
    def handler(signum: int, _: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def _ours() -> set[int]:
    """This process and its ancestors (``make``, a shell): not other people's work."""
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])
    return pids


def _busy_elsewhere() -> list[str]:
    ours, found = _ours(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in ours:
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if _OTHERS.search(command) and not command.startswith(("bash", "/bin/bash", "timeout", "sh ")):
            found.append(f"{entry.name} {command[:80]}")
    return found


def wait_for_quiet(minutes: float) -> str:
    """Wait until no test suite or other benchmark runs and the 1-minute load is low."""
    started = time.monotonic()
    deadline = started + 60 * minutes
    while True:
        busy, load = _busy_elsewhere(), os.getloadavg()[0]
        waited = (time.monotonic() - started) / 60
        if not busy and load < QUIET_LOAD:
            return f"The machine was idle when measuring began (waited {waited:.0f} min for it)."
        if time.monotonic() >= deadline:
            return (
                f"**The machine was not idle** after waiting {waited:.0f} min (load {load:.2f}; "
                f"running: {'; '.join(busy) or 'nothing matched'}): measured with background load."
            )
        print(f"bench: waiting for an idle machine (load {load:.2f}, {len(busy)} other runs) ...", flush=True)
        time.sleep(15)


def _postgres_settings(url: str) -> str:
    with psycopg.connect(url) as conn:
        values = [(name, conn.execute(f"SHOW {name}").fetchone()) for name in _POSTGRES_SETTINGS]
    return ", ".join(f"{name} {value[0] if value else '?'}" for name, value in values)


def _open_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM applications WHERE status IN ('submitted', 'under_review', 'returned', 'approved')"
        ).fetchone()
    return int(row[0]) if row else 0


def _clean_up(data: IntakeData) -> None:
    print("bench: removing what this run created ...", flush=True)
    removed = remove_bench_rows(data.libpq_url)
    if removed:
        vacuum(data.libpq_url)
    remove_bucket(data.env)


class _Phases:
    """Runs HTTP measurements and notes how busy the rest of the machine was meanwhile."""

    def __init__(self, client: LockerClient, roots: dict[str, int], rounds: int) -> None:
        self.client = client
        self.roots = roots
        self.rounds = rounds

    def measure(self, name: str, operation: Operation, *, concurrency: int, requests: int, warmup: int) -> Phase:
        neighbours = OtherLoad(self.roots)
        run: HttpRun = self.client.measure(
            name, operation, concurrency=concurrency, rounds=self.rounds, requests=requests, warmup=warmup
        )
        others, steal = neighbours.finish()
        return Phase(run, others, steal)


def main(argv: list[str]) -> int:
    args = _parse(argv)
    _stop_on_sigterm()
    quick = args.quick
    rounds = args.rounds or (3 if quick else 5)
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    seconds = args.seconds or (2.0 if quick else 5.0)
    approve_requests = 30 if quick else 150
    command = "python -m bench intake" + "".join(f" {a}" for a in argv)
    scale = Scale(applications=args.applications, citizens=max(args.applications * 3 // 10, 1))
    data = prepare(scale, reseed=args.reseed, bucket=f"sanad-bench-intake-{secrets.token_hex(4)}")
    try:
        return _measure(args, data, command, rounds, concurrencies, seconds, approve_requests)
    finally:
        _clean_up(data)


def _measure(
    args: argparse.Namespace,
    data: IntakeData,
    command: str,
    rounds: int,
    concurrencies: list[int],
    seconds: float,
    approve_requests: int,
) -> int:
    url = data.libpq_url
    head_office = staff_token(url, "headoffice")
    approver = add_approver(url)
    # Each wrk round (and each warm-up) of submissions gets citizens of its own.
    per_round = citizens_per_round(seconds)
    http_citizens = 1 + len(concurrencies) * (rounds + 1) * per_round if "submissions" in args.only else 0
    print(f"bench: signing in {PARTS_CITIZENS + http_citizens:,} citizens (sessions written directly) ...", flush=True)
    citizens = signed_in_citizens(url, PARTS_CITIZENS + http_citizens)
    expected_open = _open_count(url)
    quiet = wait_for_quiet(args.wait_quiet)
    print(f"bench: {quiet}", flush=True)
    if (store := data.service_pids.get("MinIO")) is not None:
        # MinIO empties the trash of earlier runs' removals in the background, and new
        # files cost more for minutes after many were deleted (bench.cpu).
        waited = cpu.wait_until_minio_idle(store, removed_at=objects_removed_at())
        print(f"bench: MinIO idle after {waited:.0f} s", flush=True)
    started = now()
    load_before = os.getloadavg()
    deployment = Deployment("postgres-minio", data.env, data.workdir, "", data.service_pids)
    with Server(deployment, workers=args.workers) as server:
        roots = {"sanad server": server.pid, **data.service_pids}
        phases = _Phases(LockerClient(server.base_url, head_office, roots, server.worker_pids()), roots, rounds)
        under_wrk = WrkPhases(server.base_url, roots, server.worker_pids(), seconds)
        pendency_runs = []
        if "pendency" in args.only:
            check_pendency(server.base_url, head_office, expected_open)
            pendency_runs = [
                Phase(
                    *under_wrk.measure(
                        "pendency",
                        "/api/v1/pendency",
                        connections=c,
                        rounds=rounds,
                        expected=200,
                        headers={"Authorization": f"Bearer {head_office}"},
                    )
                )
                for c in (1, 4)
            ]
        plans: dict[str, str] = {}
        pendency_parts: list[Measurement] = []
        submission_parts: list[Measurement] = []
        parts_other_cores = 0.0
        if "parts" in args.only:
            print("bench: the parts in-process ...", flush=True)
            context = AppContext.build(deployment.settings())
            budget = QUICK if args.quick else FULL
            neighbours = OtherLoad(roots)
            try:
                plans = pendency_plans(url, context)
                pendency_parts = measure_pendency(url, context, budget)
                submission_parts = measure_submission(context, citizens[:PARTS_CITIZENS], budget)
            finally:
                context.close()
            parts_other_cores = neighbours.finish()[0]
        body = SubmissionBody()
        submission_runs = []
        if "submissions" in args.only:
            # The answer checked in full once; wrk then counts statuses.
            check_submission(server.base_url, citizens[PARTS_CITIZENS], body)
            blocks = iter(range(PARTS_CITIZENS + 1, len(citizens), per_round))

            def next_block(_: int) -> Each:
                start = next(blocks)
                return submissions(citizens[start : start + per_round], body)

            for c in concurrencies:
                submission_runs.append(
                    Phase(
                        *under_wrk.measure(
                            "submissions",
                            "/api/v1/applications",
                            connections=c,
                            rounds=rounds,
                            expected=201,
                            method="POST",
                            body=body.files,
                            content_type=body.content_type,
                            each=next_block,
                        )
                    )
                )
        deciding = args.approval_concurrency
        approval_runs = []
        if "approvals" in args.only:
            approval_runs = [
                phases.measure(
                    "approvals",
                    approve(submitted_numbers(url), approver),
                    concurrency=deciding,
                    requests=approve_requests,
                    warmup=2 * deciding,
                )
            ]
    run = IntakeRun(
        command=command,
        mode=("quick" if args.quick else "full")
        + ("" if args.only == set(PHASES) else " (" + ", ".join(p for p in PHASES if p in args.only) + ")"),
        machine=describe_machine(),
        started=started,
        data=data,
        workers=args.workers,
        quiet=quiet,
        submissions=submission_runs,
        approvals=approval_runs,
        pendency=pendency_runs,
        submission_parts=submission_parts,
        pendency_parts=pendency_parts,
        plans=plans,
        parts_other_cores=parts_other_cores,
        load=(load_before, os.getloadavg()),
        postgres_settings=_postgres_settings(url),
    )
    markdown = render_intake_run(run)
    print(markdown)
    if not args.no_record:
        record_intake(markdown)
        print(f"bench: recorded in {RESULTS}")
    phases_all = [*submission_runs, *approval_runs, *pendency_runs]
    return 1 if any(p.run.errors for p in phases_all) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
