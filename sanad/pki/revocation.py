"""Revocation data (CRLs) fetched from the distribution points named in certificates.

Signing at PAdES B-LT embeds these CRLs in the document; the verifier checks signatures
against them. Each URL is fetched at most once per ``ttl`` seconds per process: a CRL is
valid for days, and a revocation should still show within a minute.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from sanad.errors import ServiceUnavailable

MAX_CRL_BYTES = 16 * 1024 * 1024


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
