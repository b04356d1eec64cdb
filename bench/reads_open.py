"""The open-loop part of ``python -m bench reads``: a read at stated arrival rates under
vegeta, each run right after ``/health`` at the same rate, and its table in RESULTS.md.

A latency target holds at an arrival rate: wrk's closed loop cannot state one (its p99 at
saturation is its own queue, and it leaves out the requests its waits kept back), so the
targets are judged here and wrk's figures stay beside them as the capacity.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import vegeta

VERSION = "v12.13.0"
"""The vegeta that ``scripts/vegeta.sh`` pins (named in the recorded table)."""


@dataclass(frozen=True)
class Paced:
    """A read sent at ``rate`` requests a second."""

    name: str
    path: str
    headers: Mapping[str, str]
    rate: int
    goal: str
    p99_goal_ms: float
    min_rate: int = 0
    """The rate the goal asks for as well (0: none)."""


@dataclass
class OpenMeasured:
    paced: Paced
    outcome: vegeta.Report
    health: vegeta.Report
    """``/health`` at the same rate, right before: the floor the machine gave then."""

    def verdict(self) -> str:
        """``met`` when every request was answered with success within the p99 goal at
        the asked rate (vegeta sent at least 99% of it); a rate below the one the goal
        asks for judges nothing."""
        if self.paced.rate < self.paced.min_rate:
            return f"not judged (below {self.paced.min_rate:,}/s)"
        kept_pace = self.outcome.offered_rate >= 0.99 * self.paced.rate
        fast = self.outcome.latency_ms["p99"] <= self.paced.p99_goal_ms
        whole = self.outcome.success >= 0.999
        return "met" if kept_pace and fast and whole else "missed"


def parse_rates(text: str) -> list[int]:
    """``"250,500,1000"`` → ``[250, 500, 1000]``; an empty string is no rate."""
    rates = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if any(rate <= 0 for rate in rates):
        raise ValueError(f"rates must be positive: {text!r}")
    return rates


@dataclass
class Plan:
    """The paced reads of one run and how long each is sent."""

    reads: list[Paced] = field(default_factory=list)
    seconds: float = 10.0
    rounds: int = 1
    keep: Path | None = None
    """A folder to keep each attack's vegeta results in (``None``: not kept)."""

    def kept(self, name: str) -> Path | None:
        return None if self.keep is None else self.keep / f"{name}.bin"


def measure(base_url: str, plan: Plan) -> list[OpenMeasured]:
    results: list[OpenMeasured] = []
    for number in range(1, plan.rounds + 1):
        for paced in plan.reads:
            label = f"{number}-{slug(paced.name)}-{paced.rate}"
            floor = vegeta.run(
                vegeta.Attack(base_url + "/health", {}, paced.rate, plan.seconds, keep=plan.kept(f"{label}-health"))
            )
            outcome = vegeta.run(
                vegeta.Attack(base_url + paced.path, paced.headers, paced.rate, plan.seconds, keep=plan.kept(label))
            )
            results.append(OpenMeasured(paced, outcome, floor))
            print(
                f"bench: open loop, round {number}: {paced.name} at {paced.rate:,}/s: "
                f"p99 {outcome.latency_ms['p99']:.1f} ms, success {outcome.success:.2%} "
                f"(/health p99 {floor.latency_ms['p99']:.1f} ms)",
                flush=True,
            )
    return results


def slug(name: str) -> str:
    """``"QR target /v/{id}, JSON"`` → ``"qr-target-v-id-json"``: a file name."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower()))


def _ms(value: float) -> str:
    return f"{value:,.1f}"


def render(results: Sequence[OpenMeasured], *, seconds: float) -> list[str]:
    """The open-loop table of one run (Markdown lines; none when nothing was paced)."""
    if not results:
        return []
    lines = [
        f"Open loop: vegeta {VERSION} (`scripts/vegeta.sh`) at a constant arrival rate for {seconds:.0f} s per "
        "row, on the same cores, each row right after `/health` at the same rate (its p99 is what the machine "
        "gave then). Success is the share of 2xx/3xx answers; sent/s is the arrival rate vegeta kept, OK/s "
        "the successful answers per second.",
        "",
        "| what | target | rate /s | sent /s | OK /s | success | p50 ms | p90 ms | p99 ms | max ms "
        "| /health p99 ms | vegeta CPU s | goal |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        paced, outcome = result.paced, result.outcome
        latency = outcome.latency_ms
        lines.append(
            f"| {paced.name} | {paced.goal} | {paced.rate:,} | {outcome.offered_rate:,.0f} | "
            f"{outcome.throughput:,.0f} | {outcome.success:.2%} | {_ms(latency['p50'])} | {_ms(latency['p90'])} | "
            f"**{_ms(latency['p99'])}** | {_ms(latency['max'])} | {_ms(result.health.latency_ms['p99'])} | "
            f"{outcome.generator_cpu_seconds:.1f} | {result.verdict()} |"
        )
    failing: Counter[str] = Counter()
    for result in results:
        failing.update({code: n for code, n in result.outcome.status_codes.items() if not code.startswith(("2", "3"))})
    errors = sorted({e for r in results for e in r.outcome.errors})
    if failing or errors:
        lines += ["", f"Unsuccessful answers by status: {dict(failing)}; errors: {'; '.join(errors[:5])}."]
    lines.append("")
    return lines
