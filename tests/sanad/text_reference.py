"""The reference the text checks must agree with: :func:`sanad.text.clean_text` as first
written, asking ``unicodedata`` character by character, and random short strings mixing
what the checks tell apart: Latin, Gurmukhi and Devanagari (composed and decomposed),
joiners between and beside Indic letters, direction controls and other format
characters, controls, whitespace, lone surrogates and any code point at all."""

from __future__ import annotations

import random
import sys
import unicodedata
from collections.abc import Iterator

from sanad.text import UnsafeText

_LATIN = tuple("GurpreSingh zZaA-.,'09")
_GURMUKHI = tuple("ਗੁਰਪ੍ਰੀਤਸਿੰਘਕਜ਼ਲ੍ਹਾ")
_DEVANAGARI = tuple("गुरप्रीतसिंहक्षक़")
_JOINERS = ("\u200c", "\u200d", "\u200d", "\u200c\u200d")
_PIECES: tuple[tuple[str, ...], ...] = (
    _LATIN,
    _GURMUKHI,
    _DEVANAGARI,
    tuple(chr(code_point) for code_point in range(0x0A00, 0x0A80)),  # assigned and not
    tuple(chr(code_point) for code_point in (*range(0x0900, 0x0980), *range(0xA8E0, 0xA900))),
    ("ਜ\u0a3c", "क\u093c", "e\u0301", "\u0a3c", "\u093c", "\u0301"),  # NFC composes é, keeps ਜ਼ and क़ decomposed
    _JOINERS,
    tuple("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    tuple("\u00ad\u0600\u070f\u180e\u200b\u2060\u2064\ufeff\ufffb\U000110bd\U0001d173\U000e0001\U000e0041"),
    tuple("\x00\x07\x1f\x7f\x85\x9f"),
    tuple(" \t\n\u00a0\u2028\u3000"),
    ("\u0130", "\u212a", "\u0131", "\u00e9", "\u00df", "\ufb01"),  # İ, Kelvin, ı, é, ß, ﬁ
    ("\ud800", "\udbff", "\udc00", "\udfff"),
)


def mixed_strings(seed: int, count: int) -> Iterator[str]:
    """``count`` strings of up to 12 pieces, each drawn from one to three kinds of piece (a
    quarter of them Indic letters and joiners, so that joiners often stand between Indic
    letters); one piece in 20 is any code point."""
    chooser = random.Random(seed)
    for _ in range(count):
        if chooser.random() < 0.25:
            kinds = [_JOINERS, chooser.choice((_GURMUKHI, _DEVANAGARI)), chooser.choice(_PIECES)]
        else:
            kinds = chooser.sample(_PIECES, chooser.randint(1, 3))
        pieces = []
        for _ in range(chooser.randint(0, 12)):
            if chooser.random() < 0.05:
                pieces.append(chr(chooser.randint(0, sys.maxunicode)))
            else:
                pieces.append(chooser.choice(chooser.choice(kinds)))
        yield "".join(pieces)


_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INDIC_BLOCKS = ((0x0900, 0x097F), (0x0A00, 0x0A7F))


def reference_clean_text(text: str) -> str:
    """:func:`clean_text` as it was written first, asking ``unicodedata`` per character."""
    if any(0xD800 <= ord(char) <= 0xDFFF for char in text):
        raise UnsafeText("must be valid text (it contains a lone surrogate)")
    text = unicodedata.normalize("NFC", text)
    for index, char in enumerate(text):
        if char in _BIDI_CONTROLS:
            raise UnsafeText(f"must not contain the invisible direction control U+{ord(char):04X}")
        if unicodedata.category(char) == "Cf":
            if (
                char in "\u200c\u200d"
                and 0 < index < len(text) - 1
                and all(
                    any(low <= ord(text[side]) <= high for low, high in _INDIC_BLOCKS)
                    for side in (index - 1, index + 1)
                )
            ):
                continue
            raise UnsafeText(f"must not contain the invisible character U+{ord(char):04X}")
    return text
