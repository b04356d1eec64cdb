"""Seals issued before the compact one (``issuer.seal``): a compact JWS, ES256, in the QR
link's fragment. Nothing issues them any more; certificates that carry one keep verifying.

Protected header ``{"alg":"ES256","kid":<department key id>,"typ":"sanad-seal+jws"}``;
payload, compact UTF-8 JSON::

    v  1                      format version
    id document id            t  document type          d  department code
    n  holder name, in full, as printed
    i  issue date (India)     e  expiry date (omitted when the document has none)
    s  status-list index      h  base64url SHA-256 of the embedded certificate.json
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from issuer.seal import SealClaims
from sanad.jws import JwsError, b64url_decode

SEAL_TYPE = "sanad-seal+jws"
SEAL_VERSION = 1


def claims_from_payload(payload: Mapping[str, Any]) -> SealClaims:
    """Read a version-1 payload; ``ValueError`` names the first member that is wrong."""
    if payload.get("v") != SEAL_VERSION:
        raise ValueError(f"unsupported seal version {payload.get('v')!r}")
    for name in ("id", "t", "d", "n", "i", "h"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            raise ValueError(f"member {name!r} is missing or not a string")
    index = payload.get("s")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError("member 's' is not a status-list index")
    expiry = payload.get("e")
    if expiry is not None and not isinstance(expiry, str):
        raise ValueError("member 'e' is not a date")
    try:
        digest = b64url_decode(payload["h"])
    except JwsError as e:
        raise ValueError("member 'h' is not base64url") from e
    if len(digest) != 32:
        raise ValueError("member 'h' is not a SHA-256")
    return SealClaims(
        document_id=payload["id"],
        type=payload["t"],
        department=payload["d"],
        holder_name=payload["n"],
        issued_on=_date(payload["i"], "i"),
        valid_until=_date(expiry, "e") if expiry is not None else None,
        status_index=index,
        data_hash=digest,
    )


def _date(text: str, name: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f"member {name!r} is not a YYYY-MM-DD date") from e
