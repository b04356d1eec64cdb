"""English values for names and places: templates declare which fields their English
paragraph needs, the API refuses a missing or Gurmukhi English value naming the field, and
each paragraph prints its own language's value."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from issuer.exceptions import TemplateError
from issuer.templates import TemplateSpec, load_templates, validate_data
from sanad.errors import InvalidInput
from tests.conftest import EXAMPLE_DATA, REPO, IssuingDepartment, income_certificate, require_tool


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        [require_tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(result.stdout.split())


def test_the_english_paragraph_prints_english_values_and_the_punjabi_one_gurmukhi(
    client: TestClient, dept: IssuingDepartment, tmp_path: Path
) -> None:
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()
    text = _text(client.get(f"/api/v1/documents/{issued['id']}/content", headers=dept.headers).content, tmp_path)

    assert "son of Harjeet Singh, resident of Village Kheri, Post Office Samrala, District Ludhiana" in text
    assert "ਹਰਜੀਤ ਸਿੰਘ, ਵਾਸੀ ਪਿੰਡ ਖੇੜੀ, ਡਾਕਖਾਨਾ ਸਮਰਾਲਾ, ਜ਼ਿਲ੍ਹਾ ਲੁਧਿਆਣਾ" in text
    assert "son of ਹਰਜੀਤ" not in text


# Each template's English paragraph: how it starts, and what it prints from the example's
# English values (a Gurmukhi value in its place would not match).
ENGLISH_PARAGRAPHS = {
    "birth-certificate": (
        "This is to certify that, according to the original record of births",
        "Harleen Kaur (female) was born on 14-02-2026 at Civil Hospital, Ludhiana. Mother: Jaspreet Kaur; "
        "father: Amandeep Singh; address of the parents at the time of birth: House No. 45, Street No. 2, "
        "Haibowal Kalan, Ludhiana.",
    ),
    "learner-licence": (
        "Under section 8 of the Motor Vehicles Act, 1988",
        "Navjot Kaur Sandhu, daughter of Kuldeep Singh Sandhu, born on 21-09-2007, resident of House No. 3087, "
        "Sector 71, S.A.S. Nagar (Mohali), to learn to drive",
    ),
    "trade-licence": (
        "Under the municipal law and the bye-laws in force",
        "granted to Sukhwinder Singh Gill to carry on the trade of a sweet shop / bakery under the name "
        "Gill Sweets and Bakers at Shop No. 14, Mall Road, Bathinda, Ward No. 23",
    ),
}
_GURMUKHI = re.compile("[\u0a00-\u0a7f]")


@pytest.mark.parametrize("doc_type", sorted(ENGLISH_PARAGRAPHS))
def test_the_english_paragraph_of_each_template_has_no_gurmukhi(
    client: TestClient, dept: IssuingDepartment, tmp_path: Path, doc_type: str
) -> None:
    body = json.loads((REPO / "templates" / doc_type / "example.json").read_text("utf-8"))
    issued = client.post("/api/v1/documents", json=body, headers=dept.headers)
    assert issued.status_code == 201, issued.text
    text = _text(client.get(f"/api/v1/documents/{issued.json()['id']}/content", headers=dept.headers).content, tmp_path)
    opening, values = ENGLISH_PARAGRAPHS[doc_type]

    paragraph = text[text.index(opening) : text.index(values) + len(values)]

    assert not _GURMUKHI.search(paragraph), paragraph
    assert _GURMUKHI.search(text[: text.index(opening)])  # the Punjabi paragraph still is Gurmukhi


def test_the_birth_certificate_separates_the_parents_with_semicolons(
    client: TestClient, dept: IssuingDepartment, tmp_path: Path
) -> None:
    body = json.loads((REPO / "templates" / "birth-certificate" / "example.json").read_text("utf-8"))
    issued = client.post("/api/v1/documents", json=body, headers=dept.headers).json()
    text = _text(client.get(f"/api/v1/documents/{issued['id']}/content", headers=dept.headers).content, tmp_path)

    assert "ਮਾਤਾ ਦਾ ਨਾਮ: ਜਸਪ੍ਰੀਤ ਕੌਰ; ਪਿਤਾ ਦਾ ਨਾਮ: ਅਮਨਦੀਪ ਸਿੰਘ; ਜਨਮ ਸਮੇਂ" in text
    assert "Mother: Jaspreet Kaur; father: Amandeep Singh; address of the parents" in text


def test_a_missing_english_value_is_refused_naming_the_field(client: TestClient, dept: IssuingDepartment) -> None:
    body = income_certificate()
    data = dict(body["data"])  # type: ignore[call-overload]
    del data["relation_name_en"], data["district_en"]

    response = client.post("/api/v1/documents", json={**body, "data": data}, headers=dept.headers)

    assert response.status_code == 422
    problems = {f["field"]: f["message"] for f in response.json()["fields"]}
    assert set(problems) == {"data.relation_name_en", "data.district_en"}
    assert "English paragraph prints data.relation_name in English letters" in problems["data.relation_name_en"]


def test_an_english_value_in_gurmukhi_is_refused(client: TestClient, dept: IssuingDepartment) -> None:
    response = client.post("/api/v1/documents", json=income_certificate(address_en="ਪਿੰਡ ਖੇੜੀ"), headers=dept.headers)

    assert response.status_code == 422
    assert response.json()["fields"] == [
        {
            "field": "data.address_en",
            "message": "must be written in English (Latin) letters, not Gurmukhi or Devanagari",
        }
    ]


def test_every_template_with_an_english_paragraph_declares_its_english_values(
    templates: dict[str, TemplateSpec],
) -> None:
    english = {
        doc_type: sorted(f.english_of for f in spec.fields if f.english_of)
        for doc_type, spec in templates.items()
        if any(f.english_of for f in spec.fields)
    }

    assert english == {
        "income-certificate": ["address", "district", "holder_name", "relation_name"],
        "caste-certificate": ["address", "caste", "district", "holder_name", "relation_name"],
        "residence-certificate": ["address", "district", "holder_name", "relation_name", "tehsil"],
        "birth-certificate": ["address_at_birth", "child_name", "father_name", "mother_name", "place_of_birth"],
        "learner-licence": ["address", "holder_name", "relation_name"],
        "trade-licence": ["owner_name", "premises_address", "trade_name"],
    }


def test_an_optional_field_given_needs_its_english_form_too(templates: dict[str, TemplateSpec]) -> None:
    spec = templates["income-certificate"]
    optional = TemplateSpec(
        **{
            **spec.__dict__,
            "fields": tuple(
                f if f.name not in ("district", "district_en") else type(f)(**{**f.__dict__, "required": False})
                for f in spec.fields
            ),
        }
    )
    data = {key: value for key, value in EXAMPLE_DATA.items() if key != "district_en"}

    with pytest.raises(InvalidInput) as refused:
        validate_data(optional, data)
    without_both = {key: value for key, value in data.items() if key != "district"}

    assert [e.field for e in refused.value.errors] == ["data.district_en"]
    assert "district_en" not in validate_data(optional, without_both)


def test_only_a_text_field_may_declare_an_english_form(tmp_path: Path) -> None:
    directory = tmp_path / "count-certificate"
    directory.mkdir()
    (directory / "template.typ").write_text("")
    (directory / "meta.yaml").write_text(
        "type: count-certificate\ntitle: {en: C, pa: ਸ, hi: स}\nholder_field: name\nfields:\n"
        "  - {name: name, type: text, required: true, english: true, label: {en: N, pa: ਨ, hi: न}}\n"
        "  - {name: count, type: integer, required: true, english: true, label: {en: C, pa: ਗ, hi: ग}}\n"
    )

    with pytest.raises(TemplateError, match=r"fields\[1\] \(count\)\.english: only a text field has an English form"):
        load_templates(tmp_path)
