"""The machine facts every benchmark records."""

from __future__ import annotations

from bench.machine import cpu_probe_ms, describe_machine


def test_the_cpu_probe_measures_and_is_recorded() -> None:
    probe = cpu_probe_ms()
    assert 0 < probe < 10_000
    described = describe_machine().describe()
    assert "CPU probe " in described
    assert described.endswith(" ms")
