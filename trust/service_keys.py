"""Sanad's own signing keys (e.g. ``status`` for status-list snapshots), certified by the
issuing CA like a department's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from trust.ca import certify
from trust.keys import CertifiedKey, load_pair, subject_name, write_pair
from trust.paths import service_key_path


def ensure_service_key(keys_dir: Path, name: str, *, now: datetime | None = None, years: int = 3) -> CertifiedKey:
    """Sanad's own signing key ``name`` (e.g. ``status`` for status-list snapshots)."""
    path = service_key_path(keys_dir, name)
    if not path.with_suffix(".pem").exists():
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = certify(
            keys_dir,
            subject_name(f"Sanad {name} signer", unit="SANAD"),
            key.public_key(),
            now=now or datetime.now(UTC),
            days=365 * years,
        )
        write_pair(path, CertifiedKey(certificate, key))
    return load_pair(path)
