"""The development PKI: root CA → issuing CA → one signing certificate per department.

Layout under the keys directory (private keys are 0600 and never committed):

    root-ca.pem / root-ca.key            trust anchor
    issuing-ca.pem / issuing-ca.key      signs department certificates
    departments/<CODE>/signing.pem|key   a department's document-signing key
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ORGANISATION = "Government of Punjab (development PKI)"


@dataclass(frozen=True)
class CertifiedKey:
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey


def _name(common_name: str, unit: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "IN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
    ]
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _issue(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: CertifiedKey | None,
    *,
    now: datetime,
    years: int,
    ca: bool,
) -> x509.Certificate:
    signer_key = issuer.private_key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key()), critical=False
        )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=not ca,
            content_commitment=not ca,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    return builder.sign(signer_key, hashes.SHA256())


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def _write(path: Path, pair: CertifiedKey) -> None:
    _write_private(path.with_suffix(".key"), pair.private_key)
    path.with_suffix(".pem").write_bytes(pair.certificate.public_bytes(serialization.Encoding.PEM))


def load_pair(path: Path) -> CertifiedKey:
    """Load ``<path>.pem`` and ``<path>.key`` (``path`` without suffix)."""
    certificate = x509.load_pem_x509_certificate(path.with_suffix(".pem").read_bytes())
    key = serialization.load_pem_private_key(path.with_suffix(".key").read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}.key is not an EC private key")
    return CertifiedKey(certificate, key)


def init_pki(keys_dir: Path, *, now: datetime | None = None) -> bool:
    """Create the root and issuing CAs unless they exist. Returns True if created."""
    if (keys_dir / "root-ca.pem").exists():
        return False
    now = now or datetime.now(UTC)
    keys_dir.mkdir(parents=True, exist_ok=True)
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = CertifiedKey(
        _issue(_name("Sanad Development Root CA"), root_key, None, now=now, years=20, ca=True), root_key
    )
    issuing_key = ec.generate_private_key(ec.SECP384R1())
    issuing = CertifiedKey(
        _issue(_name("Sanad Development Issuing CA"), issuing_key, root, now=now, years=10, ca=True), issuing_key
    )
    _write(keys_dir / "issuing-ca", issuing)
    # The root goes last: its presence marks a complete PKI.
    _write(keys_dir / "root-ca", root)
    return True


def department_key_path(keys_dir: Path, code: str) -> Path:
    return keys_dir / "departments" / code / "signing"


def ensure_department_key(keys_dir: Path, code: str, name: str, *, now: datetime | None = None) -> bool:
    """Issue a signing certificate for a department unless it has one. True if created."""
    path = department_key_path(keys_dir, code)
    if path.with_suffix(".pem").exists():
        return False
    issuing = load_pair(keys_dir / "issuing-ca")
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _issue(_name(name, unit=code), key, issuing, now=now or datetime.now(UTC), years=3, ca=False)
    _write_private(path.with_suffix(".key"), key)
    path.with_suffix(".pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return True


def trust_anchors_pem(keys_dir: Path) -> bytes:
    """The PEM bundle verifiers need: the root CA and the issuing CA."""
    return (keys_dir / "root-ca.pem").read_bytes() + (keys_dir / "issuing-ca.pem").read_bytes()
