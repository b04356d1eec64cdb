"""Key pairs and certificates of the development PKI: issuing a certificate, and reading
and writing the PEM files that hold them."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trust.paths import ca_certificate_url, crl_url, ocsp_url

ORGANISATION = "Government of Punjab (development PKI)"

PublicKey = ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class CertifiedKey:
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey


def key_id(certificate: x509.Certificate) -> str:
    """A short, stable identifier of a certificate: 16 hex digits of its SHA-256."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()[:16]


def subject_name(common_name: str, unit: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "IN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
    ]
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def issue_certificate(
    subject: x509.Name,
    public_key: PublicKey,
    issuer: CertifiedKey | None,
    *,
    now: datetime,
    days: int,
    ca: bool,
    signer_key: ec.EllipticCurvePrivateKey | None = None,
    keys_dir: Path | None = None,
    issuer_name: str | None = None,
    time_stamping: bool = False,
) -> x509.Certificate:
    """Issue a certificate signed by ``issuer``, or self-signed with ``signer_key``.

    With ``keys_dir`` and ``issuer_name`` it names where the issuer's CRL, OCSP responder
    and certificate are published (CRL distribution point, authority information access).
    """
    signing_key = issuer.private_key if issuer else signer_key
    if signing_key is None:
        raise ValueError("a self-signed certificate needs signer_key")
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
        .add_extension(_key_usage(ca=ca, time_stamping=time_stamping), critical=True)
    )
    if time_stamping:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    if keys_dir is not None and issuer_name is not None:
        crl = x509.UniformResourceIdentifier(crl_url(keys_dir, issuer_name))
        ca_issuers = x509.AccessDescription(
            x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(ca_certificate_url(keys_dir, issuer_name)),
        )
        ocsp = x509.AccessDescription(
            x509.oid.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url(keys_dir))
        )
        builder = builder.add_extension(
            x509.CRLDistributionPoints([x509.DistributionPoint([crl], None, None, None)]), critical=False
        ).add_extension(x509.AuthorityInformationAccess([ocsp, ca_issuers]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _key_usage(*, ca: bool, time_stamping: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca and not time_stamping,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def self_signed(subject: x509.Name, key: ec.EllipticCurvePrivateKey, *, now: datetime, days: int) -> CertifiedKey:
    certificate = issue_certificate(subject, key.public_key(), None, now=now, days=days, ca=True, signer_key=key)
    return CertifiedKey(certificate, key)


def write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def write_certificate(path: Path, certificate: x509.Certificate) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def write_pair(path: Path, pair: CertifiedKey) -> None:
    """Write ``<path>.key`` and ``<path>.pem`` (``path`` without suffix)."""
    write_private_key(path.with_suffix(".key"), pair.private_key)
    write_certificate(path.with_suffix(".pem"), pair.certificate)


def load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_pair(path: Path) -> CertifiedKey:
    """Load ``<path>.pem`` and ``<path>.key`` (``path`` without suffix)."""
    certificate = load_certificate(path.with_suffix(".pem"))
    key = serialization.load_pem_private_key(path.with_suffix(".key").read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}.key is not an EC private key")
    return CertifiedKey(certificate, key)
