"""Which language a page speaks, and a domain's texts in that language.

Each domain keeps its texts in a ``messages.yaml`` next to its code (data for translators,
not code) and reads it through one :class:`Messages`. A missing translation falls back to
English; a missing key fails loudly, so a page that names one fails in the test suite.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from fastapi import Request

from sanad.i18n import LANGUAGES

LANGUAGE_COOKIE = "sanad_lang"
"""The reader's remembered choice. One cookie for every domain, so a choice made on the
locker's pages carries to the application forms and back."""

Translate = Callable[..., str]
"""``t(key, **values)``: one text in one language, its ``{placeholders}`` filled."""


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


class Messages:
    """One domain's texts: ``key: {en: ..., pa: ..., hi: ...}`` read from a YAML file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"{path.parent.name}/{path.name}"
        """How errors name the file: ``locker/messages.yaml``."""

    @cached_property
    def table(self) -> dict[str, dict[str, str]]:
        """Every text, by key then language; read on first use."""
        loaded = yaml.safe_load(self.path.read_text("utf-8"))
        assert isinstance(loaded, dict)
        return loaded

    def translator(self, language: str) -> Translate:
        table = self.table

        def translate(key: str, **values: object) -> str:
            entry = table.get(key)
            if entry is None:
                raise KeyError(f"no message {key!r} in {self.name}")
            text = entry.get(language) or entry["en"]
            return text.format(**values) if values else text

        return translate


def localized(text: Any, language: str) -> str:
    """One language of a ``LocalizedText`` (or anything with ``en``/``pa``/``hi``),
    English when that one is empty."""
    return str(getattr(text, language, None) or text.en)


def whole_minutes(seconds: int) -> int:
    """A wait as people are told it: whole minutes, rounded up, at least one."""
    return max(1, -(-seconds // 60))
