"""The languages Sanad speaks and a text in all of them: the primitives every domain shares.

Punjab's certificates and pages are in English, Punjabi (Gurmukhi) and Hindi (Devanagari);
this is the one place that list is written down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Language = Literal["en", "pa", "hi"]
LANGUAGES: tuple[Language, ...] = ("en", "pa", "hi")
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "pa": "ਪੰਜਾਬੀ", "hi": "हिन्दी"}


@dataclass(frozen=True)
class LocalizedText:
    """One piece of text in the three languages a Punjab certificate is printed in."""

    en: str
    """English."""
    pa: str
    """Punjabi, in Gurmukhi script."""
    hi: str
    """Hindi, in Devanagari script."""

    def in_language(self, language: str) -> str:
        """The text in ``language``, English when that one is empty."""
        return str(getattr(self, language, None) or self.en)
