"""Text that is printed and signed carries nothing a reader cannot see."""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable

import pytest

from sanad.text import UnsafeText, clean_text
from tests.sanad.text_reference import mixed_strings, reference_clean_text


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("\u202eGurpreet\u202c Singh", "U+202E"),
        ("Gurpreet\u2066 Singh", "U+2066"),
        ("Gur\u200bpreet", "U+200B"),
        ("\ufeffGurpreet", "U+FEFF"),
        ("Gur\u200dpreet", "U+200D"),  # a joiner between Latin letters joins nothing
        ("ਗੁਰਪ੍ਰੀਤ\u200e", "U+200E"),
        ("Gurpreet\u00ad", "U+00AD"),
    ],
)
def test_invisible_characters_are_refused(text: str, found: str) -> None:
    with pytest.raises(UnsafeText, match=re.escape(found)):
        clean_text(text)


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(UnsafeText, match="lone surrogate"):
        clean_text("Gurpreet\ud800")


@pytest.mark.parametrize("text", ["ਕ੍\u200dਰ", "क्\u200dष", "ਸਿੰਘ\u200cਜੀ", "Gurpreet Singh", "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ"])
def test_real_names_pass_unchanged(text: str) -> None:
    assert clean_text(text) == text


def test_text_comes_out_in_nfc() -> None:
    decomposed = "ਜ਼ਿਲ੍ਹਾ".replace("ਜ਼", "ਜ\u0a3c")

    assert clean_text(decomposed) == "ਜ਼ਿਲ੍ਹਾ"


# --- the same answers as the character-by-character checks they replaced ------------


def outcome(check: Callable[[str], str], text: str) -> tuple[str, str]:
    try:
        return "clean", check(text)
    except UnsafeText as unsafe:
        return "unsafe", str(unsafe)


def test_mixed_text_gets_the_answers_of_the_per_character_checks() -> None:
    seen: Counter[str] = Counter()
    for text in mixed_strings(seed=20261206, count=40_000):
        expected = outcome(reference_clean_text, text)

        assert outcome(clean_text, text) == expected, ascii(text)
        kind, answer = expected
        if kind == "clean" and ("\u200c" in answer or "\u200d" in answer):
            kind = "joiner kept"
        elif answer.endswith(("U+200C", "U+200D")):
            kind = "joiner refused"
        seen[answer.split(" U+")[0] if kind == "unsafe" else kind] += 1
    # Every answer the checks give came up often enough to have been compared.
    assert set(seen) == {
        "clean",
        "joiner kept",
        "joiner refused",
        "must be valid text (it contains a lone surrogate)",
        "must not contain the invisible direction control",
        "must not contain the invisible character",
    }
    assert min(seen.values()) >= 300, seen


@pytest.mark.parametrize("code_point", [*range(0x0900, 0x0980), *range(0x0A00, 0x0A80), 0x08FF, 0x0980, 0x09FF])
@pytest.mark.parametrize("joiner", ["\u200c", "\u200d"])
def test_a_joiner_beside_each_code_point_near_the_indic_blocks(code_point: int, joiner: str) -> None:
    for text in (f"ਕ{joiner}{chr(code_point)}", f"{chr(code_point)}{joiner}क", f"{chr(code_point)}{joiner}"):
        assert outcome(clean_text, text) == outcome(reference_clean_text, text), ascii(text)


def test_every_code_point_between_two_gurmukhi_letters_gets_the_per_character_answer() -> None:
    differ = [
        f"U+{code_point:04X}"
        for code_point in range(sys.maxunicode + 1)
        if outcome(clean_text, f"ਕ{chr(code_point)}ਕ") != outcome(reference_clean_text, f"ਕ{chr(code_point)}ਕ")
    ]

    assert differ == []
