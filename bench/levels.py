"""``python -m bench levels``: what each PAdES level costs per issued document.

Renders one certificate per document and signs it at B-B, B-T, B-LT and B-LTA with a
throwaway development PKI whose TSA and CRLs are served over real HTTP on this machine
(as ``sanad serve`` does under ``/pki``). Levels are interleaved round by round so drift
on a shared machine hits all of them alike. Prints a table; ``--record`` appends it to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
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


def measure(rounds: int, per_round: int) -> tuple[Samples, Samples]:
    """Milliseconds per document for each level, one sample per round: render + sign,
    and the signing step alone."""
    templates = load_templates(REPO / "templates")
    renderer = CertificateRenderer(templates)
    spec = templates["income-certificate"]
    example = json.loads((spec.directory / "example.json").read_text("utf-8"))
    data = validate_data(spec, example["data"])
    issuer = IssuerInfo("REV", LocalizedText(en="Department of Revenue", pa="ਮਾਲ ਵਿਭਾਗ", hi="राजस्व विभाग"))
    samples: Samples = {level: [] for level in SignatureLevel}
    signing: Samples = {level: [] for level in SignatureLevel}
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
            for _ in range(rounds):
                for level, signer in signers.items():
                    started = time.perf_counter()
                    signed = sum(issue(signer) for _ in range(per_round))
                    samples[level].append((time.perf_counter() - started) * 1000 / per_round)
                    signing[level].append(signed * 1000 / per_round)
    return samples, signing


def render_table(samples: Samples, signing: Samples) -> str:
    base = statistics.median(samples[SignatureLevel.B_B])
    lines = [
        "| level | issue (render + sign), median ms | spread (min–max of rounds) | vs B-B | sign alone, median ms |",
        "|---|---|---|---|---|",
    ]
    for level, values in samples.items():
        median = statistics.median(values)
        lines.append(
            f"| {level} | {median:.1f} | {min(values):.1f}–{max(values):.1f} | {(median / base - 1) * 100:+.0f}% "
            f"| {statistics.median(signing[level]):.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench levels", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=10)
    parser.add_argument("--record", action="store_true", help=f"append the result to {RESULTS.name}")
    args = parser.parse_args(argv)
    samples, signing = measure(args.rounds, args.per_round)
    table = render_table(samples, signing)
    heading = f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · levels · {args.rounds} rounds × {args.per_round} documents"
    text = f"{heading}\n\n{describe_machine().describe()}\n\n{table}\n"
    print(text)
    if args.record:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write(f"\n{text}")
    return 0
