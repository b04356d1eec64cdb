"""The development certificate authorities: a root CA and the issuing CA below it, which
certifies every end-entity key (departments, the TSA, Sanad's own services)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from trust.keys import (
    CertifiedKey,
    PublicKey,
    issue_certificate,
    load_certificate,
    load_pair,
    self_signed,
    subject_name,
    write_pair,
)
from trust.paths import ca_path

ROOT_CA = "root-ca"
ISSUING_CA = "issuing-ca"
CA_NAMES = (ROOT_CA, ISSUING_CA)


def create_cas(keys_dir: Path, *, now: datetime) -> bool:
    """Create the root and issuing CAs unless they exist. True if created."""
    if ca_path(keys_dir, ROOT_CA).with_suffix(".pem").exists():
        return False
    root = self_signed(
        subject_name("Sanad Development Root CA"), ec.generate_private_key(ec.SECP384R1()), now=now, days=365 * 20
    )
    issuing_key = ec.generate_private_key(ec.SECP384R1())
    issuing_cert = issue_certificate(
        subject_name("Sanad Development Issuing CA"),
        issuing_key.public_key(),
        root,
        now=now,
        days=365 * 10,
        ca=True,
        keys_dir=keys_dir,
        issuer_name=ROOT_CA,
    )
    write_pair(ca_path(keys_dir, ISSUING_CA), CertifiedKey(issuing_cert, issuing_key))
    # The root goes last: its presence marks a complete hierarchy.
    write_pair(ca_path(keys_dir, ROOT_CA), root)
    return True


def issuing_ca(keys_dir: Path) -> CertifiedKey:
    return load_pair(ca_path(keys_dir, ISSUING_CA))


def issuing_ca_certificate(keys_dir: Path) -> x509.Certificate:
    return load_certificate(ca_path(keys_dir, ISSUING_CA).with_suffix(".pem"))


def certify(
    keys_dir: Path, subject: x509.Name, public_key: PublicKey, *, now: datetime, days: int, time_stamping: bool = False
) -> x509.Certificate:
    """An end-entity certificate from the issuing CA, naming where its CRL and OCSP are."""
    return issue_certificate(
        subject,
        public_key,
        issuing_ca(keys_dir),
        now=now,
        days=days,
        ca=False,
        keys_dir=keys_dir,
        issuer_name=ISSUING_CA,
        time_stamping=time_stamping,
    )


def trust_anchors_pem(keys_dir: Path) -> bytes:
    """The PEM bundle verifiers need: the root CA and the issuing CA."""
    return (
        ca_path(keys_dir, ROOT_CA).with_suffix(".pem").read_bytes()
        + ca_path(keys_dir, ISSUING_CA).with_suffix(".pem").read_bytes()
    )
