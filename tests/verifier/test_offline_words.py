"""The offline checker (verify.js) speaks as the verifier's pages do: its verdicts' headlines
are the same plain words, in English, Punjabi and Hindi."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sanad.i18n import LANGUAGES
from verifier.plain_words import MESSAGES

SCRIPT = (Path(__file__).parents[2] / "verifier" / "static" / "offline" / "verify.js").read_text(encoding="utf-8")
SAME_HEADLINE = {
    "valid": "lookup.valid.title",
    "revoked": "lookup.revoked.title",
    "superseded": "lookup.superseded.title",
    "suspended": "lookup.suspended.title",
    "expired": "lookup.expired.title",
}
"""The checker's verdict → the QR page's headline for the same state of the register."""


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("verdict", "key"), SAME_HEADLINE.items())
def test_the_offline_checker_uses_the_pages_headline(verdict: str, key: str, language: str) -> None:
    headline = MESSAGES.translator(language)(key)
    assert f'"v.{verdict}": {json.dumps(headline, ensure_ascii=False)}' in SCRIPT


def test_suspended_says_until_reinstated_in_every_language() -> None:
    words = {language: MESSAGES.translator(language)("verdict.suspended.title") for language in LANGUAGES}
    assert words == {
        "en": "Suspended — do not accept until reinstated",
        "pa": "ਮੁਅੱਤਲ — ਬਹਾਲ ਹੋਣ ਤੱਕ ਸਵੀਕਾਰ ਨਾ ਕਰੋ",
        "hi": "निलंबित — बहाल होने तक स्वीकार न करें",
    }
    assert MESSAGES.translator("pa")("lookup.suspended.title") == words["pa"]
