"""Names across Gurmukhi and English, and dates of birth, against the certificate's own data."""

from __future__ import annotations

import pytest

from digilocker.matching import birth_date_matches, name_matches, normalize_name
from issuer.templates import TemplateSpec

NAMES = ["ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ", "Gurpreet Singh"]


@pytest.mark.parametrize(
    "given", ["Gurpreet Singh", "GURPREET  SINGH", "gurpreet singh.", "Singh Gurpreet", "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ", " ਗੁਰਪ੍ਰੀਤ   ਸਿੰਘ "]
)
def test_either_script_matches_after_normalisation(given: str) -> None:
    assert name_matches(given, NAMES)


@pytest.mark.parametrize("given", ["Gurpreet Kaur", "Gurpreet", "ਗੁਰਪ੍ਰੀਤ ਕੌਰ", "ਗੁਰਪ੍ਰਤ ਸਿੰਘ", "", "..."])
def test_another_name_does_not_match(given: str) -> None:
    assert not name_matches(given, NAMES)


def test_gurmukhi_vowel_signs_count() -> None:
    # ਗੁਰਪ੍ਰੀਤ without its vowel sign ੀ is another name, not the same one.
    assert normalize_name("ਗੁਰਪ੍ਰੀਤ") != normalize_name("ਗੁਰਪ੍ਰਤ")


def test_composed_and_decomposed_gurmukhi_are_one_name() -> None:
    # ਸ਼ (U+0A36) and ਸ + nukta (U+0A38 U+0A3C) are the same letter.
    assert name_matches("\u0a36\u0a3e\u0a28", ["\u0a38\u0a3c\u0a3e\u0a28"])


def test_date_of_birth_is_checked_where_the_template_has_one(templates: dict[str, TemplateSpec]) -> None:
    birth = templates["birth-certificate"]
    data: dict[str, object] = {"date_of_birth": "2026-02-14"}
    assert birth_date_matches("14-02-2026", birth, data)
    assert not birth_date_matches("15-02-2026", birth, data)
    assert not birth_date_matches(None, birth, data)
    assert not birth_date_matches("2026-14-02", birth, data)
    assert birth_date_matches(None, templates["income-certificate"], {})
