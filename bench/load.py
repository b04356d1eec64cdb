"""Concurrent clients issuing documents through the HTTP API, in bounded rounds.

Each round opens new keep-alive connections, as a fresh batch of department clients
would. uvicorn's workers share the listening socket, so which worker serves a
connection is decided once per connection; the per-worker CPU shares show how evenly
the connections (and so the work) were spread.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from bench import cpu
from bench.stats import Measurement

REQUEST_TIMEOUT = 120.0


@dataclass
class Round:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    """Seconds per successful request."""
    errors: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds each process tree used during the round."""
    worker_cpu: list[float] = field(default_factory=list)
    """CPU seconds of each server worker during the round."""

    @property
    def busiest_worker_share(self) -> float:
        total = sum(self.worker_cpu)
        return max(self.worker_cpu) / total if total > 0 else 1.0


@dataclass(frozen=True)
class EndToEnd:
    measurement: Measurement
    requests: int
    errors: list[str]
    cpu_ms_per_document: dict[str, float]
    """CPU milliseconds per issued document, per process tree."""
    busiest_worker_shares: tuple[float, ...]
    """Per round: the busiest worker's share of all workers' CPU (1/workers is even)."""


class Issuer:
    """Sends ``POST /api/v1/documents`` with the example body and a distinct citizen each."""

    def __init__(self, base_url: str, api_key: str, example: Mapping[str, object], concurrency: int) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.example = dict(example)
        self.concurrency = concurrency
        self.sent = 0

    def _client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=REQUEST_TIMEOUT,
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency),
        )

    @staticmethod
    def _issue(client: httpx.Client, body: dict[str, object]) -> tuple[float, str | None]:
        started = time.perf_counter()
        try:
            response = client.post("/api/v1/documents", json=body)
        except httpx.HTTPError as e:
            return time.perf_counter() - started, f"{type(e).__name__}: {e}"
        elapsed = time.perf_counter() - started
        if response.status_code != 201:
            return elapsed, f"HTTP {response.status_code}: {response.text[:300]}"
        return elapsed, None

    def round(self, requests: int, cpu_roots: Mapping[str, int], workers: Sequence[int]) -> Round:
        bodies = [{**self.example, "citizen_id": f"BENCH-{self.sent + i:06d}"} for i in range(requests)]
        self.sent += requests
        result = Round()
        before, workers_before = cpu.snapshot(cpu_roots), [cpu.cpu_seconds(pid) for pid in workers]
        started = time.perf_counter()
        with self._client() as client, ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for elapsed, error in pool.map(lambda body: self._issue(client, body), bodies):
                if error is None:
                    result.latencies.append(elapsed)
                else:
                    result.errors.append(error)
        result.seconds = time.perf_counter() - started
        result.cpu = cpu.difference(cpu.snapshot(cpu_roots), before)
        result.worker_cpu = [cpu.cpu_seconds(pid) - b for pid, b in zip(workers, workers_before, strict=True)]
        return result


def run_end_to_end(
    issuer: Issuer,
    *,
    rounds: int,
    requests: int,
    warmup: int,
    cpu_roots: Mapping[str, int],
    workers: Sequence[int],
) -> EndToEnd:
    issuer.round(warmup, cpu_roots, workers)  # every worker loads fonts and keys, the pools fill
    done = []
    for number in range(1, rounds + 1):
        done.append(issuer.round(requests, cpu_roots, workers))
        last = done[-1]
        print(
            f"bench: round {number}: {len(last.latencies) / last.seconds:.1f} docs/s, "
            f"busiest worker {100 * last.busiest_worker_share:.0f}% of server CPU",
            flush=True,
        )
    issued = sum(len(r.latencies) for r in done)
    cpu_ms = {name: 1000 * sum(r.cpu.get(name, 0.0) for r in done) / max(issued, 1) for name in done[0].cpu}
    measurement = Measurement(
        name=f"end to end, HTTP, {issuer.concurrency} concurrent clients",
        rates=tuple(len(r.latencies) / r.seconds for r in done),
        latencies=tuple(latency for r in done for latency in r.latencies),
    )
    shares = tuple(r.busiest_worker_share for r in done)
    return EndToEnd(measurement, rounds * requests, [e for r in done for e in r.errors], cpu_ms, shares)
