"""``python -m bench long-term``: one issue's latency and the issuing rate, with the long-term
revision added in the request (``SANAD_LONG_TERM_DEFERRED=false``) and on the job engine
(the default).

For each way the real ``sanad serve`` runs as ``make run`` starts it (one worker per core,
the embedded deployment's background work in the server; with PostgreSQL a ``sanad
worker`` beside it). *Unloaded*: one client sends requests one after another; p50/p95
per round. *Load*: ``--concurrency`` clients; documents/s per round, then how long the
job engine takes to finish the last long-term revisions after the load stops (*catch-up*)
and the rate counting that (*B-LTA done/s*). Figures are medians over rounds with the
min-max across rounds; the machine's load average is recorded beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from bench import cpu
from bench.backends import BACKENDS, SANAD, Deployment, deploy, subprocess_env
from bench.load import Issuer
from bench.machine import describe_machine
from bench.report import Section, format_load, now, record_in_section
from bench.server import Server
from bench.stages import example_request
from bench.stats import percentile
from issuer.models import Document
from sanad.db import make_engine

SECTION = Section(
    text=(
        "## Long-term revision on the job engine (`python -m bench long-term`, `bench/long_term.py`)\n\n"
        "One `POST /api/v1/documents` at B-LTA with the long-term revision in the request (*in line*:\n"
        "it waits for revocation data newer than the signature's timestamp, up to 1 s) and deferred\n"
        "to the job engine (*deferred*, the default). *Unloaded*: one client, requests one after\n"
        "another. *Load*: concurrent clients against `sanad serve` with one worker per core (what\n"
        "`make run` starts); *catch-up*: how long the last revisions take after the load stops.\n"
        "Medians over rounds, min-max across rounds in brackets.\n\n"
        "<!-- long-term runs -->\n\n<!-- end long-term runs -->\n\n"
    ),
    runs="<!-- long-term runs -->",
    run="<!-- long-term run -->",
    end="<!-- end long-term runs -->",
)
CATCH_UP_TIMEOUT = 300.0


@dataclass(frozen=True)
class Figures:
    mode: str
    unloaded_p50_ms: tuple[float, ...]
    unloaded_p95_ms: tuple[float, ...]
    cpu_ms: tuple[float, ...]
    """Server (and worker) CPU per unloaded issue, its long-term revision included."""
    load_rates: tuple[float, ...]
    catch_up_s: float | None
    done_rate: float | None
    errors: int


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench long-term", description=__doc__)
    parser.add_argument("--backend", choices=BACKENDS, default="embedded")
    parser.add_argument("--single", type=int, default=30, help="sequential requests per unloaded round (30)")
    parser.add_argument("--load", type=int, default=120, help="requests per load round (120; 0: no load)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients under load (8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each (3)")
    parser.add_argument("--modes", default="inline,deferred", help="which ways, in order (inline,deferred)")
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md alone")
    return parser.parse_args(argv)


@contextlib.contextmanager
def _job_worker(deployment: Deployment) -> Iterator[int | None]:
    """``sanad worker`` beside the server (PostgreSQL: the server runs no background work);
    its process id."""
    if deployment.backend == "embedded":
        yield None
        return
    log = (deployment.workdir / "worker.log").open("wb")
    process = subprocess.Popen(
        [str(SANAD), "worker"],
        cwd=deployment.workdir,
        env=subprocess_env(deployment.env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the group this function created
        process.wait(timeout=20)
        log.close()


def _pending(deployment: Deployment) -> int:
    engine = make_engine(deployment.settings().database_url)
    try:
        with engine.connect() as connection:
            query = select(func.count()).select_from(Document).where(Document.long_term_pending.is_(True))
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def _catch_up(deployment: Deployment) -> float | None:
    """Seconds until no document is pending (None: not within ``CATCH_UP_TIMEOUT``)."""
    started = time.perf_counter()
    while time.perf_counter() - started < CATCH_UP_TIMEOUT:
        if _pending(deployment) == 0:
            return time.perf_counter() - started
        time.sleep(0.1)
    return None


def _measure(deployment: Deployment, mode: str, args: argparse.Namespace) -> Figures:
    workers = len(os.sched_getaffinity(0))
    env = deployment.env | {"SANAD_LONG_TERM_DEFERRED": "true" if mode == "deferred" else "false"}
    configured = dataclasses.replace(deployment, env=env)
    p50s: list[float] = []
    p95s: list[float] = []
    cpu_ms: list[float] = []
    rates: list[float] = []
    errors = 0
    catch_up = done_rate = None
    with Server(configured, workers=workers) as server, _job_worker(configured) as worker:
        roots = {"server": server.pid} | ({} if worker is None else {"worker": worker})
        single = Issuer(server.base_url, deployment.api_key, example_request(), 1)
        single.round(2 * workers, roots, [server.pid])  # every worker loads fonts and keys
        _catch_up(configured)
        for _ in range(args.rounds):
            before = cpu.snapshot(roots)
            done = single.round(args.single, roots, [server.pid])
            errors += len(done.errors)
            p50s.append(1000 * percentile(done.latencies, 50))
            p95s.append(1000 * percentile(done.latencies, 95))
            _catch_up(configured)  # its revisions done, so their CPU counts
            used = cpu.difference(cpu.snapshot(roots), before)
            # Not the bench process: it is the clients and the development TSA and responders.
            cpu_ms.append(1000 * sum(used[name] for name in roots) / args.single)
            print(f"bench: {mode} unloaded p50 {p50s[-1]:.0f} ms, p95 {p95s[-1]:.0f} ms", flush=True)
        if args.load:
            loaded = Issuer(server.base_url, deployment.api_key, example_request(), args.concurrency)
            loaded.sent = 10_000  # citizen ids apart from the unloaded rounds'
            issued, seconds = 0, 0.0
            for _ in range(args.rounds):
                done = loaded.round(args.load, roots, [server.pid])
                errors += len(done.errors)
                issued += len(done.latencies)
                seconds += done.seconds
                rates.append(len(done.latencies) / done.seconds)
                print(f"bench: {mode} load {rates[-1]:.1f} docs/s", flush=True)
            catch_up = _catch_up(configured)
            done_rate = issued / (seconds + catch_up) if catch_up is not None else None
    return Figures(mode, tuple(p50s), tuple(p95s), tuple(cpu_ms), tuple(rates), catch_up, done_rate, errors)


def _spread(values: Sequence[float], unit: str = "") -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):.0f}{unit} [{min(values):.0f}-{max(values):.0f}]"


def _markdown(args: argparse.Namespace, figures: Sequence[Figures], load: tuple[str, str]) -> str:
    machine = describe_machine()
    lines = [
        f"<!-- long-term run -->\n### {now():%Y-%m-%d %H:%M} UTC · long-term · {args.backend}",
        "",
        f"{machine.describe()} · load average {load[0]} before, {load[1]} after · "
        f"`python -m bench long-term --backend {args.backend}` ({args.rounds} rounds, {args.single} sequential "
        f"requests, {args.load} requests × {args.concurrency} clients)",
        "",
        "| long-term revision | unloaded p50 ms | unloaded p95 ms | CPU ms/doc | load docs/s | catch-up s "
        "| B-LTA done/s | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in figures:
        rates = f.load_rates
        rate = f"{statistics.median(rates):.1f} [{min(rates):.1f}-{max(rates):.1f}]" if rates else "—"
        lines.append(
            f"| {f.mode} | {_spread(f.unloaded_p50_ms)} | {_spread(f.unloaded_p95_ms)} | {_spread(f.cpu_ms)} | "
            f"{rate} | {'—' if f.catch_up_s is None else f'{f.catch_up_s:.1f}'} | "
            f"{'—' if f.done_rate is None else f'{f.done_rate:.1f}'} | {f.errors} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    args = _parse(argv)
    before = format_load(os.getloadavg())
    figures = []
    with deploy(args.backend) as deployment:
        for mode in args.modes.split(","):
            figures.append(_measure(deployment, mode.strip(), args))
    markdown = _markdown(args, figures, (before, format_load(os.getloadavg())))
    print(markdown)
    if not args.no_record:
        record_in_section(markdown, SECTION)
    return 1 if any(f.errors for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
