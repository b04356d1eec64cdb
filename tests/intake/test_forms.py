"""Application forms: answers are cleaned the way the certificate template will clean
them, every problem is reported at once in the citizen's language, and the cleaned
answers fill the certificate."""

from __future__ import annotations

import string
import unicodedata
from pathlib import Path

import pytest

from intake.catalogue import Catalogue, ServiceSpec, load_catalogue
from intake.form_messages import LANGUAGES, MESSAGES, message
from intake.forms import certificate_data, validate_form
from issuer.templates import TemplateSpec, validate_data
from sanad.errors import FieldError, InvalidInput

REPO = Path(__file__).resolve().parents[2]

ANSWERS: dict[str, object] = {
    "applicant_name": "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
    "applicant_name_en": "Gurpreet Singh",
    "relation": "son_of",
    "relation_name": "ਹਰਜੀਤ ਸਿੰਘ",
    "address": "ਪਿੰਡ ਖੇੜੀ, ਡਾਕਖਾਨਾ ਸਮਰਾਲਾ",
    "district": "ਲੁਧਿਆਣਾ",
    "annual_income": 240000,
    "financial_year": "2025-26",
    "purpose": "Scholarship application",
    "mobile": "9876543210",
    "email": "gurpreet@example.in",
}


@pytest.fixture(scope="module")
def catalogue(templates: dict[str, TemplateSpec]) -> Catalogue:
    return load_catalogue(REPO / "catalogue", templates)


@pytest.fixture(scope="module")
def income(catalogue: Catalogue) -> ServiceSpec:
    return catalogue["rev-income"]


def answers(**changes: object) -> dict[str, object]:
    return {**ANSWERS, **changes}


def errors_of(service: ServiceSpec, values: object, language: str = "en") -> list[FieldError]:
    with pytest.raises(InvalidInput) as caught:
        validate_form(service, values, language)  # type: ignore[arg-type]
    return caught.value.errors


# --- accepted answers ---------------------------------------------------------------------


def test_valid_answers_come_back_cleaned_in_form_order(income: ServiceSpec) -> None:
    shuffled = dict(reversed(list(ANSWERS.items())))
    cleaned = validate_form(income, shuffled, "en")
    assert list(cleaned) == [f.name for f in income.fields]
    assert cleaned == ANSWERS


def test_text_is_trimmed_collapsed_and_nfc_normalised(income: ServiceSpec) -> None:
    # Two keyboards type ਫ਼ differently: the precomposed letter (U+0A5E) or ਫ plus nukta.
    # NFC stores both as letter plus nukta, so the same district is the same text.
    precomposed = "\u0a5eਿਰੋ\u0a5bਪੁਰ"
    cleaned = validate_form(income, answers(applicant_name="  ਗੁਰਪ੍ਰੀਤ \n\t ਸਿੰਘ ", district=precomposed), "pa")
    assert cleaned["applicant_name"] == "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ"
    assert cleaned["district"] == "\u0a2b\u0a3cਿਰੋ\u0a1c\u0a3cਪੁਰ" == unicodedata.normalize("NFC", precomposed)


def test_optional_answers_may_be_absent_null_or_blank(income: ServiceSpec) -> None:
    values = answers(applicant_name_en=None, purpose="   ", email="")
    cleaned = validate_form(income, values, "hi")
    assert not {"applicant_name_en", "purpose", "email"} & set(cleaned)
    for key in ("applicant_name_en", "purpose", "email"):
        del values[key]
    assert validate_form(income, values, "hi") == cleaned


@pytest.mark.parametrize(
    ("typed", "stored"),
    [(240000, 240000), ("240000", 240000), (" 240000 ", 240000), ("੨੪੦੦੦੦", 240000), ("२४००००", 240000), (0, 0)],
)
def test_numbers_from_json_html_and_native_digits(income: ServiceSpec, typed: object, stored: int) -> None:
    assert validate_form(income, answers(annual_income=typed), "en")["annual_income"] == stored


@pytest.mark.parametrize("typed", ["+91 98765-43210", "098765 43210", "919876543210", 9876543210, "(98765) 43210"])
def test_mobile_numbers_are_stored_as_ten_digits(income: ServiceSpec, typed: object) -> None:
    assert validate_form(income, answers(mobile=typed), "en")["mobile"] == "9876543210"


def test_dates_stay_iso_strings(catalogue: Catalogue) -> None:
    birth = catalogue["lg-birth"]
    values = {
        "child_name": "ਹਰਲੀਨ ਕੌਰ",
        "sex": "female",
        "date_of_birth": "2024-02-29",
        "place_of_birth": "ਸਿਵਲ ਹਸਪਤਾਲ, ਲੁਧਿਆਣਾ",
        "mother_name": "ਜਸਪ੍ਰੀਤ ਕੌਰ",
        "address_at_birth": "ਹੈਬੋਵਾਲ ਕਲਾਂ, ਲੁਧਿਆਣਾ",
        "registration_number": "B-2024-LDH-000417",
        "registration_date": "2024-03-04",
        "applicant_relation": "parent",
        "mobile": "9876543210",
    }
    cleaned = validate_form(birth, values, "en")
    assert cleaned["date_of_birth"] == "2024-02-29"
    for bad, key in [("2025-02-29", "not_a_date"), ("29-02-2024", "date_format"), ("2024-2-9", "date_format")]:
        assert errors_of(birth, {**values, "date_of_birth": bad}) == [
            FieldError("date_of_birth", message(key, "en"))
        ], bad


# --- refused answers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "key", "values"),
    [
        ("applicant_name", None, "required", {}),
        ("applicant_name", "   ", "required", {}),
        ("applicant_name", 42, "not_text", {}),
        ("applicant_name", ["ਗੁਰਪ੍ਰੀਤ"], "not_text", {}),
        ("applicant_name", "ਗੁਰ\x00ਪ੍ਰੀਤ", "control_characters", {}),
        ("applicant_name", "\u202eਗੁਰਪ੍ਰੀਤ", "invisible_characters", {}),
        ("applicant_name", "ਗੁਰ\u200bਪ੍ਰੀਤ", "invisible_characters", {}),
        ("applicant_name", "ਗੁਰਪ੍ਰੀਤ\udc00", "invisible_characters", {}),
        ("applicant_name", "ਸ" * 121, "too_long", {"max_length": 120}),
        ("applicant_name_en", "ਗੁਰਪ੍ਰੀਤ", "pattern", {}),
        ("financial_year", "2025/26", "pattern", {}),
        ("annual_income", True, "not_number", {}),
        ("annual_income", 240000.0, "not_number", {}),
        ("annual_income", "2,40,000", "not_number", {}),
        ("annual_income", "12.5", "not_number", {}),
        ("annual_income", "9" * 5000, "not_number", {}),
        ("annual_income", -1, "too_small", {"min": 0}),
        ("annual_income", 10**12, "too_large", {"max": 999999999999}),
        ("mobile", "12345", "not_a_mobile", {}),
        ("mobile", "5876543210", "not_a_mobile", {}),
        ("mobile", True, "not_a_mobile", {}),
        ("email", "gurpreet at example.in", "not_an_email", {}),
        ("email", "gurpreet@localhost", "not_an_email", {}),
        ("email", "a" * 250 + "@example.in", "too_long", {"max_length": 254}),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_bad_answer_names_field_and_reason_in_the_language(
    income: ServiceSpec, field: str, value: object, key: str, values: dict[str, object], language: str
) -> None:
    expected = message(key, language, **values)  # type: ignore[arg-type]
    assert errors_of(income, answers(**{field: value}), language) == [FieldError(field, expected)]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "must be one of: Son of, Daughter of, Wife of"),
        ("pa", "ਇਹਨਾਂ ਵਿੱਚੋਂ ਇੱਕ ਚੁਣੋ: ਪੁੱਤਰ, ਪੁੱਤਰੀ, ਪਤਨੀ"),
        ("hi", "इनमें से एक चुनें: पुत्र, पुत्री, पत्नी"),
    ],
)
def test_bad_choice_lists_the_labels_in_the_language(income: ServiceSpec, language: str, text: str) -> None:
    for bad in ["brother_of", "SON_OF", 1]:
        assert errors_of(income, answers(relation=bad), language) == [FieldError("relation", text)]


def test_every_problem_is_reported_at_once(income: ServiceSpec) -> None:
    values = answers(annual_income="lots", relation="cousin_of", mobile="123", nickname="Gopi")
    del values["applicant_name"]
    assert errors_of(income, values, "pa") == [
        FieldError("applicant_name", "ਭਰਨਾ ਲਾਜ਼ਮੀ ਹੈ"),
        FieldError("relation", "ਇਹਨਾਂ ਵਿੱਚੋਂ ਇੱਕ ਚੁਣੋ: ਪੁੱਤਰ, ਪੁੱਤਰੀ, ਪਤਨੀ"),
        FieldError("annual_income", "ਵਿੱਚ ਸਿਰਫ਼ ਪੂਰਨ ਅੰਕ ਭਰੇ ਜਾ ਸਕਦੇ ਹਨ"),
        FieldError("mobile", "6, 7, 8 ਜਾਂ 9 ਨਾਲ ਸ਼ੁਰੂ ਹੋਣ ਵਾਲਾ 10 ਅੰਕਾਂ ਦਾ ਭਾਰਤੀ ਮੋਬਾਈਲ ਨੰਬਰ ਹੋਣਾ ਚਾਹੀਦਾ ਹੈ"),
        FieldError("nickname", "ਇਸ ਫ਼ਾਰਮ ਦਾ ਖ਼ਾਨਾ ਨਹੀਂ ਹੈ"),
    ]


def test_hindi_messages(income: ServiceSpec) -> None:
    values = answers(applicant_name="", annual_income=-5)
    assert errors_of(income, values, "hi") == [
        FieldError("applicant_name", "भरना अनिवार्य है"),
        FieldError("annual_income", "कम से कम 0 होना चाहिए"),
    ]


@pytest.mark.parametrize("values", [None, [], "applicant", 42])
def test_answers_must_be_an_object(income: ServiceSpec, values: object) -> None:
    assert errors_of(income, values, "en") == [FieldError("form", message("not_object", "en"))]


def test_unknown_language_is_a_programming_error(income: ServiceSpec) -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        validate_form(income, ANSWERS, "fr")  # type: ignore[arg-type]


# --- the messages themselves -----------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _scripts(text: str) -> set[str]:
    return {unicodedata.name(ch).split()[0] for ch in text if ch.isalpha()}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_exists_in_three_scripts_with_the_same_placeholders(key: str) -> None:
    text = MESSAGES[key]
    assert _placeholders(text.en) == _placeholders(text.pa) == _placeholders(text.hi)
    assert "GURMUKHI" in _scripts(text.pa)
    assert "DEVANAGARI" in _scripts(text.hi)
    assert not {"GURMUKHI", "DEVANAGARI"} & _scripts(text.en)


# --- the certificate ------------------------------------------------------------------------


def test_certificate_data_maps_answers_onto_the_template(
    income: ServiceSpec, templates: dict[str, TemplateSpec]
) -> None:
    cleaned = validate_form(income, answers(mobile="+91 98765 43210"), "en")
    data = certificate_data(income, cleaned)
    assert data == {
        "holder_name": "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
        "holder_name_en": "Gurpreet Singh",
        "relation": "son_of",
        "relation_name": "ਹਰਜੀਤ ਸਿੰਘ",
        "address": "ਪਿੰਡ ਖੇੜੀ, ਡਾਕਖਾਨਾ ਸਮਰਾਲਾ",
        "district": "ਲੁਧਿਆਣਾ",
        "annual_income": 240000,
        "financial_year": "2025-26",
        "purpose": "Scholarship application",
    }  # the mobile number and e-mail are for the application, not printed
    assert validate_data(templates["income-certificate"], data) == data


def test_certificate_data_leaves_out_unanswered_optional_fields_and_adds_fixed_ones(
    catalogue: Catalogue, templates: dict[str, TemplateSpec]
) -> None:
    service = catalogue["rev-caste-bc"]
    values = {
        "applicant_name": "ਜਸਵੀਰ ਸੈਣੀ",
        "relation": "daughter_of",
        "relation_name": "ਮਹਿੰਦਰ ਸਿੰਘ ਸੈਣੀ",
        "address": "ਪਿੰਡ ਬੱਸੀ ਕਲਾਂ",
        "district": "ਹੁਸ਼ਿਆਰਪੁਰ",
        "caste": "ਸੈਣੀ",
        "mobile": "7986543210",
    }
    data = certificate_data(service, validate_form(service, values, "pa"))
    assert data["category"] == "backward_class"
    assert "holder_name_en" not in data
    assert "purpose" not in data
    assert validate_data(templates["caste-certificate"], data) == data
