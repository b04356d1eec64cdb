"""``python -m bench reads``: the public reads and the locker's under wrk, each beside the
same server's ``/health`` in the same round, then the QR target and the locker's listing
at stated arrival rates under vegeta (open loop, ``bench/reads_open.py``), where their
latency targets are judged; records a section of RESULTS.md.

The machine is shared: absolute rates move with everyone else's work, so every figure is
also given as a ratio to ``/health`` measured just before it, which moves with them.
Targets are those of the reads issue; what the run cannot reach on this machine is said
in the report rather than left out.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from bench import reads_open
from bench.backends import BACKENDS, Deployment, deploy
from bench.locker_load import sign_in
from bench.locker_seed import libpq_url
from bench.machine import describe_machine
from bench.report import RESULTS
from bench.server import Server
from bench.stages import example_request
from bench.vegeta import vegeta_path
from bench.wrk import Load, Outcome, run

SECTION = "## Reads at wire speed (`python -m bench reads`, `bench/reads.py`)"
MOBILE = "9812345670"
BOUNDARY = "sanad-bench-boundary"
QR_JSON = "QR target /v/{id}, JSON"
LISTING = "locker listing, limit 50"


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    goal: str
    headers: Mapping[str, str] = field(default_factory=dict)
    connections: int = 16
    body: bytes | None = None
    content_type: str = ""
    errors_expected: bool = False
    """A target answered 404 by design: its non-2xx answers are no failure."""


@dataclass
class Measured:
    target: Target
    outcomes: list[Outcome] = field(default_factory=list)
    health: list[Outcome] = field(default_factory=list)

    def rates(self) -> list[float]:
        return [o.rate for o in self.outcomes]

    def ratios(self) -> list[float]:
        return [o.rate / h.rate for o, h in zip(self.outcomes, self.health, strict=True)]

    def p99(self) -> list[float]:
        return [o.latency_ms.get(99, float("nan")) for o in self.outcomes]

    def failures(self) -> int:
        if self.target.errors_expected:
            return sum(o.socket_errors for o in self.outcomes)
        return sum(o.non_2xx_3xx + o.socket_errors for o in self.outcomes)


def _multipart(pdf: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="certificate.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def _issue(base_url: str, api_key: str) -> tuple[str, bytes]:
    body = example_request() | {"citizen_mobile": MOBILE}
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": secrets.token_hex(8)}
    with httpx.Client(base_url=base_url, timeout=120) as client:
        issued = client.post("/api/v1/documents", json=body, headers=headers)
        if issued.status_code != 201:
            raise RuntimeError(f"issuing answered {issued.status_code}: {issued.text[:300]}")
        document_id: str = issued.json()["id"]
        pdf = client.get(
            f"/api/v1/documents/{document_id}/content", headers={"Authorization": headers["Authorization"]}
        )
        pdf.raise_for_status()
        return document_id, pdf.content


def _targets(base_url: str, document_id: str, pdf: bytes, token: str | None) -> list[Target]:
    json_accept = {"Accept": "application/json", "Accept-Encoding": "br, gzip"}
    html_accept = {"Accept": "text/html", "Accept-Encoding": "br, gzip"}
    with httpx.Client(base_url=base_url) as client:
        etag = client.get(f"/v/{document_id}", headers=json_accept).headers["etag"]
    targets = [
        Target(QR_JSON, f"/v/{document_id}", "≥ 2,000/s, p99 ≤ 25 ms", json_accept),
        Target("QR target /v/{id}, HTML", f"/v/{document_id}", "≥ 2,000/s, p99 ≤ 25 ms", html_accept),
        Target("/v/{id} JSON, revalidated (304)", f"/v/{document_id}", "—", {**json_accept, "If-None-Match": etag}),
        Target("/v/{unknown id} (404)", "/v/" + "z" * 26, "as fast as a known id", json_accept, errors_expected=True),
        Target("trust list JSON", "/api/v1/trust", "—", json_accept),
        Target("JWKS", "/api/v1/trust/jwks", "—", json_accept),
        Target("status list", "/api/v1/status-list", "—", json_accept),
        Target(
            "PDF upload verification, B-LTA (same file)",
            "/api/v1/verify",
            "≥ 50/s",
            json_accept,
            # Each server process checks 2 files at once and refuses a third (503): two
            # clients can never exceed that, however the kernel spreads them.
            connections=2,
            body=_multipart(pdf),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        ),
    ]
    if token is not None:
        signed_in = {"Authorization": f"Bearer {token}", "Accept-Encoding": "br, gzip"}
        targets += [
            Target(LISTING, "/api/v1/locker/documents?limit=50", "p99 ≤ 20 ms", signed_in),
            # The same at a moderate load: 16 connections keep 2 cores saturated, where
            # any p99 is mostly the queue.
            Target(
                "locker listing, limit 50, 4 connections",
                "/api/v1/locker/documents?limit=50",
                "p99 ≤ 20 ms",
                signed_in,
                connections=4,
            ),
            Target(
                "signed-in download (307 to storage)",
                f"/api/v1/locker/documents/{document_id}/content",
                "≥ 1,000/s",
                signed_in,
            ),
        ]
    return targets


def paced_reads(
    targets: Sequence[Target], *, qr_rates: Sequence[int], listing_rates: Sequence[int]
) -> list[reads_open.Paced]:
    """The targets whose latency goals are stated at a rate, at each of their rates (those
    not among ``targets``, e.g. left out by ``--only``, are not paced)."""
    goals = {QR_JSON: (qr_rates, 25.0, 2_000), LISTING: (listing_rates, 20.0, 0)}
    paced = []
    for target in targets:
        if target.name not in goals:
            continue
        rates, p99_ms, min_rate = goals[target.name]
        for rate in rates:
            paced.append(
                reads_open.Paced(target.name, target.path, target.headers, rate, target.goal, p99_ms, min_rate)
            )
    return paced


def overload(target: Target) -> Target:
    """``target`` driven by four times its clients: wrk keeps each connection busy, so
    this asks for as much as the server can give and more; any 5xx or connection error
    counts in the errors column."""
    return replace(target, name=f"overload: {target.name}", goal="no 5xx, no connection errors", connections=64)


def _load(base_url: str, target: Target, seconds: float) -> Load:
    return Load(base_url + target.path, target.headers, target.connections, seconds, target.body, target.content_type)


def warm_up(base_url: str, targets: Sequence[Target], *, connections: int = 8) -> None:
    """Each target a few times on fresh connections, so that every worker has started
    its checking processes and kept its first check before anything is timed."""
    for target in targets:
        for _ in range(connections):
            with httpx.Client(base_url=base_url, timeout=120) as client:
                headers = dict(target.headers)
                if target.body is None:
                    client.get(target.path, headers=headers)
                else:
                    client.post(
                        target.path, content=target.body, headers=headers | {"Content-Type": target.content_type}
                    )


def measure(base_url: str, targets: Sequence[Target], *, rounds: int, seconds: float) -> list[Measured]:
    health = Target("/health", "/health", "the ceiling")
    results = [Measured(t) for t in targets]
    warm_up(base_url, targets)
    for number in range(1, rounds + 1):
        for result in results:
            # The ceiling is measured right before each target, with the same connections.
            ceiling = run(_load(base_url, replace(health, connections=result.target.connections), seconds))
            outcome = run(_load(base_url, result.target, seconds))
            result.health.append(ceiling)
            result.outcomes.append(outcome)
            print(
                f"bench: round {number}: {result.target.name}: {outcome.rate:,.0f}/s "
                f"(/health {ceiling.rate:,.0f}/s), p99 {outcome.latency_ms.get(99, 0):.1f} ms",
                flush=True,
            )
    return results


def _spread(values: Sequence[float], fmt: str) -> str:
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def render(
    results: Sequence[Measured],
    *,
    backend: str,
    rounds: int,
    seconds: float,
    load: tuple[float, float],
    registry: int | None = None,
    open_loop: Sequence[reads_open.OpenMeasured] = (),
    open_seconds: float = 0.0,
) -> str:
    machine = describe_machine()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    wrk_part = f"{rounds} rounds × {seconds:.0f} s per target" if results else "open loop only"
    lines = [
        f"### {started} · reads · {backend} · {wrk_part}",
        "",
        f"{machine.describe()}; `sanad serve --workers 2`; wrk (2 threads) and vegeta on the same cores. "
        f"Load average {load[0]:.2f} before, {load[1]:.2f} after: **the machine was shared with other "
        "engineers' builds and tests, so the ratio to `/health` (measured right before each target, same "
        "connections) is the honest figure**; absolute rates are what was left of 2 cores."
        + (f" The registry held {registry:,} documents." if registry is not None else ""),
        "",
    ]
    if results:
        lines += [
            "| what | target | conns | req/s median (min–max) | ratio to /health | p99 ms median (min–max) | errors |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for result in results:
            target = result.target
            lines.append(
                f"| {target.name} | {target.goal} | {target.connections} | {_spread(result.rates(), ',.0f')} | "
                f"{_spread(result.ratios(), '.2f')} | {_spread(result.p99(), '.1f')} | {result.failures()} |"
            )
        health = [h.rate for r in results for h in r.health]
        lines += ["", f"`/health` over the run: {_spread(health, ',.0f')} req/s.", ""]
    lines += reads_open.render(open_loop, seconds=open_seconds)
    return "\n".join(lines)


def record(markdown: str) -> None:
    """Insert the run into this bench's section of RESULTS.md, newest run first, below
    the section's interpretation."""
    text = RESULTS.read_text("utf-8")
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n"
    head, tail = text.split(SECTION, 1)
    section_end = tail.find("\n## ")
    section, rest = (tail, "") if section_end < 0 else (tail[:section_end], tail[section_end:])
    first_run = section.find("\n### 20")
    if first_run < 0:
        section = section.rstrip("\n") + f"\n\n{markdown}\n"
    else:
        section = f"{section[:first_run]}\n{markdown}\n{section[first_run:]}"
    RESULTS.write_text(f"{head}{SECTION}{section}{rest}", "utf-8")


def _registry_size(database_url: str) -> int:
    """The documents in the registry, from the planner's estimate (a count of 10M rows
    would take longer than a round)."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'documents'").fetchone()
    return int(row[0]) if row else 0


def _with_bench_limits(deployment: Deployment) -> Deployment:
    # One address sends every upload here; the per-address limit would refuse all but ten.
    return replace(deployment, env=deployment.env | {"SANAD_VERIFY_UPLOADS_PER_WINDOW": "100000000"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench reads", description=__doc__)
    parser.add_argument("--backend", choices=BACKENDS, default="postgres-minio")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="per target and per /health run")
    parser.add_argument(
        "--overload-seconds",
        type=float,
        default=0.0,
        help="then the QR target with 4 times the connections for this long (0: not run)",
    )
    parser.add_argument(
        "--database",
        help="postgres-minio: run in this existing database, kept afterwards (e.g. the 10M-document "
        "registry `python -m bench.digilocker` seeds: sanad_bench_digilocker_10000000)",
    )
    parser.add_argument("--no-record", action="store_true", help=f"print only; leave {RESULTS.name} alone")
    parser.add_argument("--only", help="measure only the targets whose name contains this, e.g. '/v/{id}'")
    open_loop = parser.add_argument_group("open loop (vegeta, constant arrival rate)")
    open_loop.add_argument(
        "--open-seconds", type=float, default=10.0, help="per rate and per /health run (0: no open-loop part)"
    )
    open_loop.add_argument("--open-rounds", type=int, default=1)
    open_loop.add_argument(
        "--qr-rates",
        type=reads_open.parse_rates,
        default=[2_000],
        help="QR target (JSON), req/s, comma-separated (default: 2000)",
    )
    open_loop.add_argument(
        "--listing-rates",
        type=reads_open.parse_rates,
        default=[150, 250, 350, 500, 1_000],
        help="locker listing (postgres-minio only), req/s, comma-separated (default: 150,250,350,500,1000)",
    )
    open_loop.add_argument("--open-only", action="store_true", help="skip the wrk part")
    open_loop.add_argument(
        "--vegeta-results",
        type=Path,
        help="keep each attack's vegeta results in this folder (for `vegeta report` or `vegeta plot`)",
    )
    args = parser.parse_args(argv)
    if args.open_seconds > 0:
        vegeta_path()  # before minutes of deploying and measuring, not after
    load_before = os.getloadavg()[0]
    registry = None
    with (
        deploy(args.backend, database=args.database) as deployment,
        Server(_with_bench_limits(deployment), workers=2) as server,
    ):
        if args.database:
            registry = _registry_size(deployment.env["SANAD_DATABASE_URL"])
        document_id, pdf = _issue(server.base_url, deployment.api_key)
        token = None
        if args.backend == "postgres-minio":
            token = sign_in(server.base_url, libpq_url(deployment.env["SANAD_DATABASE_URL"]), MOBILE)
        targets = _targets(server.base_url, document_id, pdf, token)
        if args.only:
            targets = [t for t in targets if args.only in t.name]
        plan = reads_open.Plan(
            paced_reads(targets, qr_rates=args.qr_rates, listing_rates=args.listing_rates),
            args.open_seconds,
            args.open_rounds,
            args.vegeta_results,
        )
        if args.open_seconds <= 0:
            plan.reads = []
        results: list[Measured] = []
        if not args.open_only:
            results = measure(server.base_url, targets, rounds=args.rounds, seconds=args.seconds)
            if args.overload_seconds > 0:
                results += measure(server.base_url, [overload(targets[0])], rounds=1, seconds=args.overload_seconds)
        elif plan.reads:
            warm_up(server.base_url, [t for t in targets if t.name in {p.name for p in plan.reads}])
        paced = reads_open.measure(server.base_url, plan)
    load = (load_before, os.getloadavg()[0])
    markdown = render(
        results,
        backend=args.backend,
        rounds=args.rounds,
        seconds=args.seconds,
        load=load,
        registry=registry,
        open_loop=paced,
        open_seconds=args.open_seconds,
    )
    print(markdown)
    if not args.no_record:
        record(markdown)
        print(f"bench: recorded in {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
