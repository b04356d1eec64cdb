"""Departments' signing keys: generations of key and certificate, one of them active.

A rotation adds a generation and moves the ``current`` marker; earlier generations stay,
because documents they signed remain verifiable. A key lives in a file or in a PKCS#11
token (``pkcs11.json`` says where).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from trust.ca import certify, issuing_ca_certificate
from trust.keys import PublicKey, key_id, load_certificate, subject_name, write_certificate, write_private_key
from trust.paths import department_dir

DEPARTMENT_CERT_YEARS = 3


@dataclass(frozen=True)
class Generation:
    """One signing certificate of a department, with where its private key lives."""

    department: str
    key_id: str
    certificate: x509.Certificate
    directory: Path

    @property
    def certificate_path(self) -> Path:
        return self.directory / "signing.pem"

    @property
    def key_path(self) -> Path:
        return self.directory / "signing.key"

    @property
    def pkcs11(self) -> dict[str, Any] | None:
        """Where the key lives in a PKCS#11 token, or None for a key file."""
        path = self.directory / "pkcs11.json"
        if not path.exists():
            return None
        config: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return config


def _migrate_flat_layout(keys_dir: Path, code: str) -> None:
    """Keys made before generations existed sat at ``departments/<CODE>/signing.*``."""
    directory = department_dir(keys_dir, code)
    flat = directory / "signing.pem"
    if not flat.exists():
        return
    generation = directory / key_id(load_certificate(flat))
    generation.mkdir(parents=True, exist_ok=True)
    for suffix in (".key", ".pem"):
        source = directory / f"signing{suffix}"
        if source.exists():
            shutil.move(source, generation / f"signing{suffix}")
    (directory / "current").write_text(generation.name)


def department_generations(keys_dir: Path, code: str) -> list[Generation]:
    """Every signing certificate the department has had, oldest first."""
    _migrate_flat_layout(keys_dir, code)
    directory = department_dir(keys_dir, code)
    found = []
    for certificate_path in directory.glob("*/signing.pem"):
        certificate = load_certificate(certificate_path)
        found.append(Generation(code, certificate_path.parent.name, certificate, certificate_path.parent))
    return sorted(found, key=lambda g: (g.certificate.not_valid_before_utc, g.key_id))


def active_key_id(keys_dir: Path, code: str) -> str | None:
    """The key id of the department's active key: one small file read, cheap enough to
    check before every signature so a rotation takes effect without a restart."""
    try:
        return (department_dir(keys_dir, code) / "current").read_text("utf-8").strip()
    except FileNotFoundError:
        return None


def current_generation(keys_dir: Path, code: str) -> Generation | None:
    """The department's active signing certificate (None if it has none)."""
    _migrate_flat_layout(keys_dir, code)
    marker = department_dir(keys_dir, code) / "current"
    if not marker.exists():
        return None
    wanted = marker.read_text("utf-8").strip()
    for generation in department_generations(keys_dir, code):
        if generation.key_id == wanted:
            return generation
    return None


def all_departments(keys_dir: Path) -> list[str]:
    root = keys_dir / "departments"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []


def department_subject(name: str, code: str) -> x509.Name:
    return subject_name(name, unit=code)


def certify_department_key(
    keys_dir: Path, code: str, name: str, public_key: PublicKey, *, now: datetime | None = None
) -> x509.Certificate:
    """Issue a department signing certificate for ``public_key`` (file or token key)."""
    return certify(
        keys_dir,
        department_subject(name, code),
        public_key,
        now=now or datetime.now(UTC),
        days=365 * DEPARTMENT_CERT_YEARS,
    )


def add_generation(
    keys_dir: Path,
    code: str,
    certificate: x509.Certificate,
    *,
    private_key: ec.EllipticCurvePrivateKey | None = None,
    pkcs11: dict[str, Any] | None = None,
) -> Generation:
    """Store a new signing certificate for ``code`` and make it the active one.

    Exactly one of ``private_key`` (a key file) and ``pkcs11`` (a token reference) is given.
    Earlier generations stay: documents they signed remain verifiable.
    """
    if (private_key is None) == (pkcs11 is None):
        raise ValueError("give exactly one of private_key and pkcs11")
    directory = department_dir(keys_dir, code) / key_id(certificate)
    if private_key is not None:
        write_private_key(directory / "signing.key", private_key)
    else:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "pkcs11.json").write_text(json.dumps(pkcs11, indent=2))
    write_certificate(directory / "signing.pem", certificate)
    # The marker moves last: a crash before it leaves the old key active.
    marker = department_dir(keys_dir, code) / "current"
    marker.with_suffix(".tmp").write_text(directory.name)
    os.replace(marker.with_suffix(".tmp"), marker)
    return Generation(code, directory.name, certificate, directory)


class CertificateRejected(ValueError):
    """A department certificate that cannot sign for Sanad (wrong key, issuer, dates, usage)."""


def check_department_certificate(
    keys_dir: Path, certificate: x509.Certificate, public_key: PublicKey, *, now: datetime | None = None
) -> None:
    """Refuse a certificate from outside (the state's CA) unless it certifies
    ``public_key``, was issued by this PKI's issuing CA, is valid now and allows
    non-repudiation signatures (what PAdES validators require of a document signer)."""
    if certificate.public_key() != public_key:
        raise CertificateRejected("the certificate is not for this key")
    try:
        certificate.verify_directly_issued_by(issuing_ca_certificate(keys_dir))
    except (ValueError, TypeError, InvalidSignature) as e:
        raise CertificateRejected("the certificate was not issued by the issuing CA in the keys directory") from e
    moment = now or datetime.now(UTC)
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise CertificateRejected(
            f"the certificate is valid {certificate.not_valid_before_utc:%Y-%m-%d} to "
            f"{certificate.not_valid_after_utc:%Y-%m-%d}, not now"
        )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.content_commitment:
        raise CertificateRejected("the certificate's key usage does not include non-repudiation")


def import_department_key(
    keys_dir: Path,
    code: str,
    certificate: x509.Certificate,
    private_key: ec.EllipticCurvePrivateKey,
    *,
    now: datetime | None = None,
) -> Generation:
    """Make a key file and its certificate from the state's CA a department's active key."""
    check_department_certificate(keys_dir, certificate, private_key.public_key(), now=now)
    return add_generation(keys_dir, code, certificate, private_key=private_key)


def rotate_department_key(keys_dir: Path, code: str, name: str, *, now: datetime | None = None) -> Generation:
    """Give a department a new key file and certificate; the previous ones are retired."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = certify_department_key(keys_dir, code, name, key.public_key(), now=now)
    return add_generation(keys_dir, code, certificate, private_key=key)


def ensure_department_key(keys_dir: Path, code: str, name: str, *, now: datetime | None = None) -> bool:
    """Issue a signing certificate for a department unless it has one. True if created."""
    if current_generation(keys_dir, code) is not None:
        return False
    rotate_department_key(keys_dir, code, name, now=now)
    return True


def department_key_path(keys_dir: Path, code: str) -> Path:
    """``<dir>/signing`` of the department's active key file (suffixes .pem and .key)."""
    generation = current_generation(keys_dir, code)
    if generation is None:
        raise FileNotFoundError(f"department {code!r} has no signing key")
    return generation.directory / "signing"
