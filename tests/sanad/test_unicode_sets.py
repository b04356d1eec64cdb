"""The written-out code point sets are exactly what ``unicodedata`` says, for every code
point: a Python with another Unicode version fails here, naming the ranges to write."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable

import pytest

from sanad.unicode_sets import (
    CONTROL_CHARACTERS,
    FORMAT_CHARACTERS,
    GURMUKHI_OR_DEVANAGARI_NAMED,
    LOWERCASE_TO_ENGLISH_LETTER,
    CodePointRanges,
    character_class,
)

EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))


def runs(belongs: Callable[[str], bool]) -> CodePointRanges:
    """The maximal runs of consecutive code points that belong."""
    found: list[tuple[int, int]] = []
    for code_point, char in enumerate(EVERY_CHARACTER):
        if not belongs(char):
            continue
        if found and found[-1][1] == code_point - 1:
            found[-1] = (found[-1][0], code_point)
        else:
            found.append((code_point, code_point))
    return tuple(found)


def written(ranges: CodePointRanges) -> str:
    return "\n".join(f"    (0x{first:04X}, 0x{last:04X})," for first, last in ranges)


@pytest.mark.parametrize(
    ("ranges", "belongs"),
    [
        (FORMAT_CHARACTERS, lambda char: unicodedata.category(char) == "Cf"),
        (CONTROL_CHARACTERS, lambda char: unicodedata.category(char) == "Cc"),
        (
            GURMUKHI_OR_DEVANAGARI_NAMED,
            lambda char: unicodedata.name(char, "").startswith(("GURMUKHI", "DEVANAGARI")),
        ),
        (LOWERCASE_TO_ENGLISH_LETTER, lambda char: "a" <= char.lower() <= "z"),
    ],
    ids=["Cf", "Cc", "named GURMUKHI or DEVANAGARI", "lowercase a-z"],
)
def test_the_ranges_are_those_of_this_unicode_version(ranges: CodePointRanges, belongs: Callable[[str], bool]) -> None:
    expected = runs(belongs)

    assert ranges == expected, (
        f"Unicode {unicodedata.unidata_version} differs; write these ranges in sanad/unicode_sets.py:\n"
        + written(expected)
    )


@pytest.mark.parametrize(
    "ranges", [FORMAT_CHARACTERS, CONTROL_CHARACTERS, GURMUKHI_OR_DEVANAGARI_NAMED, LOWERCASE_TO_ENGLISH_LETTER]
)
def test_the_character_class_matches_every_code_point_of_its_ranges_and_no_other(ranges: CodePointRanges) -> None:
    matched = [found.start() for found in character_class(ranges).finditer(EVERY_CHARACTER)]

    assert matched == [code_point for first, last in ranges for code_point in range(first, last + 1)]
