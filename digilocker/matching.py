"""Is the person asking the certificate's holder? Names and dates of birth as DigiLocker
sends them (from Aadhaar) against what the certificate says.

A Punjab certificate names its holder in Gurmukhi and in English (``holder_name`` and
``holder_name_en``); Aadhaar may spell the name in either script. A name matches when,
after normalisation, it equals either script's value on the certificate — the
certificate's own bilingual data is the transliteration, so no guessing is involved."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from issuer.templates import TemplateSpec

#: Suffix of the English spelling of a Gurmukhi text field in every template.
ENGLISH_SUFFIX = "_en"


def normalize_name(name: str) -> str:
    """Case, spacing, punctuation and Unicode composition do not count; letters, vowel
    signs and digits do (Gurmukhi vowel signs are marks, so marks are kept)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in folded)
    return " ".join(kept.split())


def _same_name(given: str, candidate: str) -> bool:
    a, b = normalize_name(given), normalize_name(candidate)
    if not a or not b:
        return False
    # Aadhaar sometimes orders a name surname first: the same words in another order match.
    return a == b or sorted(a.split()) == sorted(b.split())


def holder_names(spec: TemplateSpec, data: dict[str, object]) -> list[str]:
    """Every spelling of the holder's name the certificate carries."""
    names = [data.get(spec.holder_field), data.get(spec.holder_field + ENGLISH_SUFFIX)]
    return [str(n) for n in names if isinstance(n, str) and n.strip()]


def name_matches(given: str, names: list[str]) -> bool:
    return any(_same_name(given, candidate) for candidate in names)


def birth_date_field(spec: TemplateSpec) -> str | None:
    """The template's date of birth, if it has one (the holder's)."""
    for field in spec.fields:
        if field.type == "date" and "birth" in field.name:
            return field.name
    return None


def parse_request_date(value: str) -> date | None:
    """DigiLocker's ``DD-MM-YYYY`` (some deployments send ``DD/MM/YYYY`` or ISO)."""
    for pattern in ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


def birth_date_matches(given: str | None, spec: TemplateSpec, data: dict[str, object]) -> bool:
    """True where the template has no date of birth; otherwise the request must carry
    the same date."""
    field = birth_date_field(spec)
    if field is None:
        return True
    on_certificate = data.get(field)
    parsed = parse_request_date(given) if given else None
    return parsed is not None and isinstance(on_certificate, str) and parsed.isoformat() == on_certificate
