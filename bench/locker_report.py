"""Markdown for one locker run, recorded in the Locker section of ``bench/RESULTS.md``.

The section sits above the issuing runs (``bench.report`` owns everything below its
runs marker and trims it), between the markers below; the newest run comes first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.locker_load import HttpRun
from bench.locker_parts import Parts
from bench.locker_seed import LockerData
from bench.machine import Machine
from bench.report import NOISY_CORES, RESULTS, Section, record_in_section

LOCKER_RUNS = "<!-- bench:locker-runs (python -m bench locker inserts each run below; keep this line) -->"
LOCKER_RUN = "<!-- bench:locker-run -->"
LOCKER_END = "<!-- bench:locker-end (keep this line) -->"
KEEP_RUNS = 6
LISTING_TARGET_MS = 20.0
DOWNLOAD_TARGET = 500.0

_SECTION = f"""## Locker: listing and downloads

`make bench-locker` (or `.venv/bin/python -m bench locker [--quick] [--reseed]`) seeds a
registry-sized database once (kept in `sanad_bench_locker_<documents>`, reused while its
row counts match), signs a citizen in through the API and measures the listing and the
downloads on the real server, and the listing's parts in-process.

### Locker runs (newest first)

{LOCKER_RUNS}

{LOCKER_END}

"""


@dataclass(frozen=True)
class LockerRun:
    command: str
    mode: str
    machine: Machine
    started: datetime
    data: LockerData
    workers: int
    listing: Sequence[HttpRun]
    downloads: Sequence[tuple[str, HttpRun]]
    """(backend, run)."""
    parts: Parts
    load: tuple[tuple[float, float, float], tuple[float, float, float]]
    other_load: tuple[float, float]
    """(cores used by other processes, hypervisor steal) during the HTTP rounds."""
    page_bytes: int
    """Size of one listing page's JSON."""
    postgres_settings: str


def _ms(seconds_ms: float) -> str:
    return f"{seconds_ms:.1f} ms" if seconds_ms < 100 else f"{seconds_ms:.0f} ms"


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def _listing_table(runs: Sequence[HttpRun]) -> list[str]:
    rows = [
        "| request | clients | req/s median | req/s min–max | p50 | p95 | p99 | p99 per round | max | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        m = run.measurement
        per_round = run.round_p99_ms()
        p99 = m.latency_ms(99)
        mark = f"**{_ms(p99)}**"
        rows.append(
            f"| {run.name} | {run.concurrency} | {m.rate:.0f} | {min(m.rates):.0f}–{max(m.rates):.0f} "
            f"| {_ms(m.latency_ms(50))} | {_ms(m.latency_ms(95))} | {mark} "
            f"| {min(per_round):.1f}–{max(per_round):.1f} | {_ms(m.latency_ms(100))} "
            f"| {len(run.errors)} of {run.requests} |"
        )
    return rows


def _parts_table(results: Parts) -> list[str]:
    rows = [
        "| part (one core, in-process) | ops/s median | ops/s min–max | p50 | p95 | p99 | ops × rounds | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in results.measurements:
        rows.append(
            f"| {m.name} | {m.rate:.0f} | {min(m.rates):.0f}–{max(m.rates):.0f} | {m.latency_ms(50):.2f} ms "
            f"| {m.latency_ms(95):.2f} ms | {m.latency_ms(99):.2f} ms | {m.ops} × {len(m.rates)} | {m.note} |"
        )
    return rows


def _downloads_table(downloads: Sequence[tuple[str, HttpRun]]) -> list[str]:
    rows = [
        "| what | backend | clients | per s median | per s min–max | p50 | p95 | p99 | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, run in downloads:
        m = run.measurement
        rows.append(
            f"| {run.name} | {backend} | {run.concurrency} | **{m.rate:.0f}** | {min(m.rates):.0f}–{max(m.rates):.0f} "
            f"| {_ms(m.latency_ms(50))} | {_ms(m.latency_ms(95))} | {_ms(m.latency_ms(99))} "
            f"| {len(run.errors)} of {run.requests} |"
        )
    return rows


def _cpu_table(run: LockerRun) -> list[str]:
    everything = [*run.listing, *(r for _, r in run.downloads)]
    names: list[str] = []
    for r in everything:
        names += [n for n in r.cpu_ms_per_request() if n not in names]
    rows = [
        "| what | clients | " + " | ".join(names) + " | all | cap: cores ÷ (all − client) | busiest worker |",
        "|---|---:|" + "---:|" * (len(names) + 3),
    ]
    for r in everything:
        cpu = r.cpu_ms_per_request()
        total = sum(cpu.values())
        served = total - cpu.get("bench client", 0.0)
        cap = f"{1000 * run.machine.cores / served:.0f}/s" if served > 0 else "—"
        # A server that did nothing (MinIO alone) has no meaningful split.
        idle = cpu.get("sanad server", 0.0) < 0.1
        shares = "—" if idle else "/".join(f"{100 * s:.0f}%" for s in r.busiest_worker_shares())
        rows.append(
            f"| {r.name} | {r.concurrency} | "
            + " | ".join(f"{cpu.get(n, 0.0):.2f}" for n in names)
            + f" | {total:.2f} | {cap} | {shares} |"
        )
    return rows


def _verdicts(run: LockerRun) -> list[str]:
    lines = []
    for r in run.listing:
        p99 = r.measurement.latency_ms(99)
        verdict = "meets" if p99 <= LISTING_TARGET_MS else "misses"
        lines.append(
            f"- Listing, {r.name}, {r.concurrency} client(s): p99 {p99:.1f} ms {verdict} the target of "
            f"≤ {LISTING_TARGET_MS:.0f} ms."
        )
    for backend, r in run.downloads:
        if "MinIO alone" in r.name:
            continue
        rate = r.measurement.rate
        verdict = "meets" if rate >= DOWNLOAD_TARGET else "misses"
        lines.append(
            f"- Downloads, {r.name} ({backend}): {rate:.0f}/s {verdict} the target of ≥ {DOWNLOAD_TARGET:.0f}/s."
        )
    return lines


def _plans(results: Parts) -> list[str]:
    lines = []
    for label, plan in results.plans.items():
        kept = [line for line in plan.splitlines() if not line.strip().startswith(("Settings:", "Planning:"))]
        lines += [f"EXPLAIN (ANALYZE, BUFFERS), {label}:", "", "```text", *kept, "```", ""]
    return lines


def render_locker_run(run: LockerRun) -> str:
    m = run.machine
    d = run.data
    sizes = ", ".join(f"{name} {_gib(size)}" for name, size in d.table_bytes.items())
    seed = (
        f"reused, seeded {d.seeded_at} in {d.seed_seconds / 60:.0f} min"
        if d.reused
        else (f"seeded by this run in {d.seed_seconds / 60:.1f} min")
    )
    others, steal = run.other_load
    noisy = ": **the machine was shared, numbers are pessimistic**." if others > NOISY_CORES else ": quiet."
    size_kib = sum(h.size for h in d.held) / len(d.held) / 1024
    lines = [
        LOCKER_RUN,
        f"### {run.started:%Y-%m-%d %H:%M} UTC · locker · {run.mode}",
        "",
        f"Command: `{run.command}`  ",
        f"Machine: {m.describe()}  ",
        f"Libraries: {m.libraries}  ",
        f"Data: {d.scale.documents:,} documents over {d.scale.citizens:,} citizens, the bench citizen holding "
        f"{d.scale.holder_documents:,} of them (interleaved through the table); {sizes}; {seed}.  ",
        f"PostgreSQL (the test cluster): {run.postgres_settings}.  ",
        f"Servers: `sanad serve --workers {run.workers}` on loopback, on PostgreSQL + MinIO, then on PostgreSQL + "
        f"the filesystem store; the clients (httpx, threads) run on the same {m.cores} cores.  ",
        f"Load average (1/5/15 min) at start {'/'.join(f'{v:.2f}' for v in run.load[0])}, "
        f"at end {'/'.join(f'{v:.2f}' for v in run.load[1])}.  ",
        f"Other processes used {others:.2f} cores on average during the HTTP rounds (hypervisor steal "
        f"{steal:.2f}){noisy}",
        "",
        f"**Listing**, `GET /api/v1/locker/documents?limit=50`: 50 of the citizen's {d.scale.holder_documents:,} "
        f"documents, {run.page_bytes / 1024:.0f} KB of JSON. Target: p99 ≤ {LISTING_TARGET_MS:.0f} ms.",
        "",
        *_listing_table(run.listing),
        "",
        *_parts_table(run.parts),
        "",
        f"**Downloads** of the citizen's PDFs ({size_kib:.0f} KiB each, {len(d.held)} distinct), "
        f"`GET /api/v1/locker/documents/{{id}}/content`. Target: ≥ {DOWNLOAD_TARGET:.0f}/s. "
        "On MinIO the API answers 307 with a 60-second presigned URL and the bytes then come from MinIO, "
        "not from Sanad; every fetched body's SHA-256 is checked against the registry.",
        "",
        *_downloads_table(run.downloads),
        "",
        "CPU milliseconds per request, by process tree, during the measured rounds:",
        "",
        *_cpu_table(run),
        "",
        *_verdicts(run),
        "",
        *_plans(run.parts),
    ]
    return "\n".join(lines)


def record_locker(markdown: str, path: Path = RESULTS) -> None:
    record_in_section(markdown, _RESULTS_SECTION, path)


_RESULTS_SECTION = Section(_SECTION, LOCKER_RUNS, LOCKER_RUN, LOCKER_END, KEEP_RUNS)
