"""The seal: a COSE_Sign1 (ES256) over a CWT, in the QR code's URL fragment, verifiable
with no network.

    HTTP://127.0.0.1:8000/V/<ID>#<digits>       the fragment never reaches a server

Sized for a QR code of version 10 at most (error correction M), which phones and scanners
read from a 72-dpi image of a 40 mm print (``tests/issuer/test_qr_scanning.py``):

* The URL is upper case up to the ``#`` (scheme and host are case-insensitive, and
  ``/V/<ID>`` is served like ``/v/<id>``: ids are lower-case base32), so it fits the QR's
  alphanumeric mode; the ``#`` alone takes a byte segment; the seal is decimal digits
  (:mod:`sanad.digits`), numeric mode. Base45 would need its space and ``%`` escaped in a URL
  and came out ~9% longer: version 11 for most Gurmukhi names.
* The message is ``18([{1: -7, 4: kid}, {}, payload, signature])`` (:mod:`sanad.cose`);
  the kid is the department key's id as its 8 bytes, and the key names the department, so
  the claims do not repeat it. The payload is a CWT claims map in deterministic CBOR::

      7  (cti) document id, its 16 bytes (the id is base32 of them)
     -1  type: a code from TYPE_CODES, or the type's name for a type without one
     -2  holder name, as printed: text, or bytes when one Unicode block holds all its
         letters (the first byte is the block, code point // 128; each next byte is an
         ASCII character below 0x80, else the block's letter 0x80 + code point % 128): a
         Gurmukhi or Devanagari letter takes 1 byte instead of UTF-8's 3
     -3  issue date (India), days since 1970-01-01      -4  expiry date, likewise (absent: none)
     -5  status-list index                              -6  first 8 bytes of the SHA-256 of
                                                            the embedded certificate.json
     -7  true when the name was shortened to fit (at a word where it can be)

Why ``-6`` hashes the ``certificate.json`` attachment and not the PDF: the QR code is
printed inside the PDF, so it cannot carry the digest of the file that contains it. The
attachment is the machine-readable statement of everything the certificate says, and
it is covered by the PDF's own signature; so the hash binds the seal to that PDF's data
(the issuer attaches exactly the bytes it hashed). 64 bits are plenty: forging a match
would also need the department's signature on the PDF.

Seals issued before this format are compact JWS (``verifier.seal_jws`` reads them).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from sanad.cose import CoseError, CoseProblem, ParsedSign1, decode_deterministic, deterministic, parse_sign1, sign1
from sanad.digits import decode_digits, encode_digits

#: Document types and their codes in seals. A code, once used, keeps its meaning for ever
#: (the offline page, verifier/static/offline/verify.js, has the same table). A type
#: without a code is sealed by name: it works, but costs a larger QR code.
TYPE_CODES: Mapping[str, int] = {
    "income-certificate": 1,
    "caste-certificate": 2,
    "residence-certificate": 3,
    "birth-certificate": 4,
    "learner-licence": 5,
    "trade-licence": 6,
}
TYPE_NAMES: Mapping[int, str] = {code: name for name, code in TYPE_CODES.items()}

CTI, TYPE, NAME, ISSUED, EXPIRES, STATUS_INDEX, DATA_HASH, NAME_SHORTENED = 7, -1, -2, -3, -4, -5, -6, -7
_CLAIMS = frozenset({CTI, TYPE, NAME, ISSUED, EXPIRES, STATUS_INDEX, DATA_HASH, NAME_SHORTENED})
DATA_HASH_BYTES = 8
#: The encoded name's budget: with the longest other claims and a 34-character base URL
#: (https://verify.sanad.punjab.gov.in) version 10 is exactly full (``tests/issuer/test_qr_scanning.py``).
MAX_NAME_BYTES = 28
_EPOCH = date(1970, 1, 1)
_LAST_DAY = (date(9999, 12, 31) - _EPOCH).days
_ID_BYTES = 16
_VIRAMA = 9  # canonical combining class of a virama (halant): the next letter joins it


class SealSigner(Protocol):
    """What a seal needs from a department signer (``issuer.sign.DepartmentSigner``)."""

    @property
    def key_id(self) -> str: ...

    def sign_raw(self, data: bytes) -> bytes:
        """A DER ECDSA-P256-SHA256 signature over ``data``."""
        ...


class SealFormatError(ValueError):
    """A seal whose signature may be fine but whose claims are not this format's."""

    def __init__(self, message: str, *, newer: bool = False) -> None:
        super().__init__(message)
        self.newer = newer
        """The claims are well-formed but name things this verifier does not know."""


@dataclass(frozen=True)
class SealClaims:
    """What a seal states about a document."""

    document_id: str
    type: str
    department: str
    """Department code: in a compact seal, the sealing key's department."""
    holder_name: str
    """As printed on the certificate; the start of it when ``holder_name_shortened``."""
    issued_on: date
    """Date of issue in India, as printed."""
    valid_until: date | None
    status_index: int
    """The document's entry in the status list."""
    data_hash: bytes
    """The start of the SHA-256 of the embedded ``certificate.json`` (all of it in a JWS seal)."""
    holder_name_shortened: bool = False

    def covers(self, certificate_json: bytes) -> bool:
        """Whether ``certificate_json`` is the data this seal was made for."""
        digest = hashlib.sha256(certificate_json).digest()
        return len(self.data_hash) >= DATA_HASH_BYTES and digest.startswith(self.data_hash)


def data_hash(certificate_json: bytes) -> bytes:
    """The seal's hash of the attachment: the first 8 bytes of its SHA-256."""
    return hashlib.sha256(certificate_json).digest()[:DATA_HASH_BYTES]


def make_seal(signer: SealSigner, claims: SealClaims) -> str:
    """Sign ``claims`` with the department's active key: the digits for the URL fragment."""
    kid = _kid_bytes(signer.key_id)
    return encode_digits(sign1(kid, encode_claims(claims), signer.sign_raw))


def encode_claims(claims: SealClaims) -> bytes:
    """The CWT payload; a name over the budget is cut short and marked so."""
    name, shortened = fit_name(claims.holder_name)
    return _payload(claims, name, shortened or claims.holder_name_shortened)


def _payload(claims: SealClaims, name: str, shortened: bool) -> bytes:
    payload: dict[int, Any] = {
        CTI: _id_bytes(claims.document_id),
        TYPE: TYPE_CODES.get(claims.type, claims.type),
        NAME: _encode_name(name),
        ISSUED: (claims.issued_on - _EPOCH).days,
        STATUS_INDEX: claims.status_index,
        DATA_HASH: claims.data_hash[:DATA_HASH_BYTES],
    }
    if claims.valid_until is not None:
        payload[EXPIRES] = (claims.valid_until - _EPOCH).days
    if shortened:
        payload[NAME_SHORTENED] = True
    return deterministic(payload)


def open_seal(seal: str) -> ParsedSign1:
    """The COSE message in a compact seal's digits; its signature is not checked yet."""
    try:
        message = decode_digits(seal)
    except ValueError as e:
        raise CoseError(CoseProblem.MALFORMED, f"the seal is damaged or incomplete ({e})") from e
    return parse_sign1(message)


def key_id_of(parsed: ParsedSign1) -> str:
    """The trust list's key id (16 hex digits) for the seal's kid."""
    return parsed.kid.hex()


def decode_claims(payload: bytes, department: str) -> SealClaims:
    """The claims of a verified payload; :class:`SealFormatError` says what is wrong."""
    try:
        value = decode_deterministic(payload, "payload")
    except CoseError as e:
        raise SealFormatError(e.message) from e
    if not isinstance(value, Mapping) or any(type(k) is not int for k in value):
        raise SealFormatError("the payload is not a map of claims")
    unknown = set(value) - _CLAIMS
    if unknown:
        raise SealFormatError(f"the seal has claims {sorted(unknown)} this verifier does not know", newer=True)
    claims = SealClaims(
        document_id=_id_text(value.get(CTI)),
        type=_type_name(value.get(TYPE)),
        department=department,
        holder_name=_decode_name(value.get(NAME)),
        issued_on=_day(value.get(ISSUED), "issue date"),
        valid_until=_day(value[EXPIRES], "expiry date") if EXPIRES in value else None,
        status_index=_natural(value.get(STATUS_INDEX), "status-list index"),
        data_hash=_hash(value.get(DATA_HASH)),
        holder_name_shortened=_shortened(value),
    )
    # One spelling per seal: e.g. a name in bytes where text is the rule is refused. The
    # name's budget is not applied here, so that a later budget does not void older seals.
    if _payload(claims, claims.holder_name, claims.holder_name_shortened) != payload:
        raise SealFormatError("the claims are not written the one way this format writes them")
    return claims


# --- the URL ----------------------------------------------------------------------------


def sealed_url(verify_url: str, seal: str) -> str:
    """What the QR code (and the PDF's link) carries: ``verify_url`` in upper case up to its
    path's ``/v/<id>``, then ``#`` and the seal. Only the scheme, the host and ``/V/<ID>``
    change case; a base path is kept as it is (the server's paths are case-sensitive)."""
    parts = urlsplit(verify_url)
    head, marker, document_id = parts.path.rpartition("/v/")
    if not marker or not document_id or "/" in document_id or parts.query or parts.fragment:
        raise ValueError(f"{verify_url!r} is not a verification URL (<base>/v/<id>)")
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{head}/V/{document_id.upper()}#{seal}"


def seal_from_text(text: str) -> str | None:
    """The seal in what a QR code scanned to: a sealed URL, or a bare seal (the compact
    digits, or a compact JWS from before them)."""
    text = text.strip()
    candidate = text.partition("#")[2] if "#" in text else text
    if candidate.isascii() and candidate.isdigit():
        return candidate
    return candidate if candidate.count(".") == 2 and "/" not in candidate else None


def document_id_in_url(text: str) -> str | None:
    """The document id in a scanned URL's path (``/v/<id>`` or ``/V/<ID>``), lower case."""
    before = text.strip().partition("#")[0]
    path = urlsplit(before).path if "://" in before else before
    _, marker, document_id = path.rpartition("/v/") if "/v/" in path else path.rpartition("/V/")
    return document_id.strip("/").lower() or None if marker else None


def is_compact(seal: str) -> bool:
    """Whether ``seal`` is this format (digits) rather than a compact JWS."""
    return seal.isascii() and seal.isdigit()


# --- the claims, one by one --------------------------------------------------------------


def _kid_bytes(key_id: str) -> bytes:
    try:
        kid = bytes.fromhex(key_id)
    except ValueError:
        kid = b""
    if len(kid) != 8 or kid.hex() != key_id:
        raise ValueError(f"key id {key_id!r} is not 16 lower-case hex digits")
    return kid


def _id_bytes(document_id: str) -> bytes:
    try:
        raw = base64.b32decode(document_id.upper() + "======")
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _ID_BYTES or _id_text(raw) != document_id:
        raise ValueError(f"{document_id!r} is not a document id (26 lower-case base32 characters)")
    return raw


def _id_text(value: object) -> str:
    if not isinstance(value, bytes) or len(value) != _ID_BYTES:
        raise SealFormatError("the document id (cti) is not 16 bytes")
    return base64.b32encode(value).decode("ascii").rstrip("=").lower()


def _type_name(value: object) -> str:
    if isinstance(value, str) and value:
        return value
    if type(value) is int:
        if value in TYPE_NAMES:
            return TYPE_NAMES[value]
        raise SealFormatError(f"document type code {value} is not known to this verifier", newer=True)
    raise SealFormatError("the document type is missing")


def _day(value: object, what: str) -> date:
    if type(value) is not int or not 0 <= value <= _LAST_DAY:
        raise SealFormatError(f"the {what} is not a day number")
    return _EPOCH + timedelta(days=value)


def _natural(value: object, what: str) -> int:
    if type(value) is not int or value < 0:
        raise SealFormatError(f"the {what} is not a number")
    return value


def _hash(value: object) -> bytes:
    if not isinstance(value, bytes) or len(value) != DATA_HASH_BYTES:
        raise SealFormatError("the data hash is not 8 bytes")
    return value


def _shortened(claims: Mapping[int, Any]) -> bool:
    if NAME_SHORTENED not in claims:
        return False
    if claims[NAME_SHORTENED] is not True:
        raise SealFormatError("the shortened-name mark is not true")
    return True


def _encode_name(name: str) -> str | bytes:
    blocks = {ord(c) >> 7 for c in name if ord(c) >= 0x80}
    if len(blocks) != 1 or max(blocks) > 0xFF:
        return name
    (block,) = blocks
    return bytes([block]) + bytes(ord(c) if ord(c) < 0x80 else 0x80 | (ord(c) & 0x7F) for c in name)


def _decode_name(value: object) -> str:
    if isinstance(value, str):
        name = value
    elif isinstance(value, bytes) and len(value) >= 2 and value[0] != 0:
        base = value[0] << 7
        name = "".join(chr(b) if b < 0x80 else chr(base | (b & 0x7F)) for b in value[1:])
    else:
        raise SealFormatError("the holder's name is missing")
    if not name.strip():
        raise SealFormatError("the holder's name is missing")
    return name


def _encoded_size(name: str) -> int:
    encoded = _encode_name(name)
    return len(encoded) if isinstance(encoded, bytes) else len(encoded.encode("utf-8"))


def fit_name(name: str) -> tuple[str, bool]:
    """``name``, or its longest start within :data:`MAX_NAME_BYTES` and whether it was cut.

    A cut falls after a whole word where one fits, else between two letters (never before
    a vowel sign or after a virama, which would break a syllable)."""
    if _encoded_size(name) <= MAX_NAME_BYTES:
        return name, False
    cuts = [i for i in range(len(name) - 1, 0, -1) if _may_cut(name, i) and _encoded_size(name[:i]) <= MAX_NAME_BYTES]
    at_word = [i for i in cuts if name[i] == " "]
    cut = (at_word or cuts or [1])[0]
    return name[:cut].rstrip(), True


def _may_cut(name: str, i: int) -> bool:
    return not unicodedata.category(name[i]).startswith("M") and unicodedata.combining(name[i - 1]) != _VIRAMA
