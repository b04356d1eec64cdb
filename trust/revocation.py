"""Revocation data fetched from the distribution points (CRLs) and OCSP responders
(RFC 6960) named in certificates.

Signing at PAdES B-LT embeds these CRLs in the document; the verifier checks signatures
against them. Each URL is fetched at most once per ``ttl`` seconds per process: a CRL is
valid for days, and a revocation should still show within a minute.
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

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
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


class CrlSource(Protocol):
    def crls_for(self, certificates: Iterable[x509.Certificate]) -> list[bytes]:
        """DER CRLs covering ``certificates`` (those that name a distribution point)."""
        ...


@dataclass(frozen=True)
class StaticCrls:
    """CRLs fetched earlier and kept (an offline verifier's trust bundle)."""

    ders: tuple[bytes, ...]

    def crls_for(self, certificates: Iterable[x509.Certificate]) -> list[bytes]:
        return list(self.ders)


class CrlFetcher:
    """Fetches and caches CRLs by URL. Thread-safe."""

    def __init__(self, *, ttl: float = 60.0, timeout: float = 5.0) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def crls_for(self, certificates: Iterable[x509.Certificate]) -> list[bytes]:
        """DER CRLs covering every certificate that names a distribution point."""
        urls = sorted({url for certificate in certificates for url in distribution_points(certificate)})
        return [self.fetch(url) for url in urls]

    def fetch(self, url: str) -> bytes:
        now = time.monotonic()
        with self._lock:
            entry = self._cache.get(url)
        if entry is not None and now - entry.fetched < self.ttl and not _stale(entry):
            return entry.der
        der, next_update = self._download(url)
        with self._lock:
            self._cache[url] = _Entry(der, now, next_update)
        return der

    def _download(self, url: str) -> tuple[bytes, datetime | None]:
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
        return der, crl.next_update_utc


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
    def responses_for(self, certificates: list[x509.Certificate], issuers: list[x509.Certificate]) -> list[bytes]:
        """DER OCSPResponses for those of ``certificates`` that name an OCSP responder and
        whose issuer is among ``issuers`` (or ``certificates``)."""
        ...


def _issuer_of(certificate: x509.Certificate, candidates: Iterable[x509.Certificate]) -> x509.Certificate | None:
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

    def responses_for(self, certificates: list[x509.Certificate], issuers: list[x509.Certificate]) -> list[bytes]:
        """DER OCSPResponses for every certificate that names an OCSP responder. One whose
        issuer is not among ``issuers`` (or ``certificates``) is skipped: without the
        issuer's key there is no request to make. Raises RevocationDataUnavailable."""
        found: list[bytes] = []
        seen: set[tuple[bytes, int]] = set()
        for certificate in certificates:
            urls = ocsp_urls(certificate)
            issuer = _issuer_of(certificate, [*issuers, *certificates]) if urls else None
            if issuer is None:
                continue
            key = (_fingerprint(issuer), certificate.serial_number)
            if key not in seen:
                seen.add(key)
                found.append(self.fetch(certificate, issuer, urls[0]))
        return found

    def fetch(self, certificate: x509.Certificate, issuer: x509.Certificate, url: str) -> bytes:
        """The DER OCSPResponse for ``certificate`` from the responder at ``url``."""
        key = (_fingerprint(issuer), certificate.serial_number)
        now = time.monotonic()
        with self._lock:
            entry = self._cache.get(key)
        if entry is not None and now - entry.fetched < self.ttl and not _stale(entry):
            return entry.der
        der, next_update = self._ask(certificate, issuer, url)
        with self._lock:
            self._cache[key] = _Entry(der, now, next_update)
        return der

    def _ask(self, certificate: x509.Certificate, issuer: x509.Certificate, url: str) -> tuple[bytes, datetime | None]:
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
        return der, answer.next_update_utc
