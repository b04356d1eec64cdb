"""Timing loops and the summaries reported for them (median and spread over rounds)."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Measurement:
    """Throughput of one operation: a rate per round and the duration of every operation."""

    name: str
    """What was measured, as printed in the results table."""
    rates: tuple[float, ...]
    """Operations per second, one value per round."""
    latencies: tuple[float, ...]
    """Seconds per operation, every operation of every round."""
    note: str = ""
    """How it was measured, when the name alone does not say."""

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def ops(self) -> int:
        return len(self.latencies)

    def latency_ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


def run_rounds(
    name: str,
    operation: Callable[[int], object],
    *,
    rounds: int,
    seconds: float,
    min_ops: int,
    warmup: int,
    note: str = "",
) -> Measurement:
    """Call ``operation(i)`` (``i`` counts up across calls) in ``rounds`` rounds of at
    least ``seconds`` and ``min_ops`` calls each, after ``warmup`` uncounted calls."""
    counter = itertools.count()
    for _ in range(warmup):
        operation(next(counter))
    rates: list[float] = []
    latencies: list[float] = []
    for _ in range(rounds):
        count = 0
        start = end = time.perf_counter()
        while count < min_ops or end - start < seconds:
            began = time.perf_counter()
            operation(next(counter))
            end = time.perf_counter()
            latencies.append(end - began)
            count += 1
        rates.append(count / (end - start))
    return Measurement(name, tuple(rates), tuple(latencies), note)
