"""The seal: a compact JWS (ES256) in the QR code's URL fragment, verifiable with no network.

    {public_base_url}/v/{id}#{seal}        the fragment never reaches a server

Protected header ``{"alg":"ES256","kid":<department key id>,"typ":"sanad-seal+jws"}``;
payload, compact UTF-8 JSON::

    v  1                      format version
    id document id            t  document type          d  department code
    n  holder name, in full, as printed
    i  issue date (India)     e  expiry date (omitted when the document has none)
    s  status-list index      h  base64url SHA-256 of the embedded certificate.json

Why ``h`` hashes the ``certificate.json`` attachment and not the PDF: the QR code is
printed inside the PDF, so it cannot carry the digest of the file that contains it. The
attachment is the machine-readable statement of everything the certificate says, and
it is covered by the PDF's own signature; so ``h`` binds the seal to that PDF's data
(the issuer attaches exactly the bytes it hashed), while the seal alone already lets a
verifier read a paper copy's facts offline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sanad.jws import ALG, b64url_encode, compact_json, sign_compact

SEAL_TYPE = "sanad-seal+jws"
SEAL_VERSION = 1


class SealSigner(Protocol):
    """What a seal needs from a department signer (``issuer.sign.DepartmentSigner``)."""

    @property
    def key_id(self) -> str: ...

    def sign_raw(self, data: bytes) -> bytes:
        """A DER ECDSA-P256-SHA256 signature over ``data``."""
        ...


@dataclass(frozen=True)
class SealClaims:
    """What a seal states about a document."""

    document_id: str
    type: str
    department: str
    """Department code."""
    holder_name: str
    """In full, exactly as printed on the certificate."""
    issued_on: date
    """Date of issue in India, as printed."""
    valid_until: date | None
    status_index: int
    """The document's entry in the status list."""
    data_hash: str
    """Base64url SHA-256 of the embedded ``certificate.json``."""

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "v": SEAL_VERSION,
            "id": self.document_id,
            "t": self.type,
            "d": self.department,
            "n": self.holder_name,
            "i": self.issued_on.isoformat(),
        }
        if self.valid_until is not None:
            payload["e"] = self.valid_until.isoformat()
        payload["s"] = self.status_index
        payload["h"] = self.data_hash
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SealClaims:
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
        return cls(
            document_id=payload["id"],
            type=payload["t"],
            department=payload["d"],
            holder_name=payload["n"],
            issued_on=_date(payload["i"], "i"),
            valid_until=_date(expiry, "e") if expiry is not None else None,
            status_index=index,
            data_hash=payload["h"],
        )


def _date(text: str, name: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f"member {name!r} is not a YYYY-MM-DD date") from e


def data_hash(certificate_json: bytes) -> str:
    """The seal's ``h``: base64url (no padding) SHA-256 of the attachment's exact bytes."""
    return b64url_encode(hashlib.sha256(certificate_json).digest())


def make_seal(signer: SealSigner, claims: SealClaims) -> str:
    """Sign ``claims`` with the department's active key as a compact JWS."""
    header = {"alg": ALG, "kid": signer.key_id, "typ": SEAL_TYPE}
    return sign_compact(header, compact_json(claims.payload()), signer.sign_raw)


def sealed_url(verify_url: str, seal: str) -> str:
    """The URL the QR code carries."""
    return f"{verify_url}#{seal}"


def seal_from_text(text: str) -> str | None:
    """The seal in what a QR code scanned to: a sealed URL, or a bare compact JWS."""
    text = text.strip()
    candidate = text.partition("#")[2] if "#" in text else text
    return candidate if candidate.count(".") == 2 and "/" not in candidate else None
