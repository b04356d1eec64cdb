"""Checking a citizen's answers against a service's form, and turning them into the data
of the certificate that approval issues."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import TypeGuard

from intake.catalogue import EMAIL_MAX_LENGTH, FormField, ServiceSpec
from intake.form_messages import LANGUAGES, Language, message
from sanad.errors import FieldError, InvalidInput
from sanad.mobile import normalize_mobile
from sanad.text import UnsafeText, clean_text

# Digits of any script: a citizen may type ੨੦੨੫ or २०२५; int() reads them all.
_WHOLE_NUMBER = re.compile(r"-?\d+")
_ISO_DATE = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Deliverability is the mail server's business; this catches what is plainly not an address.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def validate_form(service: ServiceSpec, values: object, language: Language) -> dict[str, object]:
    """Check answers against ``service``'s form and return them cleaned.

    Every problem is reported at once as :class:`InvalidInput`, one
    ``FieldError(<field name>, <message in language>)`` each, in form order, then
    unknown fields. Cleaning: strings are NFC-normalised and their whitespace runs
    collapse to one space (the certificate template does the same, so lengths agree);
    blank and ``null`` optional answers are dropped; numbers become ``int`` (strings of
    digits are accepted, as HTML forms send them); dates stay ``YYYY-MM-DD`` strings;
    mobile numbers become ten digits. Keys come out in form order.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    if not isinstance(values, Mapping):
        raise InvalidInput([FieldError("form", message("not_object", language))])
    errors: list[FieldError] = []
    cleaned: dict[str, object] = {}
    for field in service.fields:
        value, problem = _clean(field, values.get(field.name), language)
        if problem is not None:
            errors.append(FieldError(field.name, problem))
        elif value is not None:
            cleaned[field.name] = value
    known = {field.name for field in service.fields}
    errors.extend(FieldError(str(key), message("unknown", language)) for key in values if key not in known)
    if errors:
        raise InvalidInput(errors)
    return cleaned


def certificate_data(service: ServiceSpec, cleaned: Mapping[str, object]) -> dict[str, object]:
    """The ``data`` of the certificate approval issues, from answers :func:`validate_form`
    returned. The catalogue loader has proved that it passes the template's checks."""
    rule = service.certificate
    data = {target: cleaned[source] for target, source in rule.data.items() if source in cleaned}
    data.update(rule.fixed)
    return data


def _clean(field: FormField, value: object, language: Language) -> tuple[object, str | None]:
    """Return ``(cleaned value or None if absent, message or None)``."""
    if isinstance(value, str):
        try:
            value = " ".join(clean_text(value).split()) or None
        except UnsafeText:
            return None, message("invisible_characters", language)
    if value is None:
        return None, message("required", language) if field.required else None

    rules = field.validation
    if field.type == "text":
        if not isinstance(value, str):
            return None, message("not_text", language)
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            return None, message("control_characters", language)
        if rules.max_length is not None and len(value) > rules.max_length:
            return None, message("too_long", language, max_length=rules.max_length)
        if rules.pattern is not None and not rules.pattern.fullmatch(value):
            return None, message("pattern", language)
        return value, None

    if field.type == "number":
        number = _whole_number(value)
        if number is None:
            return None, message("not_number", language)
        if rules.min is not None and number < rules.min:
            return None, message("too_small", language, min=rules.min)
        if rules.max is not None and number > rules.max:
            return None, message("too_large", language, max=rules.max)
        return number, None

    if field.type == "date":
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            return None, message("date_format", language)
        try:
            return date.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, message("not_a_date", language)

    if field.type == "choice":
        if isinstance(value, str) and any(choice.value == value for choice in rules.choices):
            return value, None
        labels = ", ".join(getattr(choice.label, language) for choice in rules.choices)
        return None, message("not_a_choice", language, choices=labels)

    if field.type == "mobile":
        # A JSON client may send the number as a number.
        digits = str(value) if _is_int(value) else value
        if isinstance(digits, str):
            try:
                return normalize_mobile(digits), None
            except ValueError:
                pass
        return None, message("not_a_mobile", language)

    # email
    longest = rules.max_length or EMAIL_MAX_LENGTH
    if not isinstance(value, str) or not _EMAIL.fullmatch(value):
        return None, message("not_an_email", language)
    if len(value) > longest:
        return None, message("too_long", language, max_length=longest)
    return value, None


def _whole_number(value: object) -> int | None:
    if _is_int(value):
        return value
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
        try:
            return int(value)
        except ValueError:  # beyond Python's limit on digits in a string
            return None
    return None


def _is_int(value: object) -> TypeGuard[int]:
    # JSON booleans load as bool, which Python counts as int.
    return isinstance(value, int) and not isinstance(value, bool)
