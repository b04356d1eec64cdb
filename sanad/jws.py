"""Compact JWS (RFC 7515) restricted to ES256: the shape of seals and status-list snapshots.

Only ES256 exists here. A token whose header names any other algorithm (``none``,
``HS256``, ``ES384``, ...) is refused before its signature is looked at, so the
algorithm-confusion attacks on generic JOSE libraries have nothing to confuse.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

ALG = "ES256"
_COORDINATE_BYTES = 32  # P-256
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
#: Longer tokens are refused unread: a seal is < 2 KB, a status-list snapshot a few KB.
MAX_TOKEN_CHARS = 1_000_000


class JwsProblem(StrEnum):
    MALFORMED = "MALFORMED"
    """Not three base64url parts, a header or payload that is not a JSON object, a
    duplicate member, an unexpected ``typ`` or a ``crit`` header."""
    UNSUPPORTED_ALG = "UNSUPPORTED_ALG"
    """The header's ``alg`` is not exactly ``ES256``."""
    SIGNATURE_INVALID = "SIGNATURE_INVALID"


class JwsError(ValueError):
    def __init__(self, problem: JwsProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515, section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of :func:`b64url_encode`: no padding, no other alphabet, no spaces."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise JwsError(JwsProblem.MALFORMED, "not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as e:
        raise JwsError(JwsProblem.MALFORMED, "not base64url") from e


def der_to_raw(der: bytes) -> bytes:
    """An ECDSA P-256 signature from DER (what signers return) to JWS's r||s, 64 bytes."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(_COORDINATE_BYTES, "big") + s.to_bytes(_COORDINATE_BYTES, "big")


def raw_to_der(raw: bytes) -> bytes:
    if len(raw) != 2 * _COORDINATE_BYTES:
        raise JwsError(JwsProblem.SIGNATURE_INVALID, f"an ES256 signature is 64 bytes, not {len(raw)}")
    return encode_dss_signature(
        int.from_bytes(raw[:_COORDINATE_BYTES], "big"), int.from_bytes(raw[_COORDINATE_BYTES:], "big")
    )


def compact_json(value: Mapping[str, Any]) -> bytes:
    """JSON as signed here: no spaces, UTF-8 (not ``\\u`` escapes, which would double the size)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_compact(header: Mapping[str, Any], payload: bytes, sign_der: Callable[[bytes], bytes]) -> str:
    """A compact JWS over ``payload``; ``sign_der`` returns a DER ECDSA-P256-SHA256 signature."""
    if header.get("alg") != ALG:
        raise ValueError("only ES256 is produced")
    signing_input = f"{b64url_encode(compact_json(header))}.{b64url_encode(payload)}"
    signature = der_to_raw(sign_der(signing_input.encode("ascii")))
    return f"{signing_input}.{b64url_encode(signature)}"


def _object(data: bytes, what: str) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise JwsError(JwsProblem.MALFORMED, f"the {what} repeats the member {key!r}")
            result[key] = value
        return result

    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise JwsError(JwsProblem.MALFORMED, f"the {what} is not JSON") from e
    if not isinstance(value, dict):
        raise JwsError(JwsProblem.MALFORMED, f"the {what} is not a JSON object")
    return value


@dataclass(frozen=True)
class ParsedJws:
    """A compact JWS split and decoded; its signature is not verified yet."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes
    """Raw r||s."""

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None

    def payload_object(self) -> dict[str, Any]:
        return _object(self.payload, "payload")

    def verify(self, public_key: ec.EllipticCurvePublicKey) -> None:
        """Raise :class:`JwsError` unless the signature verifies with ``public_key``."""
        if not isinstance(public_key.curve, ec.SECP256R1):
            raise JwsError(JwsProblem.SIGNATURE_INVALID, "ES256 needs a P-256 key")
        try:
            public_key.verify(raw_to_der(self.signature), self.signing_input, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as e:
            raise JwsError(JwsProblem.SIGNATURE_INVALID, "the signature does not verify with the key") from e


def parse_compact(token: str, *, typ: str) -> ParsedJws:
    """Split and decode ``token``; refuse anything but ES256 with header ``typ``."""
    if len(token) > MAX_TOKEN_CHARS:
        raise JwsError(JwsProblem.MALFORMED, "the token is too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise JwsError(JwsProblem.MALFORMED, "a compact JWS has three parts")
    header_b64, payload_b64, signature_b64 = parts
    header = _object(b64url_decode(header_b64), "header")
    if header.get("alg") != ALG:
        raise JwsError(JwsProblem.UNSUPPORTED_ALG, f"algorithm {header.get('alg')!r} is not accepted; only ES256")
    if "crit" in header:
        raise JwsError(JwsProblem.MALFORMED, "critical header extensions are not supported")
    if header.get("typ") != typ:
        raise JwsError(JwsProblem.MALFORMED, f"the header's typ is {header.get('typ')!r}, expected {typ!r}")
    return ParsedJws(
        header=header,
        payload=b64url_decode(payload_b64),
        signing_input=f"{header_b64}.{payload_b64}".encode("ascii"),
        signature=b64url_decode(signature_b64),
    )


def jwk_coordinates(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The RFC 7518 members of a P-256 public key: kty, crv, x, y."""
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(_COORDINATE_BYTES, "big")),
        "y": b64url_encode(numbers.y.to_bytes(_COORDINATE_BYTES, "big")),
    }


def public_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """The P-256 key a JWK describes; :class:`JwsError` for anything else."""
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise JwsError(JwsProblem.UNSUPPORTED_ALG, "the key is not an EC P-256 key")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise JwsError(JwsProblem.MALFORMED, "the key has no coordinates")
    x_bytes, y_bytes = b64url_decode(x), b64url_decode(y)
    if len(x_bytes) != _COORDINATE_BYTES or len(y_bytes) != _COORDINATE_BYTES:
        raise JwsError(JwsProblem.MALFORMED, "the key's coordinates are not 32 bytes")
    try:
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(x_bytes, "big"), int.from_bytes(y_bytes, "big"), ec.SECP256R1()
        ).public_key()
    except ValueError as e:  # not a point on the curve
        raise JwsError(JwsProblem.MALFORMED, "the key is not a point on P-256") from e
