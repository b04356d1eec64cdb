"""Template metadata: the real templates load, request data is checked field by field,
and a broken ``meta.yaml`` stops start-up with a message naming file, key and reason."""

from __future__ import annotations

import copy
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from issuer.exceptions import TemplateError, UnknownDocumentType
from issuer.templates import FieldSpec, TemplateSpec, english_problem, load_templates, validate_data
from sanad.errors import FieldError, InvalidInput
from sanad.i18n import LocalizedText
from sanad.text import UnsafeText
from tests.conftest import EXAMPLE_DATA
from tests.sanad.text_reference import mixed_strings, reference_clean_text

REPO = Path(__file__).resolve().parents[2]


def valid_data(**changes: object) -> dict[str, object]:
    data = dict(EXAMPLE_DATA)
    data.update(changes)
    return data


def errors_of(spec: TemplateSpec, data: object) -> list[FieldError]:
    with pytest.raises(InvalidInput) as caught:
        validate_data(spec, data)
    return caught.value.errors


@pytest.fixture(scope="module")
def income() -> TemplateSpec:
    return load_templates(REPO / "templates")["income-certificate"]


# --- the real templates ---------------------------------------------------------------


def test_real_templates_load_and_fonts_dir_is_skipped() -> None:
    specs = load_templates(REPO / "templates")
    assert set(specs) == {  # templates/fonts has no meta.yaml
        "income-certificate",
        "residence-certificate",
        "caste-certificate",
        "birth-certificate",
        "trade-licence",
        "learner-licence",
    }


def test_income_certificate_metadata(income: TemplateSpec) -> None:
    assert income.type == "income-certificate"
    assert income.title == LocalizedText(en="Income Certificate", pa="ਆਮਦਨ ਸਰਟੀਫਿਕੇਟ", hi="आय प्रमाण पत्र")
    assert income.holder_field == "holder_name"
    assert income.default_validity_days == 365
    assert income.directory == (REPO / "templates" / "income-certificate").resolve()
    assert [f.name for f in income.fields] == [
        "holder_name",
        "holder_name_en",
        "relation",
        "relation_name",
        "relation_name_en",
        "address",
        "address_en",
        "district",
        "district_en",
        "annual_income",
        "financial_year",
        "purpose",
    ]
    by_name = {f.name: f for f in income.fields}
    assert by_name["holder_name"].max_length == 120
    assert by_name["holder_name"].required
    # Declared `english: true`: the English paragraph's value, labelled and bounded as its Gurmukhi one.
    assert by_name["holder_name_en"].required
    assert by_name["holder_name_en"].english_of == "holder_name"
    assert by_name["address_en"].max_length == 300
    assert by_name["relation_name_en"].label.en == "Name of father / mother / husband (in English)"
    assert by_name["holder_name_en"].label.en == "Name of applicant (in English)"
    assert by_name["relation"].choices == ("son_of", "daughter_of", "wife_of")
    assert by_name["annual_income"].type == "integer"
    assert by_name["annual_income"].min == 1
    assert by_name["address"].max_length == 300
    assert by_name["financial_year"].pattern is not None
    assert all(f.label.en and f.label.pa and f.label.hi for f in income.fields)


# --- validate_data: accepted input ---------------------------------------------------


def test_valid_data_is_returned_in_field_order(income: TemplateSpec) -> None:
    data = valid_data()
    shuffled = dict(reversed(list(data.items())))
    assert list(validate_data(income, shuffled).items()) == list(data.items())


def test_text_is_trimmed_and_whitespace_collapsed(income: TemplateSpec) -> None:
    result = validate_data(income, valid_data(holder_name="  ਗੁਰਪ੍ਰੀਤ \n\t ਸਿੰਘ  ", district=" ਲੁਧਿਆਣਾ\n"))
    assert result["holder_name"] == "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ"
    assert result["district"] == "ਲੁਧਿਆਣਾ"


def test_text_is_nfc_normalised(income: TemplateSpec) -> None:
    decomposed = "Jose\u0301"  # e + combining acute
    assert validate_data(income, valid_data(holder_name_en=decomposed))["holder_name_en"] == "José"


def test_optional_fields_may_be_absent_null_or_blank(income: TemplateSpec) -> None:
    data = valid_data(purpose="   ")
    result = validate_data(income, data)
    assert "purpose" not in result
    del data["purpose"]
    assert validate_data(income, data) == result


def test_boundary_values_are_accepted(income: TemplateSpec) -> None:
    result = validate_data(income, valid_data(annual_income=1, holder_name="ਸ" * 120))
    assert result["annual_income"] == 1
    assert result["holder_name"] == "ਸ" * 120


# --- validate_data: rejected input ---------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("annual_income", True, "must be an integer"),
        ("annual_income", "240000", "must be an integer"),
        ("annual_income", 240000.0, "must be an integer"),
        ("annual_income", 0, "must be at least 1"),
        ("annual_income", None, "is required"),
        ("holder_name", "ਸ" * 121, "must be at most 120 characters"),
        ("holder_name", "   ", "is required"),
        ("holder_name", "", "is required"),
        ("holder_name", 42, "must be a string"),
        ("holder_name", ["ਗੁਰਪ੍ਰੀਤ"], "must be a string"),
        ("holder_name", "ਗੁਰ\x00ਪ੍ਰੀਤ", "must not contain control characters"),
        ("holder_name", "\u202eGurpreet\u202c Singh", "must not contain the invisible direction control U+202E"),
        ("holder_name", "Gur\u200bpreet Singh", "must not contain the invisible character U+200B"),
        ("holder_name", "Gurpreet\ud800", "must be valid text (it contains a lone surrogate)"),
        ("address", "ਪ" * 301, "must be at most 300 characters"),
        ("relation", "brother_of", "must be one of: son_of, daughter_of, wife_of"),
        ("relation", "SON_OF", "must be one of: son_of, daughter_of, wife_of"),
        ("relation", 1, "must be one of: son_of, daughter_of, wife_of"),
        ("financial_year", "2025/26", "must be a financial year written like 2025-26"),
        ("financial_year", "2025-2026", "must be a financial year written like 2025-26"),
        ("financial_year", "੨੦੨੫-੨੬", "must be a financial year written like 2025-26"),
    ],
)
def test_bad_value_names_field_and_reason(income: TemplateSpec, field: str, value: object, message: str) -> None:
    assert errors_of(income, valid_data(**{field: value})) == [FieldError(f"data.{field}", message)]


def test_missing_required_field(income: TemplateSpec) -> None:
    data = valid_data()
    del data["relation_name"]
    assert errors_of(income, data) == [FieldError("data.relation_name", "is required")]


def test_unknown_field(income: TemplateSpec) -> None:
    assert errors_of(income, valid_data(caste="x")) == [FieldError("data.caste", "unknown field")]


@pytest.mark.parametrize("data", [None, [], "holder", 42])
def test_data_must_be_an_object(income: TemplateSpec, data: object) -> None:
    assert errors_of(income, data) == [FieldError("data", "must be an object")]


def test_every_problem_is_reported_at_once(income: TemplateSpec) -> None:
    data = valid_data(annual_income="lots", relation="cousin_of", nickname="Gopi")
    del data["holder_name"]
    assert errors_of(income, data) == [
        FieldError("data.holder_name", "is required"),
        FieldError("data.relation", "must be one of: son_of, daughter_of, wife_of"),
        FieldError("data.annual_income", "must be an integer"),
        FieldError("data.nickname", "unknown field"),
    ]


# --- the same answers as the character-by-character checks they replaced ------------


def reference_english_problem(value: str) -> str | None:
    """:func:`english_problem` as first written, asking ``unicodedata`` per character."""
    if any(unicodedata.name(ch, "").startswith(("GURMUKHI", "DEVANAGARI")) for ch in value):
        return "must be written in English (Latin) letters, not Gurmukhi or Devanagari"
    if not any("a" <= ch.lower() <= "z" for ch in value):
        return "must be written in English (Latin) letters"
    return None


def reference_text_problem(field: FieldSpec, value: str) -> str | None:
    """What the per-character checks said of a value of a required text field with no
    pattern, or ``None``."""
    try:
        value = " ".join(reference_clean_text(value).split())
    except UnsafeText as unsafe:
        return str(unsafe)
    if not value:
        return "is required" if field.english_of is None else english_required_message(field)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        return "must not contain control characters"
    if field.max_length is not None and len(value) > field.max_length:
        return f"must be at most {field.max_length} characters"
    return None if field.english_of is None else reference_english_problem(value)


def answer_of(spec: TemplateSpec, data: object) -> dict[str, object] | list[FieldError]:
    """The normalised data, or the problems found with it."""
    try:
        return validate_data(spec, data)
    except InvalidInput as invalid:
        return invalid.errors


def english_required_message(field: FieldSpec) -> str:
    return f"is required: the certificate's English paragraph prints data.{field.english_of} in English letters"


def test_english_problem_gives_the_answers_of_the_per_character_checks() -> None:
    seen: Counter[str | None] = Counter()
    for value in mixed_strings(seed=6122026, count=40_000):
        expected = reference_english_problem(value)

        assert english_problem(value) == expected, ascii(value)
        seen[expected] += 1
    # No letters, Indic letters, and English letters each came up often enough to compare.
    assert len(seen) == 3, seen
    assert min(seen.values()) >= 1000, seen


@pytest.mark.parametrize("field", ["holder_name", "address"])
def test_text_fields_give_the_answers_of_the_per_character_checks(income: TemplateSpec, field: str) -> None:
    native, english = (spec for spec in income.fields if spec.name in (field, field + "_en"))
    seen: Counter[str] = Counter()
    for value in mixed_strings(seed=len(field), count=10_000):
        expected = [
            FieldError(f"data.{spec.name}", problem)
            for spec in (native, english)
            if (problem := reference_text_problem(spec, value)) is not None
        ]

        answer = answer_of(income, valid_data(**{native.name: value, english.name: value}))

        if expected:
            assert answer == expected, ascii(value)
            seen.update(error.message.split(" U+")[0] for error in expected)
        else:
            stored = " ".join(reference_clean_text(value).split())
            assert isinstance(answer, dict), ascii(value)
            assert answer[native.name] == answer[english.name] == stored, ascii(value)
            seen["accepted"] += 1
    # Every answer but a too-long value came up often enough to have been compared: the
    # three invisible characters, a blank value twice, controls, the two English ones and
    # an accepted value.
    assert len(seen) == 9, seen
    assert min(seen.values()) >= 100, seen


def test_unknown_document_type_lists_known_types() -> None:
    error = UnknownDocumentType("caste-certificate", ["income-certificate", "birth-certificate"])
    assert error.status_code == 422
    assert error.errors == [
        FieldError("type", "unknown document type 'caste-certificate'; known: birth-certificate, income-certificate")
    ]


# --- templates written to tmp_path --------------------------------------------------

GOOD_META: dict[str, Any] = {
    "type": "birth-certificate",
    "title": {"en": "Birth Certificate", "pa": "ਜਨਮ ਸਰਟੀਫਿਕੇਟ", "hi": "जन्म प्रमाण पत्र"},
    "holder_field": "child_name",
    "default_validity_days": None,
    "fields": [
        {
            "name": "child_name",
            "type": "text",
            "required": True,
            "max_length": 80,
            "label": {"en": "Name", "pa": "ਨਾਮ", "hi": "नाम"},
        },
        {
            "name": "date_of_birth",
            "type": "date",
            "required": True,
            "label": {"en": "Date of birth", "pa": "ਜਨਮ ਮਿਤੀ", "hi": "जन्म तिथि"},
        },
        {
            "name": "weight_grams",
            "type": "integer",
            "required": False,
            "min": 200,
            "max": 8000,
            "label": {"en": "Weight (g)", "pa": "ਭਾਰ (ਗ੍ਰਾਮ)", "hi": "वज़न (ग्राम)"},
        },
    ],
}


def write_template(root: Path, meta: object, name: str = "birth-certificate", raw: str | None = None) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "template.typ").write_text('#json("/input/certificate.json").data.child_name', encoding="utf-8")
    path = directory / "meta.yaml"
    path.write_text(raw if raw is not None else yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    return path


def test_custom_template_loads_with_null_validity(tmp_path: Path) -> None:
    write_template(tmp_path, GOOD_META)
    (tmp_path / "fonts").mkdir()
    spec = load_templates(tmp_path)["birth-certificate"]
    assert spec.default_validity_days is None
    assert spec.directory == (tmp_path / "birth-certificate").resolve()


def test_date_fields(tmp_path: Path) -> None:
    write_template(tmp_path, GOOD_META)
    spec = load_templates(tmp_path)["birth-certificate"]
    ok = validate_data(spec, {"child_name": "ਹਰਲੀਨ", "date_of_birth": "2025-02-28"})
    assert ok == {"child_name": "ਹਰਲੀਨ", "date_of_birth": "2025-02-28"}
    for value, message in [
        ("2025-02-30", "is not a valid date"),
        ("28-02-2025", "must be a date in YYYY-MM-DD form"),
        ("20250228", "must be a date in YYYY-MM-DD form"),
        ("2025-02-28T00:00", "must be a date in YYYY-MM-DD form"),
        (20250228, "must be a date in YYYY-MM-DD form"),
    ]:
        data = {"child_name": "ਹਰਲੀਨ", "date_of_birth": value}
        assert errors_of(spec, data) == [FieldError("data.date_of_birth", message)], value
    data = {"child_name": "ਹਰਲੀਨ", "date_of_birth": "2025-02-28", "weight_grams": 9000}
    assert errors_of(spec, data) == [FieldError("data.weight_grams", "must be at most 8000")]


def broken(change: str) -> dict[str, Any]:
    """GOOD_META with one deliberate mistake, described as ``key.path=value``."""
    meta = copy.deepcopy(GOOD_META)
    path, _, value = change.partition("=")
    *parents, last = path.split(".")
    target: Any = meta
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    key: Any = int(last) if last.isdigit() else last
    if value == "<delete>":
        del target[key]
    else:
        target[key] = yaml.safe_load(value)
    return meta


@pytest.mark.parametrize(
    ("change", "where", "reason"),
    [
        ("fields.1.type=number", "fields[1] (date_of_birth).type", "must be one of text, integer, date, enum"),
        ("fields.0.max_length=0", "fields[0] (child_name).max_length", "must be a positive integer"),
        ("fields.0.max_length=true", "fields[0] (child_name).max_length", "must be a positive integer"),
        ("fields.0.min=1", "fields[0] (child_name).min", "not allowed for text fields"),
        ("fields.2.pattern=x", "fields[2] (weight_grams).pattern", "not allowed for integer fields"),
        ("fields.2.min=9000", "fields[2] (weight_grams).min", "must not exceed max"),
        ("fields.0.pattern=([a-z]", "fields[0] (child_name).pattern", "invalid regular expression"),
        ("fields.0.required=yes please", "fields[0] (child_name).required", "must be true or false"),
        ("fields.0.label.hi=<delete>", "fields[0] (child_name).label", "must map exactly en, pa and hi"),
        ("fields.0.colour=red", "fields[0].colour", "unknown key"),
        ("fields.1.type=enum", "fields[1] (date_of_birth).choices", "must be a non-empty list of distinct strings"),
        ("fields.0.name=Child Name", "fields[0].name", "must be lowercase snake_case"),
        ("fields.1.name=child_name", "fields", "duplicate field name 'child_name'"),
        ("fields=[]", "fields", "must be a non-empty list"),
        ("holder_field=weight_grams", "holder_field", "'weight_grams' is not a required text field"),
        ("default_validity_days=0", "default_validity_days", "must be a positive integer"),
        ("type=death-certificate", "type", "must equal the directory name 'birth-certificate'"),
        ("title.en=", "title.en", "must be a non-empty string"),
        ("owner=revenue", "owner", "unknown key"),
    ],
)
def test_broken_meta_names_file_field_and_reason(tmp_path: Path, change: str, where: str, reason: str) -> None:
    path = write_template(tmp_path, broken(change))
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{path.resolve()}: {where}: "), message
    assert reason in message


def test_unparsable_yaml_names_the_file(tmp_path: Path) -> None:
    path = write_template(tmp_path, None, raw="type: [unclosed\n")
    with pytest.raises(TemplateError, match="cannot read") as caught:
        load_templates(tmp_path)
    assert str(path.resolve()) in str(caught.value)


def test_meta_that_is_not_a_mapping(tmp_path: Path) -> None:
    write_template(tmp_path, None, raw="- just\n- a list\n")
    with pytest.raises(TemplateError, match=r"\(top level\): must be a mapping"):
        load_templates(tmp_path)


def test_missing_template_file_is_reported(tmp_path: Path) -> None:
    path = write_template(tmp_path, GOOD_META)
    (path.parent / "template.typ").unlink()
    with pytest.raises(TemplateError, match=r"template\.typ: missing from the template directory"):
        load_templates(tmp_path)


def test_missing_root_directory(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="does not exist"):
        load_templates(tmp_path / "nowhere")
