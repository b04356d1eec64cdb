"""The intake pages' texts in English, Punjabi (Gurmukhi) and Hindi.

Texts live in ``messages.yaml`` next to this module (data for translators, not code);
the language is chosen exactly as on the locker's pages (:func:`locker.i18n.pick_language`),
so a citizen's choice carries from the locker to the application forms and back.
A missing translation falls back to English; a missing key fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import yaml

from locker.i18n import LANGUAGE_NAMES, LANGUAGES, pick_language

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "messages", "pick_language", "translator"]


@cache
def messages() -> dict[str, dict[str, str]]:
    loaded = yaml.safe_load((Path(__file__).parent / "messages.yaml").read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def translator(language: str) -> Callable[..., str]:
    table = messages()

    def translate(key: str, **values: object) -> str:
        entry = table.get(key)
        if entry is None:
            raise KeyError(f"no message {key!r} in intake/messages.yaml")
        text = entry.get(language) or entry["en"]
        return text.format(**values) if values else text

    return translate
