"""What verifiers need to trust Sanad offline: the trust list, the JWKS and the status list.

Everything is read from the keys directory (and the registry, for the status list) and
cached in-process for a minute by :class:`TrustPublisher`, so a burst of verify pages
costs one read. Department keys are listed with every generation: after a rotation the
old key is "retired", still trusted for what it sealed inside its validity window;
a key the issuing CA revoked is "revoked" from ``revoked_at``.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sanad.jws import ALG, jwk_coordinates
from trust.ca import trust_anchors_pem
from trust.departments import all_departments, current_generation, department_generations
from trust.keys import CertifiedKey, key_id, load_certificate
from trust.revoked import load_revocations, revoked_serials
from trust.service_keys import ensure_service_key
from trust.tsa_keys import tsa_certificates
from verifier.status_list import Snapshot, build_snapshot

STATUS_SERVICE = "status"
JWKS_MEDIA_TYPE = "application/jwk-set+json"
CACHE_SECONDS = 60.0

#: (highest index handed out, [(index, stored status) of non-issued documents])
StatusEntries = tuple[int, list[tuple[int, str]]]


def iso(moment: datetime) -> str:
    """UTC, second precision, ``Z``: what every date in these documents looks like."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class TrustKey:
    """One certificate verifiers may meet, with what it is for and whether it is in force."""

    key_id: str
    kind: str
    """root-ca, issuing-ca, tsa, department or status."""
    department: str | None
    certificate: x509.Certificate
    status: str
    """active, retired, expired or revoked."""
    revoked_at: datetime | None

    def listing(self) -> dict[str, Any]:
        certificate = self.certificate
        return {
            "key_id": self.key_id,
            "kind": self.kind,
            "department": self.department,
            "subject": certificate.subject.rfc4514_string(),
            "serial": format(certificate.serial_number, "x"),
            "not_before": iso(certificate.not_valid_before_utc),
            "not_after": iso(certificate.not_valid_after_utc),
            "status": self.status,
            "revoked_at": iso(self.revoked_at) if self.revoked_at else None,
            "sha256": hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest(),
        }

    def jwk(self, chain: list[x509.Certificate]) -> dict[str, Any] | None:
        """The key as a JWK (None unless it is P-256, the only curve ES256 allows)."""
        public_key = self.certificate.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP256R1):
            return None
        x5c = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain]
        return {
            **jwk_coordinates(public_key),
            "kid": self.key_id,
            "use": "sig",
            "alg": ALG,
            "x5c": x5c,
            "sanad": {
                "department": self.department,
                "purpose": "seal" if self.kind == "department" else "status",
                "not_before": iso(self.certificate.not_valid_before_utc),
                "not_after": iso(self.certificate.not_valid_after_utc),
                "status": self.status,
            },
        }


def _status(certificate: x509.Certificate, *, current: bool, revoked_at: datetime | None, now: datetime) -> str:
    if revoked_at is not None and revoked_at <= now:
        return "revoked"
    if now > certificate.not_valid_after_utc:
        return "expired"
    return "active" if current else "retired"


def status_key_path(keys_dir: Path) -> Path:
    return keys_dir / "services" / STATUS_SERVICE / "signing.pem"


def trust_keys(keys_dir: Path, now: datetime) -> list[TrustKey]:
    """Every certificate of the PKI a verifier may need, anchors first."""
    revoked = dict(revoked_serials(keys_dir))
    revoked_by_root = {
        int(entry["serial"], 16): datetime.fromisoformat(entry["revoked_at"])
        for entry in load_revocations(keys_dir)["root-ca"]
    }

    def entry(
        certificate: x509.Certificate, kind: str, department: str | None = None, current: bool = True
    ) -> TrustKey:
        by = revoked_by_root if kind == "issuing-ca" else revoked
        revoked_at = None if kind == "root-ca" else by.get(certificate.serial_number)
        status = _status(certificate, current=current, revoked_at=revoked_at, now=now)
        return TrustKey(key_id(certificate), kind, department, certificate, status, revoked_at)

    keys = [
        entry(load_certificate(keys_dir / "root-ca.pem"), "root-ca"),
        entry(load_certificate(keys_dir / "issuing-ca.pem"), "issuing-ca"),
    ]
    keys += [entry(c, "tsa", current=i == 0) for i, c in enumerate(tsa_certificates(keys_dir))]
    for code in all_departments(keys_dir):
        active = current_generation(keys_dir, code)
        for generation in department_generations(keys_dir, code):
            is_current = active is not None and generation.key_id == active.key_id
            keys.append(entry(generation.certificate, "department", code, current=is_current))
    if status_key_path(keys_dir).exists():
        keys.append(entry(load_certificate(status_key_path(keys_dir)), "status"))
    return keys


def trust_list(keys_dir: Path, now: datetime) -> dict[str, Any]:
    """``GET /api/v1/trust`` as JSON: the anchors (PEM) and every key with its status."""
    anchors = [
        load_certificate(keys_dir / name).public_bytes(serialization.Encoding.PEM).decode("ascii")
        for name in ("root-ca.pem", "issuing-ca.pem")
    ]
    return {
        "issued_at": iso(now),
        "anchors": anchors,
        "keys": [key.listing() for key in trust_keys(keys_dir, now)],
    }


def jwks(keys_dir: Path, now: datetime) -> dict[str, Any]:
    """``GET /api/v1/trust/jwks``: every department key generation and the status key.
    ``x5c`` is the key's certificate then the issuing CA's, which chains to the anchors."""
    issuing = load_certificate(keys_dir / "issuing-ca.pem")
    keys = []
    for key in trust_keys(keys_dir, now):
        if key.kind in ("department", "status"):
            jwk = key.jwk([key.certificate, issuing])
            if jwk is not None:
                keys.append(jwk)
    return {"keys": keys}


# --- publishing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cached:
    built: float
    stamp: object
    value: Any


def keys_stamp(keys_dir: Path) -> tuple[tuple[str, int, int, int], ...]:
    """What changes when a key is added, rotated or revoked: the files and directories
    that record it (a stat each, no certificate parsing)."""
    paths = [
        keys_dir / "root-ca.pem",
        keys_dir / "issuing-ca.pem",
        keys_dir / "revocations.json",
        keys_dir / "tsa",
        status_key_path(keys_dir),
        keys_dir / "departments",
    ]
    departments = keys_dir / "departments"
    if departments.is_dir():
        for directory in sorted(departments.iterdir()):
            paths += [directory, directory / "current"]
    stamps = []
    for path in paths:
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        stamps.append((str(path), st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(stamps)


class TrustPublisher:
    """Builds, signs and caches (for ``cache_seconds``) what the trust routes serve. The
    key listings are rebuilt at once when the keys directory records a change (a new
    department, a rotation, a revocation); the status list at most every ``cache_seconds``.
    Build once per process; thread-safe."""

    def __init__(
        self,
        keys_dir: Path,
        public_base_url: str,
        *,
        status_list_ttl: timedelta,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.keys_dir = keys_dir
        self.public_base_url = public_base_url
        self.status_list_ttl = status_list_ttl
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()
        self._key_lock = threading.Lock()
        self._status_key: CertifiedKey | None = None

    def invalidate(self) -> None:
        """Forget everything built (after a revocation or a key rotation in this process)."""
        with self._lock:
            self._cache.clear()

    def _cached(self, name: str, build: Callable[[], Any], stamp: Callable[[], object] = lambda: None) -> Any:
        """``build()``'s value, reused for ``cache_seconds`` while ``stamp()`` stays equal."""
        with self._lock:
            hit = self._cache.get(name)
            current = stamp()
            if hit is not None and hit.stamp == current and time.monotonic() - hit.built < self.cache_seconds:
                return hit.value
            value = build()
            self._cache[name] = _Cached(time.monotonic(), current, value)
            return value

    def _keys_stamp(self) -> object:
        return keys_stamp(self.keys_dir)

    def status_key(self) -> CertifiedKey:
        """The status-list signing key, created by the PKI on first use."""
        with self._key_lock:
            if self._status_key is None:
                self._status_key = ensure_service_key(self.keys_dir, STATUS_SERVICE)
            return self._status_key

    def trust_pem(self) -> bytes:
        value: bytes = self._cached("pem", lambda: trust_anchors_pem(self.keys_dir), self._keys_stamp)
        return value

    def trust_list(self) -> dict[str, Any]:
        self.status_key()  # so that the list names it
        value: dict[str, Any] = self._cached("trust", lambda: trust_list(self.keys_dir, self.clock()), self._keys_stamp)
        return value

    def jwks(self) -> dict[str, Any]:
        self.status_key()
        value: dict[str, Any] = self._cached("jwks", lambda: jwks(self.keys_dir, self.clock()), self._keys_stamp)
        return value

    def status_list(self, entries: Callable[[], StatusEntries]) -> Snapshot:
        """The current signed snapshot; ``entries`` is asked only when it is rebuilt."""

        def build() -> Snapshot:
            key = self.status_key()
            highest, rows = entries()
            return build_snapshot(
                highest_index=highest,
                entries=rows,
                public_base_url=self.public_base_url,
                key_id=key_id(key.certificate),
                private_key=key.private_key,
                now=self.clock(),
                ttl=self.status_list_ttl,
            )

        value: Snapshot = self._cached("status-list", build)
        return value
