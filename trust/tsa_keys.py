"""The development TSA's signing key, and its certificates: the current one and the earlier
ones, kept because the timestamps they made stay verifiable."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from trust.ca import certify
from trust.keys import CertifiedKey, key_id, load_certificate, subject_name, write_certificate, write_pair
from trust.paths import tsa_path

TSA_CERT_YEARS = 5


def ensure_tsa_key(keys_dir: Path, *, now: datetime | None = None) -> bool:
    if tsa_path(keys_dir).with_suffix(".pem").exists():
        return False
    rotate_tsa_key(keys_dir, now=now)
    return True


def rotate_tsa_key(keys_dir: Path, *, now: datetime | None = None, days: int = 365 * TSA_CERT_YEARS) -> CertifiedKey:
    """Give the TSA a new key and certificate; the old certificate is kept beside it
    (``tsa/<key-id>.pem``) because timestamps it made stay verifiable."""
    path = tsa_path(keys_dir)
    if path.with_suffix(".pem").exists():
        old = load_certificate(path.with_suffix(".pem"))
        write_certificate(path.parent / f"{key_id(old)}.pem", old)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = certify(
        keys_dir,
        subject_name("Sanad Development Time-Stamping Authority", unit="TSA"),
        key.public_key(),
        now=now or datetime.now(UTC),
        days=days,
        time_stamping=True,
    )
    pair = CertifiedKey(certificate, key)
    write_pair(path, pair)
    return pair


def tsa_certificates(keys_dir: Path) -> list[x509.Certificate]:
    """The TSA's current certificate first, then its earlier ones."""
    directory = tsa_path(keys_dir).parent
    current = directory / "tsa.pem"
    if not current.exists():
        return []
    earlier = sorted(p for p in directory.glob("*.pem") if p.name != "tsa.pem")
    return [load_certificate(current), *(load_certificate(p) for p in earlier)]
