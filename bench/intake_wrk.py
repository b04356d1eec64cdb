"""Submissions and the pendency report under wrk, recorded as rounds the intake report reads.

Each round is one wrk run of a fixed duration on fresh connections. Only answers with the
expected status count towards the rate and the latencies; every other answer and every
socket error is an error of the round, so a storm of refusals is never read as speed.
wrk reports latency percentiles rather than every request's, so a round's latencies are
its successful answers spread along those percentiles (0.5 % apart, and 99.9 % and the
maximum): the pooled percentiles of the report are exact to that grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from bench import cpu
from bench.load import Round
from bench.locker_load import HttpRun, OtherLoad, cpu_snapshot
from bench.wrk import Counted, Each, Load, run_counted

MAX_RATE = 600.0
"""Submissions per second a round is given citizens for; a faster server runs out (an
error of the round, never a citizen applying twice)."""


def citizens_per_round(seconds: float) -> int:
    return math.ceil(MAX_RATE * max(1, round(seconds)))


def as_round(counted: Counted, cpu_used: dict[str, float], worker_cpu: list[float]) -> Round:
    successes = counted.succeeded
    latencies = [counted.quantile_ms(100 * (k + 0.5) / successes) / 1000 for k in range(successes)]
    errors = [*(f"HTTP {s}" for s, n in sorted(counted.statuses.items()) if s != counted.expected for _ in range(n))]
    errors += ["socket error"] * counted.socket_errors
    # The bodies seen stand first, so the report's first errors say what went wrong.
    errors[: len(counted.samples)] = [f"HTTP {sample}" for sample in counted.samples]
    if counted.ran_out:
        errors.append("ran out of signed-in citizens before the round's time was up")
    return Round(seconds=counted.seconds, latencies=latencies, errors=errors, cpu=cpu_used, worker_cpu=worker_cpu)


class WrkPhases:
    """Rounds of one wrk load against the server, with the CPU of each process tree."""

    def __init__(self, base_url: str, roots: Mapping[str, int], workers: Sequence[int], seconds: float) -> None:
        self.base_url = base_url
        self.roots = dict(roots)
        self.workers = list(workers)
        self.seconds = seconds

    def _round(
        self, load: Load, expected: int, method: str, each: Each | None
    ) -> tuple[Counted, dict[str, float], list[float]]:
        before = cpu_snapshot(self.roots)
        workers_before = [cpu.cpu_seconds(pid) for pid in self.workers]
        counted = run_counted(load, expected=expected, method=method, each=each)
        used = cpu.difference(cpu_snapshot(self.roots), before)
        # wrk is the bench client here: its CPU, and this process's while it waited.
        used["bench client"] = used.get("bench client", 0.0) + counted.cpu_seconds
        worker_cpu = [cpu.cpu_seconds(pid) - b for pid, b in zip(self.workers, workers_before, strict=True)]
        return counted, used, worker_cpu

    def measure(
        self,
        name: str,
        path: str,
        *,
        connections: int,
        rounds: int,
        expected: int,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        body: bytes | None = None,
        content_type: str = "",
        each: Callable[[int], Each | None] = lambda _: None,
    ) -> tuple[HttpRun, float, float]:
        """``rounds`` rounds after one warm-up round of ``each(0)``; round ``r`` (from 1)
        sends ``each(r)``. Returns the run and the cores others used, and steal, meanwhile."""
        load = Load(self.base_url + path, dict(headers or {}), connections, self.seconds, body, content_type)
        print(f"bench: {name}, {connections} connections (wrk), {rounds} × {self.seconds:.0f} s ...", flush=True)
        self._round(load, expected, method, each(0))
        neighbours = OtherLoad(self.roots)
        done = []
        for number in range(1, rounds + 1):
            counted, used, worker_cpu = self._round(load, expected, method, each(number))
            done.append(as_round(counted, used, worker_cpu))
            print(
                f"bench:   round {number}: {counted.rate:.1f}/s answered {expected}, "
                f"p99 {counted.quantile_ms(99):.1f} ms, {counted.failed} other answers or errors"
                + (" (ran out of citizens)" if counted.ran_out else ""),
                flush=True,
            )
        others, steal = neighbours.finish()
        return HttpRun(name, connections, tuple(done), "wrk"), others, steal
