"""The locker's pages in English, Punjabi (Gurmukhi) and Hindi.

Texts live in ``messages.yaml`` (data for translators, not code); a missing translation
falls back to English, and a missing key fails loudly at start-up through the test suite.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import yaml
from fastapi import Request

LANGUAGES = ("en", "pa", "hi")
LANGUAGE_NAMES = {"en": "English", "pa": "ਪੰਜਾਬੀ", "hi": "हिन्दी"}
LANGUAGE_COOKIE = "sanad_lang"


@cache
def messages() -> dict[str, dict[str, str]]:
    loaded = yaml.safe_load((Path(__file__).parent / "messages.yaml").read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def pick_language(request: Request) -> str:
    """``?lang=`` first, then the remembered choice, then the browser's preference."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def translator(language: str) -> Callable[..., str]:
    table = messages()

    def translate(key: str, **values: object) -> str:
        entry = table.get(key)
        if entry is None:
            raise KeyError(f"no message {key!r} in locker/messages.yaml")
        text = entry.get(language) or entry["en"]
        return text.format(**values) if values else text

    return translate
