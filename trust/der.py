"""Hand-assembled DER for structures whose shape is fixed and whose values are few.

asn1crypto copies, re-tags and re-encodes every value placed into a structure it
builds, which costs milliseconds for a CMS container or a time-stamp token. Where only
a digest, a time or a serial number changes between two encodings, the rest is encoded
once (by asn1crypto, so it is the same DER) and the changing values are spliced in.
"""

from __future__ import annotations

import functools
from datetime import datetime

from asn1crypto import core

SEQUENCE, SET, INTEGER, OCTET_STRING, OBJECT_IDENTIFIER = 0x30, 0x31, 0x02, 0x04, 0x06
UTC_TIME, GENERALIZED_TIME = 0x17, 0x18
CONTEXT_0, CONTEXT_1 = 0xA0, 0xA1  # constructed, context-specific


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def tlv(tag: int, content: bytes) -> bytes:
    """One DER value: a single-byte tag, its definite length, its contents."""
    return bytes([tag]) + _length(len(content)) + content


@functools.lru_cache(maxsize=64)
def oid(dotted: str) -> bytes:
    der: bytes = core.ObjectIdentifier(dotted).dump()
    return der


def integer(value: int) -> bytes:
    """A DER INTEGER: two's complement in the fewest octets (X.690 §8.3)."""
    return tlv(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def generalized_time(moment: datetime) -> bytes:
    """GeneralizedTime of a UTC time in whole seconds, as DER writes it (X.690 §11.7)."""
    return tlv(GENERALIZED_TIME, moment.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def utc_time(moment: datetime) -> bytes:
    """UTCTime of a UTC time in whole seconds (years 1950-2049)."""
    return tlv(UTC_TIME, moment.strftime("%y%m%d%H%M%SZ").encode("ascii"))
