"""Running vegeta, an open-loop HTTP load generator (pinned, built by ``scripts/vegeta.sh``),
and reading its JSON report.

wrk keeps each of its connections busy: a slow answer delays the next request, so a
saturated server's p99 is the queue (connections / throughput) and the requests the wait
kept from being sent are never timed (coordinated omission). vegeta sends at a stated
arrival rate whatever the answers do, opening connections as needed, so each percentile
is that of requests arriving at that rate: the way a latency target is stated.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.cpu import finished_children_cpu_seconds

REPO = Path(__file__).resolve().parent.parent
_NS_PER_MS = 1_000_000


class VegetaMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Attack:
    """``rate`` GET (or POST with ``body``) requests a second to ``url`` for ``seconds``."""

    url: str
    headers: Mapping[str, str]
    rate: int
    seconds: float
    body: bytes | None = None
    keep: Path | None = None
    """Where to keep vegeta's results (its binary format), for ``vegeta report`` or
    ``vegeta plot`` afterwards; ``None``: not kept."""


@dataclass(frozen=True)
class Report:
    """vegeta's summary of one attack."""

    requests: int
    offered_rate: float
    """Requests sent per second (vegeta's ``rate``): the arrival rate it kept."""
    throughput: float
    """Successful answers per second, counted until the last answer."""
    success: float
    """Share of answers with a status of 200–399."""
    latency_ms: dict[str, float]
    """``p50``, ``p90``, ``p95``, ``p99``, ``max`` and ``mean``."""
    status_codes: dict[str, int]
    """Status → count; vegeta counts a request that got no answer as ``0``."""
    errors: list[str]
    generator_cpu_seconds: float = 0.0
    """vegeta's own CPU time during the attack (it runs on the same cores as the server)."""


def vegeta_path() -> str:
    found = subprocess.run(
        ["bash", str(REPO / "scripts" / "vegeta.sh"), "path"], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        raise VegetaMissing("vegeta is not installed at the pinned version: run `bash scripts/setup.sh bench`")
    return found.stdout.strip()


_LATENCIES = {"p50": "50th", "p90": "90th", "p95": "95th", "p99": "99th", "max": "max", "mean": "mean"}


def parse_report(text: str) -> Report:
    """Reads ``vegeta report -type=json`` (latencies in nanoseconds)."""
    data: dict[str, Any] = json.loads(text)
    latencies = data.get("latencies") or {}
    return Report(
        requests=int(data["requests"]),
        offered_rate=float(data["rate"]),
        throughput=float(data["throughput"]),
        success=float(data["success"]),
        latency_ms={ours: latencies.get(theirs, 0) / _NS_PER_MS for ours, theirs in _LATENCIES.items()},
        status_codes={str(code): int(count) for code, count in (data.get("status_codes") or {}).items()},
        errors=[str(e) for e in data.get("errors") or []],
    )


def target_line(attack: Attack) -> str:
    """The attack's request in vegeta's JSON target format (one line; headers as lists,
    the body base64)."""
    target: dict[str, Any] = {
        "method": "GET" if attack.body is None else "POST",
        "url": attack.url,
        "header": {name: [value] for name, value in attack.headers.items()},
    }
    if attack.body is not None:
        target["body"] = base64.b64encode(attack.body).decode()
    return json.dumps(target)


def run(attack: Attack) -> Report:
    vegeta = vegeta_path()
    with tempfile.TemporaryDirectory(prefix="sanad-vegeta-") as scratch:
        targets, results = Path(scratch) / "targets.json", Path(scratch) / "results.bin"
        targets.write_text(target_line(attack) + "\n")
        command = [
            vegeta,
            "attack",
            "-format=json",
            f"-targets={targets}",
            f"-rate={attack.rate}/1s",
            f"-duration={max(1, round(attack.seconds))}s",
            "-timeout=10s",
            # A redirect is the answer (the download's 307 to storage), not a second request.
            "-redirects=-1",
            # Bodies are read to the end but not kept: a result stays a few bytes.
            "-max-body=0",
            f"-output={results}",
        ]
        before = finished_children_cpu_seconds()
        attacked = subprocess.run(command, capture_output=True, text=True, timeout=attack.seconds + 60, check=False)
        used = finished_children_cpu_seconds() - before
        if attacked.returncode != 0:
            raise RuntimeError(f"vegeta attack failed ({attacked.returncode}): {attacked.stderr}")
        reported = subprocess.run(
            [vegeta, "report", "-type=json", str(results)], capture_output=True, text=True, timeout=60, check=False
        )
        if reported.returncode != 0:
            raise RuntimeError(f"vegeta report failed ({reported.returncode}): {reported.stderr}")
        if attack.keep is not None:
            attack.keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(results, attack.keep)
    return replace(parse_report(reported.stdout), generator_cpu_seconds=used)
