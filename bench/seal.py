"""``python -m bench.seal``: what ``sanad verify --offline QR-TEXT`` costs once Python runs.

Builds a throwaway development PKI with 20 departments, a trust bundle as ``sanad trust
fetch`` saves it (trust anchors, trust list, JWKS, a signed status list of 100,000
documents) and a compact seal, then times in this process what the command does after its
imports: load the bundle from disk, check its keys chain to the anchors, verify the status
list and the seal, write the report. Also the seal check alone, the same for a JWS seal
(documents issued before the compact one), and, for scale, the whole command in a fresh
interpreter. Prints a table; ``--record`` appends it to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.machine import describe_machine
from issuer.seal import SealClaims, data_hash, make_seal, sealed_url
from issuer.sign import DepartmentSigner
from sanad.jws import b64url_encode, compact_json, parse_compact, sign_compact
from trust.bootstrap import init_pki
from trust.departments import ensure_department_key
from verifier.bundle import TrustBundle
from verifier.offline import verify_seal_offline
from verifier.seal_check import seal_key_id, verify_seal
from verifier.seal_jws import SEAL_TYPE
from verifier.status_list import TYP as STATUS_LIST_TYP
from verifier.trust import TrustPublisher
from verifier.verdict import Indication

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"
BASE_URL = "https://verify.sanad.punjab.gov.in"
DOCUMENTS = 100_000
DEPARTMENTS = 20


def _prepare(directory: Path) -> tuple[Path, str, str]:
    """A saved trust bundle, a compact sealed QR text and a JWS one, for the same document."""
    now = datetime.now(UTC)
    keys = directory / "pki"
    init_pki(keys, now=now - timedelta(days=1))
    for n in range(DEPARTMENTS - 1):  # keys the check must not spend time on
        ensure_department_key(keys, f"D{n:02d}", f"Department {n}", now=now - timedelta(days=1))
    ensure_department_key(keys, "REV", "Department of Revenue", now=now - timedelta(days=1))
    publisher = TrustPublisher(keys, BASE_URL, status_list_ttl=timedelta(hours=24))
    revoked = [(index, "revoked") for index in range(0, DOCUMENTS, 97)]
    bundle = TrustBundle(
        trust_pem=publisher.trust_pem(),
        trust_list=publisher.trust_list(),
        jwks=publisher.jwks(),
        status_list=publisher.status_list(lambda: (DOCUMENTS - 1, revoked)).token,
        fetched_at=now,
    )
    bundle.save(directory / "trust")
    signer = DepartmentSigner.load(keys, "REV")
    document_id = "k7q3xz5m2vdn4ccb6wbrat5y3a"
    claims = SealClaims(
        document_id=document_id,
        type="income-certificate",
        department="REV",
        holder_name="ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
        issued_on=date.today(),
        valid_until=date.today() + timedelta(days=365),
        status_index=54_321,
        data_hash=data_hash(b"{}"),
    )
    compact = sealed_url(f"{BASE_URL}/v/{document_id}", make_seal(signer, claims))
    payload = {
        "v": 1,
        "id": document_id,
        "t": claims.type,
        "d": "REV",
        "n": claims.holder_name,
        "i": claims.issued_on.isoformat(),
        "e": (claims.issued_on + timedelta(days=365)).isoformat(),
        "s": claims.status_index,
        "h": b64url_encode(bytes(32)),
    }
    jws = sign_compact({"alg": "ES256", "kid": signer.key_id, "typ": SEAL_TYPE}, compact_json(payload), signer.sign_raw)
    return directory / "trust", compact, f"{BASE_URL}/v/{document_id}#{jws}"


def _command(trust_dir: Path, text: str) -> str:
    """What ``sanad verify --offline`` does after its imports (verifier/cli.py)."""
    bundle = TrustBundle.load(trust_dir)
    verdict = verify_seal_offline(text, bundle)
    if verdict.indication != Indication.TOTAL_PASSED:
        raise AssertionError(verdict.report())
    return "\n".join(verdict.report())


def _times(work: Callable[[], object], repeat: int) -> list[float]:
    work()  # warm: first calls build caches (e.g. the curve's tables)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _row(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"| {name} | {statistics.median(samples):.2f} | {p95:.2f} | {len(samples)} |"


def measure(repeat: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        trust_dir, compact, jws = _prepare(Path(tmp))
        bundle = TrustBundle.load(trust_dir)
        jwks = bundle.trusted_jwks()
        seal, legacy = compact.partition("#")[2], jws.partition("#")[2]
        status_kid = parse_compact(bundle.status_list or "", typ=STATUS_LIST_TYP).kid
        rows = [
            _row(
                "**the command's work, compact seal** (load bundle + verify + report)",
                _times(lambda: _command(trust_dir, compact), repeat),
            ),
            _row("the same, JWS seal", _times(lambda: _command(trust_dir, jws), repeat)),
            _row("load the bundle from disk", _times(lambda: TrustBundle.load(trust_dir), repeat)),
            _row(
                "chain the two keys a check uses to the anchors",
                _times(lambda: bundle.trusted_jwks(only={seal_key_id(seal), status_kid}), repeat),
            ),
            _row(f"for scale: chain all {len(bundle.jwks['keys'])} keys", _times(bundle.trusted_jwks, repeat)),
            _row("verify_seal_offline (bundle loaded)", _times(lambda: verify_seal_offline(compact, bundle), repeat)),
            _row("the seal alone (digits → COSE → ES256 → claims)", _times(lambda: verify_seal(seal, jwks), repeat)),
            _row("the JWS seal alone", _times(lambda: verify_seal(legacy, jwks), repeat)),
        ]
        cli = [str(REPO / ".venv" / "bin" / "sanad"), "verify", "--offline", "--trust-dir", str(trust_dir), compact]
        whole = _times(lambda: subprocess.run(cli, check=True, capture_output=True), max(3, repeat // 100))
        started = [sys.executable, "-c", "pass"]
        rows.append(_row("for scale: `sanad verify --offline` in a new interpreter", whole))
        rows.append(
            _row("for scale: an empty `python -c pass`", _times(lambda: subprocess.run(started, check=True), 10))
        )
    header = "| step | median ms | p95 ms | runs |\n|---|---|---|---|"
    return f"{header}\n" + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seal", description=__doc__)
    parser.add_argument("--repeat", type=int, default=500)
    parser.add_argument("--record", action="store_true", help=f"append the result to {RESULTS.name}")
    args = parser.parse_args(argv)
    table = measure(args.repeat)
    heading = f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · seal · {args.repeat} runs, {DOCUMENTS:,} documents listed"
    text = f"{heading}\n\n{describe_machine().describe()}\n\n{table}\n"
    print(text)
    if args.record:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write(f"\n{text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
