"""Markdown for one intake run, recorded in the Intake section of ``bench/RESULTS.md``.

The section sits above the issuing runs (``bench.report`` owns everything below its runs
marker), between the markers below; the newest run comes first and the text above the
runs marker (the interpretation) is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.intake_seed import IntakeData
from bench.locker_load import HttpRun
from bench.machine import Machine
from bench.report import NOISY_CORES, RESULTS, Section, format_load, record_in_section
from bench.stats import Measurement

INTAKE_RUNS = "<!-- bench:intake-runs (python -m bench intake inserts each run below; keep this line) -->"
INTAKE_RUN = "<!-- bench:intake-run -->"
INTAKE_END = "<!-- bench:intake-end (keep this line) -->"
KEEP_RUNS = 6
SUBMISSIONS_TARGET = 200.0
#: The reads issue's target for the dashboard over 1M applications (it was 200 ms before).
PENDENCY_P99_TARGET_MS = 100.0

_SECTION = f"""## Intake: submissions, approvals, pendency

`make bench-intake` (or `.venv/bin/python -m bench intake [--quick] [--reseed]`) seeds a
state-sized intake database once (1,000,000 applications in `sanad_bench_intake`, reused
while it matches), then runs the real server (`sanad serve --workers 2`, PostgreSQL +
MinIO) and measures citizens' submissions under wrk (rev-income form, a 50 KB PNG and a
101 KiB PDF, each from another citizen), approvals (each renders, signs and stores a
certificate) and the head office pendency report, and the parts of a submission and of
the report in-process.

### Intake runs (newest first)

{INTAKE_RUNS}

{INTAKE_END}

"""


@dataclass(frozen=True)
class Phase:
    """One kind of HTTP request measured, with how busy the rest of the machine was."""

    run: HttpRun
    other_cores: float
    """Cores other processes used on average meanwhile."""
    steal: float


@dataclass(frozen=True)
class IntakeRun:
    command: str
    mode: str
    machine: Machine
    started: datetime
    data: IntakeData
    workers: int
    quiet: str
    """How the machine was found before measuring."""
    submissions: Sequence[Phase]
    approvals: Sequence[Phase]
    pendency: Sequence[Phase]
    submission_parts: Sequence[Measurement]
    pendency_parts: Sequence[Measurement]
    plans: dict[str, str]
    parts_other_cores: float
    """Cores other processes used on average while the parts were measured in-process."""
    load: tuple[tuple[float, float, float], tuple[float, float, float]]
    postgres_settings: str


def _http_table(phases: Sequence[tuple[str, Phase]]) -> list[str]:
    rows = [
        "| request | clients | req/s median | req/s min–max | p50 | p95 | p99 | max | p99 per round (ms) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for label, phase in phases:
        run, m = phase.run, phase.run.measurement
        per_round = ", ".join(f"{p:.0f}" for p in run.round_p99_ms())
        rows.append(
            f"| {label} | {run.concurrency} | **{m.rate:.1f}** | {min(m.rates):.1f}–{max(m.rates):.1f} "
            f"| {m.latency_ms(50):.1f} ms | {m.latency_ms(95):.1f} ms | **{m.latency_ms(99):.1f} ms** "
            f"| {m.latency_ms(100):.0f} ms | {per_round} | {len(run.errors)} of {run.requests} |"
        )
    return rows


def _cpu_table(phases: Sequence[tuple[str, Phase]], cores: int) -> list[str]:
    rows = [
        "| request | clients | server | PostgreSQL | MinIO | bench client | all | 2-core ceiling | server cores busy "
        "| busiest worker | others' cores |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for label, phase in phases:
        run = phase.run
        cpu = run.cpu_ms_per_request()
        total = sum(cpu.values())
        seconds = sum(r.seconds for r in run.rounds)
        done = sum(len(r.latencies) for r in run.rounds)
        busy = cpu.get("sanad server", 0.0) * done / 1000 / max(seconds, 1e-9)
        shares = ", ".join(f"{100 * s:.0f}%" for s in run.busiest_worker_shares())
        rows.append(
            f"| {label} | {run.concurrency} | {cpu.get('sanad server', 0.0):.1f} | {cpu.get('PostgreSQL', 0.0):.1f} "
            f"| {cpu.get('MinIO', 0.0):.1f} | {cpu.get('bench client', 0.0):.1f} | {total:.1f} "
            f"| {1000 * cores / max(total, 1e-9):.0f}/s | {busy:.2f} | {shares} | {phase.other_cores:.2f} |"
        )
    return rows


def _parts_table(parts: Sequence[Measurement]) -> list[str]:
    rows = [
        "| part (one core) | ops/s median | ms p50 | ms p10–p90 | ms p99 | ops | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for m in parts:
        rows.append(
            f"| {m.name} | {m.rate:.1f} | {m.latency_ms(50):.2f} | {m.latency_ms(10):.2f}–{m.latency_ms(90):.2f} "
            f"| {m.latency_ms(99):.2f} | {m.ops} | {m.note} |"
        )
    return rows


def _verdicts(run: IntakeRun) -> list[str]:
    lines = []
    if run.submissions:
        best = max(p.run.measurement.rate for p in run.submissions)
        verdict = "meets" if best >= SUBMISSIONS_TARGET else "**misses**"
        lines.append(f"Submissions: best median {best:.1f}/s {verdict} the target of {SUBMISSIONS_TARGET:.0f}/s.")
    for phase in run.approvals:
        lines.append(f"Approvals: {phase.run.measurement.rate:.1f}/s (expected 13–18/s, bounded by rendering).")
    for phase in run.pendency:
        p99 = phase.run.measurement.latency_ms(99)
        verdict = "meets" if p99 <= PENDENCY_P99_TARGET_MS else "**misses**"
        lines.append(
            f"Pendency, {phase.run.concurrency} client(s): p99 {p99:.1f} ms {verdict} the target of "
            f"{PENDENCY_P99_TARGET_MS:.0f} ms."
        )
    return lines


def render_intake_run(run: IntakeRun) -> str:
    m, data = run.machine, run.data
    phases = [
        *(("submission (POST /applications)", p) for p in run.submissions),
        *(("approval (POST …/decisions, issues)", p) for p in run.approvals),
        *(("pendency (GET /pendency, head office)", p) for p in run.pendency),
    ]
    others = max([p.other_cores for _, p in phases] + [run.parts_other_cores])
    neighbours = f"Other processes used at most {others:.2f} cores on average during a phase" + (
        ": **the machine was shared, numbers are pessimistic**." if others > NOISY_CORES else ": quiet."
    )
    seeded = (
        f"reused (seeded {data.seeded_at} in {data.seed_seconds / 60:.1f} min)"
        if data.reused
        else f"seeded now in {data.seed_seconds / 60:.1f} min"
    )
    facts = "; ".join(f"{k} {v}" for k, v in data.facts.items())
    lines = [
        INTAKE_RUN,
        f"### {run.started:%Y-%m-%d %H:%M} UTC · {run.mode} · postgres-minio",
        "",
        f"Command: `{run.command}`  ",
        f"Machine: {m.describe()}  ",
        f"Libraries: {m.libraries}  ",
        f"PostgreSQL: {run.postgres_settings}  ",
        f"Load average (1/5/15 min) at start {format_load(run.load[0])}, "
        f"at end {format_load(run.load[1])}. {run.quiet}  ",
        neighbours,
        "",
        f"Data ({data.scale.applications:,} applications, {seeded}): {facts}.",
        "",
        f"Through the real server (`sanad serve --workers {run.workers}`, new keep-alive connections each round; "
        "submissions and pendency sent by wrk for a fixed time per round, only 201 and 200 answers counted as done, "
        "latencies from wrk's percentiles 0.5 % apart; approvals by Python clients):",
        "",
        *_http_table(phases),
        "",
        *_verdicts(run),
        "",
        "CPU milliseconds per request, per process tree (from /proc; the ceiling is what the machine's cores "
        "allow at that cost; 'server cores busy' is the server's average CPU use during the rounds):",
        "",
        *_cpu_table(phases, m.cores),
        "",
    ]
    if run.submission_parts:
        lines += ["A submission's parts, in-process:", "", *_parts_table(run.submission_parts), ""]
    if run.pendency_parts:
        lines += ["The pendency report's parts, in-process:", "", *_parts_table(run.pendency_parts), ""]
    for label, plan in run.plans.items():
        lines += [f"EXPLAIN (ANALYZE, BUFFERS), {label}:", "", "```", plan, "```", ""]
    errors = [e for _, p in phases for e in p.run.errors][:5]
    if errors:
        lines += ["First errors:", "", *(f"- `{e[:200]}`" for e in errors), ""]
    return "\n".join(lines)


def record_intake(markdown: str, path: Path = RESULTS) -> None:
    record_in_section(markdown, _RESULTS_SECTION, path)


_RESULTS_SECTION = Section(_SECTION, INTAKE_RUNS, INTAKE_RUN, INTAKE_END, KEEP_RUNS)
