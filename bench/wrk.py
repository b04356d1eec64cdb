"""Running wrk, the HTTP load generator (Debian's ``wrk``, installed by
``scripts/setup.sh bench``), and reading its summary."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_REQUESTS = re.compile(r"^\s+(\d+) requests in", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")

# A POST with a body read from a file (wrk's Lua API); the path and type come from the
# environment so one script serves every upload.
_POST_SCRIPT = """
local file = io.open(os.getenv("BENCH_BODY"), "rb")
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")
"""


class WrkMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Load:
    """One wrk run: ``connections`` clients on 2 threads for ``seconds``."""

    url: str
    headers: Mapping[str, str]
    connections: int
    seconds: float
    body: bytes | None = None
    content_type: str = ""


@dataclass(frozen=True)
class Outcome:
    rate: float
    requests: int
    latency_ms: dict[int, float]
    """50, 75, 90 and 99th percentiles."""
    non_2xx_3xx: int
    socket_errors: int


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing("wrk is not installed: run `bash scripts/setup.sh bench`")
    return found


def parse(summary: str) -> Outcome:
    rate = _RATE.search(summary)
    requests = _REQUESTS.search(summary)
    if rate is None or requests is None:
        raise RuntimeError(f"wrk printed no summary:\n{summary}")
    latency = {int(q): float(v) * _UNITS_MS[unit] for q, v, unit in _PERCENTILE.findall(summary)}
    non_2xx = _NON_2XX.search(summary)
    sockets = _SOCKET_ERRORS.search(summary)
    return Outcome(
        rate=float(rate.group(1)),
        requests=int(requests.group(1)),
        latency_ms=latency,
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def run(load: Load) -> Outcome:
    command = [
        wrk_path(),
        "--threads",
        "2",
        "--connections",
        str(load.connections),
        "--duration",
        f"{max(1, round(load.seconds))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    for name, value in load.headers.items():
        command += ["--header", f"{name}: {value}"]
    env: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="sanad-wrk-") as scratch:
        if load.body is not None:
            script, body = Path(scratch) / "post.lua", Path(scratch) / "body"
            script.write_text(_POST_SCRIPT)
            body.write_bytes(load.body)
            command += ["--script", str(script)]
            env = {"BENCH_BODY": str(body), "BENCH_CONTENT_TYPE": load.content_type}
        command.append(load.url)
        finished = subprocess.run(
            command, capture_output=True, text=True, env=env | {"PATH": "/usr/bin:/bin"}, timeout=load.seconds + 60
        )
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr or finished.stdout}")
    return parse(finished.stdout)
