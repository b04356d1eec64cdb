"""Altering a signed PDF the way a forger would: one byte of its content changed,
the file's structure left intact, so only the signature's digest can tell."""

from __future__ import annotations

import re

_STREAM = re.compile(rb"/Length (\d+)\b[^>]*>>\s*stream\r?\n")


def content_byte(pdf: bytes) -> int:
    """The offset of a byte in the middle of the file's largest stream (a font program):
    inside the signed revision, and not part of anything the parser must read to find
    the signature."""
    streams = [(int(m.group(1)), m.end()) for m in _STREAM.finditer(pdf)]
    length, start = max(streams)
    return start + length // 2


def alter_content(pdf: bytes) -> bytes:
    """``pdf`` with one bit of one content byte flipped."""
    tampered = bytearray(pdf)
    tampered[content_byte(pdf)] ^= 0x01
    return bytes(tampered)
