"""Text that is printed and signed carries nothing a reader cannot see."""

from __future__ import annotations

import re

import pytest

from sanad.text import UnsafeText, clean_text


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
