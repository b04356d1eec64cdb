"""The trust bundle offline verification uses: a directory fetched once (``sanad trust
fetch``) and then read without any network::

    trust.pem         the trust anchors (root and issuing CA), PEM
    trust.json        the trust list: every key, its kind and status, revocation dates
    jwks.json         the seal and status-list keys (JWKS), each with its x5c chain
    status-list.jwt   the signed status-list snapshot
    crls/*.crl        the CAs' revocation lists, from the certificates' distribution points
    fetched_at        when it was fetched (ISO 8601, UTC)

Nothing in the bundle is taken on its word: a JWKS key counts only if its x5c
certificate chains to ``trust.pem`` and carries the same public key.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from sanad.jws import JwsError, jwk_coordinates, public_key_from_jwk
from trust.keys import key_id
from trust.revocation import StaticCrls
from verifier.pdf import TrustAnchors
from verifier.trust import iso

TRUST_PEM = "trust.pem"
TRUST_JSON = "trust.json"
JWKS_JSON = "jwks.json"
STATUS_LIST = "status-list.jwt"
FETCHED_AT = "fetched_at"
CRL_DIR = "crls"


class TrustBundleError(Exception):
    """The bundle is missing, unreadable, or failed its checks (fetch it again)."""


@dataclass(frozen=True)
class TrustBundle:
    trust_pem: bytes
    trust_list: dict[str, Any]
    jwks: dict[str, Any]
    status_list: str | None
    fetched_at: datetime
    crls: tuple[bytes, ...] = ()
    """DER CRLs: the newest timestamp in a PDF is checked now, which needs revocation
    data newer than what the PDF embeds (a CRL is valid for days)."""

    @classmethod
    def load(cls, directory: Path) -> TrustBundle:
        try:
            status_path = directory / STATUS_LIST
            return cls(
                trust_pem=(directory / TRUST_PEM).read_bytes(),
                trust_list=json.loads((directory / TRUST_JSON).read_text("utf-8")),
                jwks=json.loads((directory / JWKS_JSON).read_text("utf-8")),
                status_list=status_path.read_text("ascii").strip() if status_path.exists() else None,
                fetched_at=datetime.fromisoformat((directory / FETCHED_AT).read_text("ascii").strip()),
                crls=tuple(path.read_bytes() for path in sorted((directory / CRL_DIR).glob("*.crl"))),
            )
        except (OSError, ValueError) as e:
            raise TrustBundleError(f"no usable trust bundle in {directory} ({e}); run 'sanad trust fetch'") from e

    def save(self, directory: Path) -> None:
        """Write every file beside its final name, then move it in; ``fetched_at`` last."""
        directory.mkdir(parents=True, exist_ok=True)
        files = {
            TRUST_PEM: self.trust_pem,
            TRUST_JSON: json.dumps(self.trust_list, indent=2, ensure_ascii=False).encode("utf-8"),
            JWKS_JSON: json.dumps(self.jwks, indent=2).encode("utf-8"),
        }
        if self.status_list is not None:
            files[STATUS_LIST] = self.status_list.encode("ascii")
        (directory / CRL_DIR).mkdir(exist_ok=True)
        for stale in (directory / CRL_DIR).glob("*.crl"):
            stale.unlink()
        for n, der in enumerate(self.crls):
            files[f"{CRL_DIR}/{n}.crl"] = der
        files[FETCHED_AT] = iso(self.fetched_at).encode("ascii")
        for name, content in files.items():
            temporary = directory / f"{name}.tmp"
            temporary.write_bytes(content)
            os.replace(temporary, directory / name)

    def anchors(self) -> TrustAnchors:
        return TrustAnchors.from_pem(self.trust_pem, StaticCrls(self.crls))

    def crls_current_until(self) -> datetime | None:
        """When the first of the bundle's CRLs expires (None: it has none)."""
        updates = [x509.load_der_x509_crl(der).next_update_utc for der in self.crls]
        known = [u for u in updates if u is not None]
        return min(known) if known else None

    def trusted_jwks(self, only: Collection[str | None] | None = None) -> dict[str, Any]:
        """The JWKS keys whose certificate chains to the anchors and matches the key;
        their validity comes from the certificate, not from the JSON beside it.

        ``only``: just the keys with these ids. One check needs two keys (the seal's and
        the status list's), and each chain is a P-384 signature to verify (~1 ms): with
        every department's every key generation listed, checking all of them would cost
        the offline command far more than the check itself."""
        certificates = x509.load_pem_x509_certificates(self.trust_pem)
        roots = [c for c in certificates if c.issuer == c.subject]
        cas = [c for c in certificates if c.issuer != c.subject and _issued_by_any(c, roots)] + roots
        keys = []
        for jwk in self.jwks.get("keys", []):
            if only is not None and (not isinstance(jwk, dict) or jwk.get("kid") not in only):
                continue
            checked = _checked_jwk(jwk, cas)
            if checked is not None:
                keys.append(checked)
        return {"keys": keys}

    def revocations(self) -> dict[str, datetime]:
        """Key id → when it was revoked, from the trust list."""
        found = {}
        for key in self.trust_list.get("keys", []):
            revoked_at = key.get("revoked_at") if isinstance(key, Mapping) else None
            if isinstance(revoked_at, str):
                try:
                    found[str(key["key_id"])] = datetime.fromisoformat(revoked_at)
                except ValueError:
                    continue
        return found


def _issued_by_any(certificate: x509.Certificate, issuers: list[x509.Certificate]) -> bool:
    for issuer in issuers:
        try:
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False


def _checked_jwk(jwk: Any, cas: list[x509.Certificate]) -> dict[str, Any] | None:
    if not isinstance(jwk, dict) or not isinstance(jwk.get("x5c"), list) or not jwk["x5c"]:
        return None
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][0], validate=True))
        public_key = public_key_from_jwk(jwk)
    except (ValueError, JwsError):
        return None
    certified = certificate.public_key()
    if (
        not isinstance(certified, ec.EllipticCurvePublicKey)
        or jwk_coordinates(certified) != jwk_coordinates(public_key)
        or jwk.get("kid") != key_id(certificate)
        or not _issued_by_any(certificate, cas)
    ):
        return None
    meta = dict(jwk.get("sanad") or {})
    meta["not_before"] = iso(certificate.not_valid_before_utc)
    meta["not_after"] = iso(certificate.not_valid_after_utc)
    return {**jwk, "sanad": meta}
