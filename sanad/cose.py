"""COSE_Sign1 (RFC 9052) restricted to ES256: the compact seal's envelope.

    18([ protected: bstr .cbor {1: -7, 4: kid}, unprotected: {}, payload: bstr, signature: bstr ])

The signature is ECDSA P-256 SHA-256 over the Sig_structure
``["Signature1", protected, h'', payload]`` (no external data), as raw r||s: 64 bytes,
exactly what WebCrypto's ECDSA takes. As in :mod:`sanad.jws`, only ES256 exists here: any
other ``alg``, a ``crit`` parameter, an unknown header parameter or anything in the
unprotected header is refused before the signature is looked at, and the message must be
in CBOR's deterministic encoding (RFC 8949, 4.2), so one seal has exactly one spelling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from sanad.jws import der_to_raw, raw_to_der

TAG_SIGN1 = 18
ALG_ES256 = -7
HEADER_ALG = 1
HEADER_CRIT = 2
HEADER_KID = 4
_SIGNATURE_BYTES = 64
#: Longer messages are refused unread: a seal is about 170 bytes.
MAX_MESSAGE_BYTES = 4096


class CoseProblem(StrEnum):
    MALFORMED = "MALFORMED"
    """Not a tagged COSE_Sign1 in deterministic CBOR, a header with anything but alg and
    kid, or a signature that is not 64 bytes."""
    UNSUPPORTED_ALG = "UNSUPPORTED_ALG"
    """The protected header's ``alg`` is not ES256 (-7)."""
    SIGNATURE_INVALID = "SIGNATURE_INVALID"


class CoseError(ValueError):
    def __init__(self, problem: CoseProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


def deterministic(value: Any) -> bytes:
    """CBOR in the deterministic encoding: shortest forms, map keys in bytewise order."""
    return cbor2.dumps(value, canonical=True)


def decode_deterministic(data: bytes, what: str) -> Any:
    """The value ``data`` encodes, only if it is the deterministic encoding of it (this also
    refuses trailing bytes, repeated map keys and indefinite lengths)."""
    try:
        value = cbor2.loads(data)
        again = deterministic(value)
    except Exception as e:  # cbor2 raises several kinds on hostile input; all mean the same
        raise CoseError(CoseProblem.MALFORMED, f"the {what} is not whole CBOR") from e
    if again != data:
        raise CoseError(CoseProblem.MALFORMED, f"the {what} is not in deterministic CBOR")
    return value


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    return deterministic(["Signature1", protected, b"", payload])


def sign1(kid: bytes, payload: bytes, sign_der: Callable[[bytes], bytes]) -> bytes:
    """A tagged COSE_Sign1 over ``payload``; ``sign_der`` returns a DER ECDSA-P256-SHA256
    signature (what department signers give), stored as raw r||s."""
    protected = deterministic({HEADER_ALG: ALG_ES256, HEADER_KID: kid})
    signature = der_to_raw(sign_der(_to_be_signed(protected, payload)))
    return deterministic(cbor2.CBORTag(TAG_SIGN1, [protected, {}, payload, signature]))


@dataclass(frozen=True)
class ParsedSign1:
    """A COSE_Sign1 taken apart; its signature is not verified yet."""

    kid: bytes
    payload: bytes
    to_be_signed: bytes
    signature: bytes
    """Raw r||s."""

    def verify(self, public_key: ec.EllipticCurvePublicKey) -> None:
        """Raise :class:`CoseError` unless the signature verifies with ``public_key``."""
        if not isinstance(public_key.curve, ec.SECP256R1):
            raise CoseError(CoseProblem.SIGNATURE_INVALID, "ES256 needs a P-256 key")
        try:
            public_key.verify(raw_to_der(self.signature), self.to_be_signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as e:
            raise CoseError(CoseProblem.SIGNATURE_INVALID, "the signature does not verify with the key") from e


def parse_sign1(message: bytes) -> ParsedSign1:
    """Take ``message`` apart; refuse anything but a tagged ES256 COSE_Sign1 with a kid."""
    if len(message) > MAX_MESSAGE_BYTES:
        raise CoseError(CoseProblem.MALFORMED, "the message is too long")
    try:
        value = decode_deterministic(message, "message")
    except CoseError as e:  # on a scanned code, most likely a misread or a cut
        raise CoseError(CoseProblem.MALFORMED, f"damaged or incomplete: {e.message}") from e
    if not isinstance(value, cbor2.CBORTag) or value.tag != TAG_SIGN1:
        raise CoseError(CoseProblem.MALFORMED, "not a COSE_Sign1 (CBOR tag 18)")
    parts = value.value
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise CoseError(CoseProblem.MALFORMED, "a COSE_Sign1 has four parts")
    protected, unprotected, payload, signature = parts
    if not isinstance(protected, bytes) or not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise CoseError(CoseProblem.MALFORMED, "the protected header, payload and signature must be byte strings")
    if not isinstance(unprotected, Mapping) or unprotected:
        raise CoseError(CoseProblem.MALFORMED, "the unprotected header must be empty")
    kid = _protected_kid(decode_deterministic(protected, "protected header"))
    if len(signature) != _SIGNATURE_BYTES:
        raise CoseError(CoseProblem.SIGNATURE_INVALID, f"an ES256 signature is 64 bytes, not {len(signature)}")
    return ParsedSign1(kid=kid, payload=payload, to_be_signed=_to_be_signed(protected, payload), signature=signature)


def _protected_kid(header: object) -> bytes:
    # type() and not isinstance(): true == 1 and -7.0 == -7 in Python, not in CBOR.
    if not isinstance(header, Mapping) or any(type(label) is not int for label in header):
        raise CoseError(CoseProblem.MALFORMED, "the protected header is not a map with integer labels")
    alg = header.get(HEADER_ALG)
    if type(alg) is not int or alg != ALG_ES256:
        raise CoseError(CoseProblem.UNSUPPORTED_ALG, f"algorithm {alg!r} is not accepted; only ES256 (-7)")
    if HEADER_CRIT in header:
        raise CoseError(CoseProblem.MALFORMED, "critical header parameters are not supported")
    unknown = set(header) - {HEADER_ALG, HEADER_KID}
    if unknown:
        raise CoseError(CoseProblem.MALFORMED, f"unknown header parameters {sorted(map(str, unknown))}")
    kid = header.get(HEADER_KID)
    if not isinstance(kid, bytes) or not kid:
        raise CoseError(CoseProblem.MALFORMED, "the protected header names no key (kid)")
    return kid
