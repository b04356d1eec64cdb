"""The English spelling suggested for Gurmukhi names and places: the spelling people and
offices use, measured on common names, districts and address words."""

from __future__ import annotations

import time

import pytest

from intake.transliteration import suggest_english

# Common Punjabi names, district towns and addresses, as Punjab's offices spell them.
SPELLINGS = {
    "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ": "Gurpreet Singh",
    "ਹਰਜੀਤ ਸਿੰਘ": "Harjeet Singh",
    "ਮਨਪ੍ਰੀਤ ਕੌਰ": "Manpreet Kaur",
    "ਬਲਵਿੰਦਰ ਸਿੰਘ": "Balwinder Singh",
    "ਗੁਰਮੇਲ ਸਿੰਘ": "Gurmel Singh",
    "ਹਰਦੀਪ ਸਿੰਘ": "Hardeep Singh",
    "ਜਸਵੰਤ ਸਿੰਘ": "Jaswant Singh",
    "ਨਵਜੋਤ ਕੌਰ": "Navjot Kaur",
    "ਸੁਖਵਿੰਦਰ ਕੌਰ": "Sukhwinder Kaur",
    "ਅਮਰਜੀਤ ਕੌਰ": "Amarjeet Kaur",
    "ਪਰਮਜੀਤ ਸਿੰਘ": "Paramjeet Singh",
    "ਰਾਜਿੰਦਰ ਸਿੰਘ": "Rajinder Singh",
    "ਕੁਲਦੀਪ ਸਿੰਘ": "Kuldeep Singh",
    "ਸਿਮਰਨਜੀਤ ਕੌਰ": "Simranjeet Kaur",
    "ਹਰਪ੍ਰੀਤ ਕੌਰ": "Harpreet Kaur",
    "ਜਗਦੀਪ ਸਿੰਘ": "Jagdeep Singh",
    "ਵਿਕਰਮ": "Vikram",
    "ਲੁਧਿਆਣਾ": "Ludhiana",
    "ਪਟਿਆਲਾ": "Patiala",
    "ਜਲੰਧਰ": "Jalandhar",
    "ਅੰਮ੍ਰਿਤਸਰ": "Amritsar",
    "ਬਠਿੰਡਾ": "Bathinda",
    "ਨਾਭਾ": "Nabha",
    "ਮੋਗਾ": "Moga",
    "ਫ਼ਿਰੋਜ਼ਪੁਰ": "Firozpur",
    "ਰਵਿਦਾਸੀਆ": "Ravidasia",
    "ਪਿੰਡ ਖੇੜੀ, ਡਾਕਖਾਨਾ ਸਮਰਾਲਾ": "Village Kheri, Post Office Samrala",
    "ਮਕਾਨ ਨੰ. 112, ਵਾਰਡ ਨੰ. 7, ਨਾਭਾ ਰੋਡ": "House No. 112, Ward No. 7, Nabha Road",
    "ਪਿੰਡ ਬੱਲਾਂ, ਡਾਕਖਾਨਾ ਕਿਸ਼ਨਗੜ੍ਹ": "Village Ballan, Post Office Kishangarh",
    "ਮਕਾਨ ਨੰ. ੧੨": "House No. 12",
}
# Spelt by convention rather than by sound: the holder corrects these.
IRREGULAR = {"ਹੁਸ਼ਿਆਰਪੁਰ": "Hoshiarpur", "ਕਪੂਰਥਲਾ": "Kapurthala"}


@pytest.mark.parametrize(("gurmukhi", "english"), SPELLINGS.items())
def test_common_names_and_places_are_spelt_as_offices_spell_them(gurmukhi: str, english: str) -> None:
    assert suggest_english(gurmukhi) == english


def test_irregular_spellings_are_only_close() -> None:
    suggested = {gurmukhi: suggest_english(gurmukhi) for gurmukhi in IRREGULAR}

    assert suggested == {"ਹੁਸ਼ਿਆਰਪੁਰ": "Hushiarpur", "ਕਪੂਰਥਲਾ": "Kapoorathla"}


def test_latin_text_and_punctuation_are_kept() -> None:
    assert suggest_english("House 14, Model Town") == "House 14, Model Town"
    assert suggest_english("") == ""


def test_a_suggestion_takes_microseconds() -> None:
    values = list(SPELLINGS) * 100
    started = time.perf_counter()
    for value in values:
        suggest_english(value)
    per_value = (time.perf_counter() - started) / len(values)

    assert per_value < 0.001  # measured ~10 µs; a form has a handful of such fields
