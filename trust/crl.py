"""Certificate revocation lists for the development CAs.

A CRL is rebuilt from the revocation records on demand; the responder serves it. It
carries the CA's key identifier (AuthorityKeyIdentifier) because validators such as
pyHanko match a CRL to its issuer by it, and a CRLNumber as RFC 5280 requires.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from trust.keys import CertifiedKey


@dataclass(frozen=True)
class Revocation:
    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags | None = None


def build_crl(
    issuer: CertifiedKey,
    revocations: Iterable[Revocation],
    *,
    this_update: datetime,
    next_update: datetime,
    number: int,
) -> bytes:
    """A DER CRL signed by ``issuer`` (ECDSA with SHA-256) listing ``revocations``."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_authority_key_identifier(issuer.certificate), critical=False)
    )
    for revocation in revocations:
        entry = x509.RevokedCertificateBuilder().serial_number(revocation.serial).revocation_date(revocation.revoked_at)
        if revocation.reason is not None:
            entry = entry.add_extension(x509.CRLReason(revocation.reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    crl = builder.sign(issuer.private_key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)


def _authority_key_identifier(certificate: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    # Reuse the CA certificate's own SubjectKeyIdentifier so the two match byte for byte,
    # whatever method computed it; fall back to the RFC 5280 SHA-1 of the key.
    try:
        ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(certificate.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def parse_revocation(entry: Mapping[str, Any]) -> Revocation:
    """One record of ``revocations.json``: ``{"serial": "<hex>", "revoked_at": "<ISO-8601>",
    "reason": "key_compromise" | "keyCompromise" | null}``. Raises ValueError if malformed."""
    try:
        serial = int(str(entry["serial"]).replace(":", ""), 16)
        revoked_at = datetime.fromisoformat(str(entry["revoked_at"]))
        reason = entry.get("reason")
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"malformed revocation record {entry!r}: {e}") from e
    if revoked_at.tzinfo is None:  # naive times in the file are UTC
        revoked_at = revoked_at.replace(tzinfo=UTC)
    return Revocation(serial, revoked_at, _reason(reason) if reason is not None else None)


def _reason(value: object) -> x509.ReasonFlags:
    # Accept the Python name (key_compromise) and the RFC 5280 name (keyCompromise).
    text = str(value)
    if text in x509.ReasonFlags.__members__:
        return x509.ReasonFlags[text]
    try:
        return x509.ReasonFlags(text)
    except ValueError:
        raise ValueError(f"unknown revocation reason {text!r}") from None
