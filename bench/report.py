"""Markdown for one run, printed and recorded in ``bench/RESULTS.md`` (newest run first)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.load import EndToEnd
from bench.machine import Machine
from bench.stats import Measurement

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
RUNS_MARKER = "<!-- bench:runs (python -m bench inserts each run below; keep this line) -->"
RUN_START = "<!-- bench:run -->"
KEEP_RUNS = 12
NOISY_CORES = 0.1

_HEADER = f"""# Sanad benchmark results

`make bench` (or `.venv/bin/python -m bench [--quick] [--backend embedded|postgres-minio]`)
measures each issuing stage alone on one core, then the real server end to end, and
inserts a section below. Rates are medians over rounds with the min–max across rounds;
latencies are percentiles over every operation.

## Runs (newest first)

{RUNS_MARKER}
"""


@dataclass(frozen=True)
class Run:
    mode: str
    backend: str
    command: str
    machine: Machine
    stages: Sequence[Measurement]
    end_to_end: EndToEnd | None
    workers: int
    concurrency: int
    rounds: int
    requests: int
    warmup: int
    started: datetime
    load: tuple[tuple[float, float, float], tuple[float, float, float]]
    """Load averages (1, 5, 15 min) at the start and at the end: other work on the machine."""
    other_load: tuple[tuple[float, float], tuple[float, float]]
    """(cores used by other processes, cores stolen by the hypervisor) during the stages and the end-to-end rounds."""


def _stage_table(stages: Sequence[Measurement]) -> list[str]:
    rows = [
        "| stage (one core) | docs/s median | docs/s min–max | ms/doc p50 | ms/doc p10–p90 | ops × rounds | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for m in stages:
        rows.append(
            f"| {m.name} | {m.rate:.1f} | {min(m.rates):.1f}–{max(m.rates):.1f} | {m.latency_ms(50):.2f} "
            f"| {m.latency_ms(10):.2f}–{m.latency_ms(90):.2f} | {m.ops} × {len(m.rates)} | {m.note} |"
        )
    return rows


def _find(stages: Sequence[Measurement], prefix: str) -> Measurement | None:
    return next((m for m in stages if m.name.startswith(prefix)), None)


def _breakdown(run: Run) -> list[str]:
    """Where one document's CPU goes, from the single-core stage medians."""
    parts = [(label, _find(run.stages, prefix)) for label, prefix in _PARTS]
    known = [(label, m.latency_ms(50)) for label, m in parts if m is not None]
    total = sum(ms for _, ms in known)
    if not known or total <= 0:
        return []
    shares = ", ".join(f"{label} {ms:.1f} ms ({100 * ms / total:.0f}%)" for label, ms in known)
    lines = [f"Per document, stage medians: {shares}; sum {total:.1f} ms."]
    stock = _find(run.stages, "sign, stock")
    sign = _find(run.stages, "sign at B-B")
    if stock is not None and sign is not None:
        gain = sign.rate / stock.rate
        lines.append(f"Signing gain over stock pyHanko: {gain:.1f}× ({stock.rate:.1f} → {sign.rate:.1f}/s).")
    e2e = run.end_to_end
    if e2e is not None:
        server = e2e.cpu_ms_per_document.get("sanad server", 0.0)
        machine = sum(e2e.cpu_ms_per_document.values())
        cpu = ", ".join(f"{name} {ms:.1f}" for name, ms in e2e.cpu_ms_per_document.items())
        lines.append(
            f"CPU per document during the end-to-end rounds (ms): {cpu}; all together {machine:.1f} ms, "
            f"so {run.machine.cores} cores allow at most {1000 * run.machine.cores / machine:.1f} docs/s this way. "
            f"The server spends {server - total:+.1f} ms per document beyond the stage sum (HTTP, FastAPI, "
            "pydantic, threads, and stages running slower beside other processes)."
        )
    return lines


_PARTS = (
    ("render", "render"),
    ("sign", "sign ("),
    ("store", "store put"),
    ("registry (DB)", "registry"),
)


def _end_to_end(run: Run) -> list[str]:
    e2e = run.end_to_end
    if e2e is None:
        return []
    m = e2e.measurement
    verdict = "meets" if m.rate >= 25 else "is below"
    shares = ", ".join(f"{100 * share:.0f}%" for share in e2e.busiest_worker_shares)
    lines = [
        f"End to end: `sanad serve --workers {run.workers}` on loopback, {run.concurrency} concurrent clients, "
        f"{run.rounds} rounds × {run.requests} `POST /api/v1/documents` (+{run.warmup} warm-up), "
        f"one citizen per request.",
        "",
        "| end to end | docs/s median | docs/s min–max | latency p50 | latency p95 | latency max | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| {run.backend} | **{m.rate:.1f}** | {min(m.rates):.1f}–{max(m.rates):.1f} | {m.latency_ms(50):.0f} ms "
        f"| {m.latency_ms(95):.0f} ms | {m.latency_ms(100):.0f} ms | {len(e2e.errors)} of {e2e.requests} |",
        "",
        f"The median {verdict} the target of 25 documents/s (goal: 100/s). "
        f"Busiest worker's share of the server's CPU per round: {shares} (even is {100 / run.workers:.0f}%).",
    ]
    if e2e.errors:
        lines += ["", "First errors:", "", *(f"- `{error[:200]}`" for error in e2e.errors[:5])]
    return lines


def _neighbours(run: Run) -> str:
    (stages, stages_steal), (e2e, e2e_steal) = run.other_load
    noisy = max(stages, e2e) > NOISY_CORES
    return (
        f"Other processes used {stages:.2f} cores on average during the stages and {e2e:.2f} during the "
        f"end-to-end rounds (hypervisor steal {stages_steal:.2f} / {e2e_steal:.2f})"
        + (": **the machine was shared, numbers are pessimistic**." if noisy else ": the machine was quiet.")
    )


def render_run(run: Run) -> str:
    m = run.machine
    lines = [
        RUN_START,
        f"### {run.started:%Y-%m-%d %H:%M} UTC · {run.mode} · {run.backend}",
        "",
        f"Command: `{run.command}`  ",
        f"Machine: {m.describe()}  ",
        f"Libraries: {m.libraries}  ",
        f"Load average (1/5/15 min) at start {format_load(run.load[0])}, at end {format_load(run.load[1])}.  ",
        _neighbours(run),
        "",
        *_stage_table(run.stages),
        "",
        *_end_to_end(run),
        "",
        *_breakdown(run),
        "",
    ]
    return "\n".join(lines)


def record(run_markdown: str, path: Path = RESULTS) -> None:
    """Insert the run right below the marker, keeping the text above it and the newest runs."""
    text = path.read_text("utf-8") if path.exists() else _HEADER
    if RUNS_MARKER not in text:
        text = text.rstrip("\n") + "\n\n## Runs (newest first)\n\n" + RUNS_MARKER + "\n"
    head, runs = text.split(RUNS_MARKER, 1)
    kept = [r.strip("\n") for r in runs.split(RUN_START) if r.strip()][: KEEP_RUNS - 1]
    body = "\n\n".join([run_markdown.strip("\n"), *(RUN_START + "\n" + r.removeprefix("\n") for r in kept)])
    path.write_text(f"{head}{RUNS_MARKER}\n\n{body}\n", "utf-8")


def format_load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


@dataclass(frozen=True)
class Section:
    """A section of RESULTS.md that keeps its own newest runs between two markers."""

    text: str
    """The section as created when missing: heading, notes, ``runs`` and ``end``."""
    runs: str
    run: str
    end: str
    keep: int = 6


def record_in_section(markdown: str, section: Section, path: Path = RESULTS) -> None:
    """Insert the run at the top of ``section``, creating the section above the issuing
    runs if it is missing, and keep the newest ``section.keep`` runs."""
    text = path.read_text("utf-8")
    if section.runs not in text:
        if RUNS_MARKER in text:
            heading = text.rfind("\n## ", 0, text.index(RUNS_MARKER)) + 1
            text = text[:heading] + section.text + text[heading:]
        else:
            text = text.rstrip("\n") + "\n\n" + section.text
    head, rest = text.split(section.runs, 1)
    runs, tail = rest.split(section.end, 1)
    kept = [r.strip("\n") for r in runs.split(section.run) if r.strip()][: section.keep - 1]
    body = "\n\n".join([markdown.strip("\n"), *(section.run + "\n" + r for r in kept)])
    path.write_text(f"{head}{section.runs}\n\n{body}\n\n{section.end}{tail}", "utf-8")


def now() -> datetime:
    return datetime.now(UTC)
