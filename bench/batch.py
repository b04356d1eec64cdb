"""``python -m bench batch``: bulk issuing end to end on PostgreSQL + MinIO.

A fresh deployment (``sanad init``, ``sanad demo-seed``), ``N`` warm ``sanad worker``
processes, then for each round: ``sanad batch submit`` of a CSV of ``--rows`` rows (every
row checked and stored), and the workers issue them. A round's rate is rows divided by the
time from the submission's start to the batch's ``finished_at``; its issuing rate counts
from the batch's ``started_at`` instead (a worker took it up), which leaves out the one
submitting process and is what more workers can change. At B-LT and B-LTA a batch is
finished when its documents are issued at B-T; their long-term revision follows on the
same workers' ``long_term`` queue, and the round ends only when every document has its
level, which gives a third rate, *at its level*. Rounds repeat per
signature level (``SANAD_SIGNATURE_LEVEL`` of the workers) and per worker count, so the
2-workers/1-worker ratio is measured on the same deployment and machine.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import cpu
from bench.backends import SANAD, Deployment, deploy, development_pki, subprocess_env
from bench.machine import REPO, describe_machine
from bench.prune import pruning
from bench.report import RESULTS, Section, format_load, record_in_section

LEVELS = ("B-LTA", "B-T", "B-B")
#: Levels whose long-term revision a job adds after the batch has issued at B-T.
LONG_TERM = ("B-LTA", "B-LT")
PINNED = ", each pinned to a CPU of its own (taskset)"
SECTION = Section(
    text=(
        "## Bulk issuing (`python -m bench batch`)\n\n"
        "A batch submitted with `sanad batch submit` and issued by `sanad worker` processes on\n"
        "PostgreSQL + MinIO: rate = rows / (submission start → the batch's `finished_at`); issuing rate = "
        "rows / (`started_at` → `finished_at`).\n\n"
        "<!-- batch runs -->\n\n<!-- end batch runs -->\n\n"
    ),
    runs="<!-- batch runs -->",
    run="<!-- batch run -->",
    end="<!-- end batch runs -->",
)


@dataclass(frozen=True)
class Round:
    level: str
    workers: int
    rows: int
    submit_s: float
    """Reading, checking and storing the file."""
    total_s: float
    issuing_s: float
    """The batch's ``started_at`` (a worker took its first chunk) → ``finished_at``: the
    workers' own rate, without the one submitting process's start-up and checking."""
    at_level_s: float
    """Submission start → the last document's long-term revision stored (B-LT, B-LTA); the
    same as ``total_s`` at levels without one."""
    worker_cpu_s: float = 0.0
    """CPU of the worker processes from the submission to the batch's end (at B-LT and
    B-LTA, until every document has its level)."""
    database_cpu_s: float = 0.0
    """CPU of the PostgreSQL backends serving this deployment's database."""
    store_cpu_s: float = 0.0
    """CPU of the MinIO server (shared with whatever else used it then: an upper bound)."""
    other_cores: float = 0.0
    """Cores that processes outside the benchmark took meanwhile, on average."""
    responder_cpu_s: float = 0.0
    """CPU of this process, which serves the development TSA and OCSP responder (and polls
    the batch's progress): what an outside TSA would spend, taken here from the same cores."""
    worker_peak_rss: int = 0
    """The largest peak resident memory (``VmHWM``) of any worker process, in bytes."""
    database_bytes: int = 0
    """How much the deployment's database grew during the round (``pg_database_size``)."""
    object_bytes: int = 0
    """The stored size of the batch's documents, at their level."""
    first_tenth_rate: float | None = None
    """Issuing rate over the batch's first tenth of rows, and its last: a rate that falls
    as the tables grow shows here. ``None`` where a tenth is too few rows to tell
    (:func:`tenths_measurable`)."""
    last_tenth_rate: float | None = None

    @property
    def rate(self) -> float:
        return self.rows / self.total_s

    @property
    def issuing_rate(self) -> float:
        return self.rows / self.issuing_s

    @property
    def at_level_rate(self) -> float:
        return self.rows / self.at_level_s

    def per_document_ms(self, cpu_s: float) -> float:
        return 1000 * cpu_s / self.rows


class _Usage:
    """CPU of the round's processes: workers, this deployment's PostgreSQL backends, MinIO."""

    def __init__(self, deployment: Deployment, workers: list[subprocess.Popen[bytes]]) -> None:
        self.engine = create_engine(deployment.env["SANAD_DATABASE_URL"])
        self.workers = [w.pid for w in workers]
        self.store = deployment.service_pids.get("MinIO")
        # The deployment's PostgreSQL and MinIO belong to the run: they are not neighbours.
        roots = {**{f"worker {n}": pid for n, pid in enumerate(self.workers)}, **deployment.service_pids}
        self.neighbours = cpu.OtherLoad(roots)
        self.start = self._now()
        self.own_start = time.process_time()

    def database_size(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(text("SELECT pg_database_size(current_database())")) or 0)

    def _backends(self) -> dict[int, float]:
        with self.engine.connect() as connection:
            pids = connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
            return {int(pid): cpu.cpu_seconds(int(pid)) for pid in pids}

    def _now(self) -> tuple[float, dict[int, float], float]:
        workers = sum(cpu.tree_cpu_seconds(pid) for pid in self.workers)
        store = cpu.cpu_seconds(self.store) if self.store is not None else 0.0
        return workers, self._backends(), store

    def finish(self) -> tuple[float, float, float, float, float]:
        """(worker, database, store CPU seconds, other cores, this process's CPU seconds)
        since the start."""
        workers, backends, store = self._now()
        others, _ = self.neighbours.finish()
        self.engine.dispose()
        database = sum(seconds - self.start[1].get(pid, 0.0) for pid, seconds in backends.items())
        own = time.process_time() - self.own_start
        return workers - self.start[0], database, store - self.start[2], others, own


def _example_rows(count: int, tag: str) -> bytes:
    example = json.loads((REPO / "templates" / "income-certificate" / "example.json").read_text("utf-8"))["data"]
    columns = ["citizen_id", "citizen_mobile", *example]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for n in range(1, count + 1):
        writer.writerow({**example, "citizen_id": f"BENCH-{tag}-{n}", "citizen_mobile": "", "purpose": f"Row {n}"})
    return buffer.getvalue().encode("utf-8")


def _pinned(command: list[str], worker: int, pin: bool) -> list[str]:
    """``command`` on a CPU of its own (worker ``n`` on CPU ``n``), the stand-in for a
    machine of its own, when ``pin`` and ``taskset`` is there."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or shutil.which("taskset") is None:
        return command
    return ["taskset", "--cpu-list", str(cpus[worker % len(cpus)]), *command]


def _start_workers(
    deployment: Deployment, count: int, level: str, log: Path, *, pin: bool = False, concurrency: int = 8
) -> list[subprocess.Popen[bytes]]:
    env = subprocess_env({**deployment.env, "SANAD_SIGNATURE_LEVEL": level})
    queues = ["--queue", "batches", "--queue", "long_term", "--queue", "upkeep"]
    command = [str(SANAD), "worker", "--concurrency", str(concurrency), *queues]
    with log.open("ab") as out:
        workers = [
            subprocess.Popen(
                _pinned(command, n, pin), cwd=deployment.workdir, env=env, stdout=out, stderr=subprocess.STDOUT
            )
            for n in range(count)
        ]
    time.sleep(8)  # imports, the context and the signing keys: warm before the clock starts
    return workers


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()


@dataclass
class _Progress:
    status: str
    started: datetime | None
    finished: datetime | None
    samples: list[tuple[float, int]]
    """(monotonic seconds, rows done) as polled, twice a second."""

    def rate_between(self, first_row: int, last_row: int) -> float:
        """Rows a second while the batch went from ``first_row`` to ``last_row`` rows
        done (from the polls that bracket them: within half a second at each end). From
        row 0 the stretch starts at the first poll: the rows come done a chunk at a time,
        and the workers' first chunks (16 of 50 rows with two workers of eight jobs) are
        all under way before any is, so the last poll at 0 would leave their time out."""
        polls = self.samples if first_row == 0 else reversed(self.samples)
        began = next(((t, n) for t, n in polls if n <= first_row), None)
        ended = next(((t, n) for t, n in self.samples if n >= last_row), None)
        if began is None or ended is None or ended[0] <= began[0]:
            return 0.0  # too few polls for so few rows
        return (ended[1] - began[1]) / (ended[0] - began[0])


def _finished(deployment: Deployment, batch_id: str, timeout: float) -> _Progress:
    engine = create_engine(deployment.env["SANAD_DATABASE_URL"])
    deadline = time.monotonic() + timeout
    samples: list[tuple[float, int]] = []
    try:
        while True:
            with engine.connect() as connection:
                status, started, finished, done = connection.execute(
                    text("SELECT status, started_at, finished_at, rows_done + rows_failed FROM batches WHERE id = :id"),
                    {"id": batch_id},
                ).one()
            samples.append((time.monotonic(), int(done)))
            if status not in ("queued", "running", "validating") or time.monotonic() > deadline:
                return _Progress(str(status), started, finished, samples)
            time.sleep(0.5)
    finally:
        engine.dispose()


def _object_bytes(deployment: Deployment, batch_id: str) -> int:
    engine = create_engine(deployment.env["SANAD_DATABASE_URL"])
    query = text(
        "SELECT coalesce(sum(d.size), 0) FROM batch_rows r JOIN documents d ON d.id = r.document_id "
        "WHERE r.batch_id = :id"
    )
    try:
        with engine.connect() as connection:
            return int(connection.scalar(query, {"id": batch_id}) or 0)
    finally:
        engine.dispose()


def _peak_rss(workers: list[subprocess.Popen[bytes]]) -> int:
    return max(cpu.peak_rss_bytes(pid) for worker in workers for pid in (worker.pid, *cpu.children(worker.pid)))


def _at_level(deployment: Deployment, batch_id: str, timeout: float) -> datetime:
    """When the last of the batch's documents stopped waiting for its long-term revision
    (polled: within a fifth of a second)."""
    engine = create_engine(deployment.env["SANAD_DATABASE_URL"])
    deadline = time.monotonic() + timeout
    pending = text(
        "SELECT count(*) FROM batch_rows r JOIN documents d ON d.id = r.document_id "
        "WHERE r.batch_id = :id AND d.long_term_pending"
    )
    try:
        while True:
            with engine.connect() as connection:
                left = connection.scalar(pending, {"id": batch_id})
            if not left:
                return datetime.now(UTC)
            if time.monotonic() > deadline:
                raise RuntimeError(f"batch {batch_id}: {left} documents still without their long-term revision")
            time.sleep(0.2)
    finally:
        engine.dispose()


def tenths_measurable(tenth: int, in_flight: int) -> bool:
    """Whether a rate over ``tenth`` rows says something. Rows come done a chunk at a
    time, and ``in_flight`` rows (every job's chunk) are under way at once: a stretch of
    rows only a few times that counts chunks begun before it, or leaves out the ones that
    end after it (a 10,000-row batch's last tenth ran at "198/s" beside 117/s in all)."""
    return tenth >= 10 * in_flight


def run_round(
    deployment: Deployment,
    level: str,
    workers: int,
    rows: int,
    log: Path,
    *,
    pin: bool = False,
    concurrency: int = 8,
    prune: bool = False,
) -> Round:
    file = deployment.workdir / f"rows-{level}-{workers}.csv"
    tag = f"{level}-{workers}-{time.time_ns()}"
    file.write_bytes(_example_rows(rows, tag))
    store = deployment.service_pids.get("MinIO")
    if store is not None:
        # MinIO removes the objects of buckets earlier runs deleted in the background;
        # a round that started meanwhile measured that clean-up as its own.
        cpu.wait_until_minio_idle(store)
    started = _start_workers(deployment, workers, level, log, pin=pin, concurrency=concurrency)
    try:
        usage = _Usage(deployment, started)
        database_before = usage.database_size()
        began = datetime.now(UTC)
        output = deployment.run_cli(
            "batch",
            "submit",
            str(file),
            "--type",
            "income-certificate",
            "--department",
            "REV",
            "--idempotency-key",
            tag,
        )
        submitted = datetime.now(UTC)
        batch_id = output.split()[1]
        with pruning(deployment.env, batch_id if prune else None):
            progress = _finished(deployment, batch_id, timeout=rows * 2)
            at_level = _at_level(deployment, batch_id, timeout=rows * 2) if level in LONG_TERM else None
        database_growth = usage.database_size() - database_before
        used = usage.finish()
        peak_rss = _peak_rss(started)
    finally:
        _stop(started)
    status, taken_up, finished = progress.status, progress.started, progress.finished
    if status != "completed" or taken_up is None or finished is None:
        raise RuntimeError(f"batch {batch_id} ended {status}; see {log}")
    taken_up, finished = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (taken_up, finished))
    tenth = rows // 10
    measurable = tenths_measurable(tenth, workers * concurrency * deployment.settings().batch_chunk_rows)
    return Round(
        level,
        workers,
        rows,
        (submitted - began).total_seconds(),
        (finished - began).total_seconds(),
        (finished - taken_up).total_seconds(),
        ((at_level or finished) - began).total_seconds(),
        *used,
        worker_peak_rss=peak_rss,
        database_bytes=database_growth,
        object_bytes=_object_bytes(deployment, batch_id),
        first_tenth_rate=progress.rate_between(0, tenth) if measurable else None,
        last_tenth_rate=progress.rate_between(rows - tenth, rows) if measurable else None,
    )


def _tenths(runs: list[Round]) -> str:
    first = [r.first_tenth_rate for r in runs if r.first_tenth_rate is not None]
    last = [r.last_tenth_rate for r in runs if r.last_tenth_rate is not None]
    if not first or not last:
        return "issuing rate over the first and last tenth of the rows: too few rows to tell (rows in flight)"
    return (
        f"issuing rate over the first and last tenth of the rows {statistics.median(first):.1f} and "
        f"{statistics.median(last):.1f}/s"
    )


def render(rounds: list[Round], args: argparse.Namespace, machine: str, load: tuple[str, str]) -> str:
    lines = [
        f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · batch · {args.rows:,} rows × {args.rounds} rounds",
        "",
        f"{machine}; `{' '.join(['python -m bench batch', *sys.argv[2:]])}`; "
        f"workers: `sanad worker --concurrency {args.concurrency}` each{PINNED if args.pin else ''}; "
        "the development TSA served by the bench process; each round starts once MinIO is idle; "
        f"load average before/after: {load[0]} → {load[1]} (above ~0.5 the machine was not quiet: "
        "other processes took CPU from the run).",
        "",
        "CPU per document (medians): the workers'; the PostgreSQL backends serving the deployment's database; "
        "MinIO's (a server other tests used too: an upper bound); the bench process's, which serves the TSA and "
        "OCSP responder. Other load: cores that processes outside the benchmark (not its workers, "
        "PostgreSQL, MinIO or the bench process) took meanwhile.",
        "",
        "| level | workers | documents/s, median | spread (min–max) | issuing documents/s, median "
        "| at its level, documents/s, median | submit (check + store), median s "
        "| worker CPU ms/doc | PostgreSQL ms/doc | MinIO ms/doc | TSA + OCSP ms/doc | other load, cores | rounds |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_config: dict[tuple[str, int], list[Round]] = {}
    for r in rounds:
        by_config.setdefault((r.level, r.workers), []).append(r)
    for (level, workers), runs in by_config.items():
        rates = [r.rate for r in runs]
        lines.append(
            f"| {level} | {workers} | {statistics.median(rates):.1f} | {min(rates):.1f}–{max(rates):.1f} "
            f"| {statistics.median(r.issuing_rate for r in runs):.1f} "
            f"| {statistics.median(r.at_level_rate for r in runs):.1f} "
            f"| {statistics.median(r.submit_s for r in runs):.2f} "
            f"| {statistics.median(r.per_document_ms(r.worker_cpu_s) for r in runs):.1f} "
            f"| {statistics.median(r.per_document_ms(r.database_cpu_s) for r in runs):.1f} "
            f"| {statistics.median(r.per_document_ms(r.store_cpu_s) for r in runs):.1f} "
            f"| {statistics.median(r.per_document_ms(r.responder_cpu_s) for r in runs):.1f} "
            f"| {statistics.median(r.other_cores for r in runs):.2f} | {len(runs)} |"
        )
    lines.append("")
    for (level, workers), runs in by_config.items():
        lines.append(
            f"- {level}, {workers} worker(s), memory and storage: worker peak RSS at most "
            f"{max(r.worker_peak_rss for r in runs) / 2**20:,.0f} MiB; PostgreSQL grew "
            f"{statistics.median(r.database_bytes / r.rows for r in runs):,.0f} bytes a document "
            f"(`pg_database_size`), MinIO holds {statistics.median(r.object_bytes / r.rows for r in runs):,.0f} "
            f"bytes a document (the signed PDFs at their level); {_tenths(runs)}."
        )
    for level in dict.fromkeys(r.level for r in rounds):
        one, two = by_config.get((level, 1)), by_config.get((level, 2))
        if one and two:
            ratio = statistics.median(r.rate for r in two) / statistics.median(r.rate for r in one)
            issuing = statistics.median(r.issuing_rate for r in two) / statistics.median(r.issuing_rate for r in one)
            at_level = statistics.median(r.at_level_rate for r in two) / statistics.median(r.at_level_rate for r in one)
            lines.append(
                f"\n{level}: two workers / one = **{ratio:.2f}×** end to end, **{issuing:.2f}×** while issuing"
                + (f", **{at_level:.2f}×** until every document has its level" if level in LONG_TERM else "")
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench batch", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000, help="rows per batch (default 10,000)")
    parser.add_argument("--rounds", type=int, default=2, help="batches per level and worker count (default 2)")
    parser.add_argument("--levels", default=",".join(LEVELS), help="signature levels (default B-LTA,B-T,B-B)")
    parser.add_argument("--workers", default="1,2", help="worker process counts to compare (default 1,2)")
    parser.add_argument(
        "--pin", action="store_true", help="each worker on a CPU of its own (taskset), as if on a machine of its own"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="jobs at once per worker (default 8, as sanad worker)"
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="remove documents from MinIO once at their level, for batches bigger than the disk "
        "(rows and recorded sizes stay; see bench/prune.py)",
    )
    parser.add_argument("--no-record", action="store_true", help=f"print only; leave {RESULTS.name} alone")
    args = parser.parse_args(argv)
    machine = describe_machine().describe()
    load_before = format_load(os.getloadavg())
    rounds: list[Round] = []
    with deploy("postgres-minio") as deployment, development_pki(deployment.env):
        log = Path(os.environ.get("SANAD_BENCH_WORKER_LOG", deployment.workdir / "workers.log"))
        for level in args.levels.split(","):
            for workers in (int(n) for n in args.workers.split(",")):
                for _ in range(args.rounds):
                    done = run_round(
                        deployment,
                        level,
                        workers,
                        args.rows,
                        log,
                        pin=args.pin,
                        concurrency=args.concurrency,
                        prune=args.prune,
                    )
                    print(
                        f"bench: {level}, {workers} worker(s): {done.rate:.1f} documents/s, "
                        f"{done.at_level_rate:.1f} at its level, "
                        f"worker CPU {done.per_document_ms(done.worker_cpu_s):.1f} ms/doc, "
                        f"TSA + OCSP {done.per_document_ms(done.responder_cpu_s):.1f} ms/doc, "
                        f"other load {done.other_cores:.2f} cores",
                        flush=True,
                    )
                    rounds.append(done)
    markdown = render(rounds, args, machine, (load_before, format_load(os.getloadavg())))
    print(markdown)
    if not args.no_record:
        record_in_section(markdown, SECTION)
        print(f"bench: recorded in {RESULTS}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
