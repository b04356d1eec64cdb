"""Running wrk, the HTTP load generator (Debian's ``wrk``, installed by
``scripts/setup.sh bench``), and reading its summary."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bench.cpu import finished_children_cpu_seconds

THREADS = 2
"""wrk's threads (one per core of the machine the benchmarks run on)."""
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


def _command(load: Load) -> list[str]:
    """wrk's options for ``load``, without the script and the URL."""
    command = [
        wrk_path(),
        "--threads",
        str(min(THREADS, load.connections)),  # wrk refuses fewer connections than threads
        "--connections",
        str(load.connections),
        "--duration",
        f"{max(1, round(load.seconds))}s",
        "--timeout",
        "10s",
    ]
    for name, value in load.headers.items():
        command += ["--header", f"{name}: {value}"]
    return command


def run(load: Load) -> Outcome:
    command = [*_command(load), "--latency"]
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


# --- counted runs: every answer's status, and requests that differ one from the next ------------

# Counts every answer's status (wrk itself counts only those above 399 as errors), keeps a
# few bodies of unexpected answers, and with BENCH_EACH sends each record of that file once:
# its own bearer token and body head, then the shared BENCH_BODY. A thread that runs out
# of records stops (and says so) rather than send one twice.
_COUNTED_SCRIPT = r"""
local threads, next_id = {}, 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function slurp(path)
  local file = assert(io.open(path, "rb"))
  local data = file:read("*a")
  file:close()
  return data
end

function init(args)
  counts, samples, exhausted = {}, {}, 0
  expect = tonumber(os.getenv("BENCH_EXPECT"))
  wrk.method = os.getenv("BENCH_METHOD")
  local content_type = os.getenv("BENCH_CONTENT_TYPE")
  if content_type ~= "" then wrk.headers["Content-Type"] = content_type end
  tail = os.getenv("BENCH_BODY") ~= "" and slurp(os.getenv("BENCH_BODY")) or nil
  records = nil
  if os.getenv("BENCH_EACH") ~= "" then
    -- Records: "<token>\n<length of head>\n<head bytes>"; this thread takes every
    -- BENCH_THREADS-th, so no two threads send the same one.
    records, position = {}, 1
    local file = assert(io.open(os.getenv("BENCH_EACH"), "rb"))
    local stride, k = tonumber(os.getenv("BENCH_THREADS")), 0
    while true do
      local token = file:read("*l")
      if not token then break end
      local head = file:read(tonumber(file:read("*l")))
      if k % stride == id then table.insert(records, {token, head}) end
      k = k + 1
    end
    file:close()
  else
    wrk.body = tail
  end
end

function request()
  if records == nil then return wrk.format() end
  local record = records[position]
  if record == nil then
    exhausted = exhausted + 1
    wrk.thread:stop()
    return wrk.format("GET", "/health", {}, nil)
  end
  position = position + 1
  -- wrk.format replaces wrk.headers with the table it is given: copy them over.
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Authorization"] = "Bearer " .. record[1]
  return wrk.format(nil, nil, headers, record[2] .. (tail or ""))
end

function response(status, headers, body)
  if exhausted > 0 then return end
  counts[status] = (counts[status] or 0) + 1
  if status ~= expect and #samples < 3 then table.insert(samples, tostring(status) .. " " .. body:sub(1, 300)) end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("bench-duration %.6f\n", seconds))
  local e = summary.errors
  io.write(string.format("bench-socket-errors %d\n", e.connect + e.read + e.write + e.timeout))
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do io.write(string.format("bench-status %d %d\n", status, n)) end
    for _, text in ipairs(thread:get("samples")) do
      io.write("bench-sample " .. text:gsub("[\r\n]", " ") .. "\n")
    end
    io.write(string.format("bench-exhausted %d\n", thread:get("exhausted")))
  end
  for q = 0.5, 99.5, 0.5 do io.write(string.format("bench-latency %.1f %d\n", q, latency:percentile(q))) end
  io.write(string.format("bench-latency 99.9 %d\n", latency:percentile(99.9)))
  io.write(string.format("bench-latency 100.0 %d\n", latency.max))
end
"""


@dataclass(frozen=True)
class Each:
    """Requests that differ one from the next: record ``i`` is sent once, with bearer
    token ``tokens[i]`` and body ``heads[i]`` followed by the load's ``body``."""

    tokens: Sequence[str]
    heads: Sequence[bytes]


@dataclass(frozen=True)
class Counted:
    """One counted wrk run."""

    seconds: float
    statuses: dict[int, int]
    """How many answers had each status."""
    expected: int
    """The status that counts as success."""
    socket_errors: int
    latency_ms: dict[float, float]
    """Percentile (0.5 … 99.5 by 0.5, 99.9, 100 = max) → milliseconds, over every answer."""
    samples: list[str]
    """A few unexpected answers (status and the start of the body)."""
    ran_out: bool
    """A thread used up its records (``Each``) before the time was up."""
    cpu_seconds: float
    """wrk's own CPU time."""

    @property
    def succeeded(self) -> int:
        return self.statuses.get(self.expected, 0)

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != self.expected) + self.socket_errors

    @property
    def rate(self) -> float:
        """Answers with the expected status per second (other answers are no speed)."""
        return self.succeeded / max(self.seconds, 1e-9)

    def quantile_ms(self, q: float) -> float:
        """Latency at percentile ``q``, interpolated between the recorded percentiles."""
        points = sorted(self.latency_ms.items())
        if not points:
            return float("nan")
        if q <= points[0][0]:
            return points[0][1]
        for (q0, v0), (q1, v1) in itertools.pairwise(points):
            if q <= q1:
                return v0 + (v1 - v0) * (q - q0) / (q1 - q0)
        return points[-1][1]


def parse_counted(output: str, expected: int) -> Counted:
    statuses: dict[int, int] = {}
    latency: dict[float, float] = {}
    samples: list[str] = []
    seconds, socket_errors, ran_out = 0.0, 0, False
    for line in output.splitlines():
        word, _, rest = line.partition(" ")
        if word == "bench-duration":
            seconds = float(rest)
        elif word == "bench-socket-errors":
            socket_errors = int(rest)
        elif word == "bench-status":
            status, count = rest.split()
            statuses[int(status)] = statuses.get(int(status), 0) + int(count)
        elif word == "bench-sample":
            samples.append(rest)
        elif word == "bench-exhausted":
            ran_out = ran_out or int(rest) > 0
        elif word == "bench-latency":
            q, micros = rest.split()
            latency[float(q)] = int(micros) / 1000
    if not latency:
        raise RuntimeError(f"wrk printed no counted summary:\n{output}")
    return Counted(seconds, statuses, expected, socket_errors, latency, samples, ran_out, 0.0)


def _records(each: Each) -> bytes:
    parts = []
    for token, head in zip(each.tokens, each.heads, strict=True):
        parts.append(f"{token}\n{len(head)}\n".encode() + head)
    return b"".join(parts)


def run_counted(load: Load, *, expected: int, method: str = "GET", each: Each | None = None) -> Counted:
    """``load`` with every answer's status counted: its rate counts only ``expected``
    answers. With ``each``, each of its records is sent once (``load.body`` is the tail
    every record's head is followed by)."""
    command = _command(load)
    with tempfile.TemporaryDirectory(prefix="sanad-wrk-") as scratch:
        script, body, records = Path(scratch) / "counted.lua", Path(scratch) / "body", Path(scratch) / "each"
        script.write_text(_COUNTED_SCRIPT)
        env = {
            "BENCH_METHOD": method,
            "BENCH_EXPECT": str(expected),
            "BENCH_THREADS": str(THREADS),
            "BENCH_CONTENT_TYPE": load.content_type,
            "BENCH_BODY": "",
            "BENCH_EACH": "",
        }
        if load.body is not None:
            body.write_bytes(load.body)
            env["BENCH_BODY"] = str(body)
        if each is not None:
            records.write_bytes(_records(each))
            env["BENCH_EACH"] = str(records)
        command += ["--script", str(script), load.url]
        before = finished_children_cpu_seconds()
        finished = subprocess.run(
            command, capture_output=True, text=True, env=env | {"PATH": "/usr/bin:/bin"}, timeout=load.seconds + 60
        )
        used = finished_children_cpu_seconds() - before
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr or finished.stdout}")
    return replace(parse_counted(finished.stdout, expected), cpu_seconds=used)
