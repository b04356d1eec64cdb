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

_SURROGATE = re.compile("[\ud800-\udfff]")
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_JOINERS = frozenset("\u200c\u200d")
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
    if has_lone_surrogate(text):
        raise UnsafeText("must be valid text (it contains a lone surrogate)")
    text = unicodedata.normalize("NFC", text)
    for index, char in enumerate(text):
        if char in _BIDI_CONTROLS:
            raise UnsafeText(f"must not contain the invisible direction control U+{ord(char):04X}")
        if unicodedata.category(char) == "Cf":
            if char in _JOINERS and _joiner_between_indic_letters(text, index):
                continue
            raise UnsafeText(f"must not contain the invisible character U+{ord(char):04X}")
    return text
