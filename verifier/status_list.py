"""The signed status list: two bits a document, as the IETF OAuth Token Status List draft.

A snapshot is a compact JWS (ES256, ``typ`` ``statuslist+jwt``) signed with Sanad's
``status`` service key::

    {"iss": <public base URL>, "sub": <base>/api/v1/status-list, "iat": .., "exp": .., "ttl": ..,
     "status_list": {"bits": 2, "lst": base64url(zlib(bytes))}}

Entry ``i`` is bits ``2*(i%4)`` and ``2*(i%4)+1`` of byte ``i//4`` (index 0 is the least
significant bits of byte 0). Values: 0 valid, 1 revoked, 2 suspended (back to 0 once the
document is reinstated: every snapshot is built from the registry's statuses), 3
superseded. Expiry is not in the list: the seal's ``e`` states it. The list is never
shorter than 131,072 entries, so its size says little about how many exist.

A snapshot held past its ``exp`` is stale: it may report a revocation, never validity.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from sanad.jws import (
    ALG,
    JwsError,
    JwsProblem,
    b64url_decode,
    b64url_encode,
    compact_json,
    parse_compact,
    public_key_from_jwk,
    sign_compact,
)

BITS = 2
MIN_ENTRIES = 131_072
TYP = "statuslist+jwt"
MEDIA_TYPE = "application/statuslist+jwt"
PATH = "/api/v1/status-list"
#: A compressed list may not inflate beyond this (64 Mi entries): no zip bombs.
MAX_LIST_BYTES = 16 * 1024 * 1024


class Status(IntEnum):
    VALID = 0
    REVOKED = 1
    SUSPENDED = 2
    SUPERSEDED = 3


#: Stored document status → its value in the list; anything else is valid.
REGISTRY_STATUS = {"revoked": Status.REVOKED, "suspended": Status.SUSPENDED, "superseded": Status.SUPERSEDED}


def list_length(highest_index: int) -> int:
    """Entries in a list holding ``highest_index``: at least 131,072, doubling beyond."""
    length = MIN_ENTRIES
    while length <= highest_index:
        length *= 2
    return length


def pack(entries: Iterable[tuple[int, int]], length: int, bits: int = BITS) -> bytes:
    """The byte array of a list of ``length`` entries, all 0 but ``entries`` (index, value)."""
    per_byte = 8 // bits
    raw = bytearray(-(-length // per_byte))
    for index, value in entries:
        if not 0 <= index < length or not 0 <= value < 2**bits:
            raise ValueError(f"entry {index}={value} does not fit the list")
        shift = (index % per_byte) * bits
        raw[index // per_byte] = (raw[index // per_byte] & ~((2**bits - 1) << shift)) | (value << shift)
    return bytes(raw)


@dataclass(frozen=True)
class StatusList:
    """A decoded list."""

    raw: bytes
    bits: int = BITS

    def __len__(self) -> int:
        return len(self.raw) * 8 // self.bits

    def status(self, index: int) -> int | None:
        """The value at ``index``; None when the list is shorter."""
        if not 0 <= index < len(self):
            return None
        per_byte = 8 // self.bits
        value: int = (self.raw[index // per_byte] >> ((index % per_byte) * self.bits)) & (2**self.bits - 1)
        return value

    def encode(self) -> str:
        """``lst``: base64url of the zlib-compressed bytes."""
        return b64url_encode(zlib.compress(self.raw, 9))

    @classmethod
    def decode(cls, lst: str, bits: int) -> StatusList:
        if isinstance(bits, bool) or bits not in (1, 2, 4, 8):
            raise ValueError(f"bits must be 1, 2, 4 or 8, not {bits}")
        inflater = zlib.decompressobj()
        try:
            raw = inflater.decompress(b64url_decode(lst), MAX_LIST_BYTES)
        except (zlib.error, JwsError) as e:
            raise ValueError("lst is not base64url zlib data") from e
        if inflater.unconsumed_tail or not inflater.eof:
            raise ValueError("lst is truncated or too large")
        return cls(raw, bits)


# --- signing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    token: str
    issued_at: datetime
    expires_at: datetime


def build_snapshot(
    *,
    highest_index: int,
    entries: Iterable[tuple[int, str]],
    public_base_url: str,
    key_id: str,
    private_key: ec.EllipticCurvePrivateKey,
    now: datetime,
    ttl: timedelta,
) -> Snapshot:
    """Sign the list of every index up to ``highest_index``; ``entries`` are (index,
    stored document status) pairs, statuses other than revoked/superseded count as valid."""
    values = [(index, REGISTRY_STATUS[status]) for index, status in entries if status in REGISTRY_STATUS]
    length = list_length(max([highest_index, *(index for index, _ in values)]))
    iat = int(now.timestamp())
    ttl_seconds = int(ttl.total_seconds())
    payload = {
        "iss": public_base_url,
        "sub": public_base_url + PATH,
        "iat": iat,
        "exp": iat + ttl_seconds,
        "ttl": ttl_seconds,
        "status_list": {"bits": BITS, "lst": StatusList(pack(values, length)).encode()},
    }
    header = {"alg": ALG, "kid": key_id, "typ": TYP}
    token = sign_compact(header, compact_json(payload), lambda data: private_key.sign(data, ec.ECDSA(hashes.SHA256())))
    return Snapshot(token, datetime.fromtimestamp(iat, UTC), datetime.fromtimestamp(iat + ttl_seconds, UTC))


# --- verifying ---------------------------------------------------------------------------


class StatusListReason(StrEnum):
    STATUS_LIST_MALFORMED = "STATUS_LIST_MALFORMED"
    STATUS_LIST_UNSUPPORTED_ALG = "STATUS_LIST_UNSUPPORTED_ALG"
    STATUS_LIST_UNKNOWN_KEY = "STATUS_LIST_UNKNOWN_KEY"
    STATUS_LIST_SIGNATURE_INVALID = "STATUS_LIST_SIGNATURE_INVALID"
    STATUS_LIST_WRONG_ISSUER = "STATUS_LIST_WRONG_ISSUER"


class StatusListInvalid(Exception):
    def __init__(self, reason: StatusListReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


_JWS_REASONS = {
    JwsProblem.MALFORMED: StatusListReason.STATUS_LIST_MALFORMED,
    JwsProblem.UNSUPPORTED_ALG: StatusListReason.STATUS_LIST_UNSUPPORTED_ALG,
    JwsProblem.SIGNATURE_INVALID: StatusListReason.STATUS_LIST_SIGNATURE_INVALID,
}


@dataclass(frozen=True)
class Freshness:
    current: bool
    expires_at: datetime
    """Current until then; stale since then."""


@dataclass(frozen=True)
class VerifiedStatusList:
    issuer: str
    subject: str
    issued_at: datetime
    expires_at: datetime
    ttl: int
    statuses: StatusList

    def freshness(self, now: datetime) -> Freshness:
        return Freshness(current=now < self.expires_at, expires_at=self.expires_at)


def _status_key(jwks: Mapping[str, Any], kid: str | None) -> Mapping[str, Any]:
    for jwk in jwks.get("keys", []):
        if isinstance(jwk, Mapping) and kid is not None and jwk.get("kid") == kid:
            if (jwk.get("sanad") or {}).get("purpose") != "status":
                break
            return jwk
    raise StatusListInvalid(StatusListReason.STATUS_LIST_UNKNOWN_KEY, f"no status-list key {kid!r} is trusted")


def verify_snapshot(token: str, jwks: Mapping[str, Any], *, issuer: str | None = None) -> VerifiedStatusList:
    """Check a snapshot's signature with the status key in ``jwks`` and read it. Staleness
    is the caller's question (:meth:`VerifiedStatusList.freshness`)."""
    try:
        parsed = parse_compact(token.strip(), typ=TYP)
        parsed.verify(public_key_from_jwk(_status_key(jwks, parsed.kid)))
        claims = parsed.payload_object()
    except JwsError as e:
        raise StatusListInvalid(_JWS_REASONS[e.problem], f"status list: {e.message}") from e
    try:
        iat, exp, ttl = claims["iat"], claims["exp"], claims.get("ttl", 0)
        status_list = claims["status_list"]
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (iat, exp, ttl)) or exp <= iat:
            raise ValueError("iat, exp and ttl must be integers, exp after iat")
        if not isinstance(claims.get("iss"), str) or not isinstance(claims.get("sub"), str):
            raise ValueError("iss and sub must be strings")
        statuses = StatusList.decode(status_list["lst"], status_list["bits"])
    except (KeyError, TypeError, ValueError) as e:
        raise StatusListInvalid(StatusListReason.STATUS_LIST_MALFORMED, f"status list: {e}") from e
    if issuer is not None and claims["iss"] != issuer:
        raise StatusListInvalid(
            StatusListReason.STATUS_LIST_WRONG_ISSUER, f"the status list is from {claims['iss']}, not {issuer}"
        )
    return VerifiedStatusList(
        issuer=claims["iss"],
        subject=claims["sub"],
        issued_at=datetime.fromtimestamp(iat, UTC),
        expires_at=datetime.fromtimestamp(exp, UTC),
        ttl=ttl,
        statuses=statuses,
    )
