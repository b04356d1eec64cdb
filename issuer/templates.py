"""Certificate template metadata: loading ``meta.yaml`` files and checking request data.

Each template lives in its own directory under the templates root::

    templates/income-certificate/meta.yaml      what data the certificate takes
    templates/income-certificate/template.typ   Typst markup (the shared frame: ../_shared/)
    templates/income-certificate/example.json   an issuing request; rendered at start-up
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from issuer.exceptions import TemplateError
from sanad.clock import today_in_india
from sanad.config_file import ConfigFile, is_int
from sanad.errors import FieldError, InvalidInput
from sanad.i18n import LocalizedText
from sanad.text import UnsafeText, clean_text
from sanad.unicode_sets import (
    CONTROL_CHARACTERS,
    GURMUKHI_OR_DEVANAGARI_NAMED,
    LOWERCASE_TO_ENGLISH_LETTER,
    character_class,
)

FieldType = Literal["text", "integer", "date", "enum"]
FIELD_TYPES: tuple[FieldType, ...] = ("text", "integer", "date", "enum")

#: The markup every template directory must provide besides ``meta.yaml``.
TEMPLATE_FILE = "template.typ"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a certificate's ``data`` object."""

    name: str
    """Key in ``data``; lowercase ``snake_case``."""
    type: FieldType
    """``text`` (string), ``integer``, ``date`` (``YYYY-MM-DD`` string) or ``enum``."""
    required: bool
    """Whether the field must be present and, for text, non-blank."""
    label: LocalizedText
    """Human label for forms and error pages."""
    max_length: int | None = None
    """Text only: most characters (code points) allowed after normalisation."""
    min: int | None = None
    """Integer only: smallest allowed value."""
    max: int | None = None
    """Integer only: largest allowed value."""
    choices: tuple[str, ...] = ()
    """Enum only: the allowed values."""
    pattern: str | None = None
    """Text only: a regular expression the whole normalised value must match."""
    english: bool = False
    """Text only: the certificate's English paragraph needs this value in English, so the
    data carries it also as ``<name>_en`` (:data:`ENGLISH_SUFFIX`), required whenever this
    one is given. Declared ``english: true`` in ``meta.yaml``; the loader adds the field."""
    english_of: str | None = None
    """The field this one is the English form of (``relation_name`` for
    ``relation_name_en``): Latin letters only."""


@dataclass(frozen=True)
class TemplateSpec:
    """A certificate type: what it is called, what data it takes, where its files are."""

    type: str
    """Document type as clients name it, e.g. ``income-certificate``; the directory name."""
    title: LocalizedText
    """Printed title and PDF title."""
    fields: tuple[FieldSpec, ...]
    """The ``data`` fields, in the order they are checked and stored."""
    holder_field: str
    """Name of the required text field that names the certificate holder."""
    default_validity_days: int | None
    """Days from issue until the certificate lapses; ``None`` for no expiry."""
    directory: Path
    """Absolute directory holding ``template.typ``."""
    renewable: bool = False
    """Whether a document of this type may be renewed into a new validity (licences)."""


# --- loading -----------------------------------------------------------------------

_TOP_KEYS = frozenset({"type", "title", "holder_field", "default_validity_days", "fields", "renewable"})
_FIELD_KEYS = frozenset(
    {"name", "type", "required", "label", "max_length", "min", "max", "choices", "pattern", "english"}
)
#: The name of a field's English form: ``relation_name`` → ``relation_name_en``.
ENGLISH_SUFFIX = "_en"
#: What the loader adds to a field's label for its English form.
_LABEL_SCRIPT = re.compile(r"\s*\([^()]*\)$")
_IN_ENGLISH = LocalizedText(en=" (in English)", pa=" (ਅੰਗਰੇਜ਼ੀ ਵਿੱਚ)", hi=" (अंग्रेज़ी में)")
#: The checks each field type may declare.
_RULES_BY_TYPE: dict[FieldType, frozenset[str]] = {
    "text": frozenset({"max_length", "pattern"}),
    "integer": frozenset({"min", "max"}),
    "date": frozenset(),
    "enum": frozenset({"choices"}),
}
_TYPE_NAME = re.compile(r"[a-z][a-z0-9-]*")


def load_templates(root: Path) -> dict[str, TemplateSpec]:
    """Load every ``root/*/meta.yaml``, keyed by document type.

    Directories without ``meta.yaml`` (such as ``fonts``) are not templates and are
    skipped. Raises :class:`TemplateError` for the first problem found.
    """
    if not root.is_dir():
        raise TemplateError(f"{root}: templates directory does not exist")
    specs: dict[str, TemplateSpec] = {}
    for meta_path in sorted(root.glob("*/meta.yaml")):
        spec = _MetaReader(meta_path.resolve()).read()
        specs[spec.type] = spec
    return specs


class _MetaReader(ConfigFile):
    """Parses one ``meta.yaml``; every error names the file and the key path."""

    error = TemplateError

    def read(self) -> TemplateSpec:
        meta = self.mapping(self.load(), "", _TOP_KEYS)

        directory = self.path.parent
        doc_type = self.string(meta.get("type"), "type")
        if not _TYPE_NAME.fullmatch(doc_type):
            self.fail("type", "must be lowercase letters, digits and hyphens")
        if doc_type != directory.name:
            self.fail("type", f"must equal the directory name {directory.name!r}")
        if not (directory / TEMPLATE_FILE).is_file():
            self.fail(TEMPLATE_FILE, "missing from the template directory")

        title = self.localized(meta.get("title"), "title")
        raw_validity = meta.get("default_validity_days")
        validity = None if raw_validity is None else self.positive_integer(raw_validity, "default_validity_days")

        raw_fields = self.non_empty_list(meta.get("fields"), "fields")
        declared = [self.field(item, f"fields[{i}]") for i, item in enumerate(raw_fields)]
        fields = tuple(f for field in declared for f in (field, *([_english_form(field)] if field.english else [])))
        names = [f.name for f in fields]
        for name in names:
            if names.count(name) > 1:
                self.fail("fields", f"duplicate field name {name!r}")

        holder = self.string(meta.get("holder_field"), "holder_field")
        holder_spec = next((f for f in fields if f.name == holder), None)
        if holder_spec is None or holder_spec.type != "text" or not holder_spec.required:
            self.fail("holder_field", f"{holder!r} is not a required text field")

        return TemplateSpec(
            type=doc_type,
            title=title,
            fields=fields,
            holder_field=holder,
            default_validity_days=validity,
            directory=directory,
            renewable=self.boolean(meta.get("renewable", False), "renewable"),
        )

    def field(self, raw: object, where: str) -> FieldSpec:
        item = self.mapping(raw, where, _FIELD_KEYS)
        name = self.snake_case(item.get("name"), f"{where}.name")
        where = f"{where} ({name})"

        field_type = self.one_of(item.get("type"), f"{where}.type", FIELD_TYPES)
        required = self.boolean(item.get("required"), f"{where}.required")
        label = self.localized(item.get("label"), f"{where}.label")

        allowed = _RULES_BY_TYPE[field_type]
        for key in ("max_length", "pattern", "min", "max", "choices"):
            if key in item and key not in allowed:
                self.fail(f"{where}.{key}", f"not allowed for {field_type} fields")

        raw_max_length = item.get("max_length")
        max_length = None if raw_max_length is None else self.positive_integer(raw_max_length, f"{where}.max_length")
        low, high = self.bounds(item, where)
        pattern = None if item.get("pattern") is None else self.pattern(item["pattern"], f"{where}.pattern").pattern
        english = self.boolean(item.get("english", False), f"{where}.english")
        if english and field_type != "text":
            self.fail(f"{where}.english", "only a text field has an English form")

        choices: tuple[str, ...] = ()
        if field_type == "enum":
            raw_choices = item.get("choices")
            if (
                not isinstance(raw_choices, list)
                or not raw_choices
                or not all(isinstance(c, str) and c for c in raw_choices)
                or len(set(raw_choices)) != len(raw_choices)
            ):
                self.fail(f"{where}.choices", "must be a non-empty list of distinct strings")
            choices = tuple(raw_choices)

        return FieldSpec(
            name=name,
            type=field_type,
            required=required,
            label=label,
            max_length=max_length,
            min=low,
            max=high,
            choices=choices,
            pattern=pattern,
            english=english,
        )


def _english_form(field: FieldSpec) -> FieldSpec:
    """The ``<name>_en`` field a field declared ``english: true`` brings with it."""
    # "Name of applicant (in Gurmukhi)" becomes "Name of applicant (in English)".
    bare = LocalizedText(*(_LABEL_SCRIPT.sub("", text) for text in (field.label.en, field.label.pa, field.label.hi)))
    label = LocalizedText(en=bare.en + _IN_ENGLISH.en, pa=bare.pa + _IN_ENGLISH.pa, hi=bare.hi + _IN_ENGLISH.hi)
    return FieldSpec(
        name=field.name + ENGLISH_SUFFIX,
        type="text",
        required=field.required,
        label=label,
        max_length=field.max_length,
        english_of=field.name,
    )


# --- request data -------------------------------------------------------------------

_ISO_DATE = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FINANCIAL_YEAR_DIGITS = re.compile("([0-9]{4})-([0-9]{2})")
_CONTROL_CHARACTER = character_class(CONTROL_CHARACTERS)
_GURMUKHI_OR_DEVANAGARI = character_class(GURMUKHI_OR_DEVANAGARI_NAMED)
_ENGLISH_LETTER = character_class(LOWERCASE_TO_ENGLISH_LETTER)

FINANCIAL_YEAR_PATTERN = "(19|20)[0-9]{2}-[0-9]{2}"
"""A text field declaring exactly this pattern holds India's financial year (April to
March), and its value must be a real one: see :func:`_financial_year_problem`. Intake's
forms follow the same convention."""
EARLIEST_FINANCIAL_YEAR = 1950
"""First year of the earliest financial year accepted (1950-51), as intake's forms do."""
LONGEST_UNDECLARED_VALIDITY_DAYS = 7305
"""The latest ``valid_until`` a department may set, in days from issue, for a template
that declares no validity period: 20 years, the longest any Indian licence runs (a
driving licence, Motor Vehicles Act s. 14). A date beyond it is a typo, not a choice."""


EARLIEST_DATE = date(1900, 1, 1)
"""The earliest date a certificate's data may carry."""


def validate_data(spec: TemplateSpec, data: object, *, today: date | None = None) -> dict[str, object]:
    """Check a request's ``data`` against ``spec`` and return it normalised.

    Every problem is reported at once as :class:`InvalidInput`, one
    ``FieldError("data.<name>", ...)`` each. Normalisation: text is NFC-normalised and
    its whitespace runs collapse to one space (HTML would collapse them when printing,
    so the stored data matches the printed text); blank optional text and ``null``
    optional fields are dropped; dates stay ``YYYY-MM-DD`` strings so the result is
    JSON as is. Keys come out in the template's field order. ``today`` (India's date,
    by default now) bounds financial years and dates.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput([FieldError("data", "must be an object")])
    today = today or today_in_india()
    errors: list[FieldError] = []
    result: dict[str, object] = {}
    for field in spec.fields:
        value, problem = _normalise(field, data.get(field.name), today)
        if problem is not None:
            errors.append(FieldError(f"data.{field.name}", problem))
        elif value is not None:
            result[field.name] = value
    errors.extend(_missing_english_forms(spec, result, errors))
    known = {field.name for field in spec.fields}
    errors.extend(FieldError(f"data.{key}", "unknown field") for key in data if key not in known)
    if errors:
        raise InvalidInput(errors)
    return result


def english_problem(value: str) -> str | None:
    """Why ``value`` is not a name or place written in English letters, or ``None``."""
    if _GURMUKHI_OR_DEVANAGARI.search(value) is not None:
        return "must be written in English (Latin) letters, not Gurmukhi or Devanagari"
    if _ENGLISH_LETTER.search(value) is None:
        return "must be written in English (Latin) letters"
    return None


def _missing_english_forms(
    spec: TemplateSpec, result: Mapping[str, object], errors: list[FieldError]
) -> list[FieldError]:
    """An optional value given without its English form (a required one's absence is
    reported by the field itself): the English paragraph would have nothing to print."""
    reported = {error.field for error in errors}
    return [
        FieldError(f"data.{field.name}", _english_required(field.english_of))
        for field in spec.fields
        if field.english_of is not None
        and field.english_of in result
        and field.name not in result
        and f"data.{field.name}" not in reported
    ]


def _english_required(source: str) -> str:
    return f"is required: the certificate's English paragraph prints data.{source} in English letters"


def valid_until_problem(spec: TemplateSpec, valid_until: date, today: date) -> str | None:
    """What is wrong with a requested last day of validity for a document issued
    ``today`` (India's date), or ``None``. A template's declared validity period is the
    longest a department may grant; one that declares none is capped at
    :data:`LONGEST_UNDECLARED_VALIDITY_DAYS`."""
    if valid_until < today:
        return "must not be in the past"
    days = spec.default_validity_days
    if days is not None and valid_until > today + timedelta(days=days):
        latest = (today + timedelta(days=days)).isoformat()
        return f"must be no later than {latest}: the {spec.title.en} is valid for at most {days} days from issue"
    if days is None and valid_until > today + timedelta(days=LONGEST_UNDECLARED_VALIDITY_DAYS):
        latest = (today + timedelta(days=LONGEST_UNDECLARED_VALIDITY_DAYS)).isoformat()
        return f"must be no later than {latest} (20 years from issue)"
    return None


def _financial_year_problem(value: str, today: date) -> str | None:
    """Why ``value`` is not a financial year printed as ``YYYY-YY``, or ``None``: two
    consecutive years, from 1950-51 up to the year after the current one (a certificate
    may be asked for in March for the year starting in April)."""
    match = _FINANCIAL_YEAR_DIGITS.fullmatch(value)
    if match is None:
        return "must be a financial year written like 2025-26"
    first = int(match.group(1))
    if value != _financial_year(first):
        return f"must be two consecutive years, like {_financial_year(first)}"
    latest = (today.year if today.month >= 4 else today.year - 1) + 1
    if not EARLIEST_FINANCIAL_YEAR <= first <= latest:
        return f"must be a financial year from {_financial_year(EARLIEST_FINANCIAL_YEAR)} to {_financial_year(latest)}"
    return None


def _financial_year(first_year: int) -> str:
    """``2025`` → ``2025-26``."""
    return f"{first_year}-{(first_year + 1) % 100:02d}"


def _normalise(field: FieldSpec, value: object, today: date) -> tuple[object, str | None]:
    """Return ``(normalised value or None if absent, error message or None)``."""
    if isinstance(value, str) and field.type == "text":
        try:
            value = " ".join(clean_text(value).split()) or None
        except UnsafeText as unsafe:
            return None, str(unsafe)
    if value is None:
        if field.required and field.english_of is not None:
            return None, _english_required(field.english_of)
        return None, "is required" if field.required else None

    if field.type == "text":
        if not isinstance(value, str):
            return None, "must be a string"
        if _CONTROL_CHARACTER.search(value) is not None:
            return None, "must not contain control characters"
        if field.max_length is not None and len(value) > field.max_length:
            return None, f"must be at most {field.max_length} characters"
        if field.pattern == FINANCIAL_YEAR_PATTERN:
            return value, _financial_year_problem(value, today)
        if field.pattern is not None and not re.fullmatch(field.pattern, value):
            return None, f"must match the pattern {field.pattern}"
        if field.english_of is not None:
            return value, english_problem(value)
        return value, None

    if field.type == "integer":
        if not is_int(value):
            return None, "must be an integer"
        if field.min is not None and value < field.min:
            return None, f"must be at least {field.min}"
        if field.max is not None and value > field.max:
            return None, f"must be at most {field.max}"
        return value, None

    if field.type == "date":
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            return None, "must be a date in YYYY-MM-DD form"
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None, "is not a valid date"
        # A certificate attests what has happened: a birth, a registration. A date after
        # today or before any living person's birth is a typo, not a fact to sign.
        if day > today:
            return None, "must not be in the future"
        if day < EARLIEST_DATE:
            return None, f"must be {EARLIEST_DATE.isoformat()} or later"
        return day.isoformat(), None

    if not isinstance(value, str) or value not in field.choices:
        return None, f"must be one of: {', '.join(field.choices)}"
    return value, None
