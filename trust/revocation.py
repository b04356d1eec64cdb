"""Revocation data fetched from the distribution points (CRLs) and OCSP responders
(RFC 6960) named in certificates.

Signing at PAdES B-LT embeds this data in the document; the verifier checks signatures
against it. Each URL is fetched at most once per ``ttl`` seconds per process: a CRL is
valid for days, and a revocation should still show within a minute.

Long-term evidence needs more than a young cache entry: validators (EU DSS) count a CRL or
OCSP response towards B-LT only if it was produced after the signature's timestamp. A
caller that needs that passes ``fresh_after``: a cached answer is then reused only if its
``thisUpdate`` is later, else it is fetched again; concurrent callers share one fetch.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID

from sanad.errors import ServiceUnavailable

MAX_CRL_BYTES = 16 * 1024 * 1024
MAX_OCSP_BYTES = 64 * 1024
OCSP_REQUEST_TYPE = "application/ocsp-request"


class RevocationDataUnavailable(ServiceUnavailable):
    code = "revocation_data_unavailable"


def distribution_points(certificate: x509.Certificate) -> list[str]:
    """The http(s) CRL URLs a certificate names (none for a root)."""
    try:
        extension = certificate.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS)
    except x509.ExtensionNotFound:
        return []
    points: x509.CRLDistributionPoints = extension.value  # type: ignore[assignment]
    urls = []
    for point in points:
        for name in point.full_name or []:
            if isinstance(name, x509.UniformResourceIdentifier) and name.value.startswith(("http://", "https://")):
                urls.append(name.value)
    return urls


@dataclass
class _Entry:
    der: bytes
    fetched: float
    next_update: datetime | None
    this_update: datetime


def _usable(entry: _Entry | None, ttl: float, fresh_after: datetime | None) -> bool:
    """Whether a cached answer may be served: young enough and not past its nextUpdate, or,
    when the caller needs data produced after a moment, produced after it."""
    if entry is None or _stale(entry):
        return False
    if fresh_after is not None:
        return entry.this_update > fresh_after
    return time.monotonic() - entry.fetched < ttl


class _KeyedLocks:
    """One lock per cache key, so that callers wanting the same answer fetch it once."""

    def __init__(self) -> None:
        self._locks: dict[object, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, key: object) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class CrlSource(Protocol):
    def crls_for(self, certificates: Iterable[x509.Certificate], *, fresh_after: datetime | None = None) -> list[bytes]:
        """DER CRLs covering ``certificates`` (those that name a distribution point)."""
        ...


@dataclass(frozen=True)
class StaticCrls:
    """CRLs fetched earlier and kept (an offline verifier's trust bundle)."""

    ders: tuple[bytes, ...]

    def crls_for(self, certificates: Iterable[x509.Certificate], *, fresh_after: datetime | None = None) -> list[bytes]:
        return list(self.ders)


class CrlFetcher:
    """Fetches and caches CRLs by URL. Thread-safe."""

    def __init__(self, *, ttl: float = 60.0, timeout: float = 5.0) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._fetching = _KeyedLocks()

    def crls_for(self, certificates: Iterable[x509.Certificate], *, fresh_after: datetime | None = None) -> list[bytes]:
        """DER CRLs covering every certificate that names a distribution point. With
        ``fresh_after``, a cached CRL issued at or before it is fetched again (the CA may
        still serve the same one: the caller checks)."""
        urls = sorted({url for certificate in certificates for url in distribution_points(certificate)})
        return [self.fetch(url, fresh_after=fresh_after) for url in urls]

    def fetch(self, url: str, *, fresh_after: datetime | None = None) -> bytes:
        with self._lock:
            entry = self._cache.get(url)
        if _usable(entry, self.ttl, fresh_after):
            assert entry is not None
            return entry.der
        with self._fetching(url):
            with self._lock:
                entry = self._cache.get(url)
            if _usable(entry, self.ttl, fresh_after):  # another caller fetched it meanwhile
                assert entry is not None
                return entry.der
            now = time.monotonic()
            der, next_update, this_update = self._download(url)
            with self._lock:
                self._cache[url] = _Entry(der, now, next_update, this_update)
        return der

    def _download(self, url: str) -> tuple[bytes, datetime | None, datetime]:
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310 (http(s) only)
                der: bytes = response.read(MAX_CRL_BYTES + 1)
        except (urllib.error.URLError, OSError) as e:
            raise RevocationDataUnavailable(f"revocation list {url} could not be fetched ({e})") from e
        if len(der) > MAX_CRL_BYTES:
            raise RevocationDataUnavailable(f"revocation list {url} is larger than {MAX_CRL_BYTES} bytes")
        try:
            crl = x509.load_der_x509_crl(der)
        except ValueError as e:
            raise RevocationDataUnavailable(f"revocation list {url} is not a DER CRL") from e
        return der, crl.next_update_utc, crl.last_update_utc


def _stale(entry: _Entry) -> bool:
    """A cached CRL past its next update is never reused, however young the cache entry."""
    return entry.next_update is not None and datetime.now(UTC) >= entry.next_update


# --- OCSP --------------------------------------------------------------------------------


def ocsp_urls(certificate: x509.Certificate) -> list[str]:
    """The http(s) OCSP responder URLs a certificate names (authority information access)."""
    try:
        extension = certificate.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    except x509.ExtensionNotFound:
        return []
    access: x509.AuthorityInformationAccess = extension.value  # type: ignore[assignment]
    return [
        description.access_location.value
        for description in access
        if description.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(description.access_location, x509.UniformResourceIdentifier)
        and description.access_location.value.startswith(("http://", "https://"))
    ]


class OcspSource(Protocol):
    def responses_for(
        self,
        certificates: list[x509.Certificate],
        issuers: list[x509.Certificate],
        *,
        fresh_after: datetime | None = None,
    ) -> list[bytes]:
        """DER OCSPResponses for those of ``certificates`` that name an OCSP responder and
        whose issuer is among ``issuers`` (or ``certificates``)."""
        ...


def issuer_of(certificate: x509.Certificate, candidates: Iterable[x509.Certificate]) -> x509.Certificate | None:
    for candidate in candidates:
        if candidate.subject != certificate.issuer or candidate == certificate:
            continue
        try:
            certificate.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    return None


def _fingerprint(certificate: x509.Certificate) -> bytes:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()


class OcspFetcher:
    """Asks the OCSP responders that certificates name, and caches each answer per
    (issuer, serial) for ``ttl`` seconds and never past its nextUpdate. Thread-safe.

    Requests carry a fresh nonce, which a response must echo if it carries one. The
    response's signature is for the validator (pyHanko) to check.
    """

    def __init__(self, *, ttl: float = 60.0, timeout: float = 5.0) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self._cache: dict[tuple[bytes, int], _Entry] = {}
        self._lock = threading.Lock()
        self._fetching = _KeyedLocks()

    def responses_for(
        self,
        certificates: list[x509.Certificate],
        issuers: list[x509.Certificate],
        *,
        fresh_after: datetime | None = None,
    ) -> list[bytes]:
        """DER OCSPResponses for every certificate that names an OCSP responder. One whose
        issuer is not among ``issuers`` (or ``certificates``) is skipped: without the
        issuer's key there is no request to make. With ``fresh_after``, a cached answer
        produced at or before it is asked for again. Raises RevocationDataUnavailable."""
        found: list[bytes] = []
        seen: set[tuple[bytes, int]] = set()
        for certificate in certificates:
            urls = ocsp_urls(certificate)
            issuer = issuer_of(certificate, [*issuers, *certificates]) if urls else None
            if issuer is None:
                continue
            key = (_fingerprint(issuer), certificate.serial_number)
            if key not in seen:
                seen.add(key)
                found.append(self.fetch(certificate, issuer, urls[0], fresh_after=fresh_after))
        return found

    def fetch(
        self, certificate: x509.Certificate, issuer: x509.Certificate, url: str, *, fresh_after: datetime | None = None
    ) -> bytes:
        """The DER OCSPResponse for ``certificate`` from the responder at ``url``."""
        key = (_fingerprint(issuer), certificate.serial_number)
        with self._lock:
            entry = self._cache.get(key)
        if _usable(entry, self.ttl, fresh_after):
            assert entry is not None
            return entry.der
        with self._fetching(key):
            with self._lock:
                entry = self._cache.get(key)
            if _usable(entry, self.ttl, fresh_after):  # another caller asked meanwhile
                assert entry is not None
                return entry.der
            now = time.monotonic()
            der, next_update, this_update = self._ask(certificate, issuer, url)
            with self._lock:
                self._cache[key] = _Entry(der, now, next_update, this_update)
        return der

    def _ask(
        self, certificate: x509.Certificate, issuer: x509.Certificate, url: str
    ) -> tuple[bytes, datetime | None, datetime]:
        nonce = os.urandom(16)
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(certificate, issuer, hashes.SHA1())  # noqa: S303 (RFC 5019 CertIDs use SHA-1)
            .add_extension(x509.OCSPNonce(nonce), critical=False)
            .build()
        )
        http_request = urllib.request.Request(  # noqa: S310 (http(s) only)
            url,
            data=request.public_bytes(serialization.Encoding.DER),
            headers={"Content-Type": OCSP_REQUEST_TYPE},
            method="POST",
        )
        what = f"OCSP responder {url} (serial {certificate.serial_number:x})"
        try:
            with urllib.request.urlopen(http_request, timeout=self.timeout) as response:  # noqa: S310
                der: bytes = response.read(MAX_OCSP_BYTES + 1)
        except (urllib.error.URLError, OSError) as e:
            raise RevocationDataUnavailable(f"{what} could not be asked ({e})") from e
        if len(der) > MAX_OCSP_BYTES:
            raise RevocationDataUnavailable(f"{what} answered more than {MAX_OCSP_BYTES} bytes")
        try:
            answer = ocsp.load_der_ocsp_response(der)
        except ValueError as e:
            raise RevocationDataUnavailable(f"{what} did not answer a DER OCSPResponse") from e
        if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise RevocationDataUnavailable(f"{what} answered {answer.response_status.name}")
        if answer.serial_number != certificate.serial_number:
            raise RevocationDataUnavailable(f"{what} answered for another certificate")
        try:
            echoed = answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            echoed = nonce  # responders may ignore nonces (RFC 8954)
        if echoed != nonce:
            raise RevocationDataUnavailable(f"{what} answered with another request's nonce")
        return der, answer.next_update_utc, answer.this_update_utc


# --- reading an answer before embedding it ------------------------------------------------


@dataclass(frozen=True)
class RevocationAnswer:
    """What a CRL or OCSP response says about one certificate, once its signature checked out."""

    revoked: bool
    this_update: datetime
    source: str
    """``ocsp`` or ``crl``."""


class RevocationAnswerInvalid(ValueError):
    """A CRL or OCSP response that does not answer for the certificate, or is not signed by
    its issuer (or the issuer's delegated OCSP responder)."""


def _verify_signed_by(key: object, signature: bytes, data: bytes, algorithm: hashes.HashAlgorithm | None) -> bool:
    try:
        if isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _ocsp_signer(answer: ocsp.OCSPResponse, issuer: x509.Certificate) -> x509.Certificate | None:
    """The issuer itself, or a delegated responder certificate it issued for OCSP signing."""
    # RFC 6960 names a responder by the SHA-1 hash of its key.
    issuer_key_hash = hashlib.sha1(_subject_public_key_bits(issuer)).digest()  # noqa: S324
    if answer.responder_key_hash == issuer_key_hash or answer.responder_name == issuer.subject:
        return issuer
    for delegate in answer.certificates:
        try:
            delegate.verify_directly_issued_by(issuer)
            usage = delegate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        if x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING in usage:
            return delegate
    return None


def _subject_public_key_bits(certificate: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING's contents (what RFC 6960's key hash covers)."""
    parsed = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    return bytes(parsed.public_key["public_key"])


def read_ocsp_answer(der: bytes, certificate: x509.Certificate, issuer: x509.Certificate) -> RevocationAnswer:
    """The status an OCSP response gives ``certificate``, checked: successful, about this
    certificate of this issuer, signed by the issuer or its delegated responder."""
    try:
        answer = ocsp.load_der_ocsp_response(der)
    except ValueError as e:
        raise RevocationAnswerInvalid(f"not a DER OCSP response ({e})") from e
    if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise RevocationAnswerInvalid(f"the OCSP response is {answer.response_status.name}")
    signer = _ocsp_signer(answer, issuer)
    if signer is None or not _verify_signed_by(
        signer.public_key(), answer.signature, answer.tbs_response_bytes, answer.signature_hash_algorithm
    ):
        raise RevocationAnswerInvalid("the OCSP response is not signed by the certificate's issuer")
    for single in answer.responses:
        if single.serial_number != certificate.serial_number:
            continue
        algorithm = single.hash_algorithm
        if single.issuer_key_hash != _digest(algorithm, _subject_public_key_bits(issuer)):
            continue
        if single.certificate_status == ocsp.OCSPCertStatus.UNKNOWN:
            raise RevocationAnswerInvalid("the OCSP responder does not know the certificate")
        return RevocationAnswer(
            revoked=single.certificate_status == ocsp.OCSPCertStatus.REVOKED,
            this_update=single.this_update_utc,
            source="ocsp",
        )
    raise RevocationAnswerInvalid("the OCSP response is about another certificate")


def read_crl_answer(der: bytes, certificate: x509.Certificate, issuer: x509.Certificate) -> RevocationAnswer:
    """Whether a CRL of ``issuer`` lists ``certificate``, checked: issued and signed by it."""
    try:
        crl = x509.load_der_x509_crl(der)
    except ValueError as e:
        raise RevocationAnswerInvalid(f"not a DER CRL ({e})") from e
    if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
        raise RevocationAnswerInvalid("the CRL is not signed by the certificate's issuer")
    revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None
    return RevocationAnswer(revoked=revoked, this_update=crl.last_update_utc, source="crl")


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()
