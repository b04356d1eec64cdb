"""Exact sets of code points, by Unicode property, for text checks that search in C.

Asking ``unicodedata`` about every character of every value cost most of the time of
checking a request's data; a regular expression's character class finds the same
characters without a Python loop. The ranges are written out because deriving them at
import means asking about all 1,114,112 code points (~0.3 s in every process). They are
those of Unicode 14.0, the version of Python 3.11's ``unicodedata``:
``tests/sanad/test_unicode_sets.py`` compares each set with ``unicodedata`` over every
code point, so another Unicode version fails there, printing the ranges to write here.
"""

from __future__ import annotations

import re

CodePointRanges = tuple[tuple[int, int], ...]
"""Inclusive ``(first, last)`` code point ranges; each set below lists its maximal runs in order."""

FORMAT_CHARACTERS: CodePointRanges = (
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
"""General category ``Cf``: invisible characters that change how the text around them
is shown or joined (soft hyphen, zero-width space and joiners, direction controls, ...)."""

CONTROL_CHARACTERS: CodePointRanges = ((0x0000, 0x001F), (0x007F, 0x009F))
"""General category ``Cc`` (C0 and C1 controls); Unicode's stability policy fixes it."""

GURMUKHI_OR_DEVANAGARI_NAMED: CodePointRanges = (
    (0x0900, 0x097F),
    (0x0A01, 0x0A03),
    (0x0A05, 0x0A0A),
    (0x0A0F, 0x0A10),
    (0x0A13, 0x0A28),
    (0x0A2A, 0x0A30),
    (0x0A32, 0x0A33),
    (0x0A35, 0x0A36),
    (0x0A38, 0x0A39),
    (0x0A3C, 0x0A3C),
    (0x0A3E, 0x0A42),
    (0x0A47, 0x0A48),
    (0x0A4B, 0x0A4D),
    (0x0A51, 0x0A51),
    (0x0A59, 0x0A5C),
    (0x0A5E, 0x0A5E),
    (0x0A66, 0x0A76),
    (0xA8F2, 0xA8FF),
)
"""Characters whose Unicode name starts with ``GURMUKHI`` or ``DEVANAGARI``: the assigned
code points of the two blocks, and the letter-like signs of Devanagari Extended (its
combining digits are named ``COMBINING DEVANAGARI ...`` and are not here)."""

LOWERCASE_TO_ENGLISH_LETTER: CodePointRanges = (
    (0x0041, 0x005A),
    (0x0061, 0x007A),
    (0x0130, 0x0130),
    (0x212A, 0x212A),
)
"""Characters ``ch`` with ``"a" <= ch.lower() <= "z"``: the English letters, ``İ``
(lowercased ``i`` and a combining dot) and the Kelvin sign (lowercased ``k``)."""


def character_class(ranges: CodePointRanges) -> re.Pattern[str]:
    """A pattern matching one character of ``ranges``."""
    return re.compile("[" + "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in ranges) + "]")
