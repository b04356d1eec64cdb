"""Checks of uploaded PDFs kept by the file's SHA-256, so the same certificate uploaded
again (every bank checks the same few) is not parsed and validated again.

What may change between two uploads of the same bytes is never kept:

- **The document's status** (revoked, superseded, expired) is the registry's, asked on
  every upload after the signature check (``verifier.service``): a revocation shows at once.
- **The certificates' revocation.** A kept check remembers the certificates its
  signatures carry and a digest of the current CRLs and OCSP answers for them; it is
  reused only while the revocation sources give the same bytes. When they change (a
  department key revoked, a new CRL issued) or cannot be had, the file is checked again.
  The sources cache what they fetch for a minute, so a key's revocation reaches any
  check only that late; the digest is compared at most every ``RECONFIRM_SECONDS``
  (finding each certificate's issuer for OCSP costs ~20 ms of signature checks), which
  adds that much to the minute.
- **Time.** An entry lives ``ttl_seconds`` at most (a certificate may expire meanwhile),
  and a check at another moment than now is never kept or reused.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography import x509

from trust.revocation import RevocationDataUnavailable
from verifier.pdf import TrustAnchors
from verifier.verdict import SignatureCheck

#: How many checks one process keeps (each is a few KB).
MAX_ENTRIES = 2048
#: The longest a kept check is reused, whatever its revocation data says.
TTL_SECONDS = 300.0
#: How long a comparison of the revocation data holds before it is made again.
RECONFIRM_SECONDS = 2.0


@dataclass(frozen=True)
class _Kept:
    trust: TrustAnchors
    check: SignatureCheck
    certificates: tuple[x509.Certificate, ...]
    revocation: bytes
    kept_at: float
    confirmed_at: float


def revocation_digest(trust: TrustAnchors, certificates: tuple[x509.Certificate, ...]) -> bytes:
    """A digest of the current CRLs and OCSP answers for ``certificates`` and the trust's
    intermediates: the same sources the signature check asks (their own caches make this
    cheap). Raises ``RevocationDataUnavailable`` when a source cannot answer."""
    digest = hashlib.sha256()
    intermediates = tuple(x509.load_der_x509_certificate(c.dump()) for c in trust.intermediates)
    asked = [*certificates, *intermediates]
    if trust.crls is not None:
        for der in sorted(trust.crls.crls_for(asked)):
            digest.update(hashlib.sha256(der).digest())
    digest.update(b"|")
    if trust.ocsp is not None:
        anchors = [x509.load_der_x509_certificate(c.dump()) for c in trust.roots]
        for der in sorted(trust.ocsp.responses_for(asked, anchors)):
            digest.update(hashlib.sha256(der).digest())
    return digest.digest()


class SignatureCheckCache:
    """Thread-safe; one per process. Least recently used entries go first."""

    def __init__(
        self,
        *,
        max_entries: int = MAX_ENTRIES,
        ttl_seconds: float = TTL_SECONDS,
        reconfirm_seconds: float = RECONFIRM_SECONDS,
    ) -> None:
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self.reconfirm_seconds = reconfirm_seconds
        self._entries: OrderedDict[bytes, _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def check(
        self,
        pdf: bytes,
        trust: TrustAnchors,
        run_check: Callable[[], SignatureCheck],
        *,
        moment: datetime | None = None,
    ) -> SignatureCheck:
        """The kept check of these bytes if it still holds, else ``run_check()`` (kept
        for next time). The answer is shared: callers must not change it."""
        if moment is not None:
            return run_check()
        key = hashlib.sha256(pdf).digest()
        kept = self._usable(key, trust)
        if kept is not None:
            return kept
        check = run_check()
        self._keep(key, trust, check)
        return check

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _usable(self, key: bytes, trust: TrustAnchors) -> SignatureCheck | None:
        with self._lock:
            kept = self._entries.get(key)
            if kept is None:
                return None
            now = time.monotonic()
            if kept.trust is not trust or now - kept.kept_at > self.ttl_seconds:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            if now - kept.confirmed_at < self.reconfirm_seconds:
                return kept.check
        try:
            current = revocation_digest(trust, kept.certificates)
        except RevocationDataUnavailable:
            return None
        if current != kept.revocation:
            return None
        with self._lock:
            if self._entries.get(key) is kept:
                self._entries[key] = replace(kept, confirmed_at=time.monotonic())
        return kept.check

    def _keep(self, key: bytes, trust: TrustAnchors, check: SignatureCheck) -> None:
        try:
            certificates = tuple(x509.load_der_x509_certificate(der) for der in check.certificates)
            revocation = revocation_digest(trust, certificates)
        except (RevocationDataUnavailable, ValueError):
            return  # nothing to compare against next time: not kept
        now = time.monotonic()
        kept = _Kept(trust, check, certificates, revocation, now, now)
        with self._lock:
            self._entries[key] = kept
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


#: This process's kept checks.
SIGNATURE_CHECKS = SignatureCheckCache()
