"""Checking a citizen's answers against a service's form, and turning them into the data
of the certificate that approval issues."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import TypeGuard

from intake import financial_years
from intake.catalogue import EMAIL_MAX_LENGTH, FormField, ServiceSpec
from intake.form_messages import LANGUAGES, Language, message
from intake.transliteration import suggest_english
from sanad.clock import today_in_india
from sanad.errors import FieldError, InvalidInput
from sanad.mobile import normalize_mobile
from sanad.text import UnsafeText, clean_text

# Digits of any script: a citizen may type ੨੦੨੫ or २०२५; int() reads them all. Digits may
# be grouped with commas the Indian way (1,80,000) or the international way (180,000).
_WHOLE_NUMBER = re.compile(r"-?\d+")
_INDIAN_GROUPING = re.compile(r"-?\d{1,2}(,\d\d)*,\d{3}")
_INTERNATIONAL_GROUPING = re.compile(r"-?\d{1,3}(,\d{3})+")
_ISO_DATE = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Deliverability is the mail server's business; this catches what is plainly not an address.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def validate_form(
    service: ServiceSpec,
    values: object,
    language: Language,
    *,
    only: Collection[str] | None = None,
    today: date | None = None,
) -> dict[str, object]:
    """Check answers against ``service``'s form and return them cleaned.

    Every problem is reported at once as :class:`InvalidInput`, one
    ``FieldError(<field name>, <message in language>)`` each, in form order, then
    unknown fields; each message names its field. Cleaning: strings are NFC-normalised
    and their whitespace runs collapse to one space (the certificate template does the
    same, so lengths agree); blank and ``null`` optional answers are dropped; numbers
    become ``int`` (strings of digits are accepted, as HTML forms send them, grouped with
    commas or not); dates stay ``YYYY-MM-DD`` strings; mobile numbers become ten digits;
    financial years (:mod:`intake.financial_years`) become ``YYYY-YY``. Keys come out in
    form order.

    ``only`` checks just those fields (the answers to a return: the fields the officer
    marked); any other key is then unknown. ``today`` (India) bounds financial years.
    The service's officer fields are refused by name: the office fills them.
    """
    asked = [field for field in service.fields if only is None or field.name in only]
    officers = {field.name: field for field in service.officer_fields}
    return _validate(asked, values, language, today, refused=officers)


def validate_officer_fields(
    service: ServiceSpec, values: object, language: Language, *, today: date | None = None
) -> dict[str, object]:
    """Check what the deciding officer filled in ``service``'s officer fields, with the
    same rules and messages as the citizen's answers (:func:`validate_form`)."""
    return _validate(list(service.officer_fields), values, language, today, refused={})


def _validate(
    asked: Sequence[FormField],
    values: object,
    language: Language,
    today: date | None,
    *,
    refused: Mapping[str, FormField],
) -> dict[str, object]:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    if not isinstance(values, Mapping):
        raise InvalidInput([FieldError("form", message("not_object", language))])
    today = today or today_in_india()
    errors: list[FieldError] = []
    cleaned: dict[str, object] = {}
    for field in asked:
        value, why = _clean(field, values.get(field.name), language, today)
        if why is None and value is None and field.english_of in cleaned:
            # An optional name, once given, is printed by the English paragraph too.
            why = _Why("required")
        if why is not None and why.key == "required" and field.english_of in cleaned:
            # The holder is asked to confirm a spelling, not to invent one.
            why = _Why("english_suggested", suggestion=suggest_english(str(cleaned[field.english_of])))
        if why is not None:
            errors.append(
                FieldError(field.name, message(why.key, language, label=label_of(field, language), **why.values))
            )
        elif value is not None:
            cleaned[field.name] = value
    known = {field.name for field in asked}
    for key in values:
        if key in known:
            continue
        if key in refused:
            errors.append(
                FieldError(str(key), message("officer_only", language, label=label_of(refused[key], language)))
            )
        else:
            errors.append(FieldError(str(key), message("unknown", language, label=str(key)[:64])))
    if errors:
        raise InvalidInput(errors)
    return cleaned


def label_of(field: FormField, language: Language) -> str:
    """The question as the form prints it in ``language``."""
    return str(getattr(field.label, language, "") or field.label.en)


def certificate_data(
    service: ServiceSpec, cleaned: Mapping[str, object], officer: Mapping[str, object] | None = None
) -> dict[str, object]:
    """The ``data`` of the certificate approval issues, from answers :func:`validate_form`
    returned and what the officer filled (:func:`validate_officer_fields`). The catalogue
    loader has proved that it passes the template's checks."""
    rule = service.certificate
    answers = {**cleaned, **(officer or {})}
    data = {target: answers[source] for target, source in rule.data.items() if source in answers}
    data.update(rule.fixed)
    return data


class _Why:
    """Why an answer is refused: a message key and its values (the field's label is added
    only when the message is written, in :func:`validate_form`)."""

    __slots__ = ("key", "values")

    def __init__(self, key: str, **values: object) -> None:
        self.key, self.values = key, values


def is_financial_year(field: FormField) -> bool:
    """A text field that declares the financial-year pattern: read as a financial year."""
    pattern = field.validation.pattern
    return field.type == "text" and pattern is not None and pattern.pattern == financial_years.PATTERN


def _clean(field: FormField, value: object, language: Language, today: date) -> tuple[object, _Why | None]:
    """Return ``(cleaned value or None if absent, why it is refused or None)``."""
    if isinstance(value, str):
        try:
            value = " ".join(clean_text(value).split()) or None
        except UnsafeText:
            return None, _Why("invisible_characters")
    if value is None:
        return None, _Why("required") if field.required else None

    rules = field.validation
    if field.type == "text":
        if not isinstance(value, str):
            return None, _Why("not_text")
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            return None, _Why("control_characters")
        if is_financial_year(field):
            try:
                value = financial_years.read_financial_year(value, today)
            except financial_years.NotAFinancialYear as e:
                return None, _Why(e.reason, **e.values)
        if rules.max_length is not None and len(value) > rules.max_length:
            return None, _Why("too_long", max_length=rules.max_length, length=len(value))
        if rules.pattern is not None and not rules.pattern.fullmatch(value):
            return None, _Why("pattern")
        return value, None

    if field.type == "number":
        number = _whole_number(value)
        if number is None:
            return None, _Why("not_number")
        if rules.min is not None and number < rules.min:
            return None, _Why("too_small", min=rules.min)
        if rules.max is not None and number > rules.max:
            return None, _Why("too_large", max=rules.max)
        return number, None

    if field.type == "date":
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            return None, _Why("date_format")
        try:
            return date.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, _Why("not_a_date")

    if field.type == "choice":
        if isinstance(value, str) and any(choice.value == value for choice in rules.choices):
            return value, None
        labels = ", ".join(getattr(choice.label, language) for choice in rules.choices)
        return None, _Why("not_a_choice", choices=labels)

    if field.type == "mobile":
        # A JSON client may send the number as a number; a citizen may type it in Gurmukhi
        # or Devanagari digits, with +91, spaces or a leading 0 (normalize_mobile drops those).
        digits = str(value) if _is_int(value) else value
        if isinstance(digits, str):
            try:
                return normalize_mobile(digits if digits.isascii() else _ascii_digits(digits)), None
            except ValueError:
                pass
        return None, _Why("not_a_mobile")

    # email
    longest = rules.max_length or EMAIL_MAX_LENGTH
    if not isinstance(value, str) or not _EMAIL.fullmatch(value):
        return None, _Why("not_an_email")
    if len(value) > longest:
        return None, _Why("too_long", max_length=longest, length=len(value))
    return value, None


def _whole_number(value: object) -> int | None:
    if _is_int(value):
        return value
    if not isinstance(value, str):
        return None
    if _INDIAN_GROUPING.fullmatch(value) or _INTERNATIONAL_GROUPING.fullmatch(value):
        value = value.replace(",", "")
    if _WHOLE_NUMBER.fullmatch(value):
        try:
            return int(value)
        except ValueError:  # beyond Python's limit on digits in a string
            return None
    return None


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def _is_int(value: object) -> TypeGuard[int]:
    # JSON booleans load as bool, which Python counts as int.
    return isinstance(value, int) and not isinstance(value, bool)
