"""The development PKI: root CA → issuing CA → department signing keys, a TSA, service keys.

Layout under the keys directory (private keys are 0600 and never committed):

    pki.json                                  where the PKI's services are published
    root-ca.pem / root-ca.key                 trust anchor
    issuing-ca.pem / issuing-ca.key           signs every end-entity certificate below
    tsa/tsa.pem|key                           the RFC 3161 time-stamping unit
    services/<name>/signing.pem|key           Sanad's own keys (e.g. the status list)
    departments/<CODE>/current                key id of the department's active key
    departments/<CODE>/<KEY-ID>/signing.pem   one generation: its certificate, and either
                                signing.key   the key in a file, or
                                pkcs11.json   where the key lives in a PKCS#11 token
    revocations.json                          what each CA has revoked (served as CRLs)

Every certificate names a CRL distribution point, an OCSP responder and a caIssuers URL
under the published base URL (``/pki`` of the development server), so validators can
fetch revocation data and signatures can embed it (PAdES B-LT).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ORGANISATION = "Government of Punjab (development PKI)"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/pki"
DEPARTMENT_CERT_YEARS = 3
TSA_CERT_YEARS = 5
CA_NAMES = ("root-ca", "issuing-ca")

PublicKey = ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class CertifiedKey:
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey


def key_id(certificate: x509.Certificate) -> str:
    """A short, stable identifier of a certificate: 16 hex digits of its SHA-256."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()[:16]


def _name(common_name: str, unit: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "IN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
    ]
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def base_url(keys_dir: Path) -> str:
    """Where this PKI's CRLs, CA certificates and TSA are published."""
    path = keys_dir / "pki.json"
    if path.exists():
        return str(json.loads(path.read_text("utf-8"))["base_url"])
    return DEFAULT_BASE_URL


def crl_url(keys_dir: Path, ca: str) -> str:
    return f"{base_url(keys_dir)}/crl/{ca}.crl"


def ca_certificate_url(keys_dir: Path, ca: str) -> str:
    return f"{base_url(keys_dir)}/ca/{ca}.cer"


def tsa_url(keys_dir: Path) -> str:
    return f"{base_url(keys_dir)}/tsa"


def ocsp_url(keys_dir: Path) -> str:
    """The OCSP responder (RFC 6960) of both CAs: it answers for whichever CA a request names."""
    return f"{base_url(keys_dir)}/ocsp"


def _issue(
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


def _self_signed(subject: x509.Name, key: ec.EllipticCurvePrivateKey, *, now: datetime, days: int) -> CertifiedKey:
    certificate = _issue(subject, key.public_key(), None, now=now, days=days, ca=True, signer_key=key)
    return CertifiedKey(certificate, key)


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def _write_certificate(path: Path, certificate: x509.Certificate) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _write(path: Path, pair: CertifiedKey) -> None:
    _write_private(path.with_suffix(".key"), pair.private_key)
    _write_certificate(path.with_suffix(".pem"), pair.certificate)


def load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_pair(path: Path) -> CertifiedKey:
    """Load ``<path>.pem`` and ``<path>.key`` (``path`` without suffix)."""
    certificate = load_certificate(path.with_suffix(".pem"))
    key = serialization.load_pem_private_key(path.with_suffix(".key").read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}.key is not an EC private key")
    return CertifiedKey(certificate, key)


# --- the CAs and the TSA ----------------------------------------------------------------


def init_pki(keys_dir: Path, *, now: datetime | None = None, base_url: str | None = None) -> bool:
    """Create the root and issuing CAs and the TSA unless they exist. True if created.

    ``base_url`` is where the PKI's services will be published (the development server's
    ``/pki``); it is written into every certificate issued from now on.
    """
    now = now or datetime.now(UTC)
    keys_dir.mkdir(parents=True, exist_ok=True)
    if not (keys_dir / "pki.json").exists():
        (keys_dir / "pki.json").write_text(json.dumps({"base_url": (base_url or DEFAULT_BASE_URL).rstrip("/")}))
    if (keys_dir / "root-ca.pem").exists():
        ensure_tsa_key(keys_dir, now=now)
        return False
    root = _self_signed(
        _name("Sanad Development Root CA"), ec.generate_private_key(ec.SECP384R1()), now=now, days=365 * 20
    )
    issuing_key = ec.generate_private_key(ec.SECP384R1())
    issuing_cert = _issue(
        _name("Sanad Development Issuing CA"),
        issuing_key.public_key(),
        root,
        now=now,
        days=365 * 10,
        ca=True,
        keys_dir=keys_dir,
        issuer_name="root-ca",
    )
    _write(keys_dir / "issuing-ca", CertifiedKey(issuing_cert, issuing_key))
    # The root goes last among the CAs: its presence marks a complete hierarchy.
    _write(keys_dir / "root-ca", root)
    ensure_tsa_key(keys_dir, now=now)
    return True


def issuing_ca(keys_dir: Path) -> CertifiedKey:
    return load_pair(keys_dir / "issuing-ca")


def _end_entity(
    keys_dir: Path, subject: x509.Name, public_key: PublicKey, *, now: datetime, days: int, time_stamping: bool = False
) -> x509.Certificate:
    return _issue(
        subject,
        public_key,
        issuing_ca(keys_dir),
        now=now,
        days=days,
        ca=False,
        keys_dir=keys_dir,
        issuer_name="issuing-ca",
        time_stamping=time_stamping,
    )


def tsa_path(keys_dir: Path) -> Path:
    return keys_dir / "tsa" / "tsa"


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
        _write_certificate(path.parent / f"{key_id(old)}.pem", old)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _end_entity(
        keys_dir,
        _name("Sanad Development Time-Stamping Authority", unit="TSA"),
        key.public_key(),
        now=now or datetime.now(UTC),
        days=days,
        time_stamping=True,
    )
    pair = CertifiedKey(certificate, key)
    _write(path, pair)
    return pair


def tsa_certificates(keys_dir: Path) -> list[x509.Certificate]:
    """The TSA's current certificate first, then its earlier ones."""
    directory = tsa_path(keys_dir).parent
    current = directory / "tsa.pem"
    if not current.exists():
        return []
    earlier = sorted(p for p in directory.glob("*.pem") if p.name != "tsa.pem")
    return [load_certificate(current), *(load_certificate(p) for p in earlier)]


def ensure_service_key(keys_dir: Path, name: str, *, now: datetime | None = None, years: int = 3) -> CertifiedKey:
    """Sanad's own signing key ``name`` (e.g. ``status`` for status-list snapshots)."""
    path = keys_dir / "services" / name / "signing"
    if not path.with_suffix(".pem").exists():
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = _end_entity(
            keys_dir,
            _name(f"Sanad {name} signer", unit="SANAD"),
            key.public_key(),
            now=now or datetime.now(UTC),
            days=365 * years,
        )
        _write(path, CertifiedKey(certificate, key))
    return load_pair(path)


# --- departments: generations of signing keys ------------------------------------------


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


def _department_dir(keys_dir: Path, code: str) -> Path:
    return keys_dir / "departments" / code


def _migrate_flat_layout(keys_dir: Path, code: str) -> None:
    """Keys made before generations existed sat at ``departments/<CODE>/signing.*``."""
    directory = _department_dir(keys_dir, code)
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
    directory = _department_dir(keys_dir, code)
    found = []
    for certificate_path in directory.glob("*/signing.pem"):
        certificate = load_certificate(certificate_path)
        found.append(Generation(code, certificate_path.parent.name, certificate, certificate_path.parent))
    return sorted(found, key=lambda g: (g.certificate.not_valid_before_utc, g.key_id))


def active_key_id(keys_dir: Path, code: str) -> str | None:
    """The key id of the department's active key: one small file read, cheap enough to
    check before every signature so a rotation takes effect without a restart."""
    try:
        return (_department_dir(keys_dir, code) / "current").read_text("utf-8").strip()
    except FileNotFoundError:
        return None


def current_generation(keys_dir: Path, code: str) -> Generation | None:
    """The department's active signing certificate (None if it has none)."""
    _migrate_flat_layout(keys_dir, code)
    marker = _department_dir(keys_dir, code) / "current"
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
    return _name(name, unit=code)


def certify_department_key(
    keys_dir: Path, code: str, name: str, public_key: PublicKey, *, now: datetime | None = None
) -> x509.Certificate:
    """Issue a department signing certificate for ``public_key`` (file or token key)."""
    return _end_entity(
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
    directory = _department_dir(keys_dir, code) / key_id(certificate)
    if private_key is not None:
        _write_private(directory / "signing.key", private_key)
    else:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "pkcs11.json").write_text(json.dumps(pkcs11, indent=2))
    _write_certificate(directory / "signing.pem", certificate)
    # The marker moves last: a crash before it leaves the old key active.
    marker = _department_dir(keys_dir, code) / "current"
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
        certificate.verify_directly_issued_by(load_certificate(keys_dir / "issuing-ca.pem"))
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


# --- revocation ------------------------------------------------------------------------


def revocations_path(keys_dir: Path) -> Path:
    return keys_dir / "revocations.json"


def load_revocations(keys_dir: Path) -> dict[str, list[dict[str, Any]]]:
    path = revocations_path(keys_dir)
    if not path.exists():
        return {ca: [] for ca in CA_NAMES}
    data: dict[str, list[dict[str, Any]]] = json.loads(path.read_text("utf-8"))
    for ca in CA_NAMES:
        data.setdefault(ca, [])
    return data


def revoke_certificate(
    keys_dir: Path, certificate: x509.Certificate, *, revoked_at: datetime, reason: str | None = None
) -> None:
    """Record that the issuing CA revoked ``certificate`` at ``revoked_at`` (its CRL shows
    it from the next fetch). Revoking twice keeps the first record."""
    data = load_revocations(keys_dir)
    serial = format(certificate.serial_number, "x")
    if any(entry["serial"] == serial for entry in data["issuing-ca"]):
        return
    data["issuing-ca"].append({"serial": serial, "revoked_at": revoked_at.isoformat(), "reason": reason})
    path = revocations_path(keys_dir)
    path.with_suffix(".tmp").write_text(json.dumps(data, indent=2))
    os.replace(path.with_suffix(".tmp"), path)


def revoked_serials(keys_dir: Path) -> Iterator[tuple[int, datetime]]:
    for entry in load_revocations(keys_dir)["issuing-ca"]:
        yield int(entry["serial"], 16), datetime.fromisoformat(entry["revoked_at"])


def trust_anchors_pem(keys_dir: Path) -> bytes:
    """The PEM bundle verifiers need: the root CA and the issuing CA."""
    return (keys_dir / "root-ca.pem").read_bytes() + (keys_dir / "issuing-ca.pem").read_bytes()
