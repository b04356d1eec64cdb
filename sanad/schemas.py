"""Response pieces every domain's API shares."""

from __future__ import annotations

from pydantic import BaseModel

from sanad.i18n import LocalizedText


class Localized(BaseModel):
    """A text in English, Punjabi (Gurmukhi) and Hindi (Devanagari)."""

    en: str
    pa: str
    hi: str

    @classmethod
    def of(cls, text: LocalizedText) -> Localized:
        return cls(en=text.en, pa=text.pa, hi=text.hi)
