"""``python -m bench levels``: what each PAdES level costs per issued document.

Renders one certificate per document and signs it at B-B, B-T, B-LT and B-LTA with a
throwaway development PKI whose TSA, CRLs and OCSP responder are served over real HTTP on
this machine (as ``sanad serve`` does under ``/pki``). Levels are interleaved round by
round so drift on a shared machine hits all of them alike.

Three numbers per level: the wall time of one document issued alone (B-LT and B-LTA
include the wait for revocation data produced after the signature timestamp: up to a
second, idle), the CPU time per document (what bounds throughput; the PKI's own work is
in it, as it runs in this process), and documents per second with several documents
issued at once, where those waits overlap. Prints a table; ``--record`` appends it to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import describe_machine
from issuer.render import CertificateRenderer, IssuerInfo
from issuer.sign import DepartmentSigner, SignatureLevel, SigningProfile
from issuer.templates import load_templates, validate_data
from sanad.i18n import LocalizedText
from sanad.ids import new_document_id
from trust.bootstrap import init_pki
from trust.departments import ensure_department_key
from trust.keys import load_certificate
from trust.local import free_port, serve_responder
from trust.revocation import CrlFetcher, OcspFetcher
from trust.tsa_client import HttpTimeStamper

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"


def _profile(keys: Path, base_url: str, level: SignatureLevel) -> SigningProfile:
    if level == SignatureLevel.B_B:
        return SigningProfile(level)
    return SigningProfile(
        level,
        timestamper=HttpTimeStamper(f"{base_url}/tsa"),
        # As deployed: revocation data fetched once a minute, not per document.
        crls=CrlFetcher(ttl=60),
        ocsp=OcspFetcher(ttl=60),
        trust_roots=(load_certificate(keys / "root-ca.pem"),),
        intermediates=(load_certificate(keys / "issuing-ca.pem"),),
    )


Samples = dict[SignatureLevel, list[float]]


@dataclass(frozen=True)
class Measured:
    issue: Samples
    """Wall milliseconds per document, issued one at a time (render + sign)."""
    signing: Samples
    """Wall milliseconds of the signing step alone."""
    cpu: Samples
    """CPU milliseconds per document (this process: render, sign, and the PKI's answers)."""
    throughput: Samples
    """Documents per second with ``threads`` documents issued at once."""
    threads: int


def measure(rounds: int, per_round: int, threads: int) -> Measured:
    """One sample per level and round of each number ``Measured`` holds."""
    templates = load_templates(REPO / "templates")
    renderer = CertificateRenderer(templates)
    spec = templates["income-certificate"]
    example = json.loads((spec.directory / "example.json").read_text("utf-8"))
    data = validate_data(spec, example["data"])
    issuer = IssuerInfo("REV", LocalizedText(en="Department of Revenue", pa="ਮਾਲ ਵਿਭਾਗ", hi="राजस्व विभाग"))
    samples: Samples = {level: [] for level in SignatureLevel}
    signing: Samples = {level: [] for level in SignatureLevel}
    cpu: Samples = {level: [] for level in SignatureLevel}
    throughput: Samples = {level: [] for level in SignatureLevel}
    with tempfile.TemporaryDirectory() as directory:
        keys, port = Path(directory), free_port()
        init_pki(keys, base_url=f"http://127.0.0.1:{port}/pki")
        ensure_department_key(keys, "REV", "Department of Revenue")
        with serve_responder(keys, port) as base_url:
            signers = {
                level: DepartmentSigner.load(keys, "REV", _profile(keys, base_url, level)) for level in SignatureLevel
            }

            def issue(signer: DepartmentSigner) -> float:
                document_id = new_document_id()
                pdf = renderer.render(
                    spec,
                    document_id=document_id,
                    verify_url=f"http://127.0.0.1:8000/v/{document_id}",
                    data=data,
                    issuer=issuer,
                    issued_at=datetime.now(UTC),
                    valid_until=None,
                )
                started = time.perf_counter()
                signer.sign(pdf)
                return time.perf_counter() - started

            for signer in signers.values():  # warm up: fonts, CRL cache, connections
                issue(signer)
            with ThreadPoolExecutor(threads) as pool:
                for _ in range(rounds):
                    for level, signer in signers.items():
                        started, cpu_started = time.perf_counter(), time.process_time()
                        signed = sum(issue(signer) for _ in range(per_round))
                        samples[level].append((time.perf_counter() - started) * 1000 / per_round)
                        cpu[level].append((time.process_time() - cpu_started) * 1000 / per_round)
                        signing[level].append(signed * 1000 / per_round)
                        # A stream several times the pool's size: each document's wait for
                        # fresh revocation data overlaps the others' work, as in a server.
                        throughput[level].append(_rate(pool, functools.partial(issue, signer), 4 * threads))
    return Measured(samples, signing, cpu, throughput, threads)


def _rate(pool: ThreadPoolExecutor, issue: Callable[[], float], count: int) -> float:
    """Documents per second issuing ``count`` documents on the pool's threads at once."""
    started = time.perf_counter()
    for future in [pool.submit(issue) for _ in range(count)]:
        future.result()
    return count / (time.perf_counter() - started)


def render_table(measured: Measured) -> str:
    base = statistics.median(measured.cpu[SignatureLevel.B_B])
    lines = [
        "| level | issue alone (render + sign), median ms | spread (min–max of rounds) | sign alone, median ms "
        f"| CPU per document, median ms (spread) | CPU vs B-B | docs/s, {measured.threads} at once (spread) |",
        "|---|---|---|---|---|---|---|",
    ]
    for level, values in measured.issue.items():
        cpu, rate = measured.cpu[level], measured.throughput[level]
        lines.append(
            f"| {level} | {statistics.median(values):.1f} | {min(values):.1f}–{max(values):.1f} "
            f"| {statistics.median(measured.signing[level]):.1f} "
            f"| {statistics.median(cpu):.1f} ({min(cpu):.1f}–{max(cpu):.1f}) "
            f"| {(statistics.median(cpu) / base - 1) * 100:+.0f}% "
            f"| {statistics.median(rate):.1f} ({min(rate):.1f}–{max(rate):.1f}) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench levels", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=10)
    parser.add_argument("--threads", type=int, default=8, help="documents issued at once for the docs/s column")
    parser.add_argument("--record", action="store_true", help=f"append the result to {RESULTS.name}")
    args = parser.parse_args(argv)
    table = render_table(measure(args.rounds, args.per_round, args.threads))
    heading = f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · levels · {args.rounds} rounds × {args.per_round} documents"
    text = f"{heading}\n\n{describe_machine().describe()}\n\n{table}\n"
    print(text)
    if args.record:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write(f"\n{text}")
    return 0
