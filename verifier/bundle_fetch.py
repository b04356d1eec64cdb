"""Fetching the trust bundle from a Sanad over HTTP(S), checked before it is kept: its
keys chain to its anchors and its status list verifies."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from cryptography import x509

from trust.revocation import distribution_points
from verifier.bundle import TrustBundle, TrustBundleError
from verifier.status_list import MEDIA_TYPE, PATH, StatusListInvalid, verify_snapshot
from verifier.trust import JWKS_MEDIA_TYPE

#: GET ``url`` with an Accept header; returns the body or raises :class:`TrustBundleError`.
Getter = Callable[[str, str], bytes]


def http_get(url: str, accept: str) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise TrustBundleError(f"{url} is not an http(s) URL")
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310 (http(s) only)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 (http(s) only)
            body: bytes = response.read()
            return body
    except (urllib.error.URLError, OSError) as e:
        raise TrustBundleError(f"could not fetch {url}: {e}") from e


def fetch_bundle(base_url: str, *, get: Getter = http_get, now: datetime | None = None) -> TrustBundle:
    """Fetch the trust list, JWKS and status list from a Sanad at ``base_url`` and check
    that they hold together (keys chain to the anchors, the status list verifies)."""
    base = base_url.rstrip("/")
    try:
        bundle = TrustBundle(
            trust_pem=get(f"{base}/api/v1/trust", "application/x-pem-file"),
            trust_list=json.loads(get(f"{base}/api/v1/trust?format=json", "application/json")),
            jwks=json.loads(get(f"{base}/api/v1/trust/jwks", JWKS_MEDIA_TYPE)),
            status_list=get(f"{base}{PATH}", MEDIA_TYPE).decode("ascii").strip(),
            fetched_at=now or datetime.now(UTC),
        )
        bundle = replace(bundle, crls=_fetch_crls(bundle, get))
        bundle.anchors()
    except (ValueError, UnicodeDecodeError) as e:
        raise TrustBundleError(f"{base} did not answer with a trust bundle: {e}") from e
    trusted = bundle.trusted_jwks()
    if not trusted["keys"]:
        raise TrustBundleError(f"no key from {base} chains to its trust anchors")
    try:
        verify_snapshot(bundle.status_list or "", trusted)
    except StatusListInvalid as e:
        raise TrustBundleError(f"the status list from {base} does not verify: {e.message}") from e
    return bundle


def _fetch_crls(bundle: TrustBundle, get: Getter) -> tuple[bytes, ...]:
    """The CRLs named by the anchors' and the keys' certificates."""
    certificates = list(x509.load_pem_x509_certificates(bundle.trust_pem))
    for jwk in bundle.jwks.get("keys", []):
        for encoded in jwk.get("x5c", []) if isinstance(jwk, dict) else []:
            certificates.append(x509.load_der_x509_certificate(base64.b64decode(encoded)))
    urls = sorted({url for certificate in certificates for url in distribution_points(certificate)})
    ders = []
    for url in urls:
        der = get(url, "application/pkix-crl")
        x509.load_der_x509_crl(der)  # a ValueError here means no trust bundle
        ders.append(der)
    return tuple(ders)
