"""Checks on text that will be printed and signed: no characters a reader cannot see.

A name carrying U+202E (right-to-left override) printed "teerpruG Singh" on a signed
certificate, and zero-width characters make two names that look the same compare
different. Text is NFC-normalised, and refused when it holds:

- a lone surrogate (not text at all; it cannot even be stored as UTF-8);
- a bidirectional control (embeddings, overrides, isolates and marks);
- any other invisible format character, except the zero-width joiner and non-joiner
  between two letters of an Indic script, where they choose a conjunct's form
  (ਕ੍‍ਰ, क्‍ष) and are part of how the name is written.
"""

from __future__ import annotations

import re
import unicodedata

from sanad.unicode_sets import FORMAT_CHARACTERS, character_class

_SURROGATE = re.compile("[\ud800-\udfff]")
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_JOINERS = frozenset("\u200c\u200d")
# Every character the loop below must look at. The direction controls are format
# characters too; naming them keeps them refused whatever a Unicode version says.
_INVISIBLE_RANGES = FORMAT_CHARACTERS + tuple((ord(char), ord(char)) for char in sorted(_BIDI_CONTROLS))
_INVISIBLE = character_class(_INVISIBLE_RANGES)
# Text without any of these has no invisible character either: all characters beyond the
# BMP stand in for the few that are format characters, because a character class tests
# those ranges one by one at every position (twice the time on Gurmukhi text).
_MAYBE_INVISIBLE = character_class(
    (*((first, min(last, 0xFFFF)) for first, last in _INVISIBLE_RANGES if first <= 0xFFFF), (0x10000, 0x10FFFF))
)
# Gurmukhi and Devanagari, the scripts of Punjab's certificates besides Latin.
_INDIC_BLOCKS = ((0x0900, 0x097F), (0x0A00, 0x0A7F))


class UnsafeText(ValueError):
    """Text a reader could be misled by; the message says what was found, for a person."""


def has_lone_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def _is_indic(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in _INDIC_BLOCKS)


def _joiner_between_indic_letters(text: str, index: int) -> bool:
    return 0 < index < len(text) - 1 and _is_indic(text[index - 1]) and _is_indic(text[index + 1])


def clean_text(text: str) -> str:
    """``text`` in NFC, or :class:`UnsafeText` naming the first invisible character."""
    if text.isascii():
        # ASCII is NFC already and holds neither a surrogate nor a format character.
        return text
    if has_lone_surrogate(text):
        raise UnsafeText("must be valid text (it contains a lone surrogate)")
    text = unicodedata.normalize("NFC", text)
    if _MAYBE_INVISIBLE.search(text) is None:
        return text
    for found in _INVISIBLE.finditer(text):
        char = found.group()
        if char in _BIDI_CONTROLS:
            raise UnsafeText(f"must not contain the invisible direction control U+{ord(char):04X}")
        if char in _JOINERS and _joiner_between_indic_letters(text, found.start()):
            continue
        raise UnsafeText(f"must not contain the invisible character U+{ord(char):04X}")
    return text
