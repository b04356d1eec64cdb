"""Application forms: answers are cleaned the way the certificate template will clean
them (numbers grouped the Indian or the international way, mobile numbers with +91 or a
leading 0, financial years however they are written), every problem is reported at once
in the citizen's language and names its field, and the cleaned answers fill the
certificate."""

from __future__ import annotations

import string
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from intake.catalogue import Catalogue, ServiceSpec, load_catalogue
from intake.form_messages import LANGUAGES, MESSAGES, message
from intake.forms import certificate_data, label_of, validate_form
from issuer.templates import TemplateSpec, validate_data
from sanad.errors import FieldError, InvalidInput

REPO = Path(__file__).resolve().parents[2]

ANSWERS: dict[str, object] = {
    "applicant_name": "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
    "applicant_name_en": "Gurpreet Singh",
    "relation": "son_of",
    "relation_name": "ਹਰਜੀਤ ਸਿੰਘ",
    "relation_name_en": "Harjeet Singh",
    "address": "ਪਿੰਡ ਖੇੜੀ, ਡਾਕਖਾਨਾ ਸਮਰਾਲਾ",
    "address_en": "Village Kheri, Post Office Samrala",
    "district": "ਲੁਧਿਆਣਾ",
    "district_en": "Ludhiana",
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


def errors_of(
    service: ServiceSpec, values: object, language: str = "en", today: date | None = None
) -> list[FieldError]:
    with pytest.raises(InvalidInput) as caught:
        validate_form(service, values, language, today=today)  # type: ignore[arg-type]
    return caught.value.errors


def label(service: ServiceSpec, name: str, language: str) -> str:
    return label_of(next(f for f in service.fields if f.name == name), language)  # type: ignore[arg-type]


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
    values = answers(purpose="   ", email="")
    cleaned = validate_form(income, values, "hi")
    assert not {"purpose", "email"} & set(cleaned)
    for key in ("purpose", "email"):
        del values[key]
    assert validate_form(income, values, "hi") == cleaned


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (240000, 240000),
        ("240000", 240000),
        (" 240000 ", 240000),
        ("੨੪੦੦੦੦", 240000),
        ("२४००००", 240000),
        (1, 1),
        ("1,80,000", 180000),  # the Indian grouping
        ("180,000", 180000),  # the international one
        ("12,34,56,789", 123456789),
        ("123,456,789", 123456789),
        ("੧,੮੦,੦੦੦", 180000),
        ("1,000", 1000),
    ],
)
def test_numbers_from_json_html_native_digits_and_grouped(income: ServiceSpec, typed: object, stored: int) -> None:
    assert validate_form(income, answers(annual_income=typed), "en")["annual_income"] == stored


@pytest.mark.parametrize("typed", ["18,0000", "1,8,0000", ",180000", "180000,", "1,80,00", "1.80.000", "1 80 000"])
def test_digits_grouped_any_other_way_are_refused(income: ServiceSpec, typed: str) -> None:
    expected = message("not_number", "pa", label=label(income, "annual_income", "pa"))
    assert errors_of(income, answers(annual_income=typed), "pa") == [FieldError("annual_income", expected)]


@pytest.mark.parametrize(
    "typed",
    [
        "+91 98765-43210",
        "+91 98765 43210",
        "+91-98765-43210",
        "098765 43210",
        "0 98765 43210",
        "919876543210",
        9876543210,
        "(98765) 43210",
        "੯੮੭੬੫੪੩੨੧੦",
        "+੯੧ ੯੮੭੬੫ ੪੩੨੧੦",
        "९८७६५४३२१०",
    ],
)
def test_mobile_numbers_are_stored_as_ten_digits(income: ServiceSpec, typed: object) -> None:
    assert validate_form(income, answers(mobile=typed), "en")["mobile"] == "9876543210"


# --- financial years ------------------------------------------------------------------------

IN_FY_2025_26 = date(2026, 1, 15)


@pytest.mark.parametrize(
    "typed",
    [
        "2025-26",
        "2025-2026",
        "2025/26",
        "2025/2026",
        "FY 2025-26",
        "fy2025-26",
        "F.Y. 2025-26",
        "Financial year 2025-26",
        "2025 – 26",
        "2025—2026",
        " 2025 - 26 ",
        "੨੦੨੫-੨੬",
        "२०२५-२०२६",
    ],
)
def test_a_financial_year_written_in_many_ways_is_stored_one_way(income: ServiceSpec, typed: str) -> None:
    cleaned = validate_form(income, answers(financial_year=typed), "en", today=IN_FY_2025_26)
    assert cleaned["financial_year"] == "2025-26"


@pytest.mark.parametrize(
    ("typed", "key", "values"),
    [
        ("2025-27", "financial_year_not_consecutive", {"example": "2025-26"}),
        ("2025-20", "financial_year_not_consecutive", {"example": "2025-26"}),  # what maxlength=7 made of 2025-2026
        ("2025-2027", "financial_year_not_consecutive", {"example": "2025-26"}),
        ("1949-50", "financial_year_out_of_range", {"earliest": "1950-51", "latest": "2026-27"}),
        ("1900-01", "financial_year_out_of_range", {"earliest": "1950-51", "latest": "2026-27"}),
        ("2027-28", "financial_year_out_of_range", {"earliest": "1950-51", "latest": "2026-27"}),
        ("2025", "not_a_financial_year", {}),
        ("25-26", "not_a_financial_year", {}),
        ("last year", "not_a_financial_year", {}),
        ("2025-26-27", "not_a_financial_year", {}),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_financial_year_that_is_no_such_thing_is_refused_in_the_language(
    income: ServiceSpec, typed: str, key: str, values: dict[str, str], language: str
) -> None:
    expected = message(key, language, label=label(income, "financial_year", language), **values)  # type: ignore[arg-type]
    errors = errors_of(income, answers(financial_year=typed), language, today=IN_FY_2025_26)
    assert errors == [FieldError("financial_year", expected)]


def test_next_financial_year_is_the_latest_accepted_and_the_year_turns_in_april(income: ServiceSpec) -> None:
    assert validate_form(income, answers(financial_year="2026-27"), "en", today=date(2026, 3, 31))
    assert errors_of(income, answers(financial_year="2027-28"), "en", today=date(2026, 3, 31))
    assert validate_form(income, answers(financial_year="2027-28"), "en", today=date(2026, 4, 1))
    assert validate_form(income, answers(financial_year="1999-2000"), "en", today=date(2026, 4, 1))
    assert validate_form(income, answers(financial_year="1950-51"), "en", today=date(2026, 4, 1))


# A valid birth certificate application, the father's name left out.
BIRTH_FORM: dict[str, object] = {
    "child_name": "ਹਰਲੀਨ ਕੌਰ",
    "child_name_en": "Harleen Kaur",
    "sex": "female",
    "date_of_birth": "2024-02-29",
    "place_of_birth": "ਸਿਵਲ ਹਸਪਤਾਲ, ਲੁਧਿਆਣਾ",
    "place_of_birth_en": "Civil Hospital, Ludhiana",
    "mother_name": "ਜਸਪ੍ਰੀਤ ਕੌਰ",
    "mother_name_en": "Jaspreet Kaur",
    "address_at_birth": "ਹੈਬੋਵਾਲ ਕਲਾਂ, ਲੁਧਿਆਣਾ",
    "address_at_birth_en": "Haibowal Kalan, Ludhiana",
    "registration_number": "B-2024-LDH-000417",
    "registration_date": "2024-03-04",
    "applicant_relation": "parent",
    "mobile": "9876543210",
}


def test_dates_stay_iso_strings(catalogue: Catalogue) -> None:
    birth = catalogue["lg-birth"]
    values = dict(BIRTH_FORM)
    cleaned = validate_form(birth, values, "en")
    assert cleaned["date_of_birth"] == "2024-02-29"
    for bad, key in [("2025-02-29", "not_a_date"), ("29-02-2024", "date_format"), ("2024-2-9", "date_format")]:
        assert errors_of(birth, {**values, "date_of_birth": bad}) == [
            FieldError("date_of_birth", message(key, "en", label="Date of birth"))
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
        ("applicant_name", "ਸ" * 121, "too_long", {"max_length": 120, "length": 121}),
        ("applicant_name_en", "ਗੁਰਪ੍ਰੀਤ", "pattern", {}),
        ("annual_income", True, "not_number", {}),
        ("annual_income", 240000.0, "not_number", {}),
        ("annual_income", "12.5", "not_number", {}),
        ("annual_income", "9" * 5000, "not_number", {}),
        ("annual_income", -1, "too_small", {"min": 1}),
        ("annual_income", 10**12, "too_large", {"max": 999999999999}),
        ("mobile", "12345", "not_a_mobile", {}),
        ("mobile", "5876543210", "not_a_mobile", {}),
        ("mobile", True, "not_a_mobile", {}),
        ("email", "gurpreet at example.in", "not_an_email", {}),
        ("email", "gurpreet@localhost", "not_an_email", {}),
        ("email", "a" * 250 + "@example.in", "too_long", {"max_length": 254, "length": 261}),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_bad_answer_names_field_and_reason_in_the_language(
    income: ServiceSpec, field: str, value: object, key: str, values: dict[str, object], language: str
) -> None:
    expected = message(key, language, label=label(income, field, language), **values)  # type: ignore[arg-type]
    assert errors_of(income, answers(**{field: value}), language) == [FieldError(field, expected)]
    assert label(income, field, language) in expected


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "For Relation, choose one of: Son of, Daughter of, Wife of"),
        ("pa", "ਸੰਬੰਧ ਲਈ ਇਹਨਾਂ ਵਿੱਚੋਂ ਇੱਕ ਚੁਣੋ: ਪੁੱਤਰ, ਪੁੱਤਰੀ, ਪਤਨੀ"),
        ("hi", "संबंध के लिए इनमें से एक चुनें: पुत्र, पुत्री, पत्नी"),
    ],
)
def test_bad_choice_lists_the_labels_in_the_language(income: ServiceSpec, language: str, text: str) -> None:
    for bad in ["brother_of", "SON_OF", 1]:
        assert errors_of(income, answers(relation=bad), language) == [FieldError("relation", text)]


def test_every_problem_is_reported_at_once(income: ServiceSpec) -> None:
    values = answers(annual_income="lots", relation="cousin_of", mobile="123", nickname="Gopi")
    del values["applicant_name"]
    assert errors_of(income, values, "pa") == [
        FieldError("applicant_name", "ਬਿਨੈਕਾਰ ਦਾ ਨਾਮ (ਗੁਰਮੁਖੀ ਵਿੱਚ) ਭਰਨਾ ਲਾਜ਼ਮੀ ਹੈ"),
        FieldError("relation", "ਸੰਬੰਧ ਲਈ ਇਹਨਾਂ ਵਿੱਚੋਂ ਇੱਕ ਚੁਣੋ: ਪੁੱਤਰ, ਪੁੱਤਰੀ, ਪਤਨੀ"),
        FieldError("annual_income", "ਸਾਲਾਨਾ ਪਰਿਵਾਰਕ ਆਮਦਨ (ਰੁਪਏ) ਵਿੱਚ ਸਿਰਫ਼ ਪੂਰਨ ਅੰਕ ਭਰੋ, ਜਿਵੇਂ 180000 ਜਾਂ 1,80,000"),
        FieldError("mobile", "ਮੋਬਾਈਲ ਨੰਬਰ ਵਿੱਚ 6, 7, 8 ਜਾਂ 9 ਨਾਲ ਸ਼ੁਰੂ ਹੋਣ ਵਾਲਾ 10 ਅੰਕਾਂ ਦਾ ਭਾਰਤੀ ਮੋਬਾਈਲ ਨੰਬਰ ਭਰੋ"),
        FieldError("nickname", "nickname ਇਸ ਫ਼ਾਰਮ ਦਾ ਖ਼ਾਨਾ ਨਹੀਂ ਹੈ"),
    ]


def test_hindi_messages(income: ServiceSpec) -> None:
    values = answers(applicant_name="", annual_income=-5)
    assert errors_of(income, values, "hi") == [
        FieldError("applicant_name", "आवेदक का नाम (गुरमुखी में) भरना अनिवार्य है"),
        FieldError("annual_income", "वार्षिक पारिवारिक आय (रुपये) में कम से कम 1 भरें"),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_names_its_field_in_every_language(catalogue: Catalogue, language: str) -> None:
    wrong = {"text": "\x07", "number": "lots", "date": "soon", "choice": "neither", "mobile": "123", "email": "no"}
    for service in catalogue:
        values = {field.name: wrong[field.type] for field in service.fields}
        for error in errors_of(service, values, language):
            assert label(service, error.field, language) in error.message, (service.code, error)


def test_only_the_named_fields_are_checked(income: ServiceSpec) -> None:
    assert validate_form(income, {"annual_income": "1,80,000"}, "en", only={"annual_income"}) == {
        "annual_income": 180000
    }
    assert errors_of_only(income, {"annual_income": "", "district": "x"}, {"annual_income"}) == [
        FieldError("annual_income", message("required", "en", label="Annual family income (Rs)")),
        FieldError("district", message("unknown", "en", label="district")),
    ]


def errors_of_only(service: ServiceSpec, values: dict[str, object], only: set[str]) -> list[FieldError]:
    with pytest.raises(InvalidInput) as caught:
        validate_form(service, values, "en", only=only)
    return caught.value.errors


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
        "relation_name_en": "Harjeet Singh",
        "address": "ਪਿੰਡ ਖੇੜੀ, ਡਾਕਖਾਨਾ ਸਮਰਾਲਾ",
        "address_en": "Village Kheri, Post Office Samrala",
        "district": "ਲੁਧਿਆਣਾ",
        "district_en": "Ludhiana",
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
    values |= {f"{name}_en": "Saini" for name in ("applicant_name", "relation_name", "address", "district", "caste")}
    data = certificate_data(service, validate_form(service, values, "pa"))
    assert data["category"] == "backward_class"
    assert "purpose" not in data
    assert validate_data(templates["caste-certificate"], data) == data
