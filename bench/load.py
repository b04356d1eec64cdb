"""Concurrent clients issuing documents through the HTTP API, in bounded rounds."""

from __future__ import annotations

import time
from collections.abc import Mapping
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


@dataclass(frozen=True)
class EndToEnd:
    measurement: Measurement
    requests: int
    errors: list[str]
    cpu_ms_per_document: dict[str, float]
    """CPU milliseconds per issued document, per process tree."""


class Issuer:
    """Sends ``POST /api/v1/documents`` with the example body and a distinct citizen each."""

    def __init__(self, base_url: str, api_key: str, example: Mapping[str, object], concurrency: int) -> None:
        self.example = dict(example)
        self.concurrency = concurrency
        self.client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=REQUEST_TIMEOUT,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self.sent = 0

    def close(self) -> None:
        self.client.close()

    def _issue(self, citizen: str) -> tuple[float, str | None]:
        started = time.perf_counter()
        try:
            response = self.client.post("/api/v1/documents", json={**self.example, "citizen_id": citizen})
        except httpx.HTTPError as e:
            return time.perf_counter() - started, f"{type(e).__name__}: {e}"
        elapsed = time.perf_counter() - started
        if response.status_code != 201:
            return elapsed, f"HTTP {response.status_code}: {response.text[:300]}"
        return elapsed, None

    def round(self, requests: int, cpu_roots: Mapping[str, int]) -> Round:
        citizens = [f"BENCH-{self.sent + i:06d}" for i in range(requests)]
        self.sent += requests
        result = Round()
        before = cpu.snapshot(cpu_roots)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for elapsed, error in pool.map(self._issue, citizens):
                if error is None:
                    result.latencies.append(elapsed)
                else:
                    result.errors.append(error)
        result.seconds = time.perf_counter() - started
        result.cpu = cpu.difference(cpu.snapshot(cpu_roots), before)
        return result


def run_end_to_end(
    issuer: Issuer, *, rounds: int, requests: int, warmup: int, cpu_roots: Mapping[str, int]
) -> EndToEnd:
    issuer.round(warmup, cpu_roots)  # every worker loads fonts and keys, the pools fill
    done = [issuer.round(requests, cpu_roots) for _ in range(rounds)]
    issued = sum(len(r.latencies) for r in done)
    cpu_ms = {name: 1000 * sum(r.cpu.get(name, 0.0) for r in done) / max(issued, 1) for name in done[0].cpu}
    measurement = Measurement(
        name=f"end to end, HTTP, {issuer.concurrency} concurrent clients",
        rates=tuple(len(r.latencies) / r.seconds for r in done),
        latencies=tuple(latency for r in done for latency in r.latencies),
    )
    return EndToEnd(measurement, rounds * requests, [e for r in done for e in r.errors], cpu_ms)
