"""The apply form asks for the English spelling of names and places: left blank, it is
suggested from the Gurmukhi for the holder to confirm, and what they confirm is printed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from intake.catalogue import Catalogue
from intake.forms import validate_form
from sanad.errors import InvalidInput
from tests.conftest import Backend
from tests.intake.helpers import INCOME_FORM, ensure_department
from tests.intake.test_forms import BIRTH_FORM, catalogue
from tests.intake.test_pages import apply_with_page, citizen, field_error, named

__all__ = ["catalogue"]  # the shipped catalogue, as a fixture


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    ensure_department(backend, "REV")


def _without_english(*names: str) -> dict[str, object]:
    return {key: value for key, value in INCOME_FORM.items() if key not in names}


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "write it in English letters as it should be printed, for example “Harjeet Singh”"),
        ("pa", "ਅੰਗਰੇਜ਼ੀ ਅੱਖਰਾਂ ਵਿੱਚ ਉਵੇਂ ਲਿਖੋ ਜਿਵੇਂ ਛਪਣਾ ਹੈ, ਜਿਵੇਂ “Harjeet Singh”"),
        ("hi", "अंग्रेज़ी अक्षरों में वैसे लिखें जैसे छपना है, जैसे “Harjeet Singh”"),
    ],
)
def test_a_blank_english_spelling_is_asked_for_with_a_suggestion(
    catalogue: Catalogue, language: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_form(catalogue["rev-income"], _without_english("relation_name_en"), language)  # type: ignore[arg-type]

    [problem] = refused.value.errors
    assert problem.field == "relation_name_en"
    assert words in problem.message


def test_without_the_gurmukhi_the_english_spelling_is_simply_required(catalogue: Catalogue) -> None:
    answers = _without_english("relation_name", "relation_name_en")

    with pytest.raises(InvalidInput) as refused:
        validate_form(catalogue["rev-income"], answers, "en")

    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("relation_name", "Name of father / mother / husband is required"),
        ("relation_name_en", "Name of father / mother / husband (in English) is required"),
    ]


def test_the_form_comes_back_with_suggested_spellings_to_confirm(client: TestClient, backend: Backend) -> None:
    citizen(client, backend)
    blank = _without_english("relation_name_en", "address_en", "district_en")

    page = apply_with_page(client, form=blank)
    confirmed = apply_with_page(
        client,
        form={
            **blank,
            "relation_name_en": named(page, "field.relation_name_en")[1]["value"],
            "address_en": named(page, "field.address_en")[1]["value"],
            "district_en": named(page, "field.district_en")[1]["value"],
        },
    )

    assert page.status_code == 422
    assert named(page, "field.relation_name_en")[1]["value"] == "Harjeet Singh"
    assert named(page, "field.address_en")[1]["value"] == "Village Kheri, Post Office Samrala"
    assert named(page, "field.district_en")[1]["value"] == "Ludhiana"
    assert "check it" in (field_error(page, "field-district_en") or "")
    assert confirmed.status_code == 303, confirmed.text


def test_an_optional_name_once_given_needs_its_english_spelling(catalogue: Catalogue) -> None:
    birth = catalogue["lg-birth"]
    assert "father_name_en" not in validate_form(birth, BIRTH_FORM, "en")  # no father: neither is asked

    with pytest.raises(InvalidInput) as refused:
        validate_form(birth, {**BIRTH_FORM, "father_name": "ਅਮਨਦੀਪ ਸਿੰਘ"}, "en")

    [problem] = refused.value.errors
    assert problem.field == "father_name_en"
    assert "for example “Amandeep Singh”" in problem.message
    given = validate_form(birth, {**BIRTH_FORM, "father_name": "ਅਮਨਦੀਪ ਸਿੰਘ", "father_name_en": "Amandeep Singh"}, "en")
    assert given["father_name_en"] == "Amandeep Singh"


@pytest.mark.parametrize(
    ("service", "english"),
    [
        ("lg-birth", {"child_name_en", "place_of_birth_en", "mother_name_en", "address_at_birth_en"}),
        ("tpt-learner-licence", {"applicant_name_en", "relation_name_en", "address_en"}),
        ("lg-trade-licence", {"owner_name_en", "trade_name_en", "premises_address_en"}),
        ("lg-trade-licence-renewal", {"owner_name_en", "trade_name_en", "premises_address_en"}),
    ],
)
def test_each_form_asks_for_the_english_values_its_certificate_prints(
    catalogue: Catalogue, service: str, english: set[str]
) -> None:
    fields = catalogue[service].fields

    assert {f.name for f in fields if f.english_of and f.required} == english
    assert english <= set(catalogue[service].certificate.data.values())  # and the certificate prints them
