"""Where the development PKI keeps its files and publishes its services.

Layout under the keys directory (private keys are 0600 and never committed):

    pki.json                                  where the PKI's services are published
    root-ca.pem / root-ca.key                 trust anchor
    issuing-ca.pem / issuing-ca.key           signs every end-entity certificate below
    tsa/tsa.pem|key                           the RFC 3161 time-stamping unit
    tsa/<KEY-ID>.pem                          the TSA's earlier certificates
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

import json
from pathlib import Path

DEFAULT_BASE_URL = "http://127.0.0.1:8000/pki"


def served_base_url(public_base_url: str) -> str:
    """Where ``sanad serve`` publishes the PKI: ``/pki`` of Sanad's public address."""
    return f"{public_base_url}/pki"


def record_base_url(keys_dir: Path, base_url: str | None) -> None:
    """Write ``pki.json`` unless it exists: certificates already issued name the old address."""
    path = keys_dir / "pki.json"
    if not path.exists():
        path.write_text(json.dumps({"base_url": (base_url or DEFAULT_BASE_URL).rstrip("/")}))


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


def ca_path(keys_dir: Path, ca: str) -> Path:
    """``<dir>/<ca>`` of a CA's files (suffixes .pem and .key)."""
    return keys_dir / ca


def tsa_path(keys_dir: Path) -> Path:
    return keys_dir / "tsa" / "tsa"


def service_key_path(keys_dir: Path, name: str) -> Path:
    return keys_dir / "services" / name / "signing"


def department_dir(keys_dir: Path, code: str) -> Path:
    return keys_dir / "departments" / code


def revocations_path(keys_dir: Path) -> Path:
    return keys_dir / "revocations.json"
