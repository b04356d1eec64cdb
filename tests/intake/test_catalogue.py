"""Service catalogue: the shipped services load and can always fill their certificates;
a broken file stops start-up with a message naming file, key path and reason; a
catalogue of 1,000 services loads fast and looks services up in constant time."""

from __future__ import annotations

import copy
import gc
import json
import random
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from intake.catalogue import Catalogue, FormField, ServiceSpec, load_catalogue
from intake.exceptions import CatalogueError
from intake.forms import certificate_data, validate_form, validate_officer_fields
from issuer.templates import TemplateSpec, validate_data

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = REPO / "catalogue"


@pytest.fixture(scope="module")
def catalogue(templates: dict[str, TemplateSpec]) -> Catalogue:
    return load_catalogue(CATALOGUE, templates)


def sample_answers(
    service: ServiceSpec, templates: dict[str, TemplateSpec], *, officer: bool = False
) -> dict[str, object]:
    """Answers a citizen could give (or, with ``officer``, what the deciding officer fills
    in the officer fields): the template's example data, mapped back onto the form, plus a
    plausible value for every field the certificate does not print."""
    spec = templates[service.certificate.template]
    example = json.loads((spec.directory / "example.json").read_text("utf-8"))["data"]
    fields = service.officer_fields if officer else service.fields
    names = {field.name for field in fields}
    answers: dict[str, object] = {
        source: example[target]
        for target, source in service.certificate.data.items()
        if target in example and source in names
    }
    for field in fields:
        if field.name not in answers:
            answers[field.name] = _plausible(field)
    return answers


def _plausible(field: FormField) -> object:
    rules = field.validation
    return {
        "text": "PB10-TL-2025-00071",
        "number": rules.min or 0,
        "date": "2026-01-15",
        "choice": rules.choices[0].value if rules.choices else None,
        "mobile": "+91 98765 43210",
        "email": "citizen@example.in",
    }[field.type]


# --- the shipped catalogue --------------------------------------------------------------


def test_shipped_services(catalogue: Catalogue) -> None:
    assert set(catalogue.services) == {
        "rev-income",
        "rev-residence",
        "rev-caste-sc",
        "rev-caste-bc",
        "lg-birth",
        "lg-trade-licence",
        "lg-trade-licence-renewal",
        "tpt-learner-licence",
    }
    assert {s.department for s in catalogue} == {"REV", "LG", "TPT"}
    for service in catalogue:
        assert service.source == CATALOGUE / f"{service.code}.yaml"
        assert all(service.name.__dict__.values())
        assert all(service.description.__dict__.values())


@pytest.mark.parametrize(
    ("code", "low", "high"),
    [
        ("rev-income", 7, 15),
        ("rev-residence", 7, 15),
        ("rev-caste-sc", 15, 15),
        ("rev-caste-bc", 15, 15),
        ("lg-birth", 7, 7),
        ("tpt-learner-licence", 1, 3),
    ],
)
def test_time_limits_are_those_of_the_rts_notifications(catalogue: Catalogue, code: str, low: int, high: int) -> None:
    assert low <= catalogue[code].time_limit_working_days <= high


def test_roles_and_appellate_authorities(catalogue: Catalogue) -> None:
    income = catalogue["rev-income"]
    assert (income.designated_officer, income.first_appellate_authority, income.second_appellate_authority) == (
        "tehsildar",
        "sub-divisional-magistrate",
        "deputy-commissioner",
    )
    for service in catalogue:
        roles = {service.designated_officer, service.first_appellate_authority, service.second_appellate_authority}
        assert len(roles) == 3, service.code


def test_every_new_template_is_issued_by_some_service(catalogue: Catalogue, templates: dict[str, TemplateSpec]) -> None:
    assert {s.certificate.template for s in catalogue} == set(templates)


def test_caste_services_fix_their_category(catalogue: Catalogue) -> None:
    assert dict(catalogue["rev-caste-sc"].certificate.fixed) == {"category": "scheduled_caste"}
    assert dict(catalogue["rev-caste-bc"].certificate.fixed) == {"category": "backward_class"}
    assert "category" not in {f.name for f in catalogue["rev-caste-sc"].fields}


def test_validity_and_fees(catalogue: Catalogue) -> None:
    assert catalogue["rev-income"].certificate.validity_days == 365
    assert catalogue["tpt-learner-licence"].certificate.validity_days == 180
    assert catalogue["lg-birth"].certificate.validity_days is None  # `validity_days: none`
    assert catalogue["tpt-learner-licence"].fee_inr == 200
    assert catalogue["rev-income"].fee_inr is None


def test_attachments(catalogue: Catalogue) -> None:
    income = {a.kind: a for a in catalogue["rev-income"].attachments}
    assert set(income) == {"aadhaar", "affidavit", "income-proof", "ration-card"}
    assert income["aadhaar"].required
    assert not income["ration-card"].required
    assert income["aadhaar"].accepted_types == ("application/pdf", "image/jpeg", "image/png")
    photo = next(a for a in catalogue["tpt-learner-licence"].attachments if a.kind == "photograph")
    assert photo.accepted_types == ("image/jpeg", "image/png")
    assert photo.max_bytes == 512 * 1024


@pytest.mark.parametrize("language", ["en", "pa", "hi"])
def test_every_service_can_issue_its_certificate(
    catalogue: Catalogue, templates: dict[str, TemplateSpec], language: str
) -> None:
    for service in catalogue:
        spec = templates[service.certificate.template]
        cleaned = validate_form(service, sample_answers(service, templates), language)  # type: ignore[arg-type]
        officer = validate_officer_fields(
            service,
            sample_answers(service, templates, officer=True),
            language,  # type: ignore[arg-type]
        )
        data = certificate_data(service, cleaned, officer)
        assert validate_data(spec, data) == data, service.code
        assert data[spec.holder_field] == cleaned[service.certificate.holder_field]


def test_lookup(catalogue: Catalogue) -> None:
    assert catalogue.get("rev-income") is catalogue["rev-income"]
    assert catalogue.get("rev-nothing") is None
    assert "lg-birth" in catalogue
    assert "lg-death" not in catalogue
    with pytest.raises(KeyError):
        catalogue["lg-death"]
    assert len(catalogue) == len(list(catalogue)) == 8
    assert [s.code for s in catalogue.by_department("LG")] == [
        "lg-birth",
        "lg-trade-licence",
        "lg-trade-licence-renewal",
    ]
    assert catalogue.by_department("HEALTH") == ()
    with pytest.raises(TypeError):
        catalogue.services["x"] = catalogue["rev-income"]  # type: ignore[index]


def test_holidays_directory_is_not_a_service(catalogue: Catalogue) -> None:
    assert (CATALOGUE / "holidays").is_dir()
    assert not any(code.startswith("holidays") for code in catalogue.services)


# --- broken files, written to tmp_path ----------------------------------------------------


def L(en: str, pa: str, hi: str) -> dict[str, str]:
    return {"en": en, "pa": pa, "hi": hi}


def text(name: str, max_length: int, *, required: bool = True, **more: object) -> dict[str, Any]:
    return {
        "name": name,
        "type": "text",
        "required": required,
        "label": L(name, "ਨਾਮ", "नाम"),
        "validation": {"max_length": max_length, **more},
    }


GOOD: dict[str, Any] = {
    "code": "rev-income",
    "department": "REV",
    "office_kind": "tehsil",
    "name": L("Income certificate", "ਆਮਦਨ ਸਰਟੀਫਿਕੇਟ", "आय प्रमाण पत्र"),
    "description": L("Annual family income.", "ਸਾਲਾਨਾ ਪਰਿਵਾਰਕ ਆਮਦਨ।", "वार्षिक पारिवारिक आय।"),
    "time_limit_working_days": 7,
    "designated_officer": "tehsildar",
    "first_appellate_authority": "sub-divisional-magistrate",
    "second_appellate_authority": "deputy-commissioner",
    "fields": [
        text("applicant_name", 120),  # 0
        {  # 1
            "name": "relation",
            "type": "choice",
            "required": True,
            "label": L("Relation", "ਸੰਬੰਧ", "संबंध"),
            "validation": {
                "choices": [
                    {"value": "son_of", "label": L("Son of", "ਪੁੱਤਰ", "पुत्र")},
                    {"value": "daughter_of", "label": L("Daughter of", "ਪੁੱਤਰੀ", "पुत्री")},
                ]
            },
        },
        text("relation_name", 120),  # 2
        text("address", 300),  # 3
        text("district", 40),  # 4
        {  # 5
            "name": "annual_income",
            "type": "number",
            "required": True,
            "label": L("Annual income", "ਸਾਲਾਨਾ ਆਮਦਨ", "वार्षिक आय"),
            "validation": {"min": 1, "max": 10_000_000},
        },
        text("financial_year", 7, pattern="(19|20)[0-9]{2}-[0-9]{2}"),  # 6
        {"name": "mobile", "type": "mobile", "required": True, "label": L("Mobile", "ਮੋਬਾਈਲ", "मोबाइल")},  # 7
        {"name": "email", "type": "email", "required": False, "label": L("E-mail", "ਈ-ਮੇਲ", "ई-मेल")},  # 8
        text("purpose", 100, required=False),  # 9
        # The English forms the certificate's English paragraph prints (10-13).
        *(
            {**text(f"{name}_en", length, pattern="[A-Za-z][A-Za-z0-9 .,'-]*"), "english_of": name}
            for name, length in (("applicant_name", 120), ("relation_name", 120), ("address", 300), ("district", 40))
        ),
    ],
    "attachments": [
        {
            "kind": "aadhaar",
            "label": L("Aadhaar card", "ਆਧਾਰ ਕਾਰਡ", "आधार कार्ड"),
            "required": True,
            "accepted_types": ["application/pdf", "image/jpeg"],
            "max_bytes": 2_000_000,
        }
    ],
    "certificate": {
        "template": "income-certificate",
        "holder_field": "applicant_name",
        "validity_days": 365,
        "data": {
            "holder_name": "applicant_name",
            "relation": "relation",
            "relation_name": "relation_name",
            "address": "address",
            "district": "district",
            "annual_income": "annual_income",
            "financial_year": "financial_year",
            "purpose": "purpose",
            **{f"{name}_en": f"{name}_en" for name in ("relation_name", "address", "district")},
            "holder_name_en": "applicant_name_en",
        },
    },
}


ATTACHMENT = "{kind: a, label: {en: A, pa: ਅ, hi: अ}, required: true, accepted_types: [image/png], max_bytes: 9}"


def write_service(directory: Path, service: object, name: str = "rev-income.yaml", raw: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(raw if raw is not None else yaml.safe_dump(service, allow_unicode=True), encoding="utf-8")
    return path


def broken(*changes: str) -> dict[str, Any]:
    """GOOD with deliberate mistakes, each written ``key.path=value`` (``<delete>`` removes)."""
    service = copy.deepcopy(GOOD)
    for change in changes:
        path, _, value = change.partition("=")
        *parents, last = path.split(".")
        target: Any = service
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        key: Any = int(last) if last.isdigit() else last
        if value == "<delete>":
            del target[key]
        else:
            target[key] = yaml.safe_load(value)
    return service


def test_good_service_loads(tmp_path: Path, templates: dict[str, TemplateSpec]) -> None:
    write_service(tmp_path, GOOD)
    service = load_catalogue(tmp_path, templates)["rev-income"]
    assert [f.name for f in service.fields][:2] == ["applicant_name", "relation"]
    assert service.fields[6].validation.pattern is not None
    assert service.fields[6].validation.pattern.pattern == "(19|20)[0-9]{2}-[0-9]{2}"
    assert service.fields[1].validation.choices[1].value == "daughter_of"
    assert service.fields[0].help is None
    assert service.fee_inr is None
    assert service.certificate.fixed == {}
    # Stored in the template's field order, whatever the file's order.
    assert list(service.certificate.data) == [
        f.name for f in templates["income-certificate"].fields if f.name in GOOD["certificate"]["data"]
    ]


@pytest.mark.parametrize(
    ("changes", "where", "reason"),
    [
        # the form
        (["fields.2.type=numeric"], "fields[2].type", "must be one of text, number, date, choice, mobile, email"),
        (["fields.5.validation.max=lots"], "fields[5].validation.max", "must be an integer"),
        (["fields.5.validation.max=true"], "fields[5].validation.max", "must be an integer"),
        (["fields.5.validation.min=20000000"], "fields[5].validation.min", "must not exceed max"),
        (["fields.0.validation.min=1"], "fields[0].validation.min", "not allowed for text fields"),
        (["fields.7.validation={max_length: 10}"], "fields[7].validation.max_length", "not allowed for mobile fields"),
        (["fields.0.validation.colour=red"], "fields[0].validation.colour", "unknown key"),
        (["fields.0.validation=<delete>"], "fields[0].validation.max_length", "is required for text fields"),
        (["fields.8.validation={max_length: 0}"], "fields[8].validation.max_length", "must be at least 1"),
        (["fields.6.validation.pattern=([0-9]"], "fields[6].validation.pattern", "invalid regular expression"),
        (["fields.1.validation.choices=[]"], "fields[1].validation.choices", "must be a non-empty list"),
        (["fields.1.validation=<delete>"], "fields[1].validation.choices", "must be a non-empty list"),
        (
            ["fields.1.validation.choices.1.value=son_of"],
            "fields[1].validation.choices[1].value",
            "duplicate value 'son_of'",
        ),
        (
            ["fields.1.validation.choices.0.label.hi=<delete>"],
            "fields[1].validation.choices[0].label",
            "must map exactly en, pa and hi",
        ),
        (["fields.1.validation.choices.0.text=x"], "fields[1].validation.choices[0].text", "unknown key"),
        (["fields.3.name=applicant_name"], "fields[3].name", "duplicate field name 'applicant_name'"),
        (["fields.3.name=Address"], "fields[3].name", "must be lowercase snake_case"),
        (["fields.3.required=yes please"], "fields[3].required", "must be true or false"),
        (["fields.3.required=<delete>"], "fields[3].required", "is required"),
        (["fields.3.hint=x"], "fields[3].hint", "unknown key"),
        (["fields.3.help={en: x, pa: y}"], "fields[3].help", "must map exactly en, pa and hi"),
        (["fields.3.label.pa=' '"], "fields[3].label.pa", "must be a non-empty string"),
        (["fields=[]"], "fields", "must be a non-empty list"),
        (["fields.3=address"], "fields[3]", "must be a mapping"),
        # attachments
        (
            ["attachments.0.accepted_types.1=image/gif"],
            "attachments[0].accepted_types[1]",
            "must be one of application/pdf, image/jpeg, image/png",
        ),
        (
            ["attachments.0.accepted_types.1=application/pdf"],
            "attachments[0].accepted_types[1]",
            "duplicate type 'application/pdf'",
        ),
        (["attachments.0.accepted_types=[]"], "attachments[0].accepted_types", "must be a non-empty list"),
        (["attachments.0.max_bytes=20000000"], "attachments[0].max_bytes", "must be at most 10485760"),
        (["attachments.0.max_bytes=0"], "attachments[0].max_bytes", "must be at least 1"),
        (["attachments.0.kind=Aadhaar Card"], "attachments[0].kind", "must be lowercase words joined by hyphens"),
        (["attachments.0.required=<delete>"], "attachments[0].required", "is required"),
        (
            [f"attachments=[{ATTACHMENT}, {ATTACHMENT}]"],
            "attachments[1].kind",
            "duplicate kind 'a'",
        ),
        (["attachments=<delete>"], "attachments", "is required"),
        (["attachments={}"], "attachments", "must be a list"),
        # the certificate and the mapping
        (
            ["certificate.template=death-certificate"],
            "certificate.template",
            "unknown template 'death-certificate'; known: ",
        ),
        (["certificate.data.caste=district"], "certificate.data.caste", "not a field of template 'income-certificate'"),
        (["certificate.data.district=taluka"], "certificate.data.district", "'taluka' is not a form field"),
        (
            ["certificate.data.annual_income=relation"],
            "certificate.data.annual_income",
            "form field 'relation' (choice) cannot fill template field 'annual_income' (integer); it takes number",
        ),
        (
            ["certificate.data.relation=relation_name"],
            "certificate.data.relation",
            "(text) cannot fill template field 'relation' (enum); it takes choice",
        ),
        (
            ["fields.4.required=false"],
            "certificate.data.district",
            "form field 'district' is optional but the template requires 'district'",
        ),
        (
            ["fields.3.validation.max_length=301"],
            "certificate.data.address",
            "form field 'address' allows 301 characters but the template allows 300",
        ),
        (
            ["fields.8.required=true", "certificate.data.district=email"],
            "certificate.data.district",
            "form field 'email' allows 254 characters but the template allows 40",
        ),
        (
            ["fields.6.validation.pattern='[0-9-]+'"],
            "certificate.data.financial_year",
            "the template requires the pattern (19|20)[0-9]{2}-[0-9]{2}",
        ),
        (
            ["certificate.data.financial_year=mobile"],
            "certificate.data.financial_year",
            "the template requires the pattern",
        ),
        (
            ["fields.5.validation.min=<delete>"],
            "certificate.data.annual_income",
            "must not allow values below the template's minimum 1",
        ),
        (
            ["fields.5.validation.max=9999999999999"],
            "certificate.data.annual_income",
            "must not allow values above the template's maximum 999999999999",
        ),
        (
            ["fields.1.validation.choices.1.value=brother_of"],
            "certificate.data.relation",
            "choice 'brother_of' of form field 'relation' is not one of the template's: son_of, daughter_of, wife_of",
        ),
        (
            ["certificate.data.district=<delete>"],
            "certificate.data",
            "does not fill the template's required field 'district'",
        ),
        (["certificate.data={}"], "certificate.data", "must map template fields to form fields"),
        (["certificate.fixed={district: Ludhiana}"], "certificate.fixed.district", "is also filled from the form"),
        (
            ["certificate.data.purpose=<delete>", "certificate.fixed={purpose: 42}"],
            "certificate.fixed.purpose",
            "must be a string",
        ),
        (
            ["certificate.data.purpose=<delete>", "certificate.fixed={purpose: '  '}"],
            "certificate.fixed.purpose",
            "must not be blank",
        ),
        (
            ["certificate.data.district_en=<delete>"],
            "certificate.data",
            "does not fill the template's required field 'district_en'",
        ),
        (["fields.13.validation.pattern=<delete>"], "fields[13].english_of", "needs a text field declaring a pattern"),
        (["fields.13.english_of=purpose_typo"], "fields[13].english_of", "is not an earlier text field of the form"),
        (["certificate.fixed={caste: x}"], "certificate.fixed.caste", "not a field of template 'income-certificate'"),
        (["certificate.fixed=[x]"], "certificate.fixed", "must map template fields to constant values"),
        (
            ["certificate.holder_field=purpose"],
            "certificate.holder_field",
            "'purpose' is not a required text form field",
        ),
        (
            ["certificate.holder_field=relation"],
            "certificate.holder_field",
            "'relation' is not a required text form field",
        ),
        (
            ["certificate.holder_field=relation_name"],
            "certificate.holder_field",
            "must be the form field that fills the template's holder field 'holder_name'",
        ),
        (["certificate.validity_days=0"], "certificate.validity_days", "must be at least 1"),
        (["certificate.validity_days=<delete>"], "certificate.validity_days", "is required: a number of days, or none"),
        (["certificate.validity_days=forever"], "certificate.validity_days", "must be an integer"),
        (["certificate.issuer=x"], "certificate.issuer", "unknown key"),
        (["certificate=<delete>"], "certificate", "is required"),
        # the service
        (["code=rev_income"], "code", "must be lowercase words joined by hyphens"),
        (["code=rev-income-2"], "code", "must equal the file name 'rev-income'"),
        (["department=LG"], "code", "must start with the department code in lower case: lg-"),
        (["department=rev"], "department", "must be an upper-case department code such as REV"),
        (["office_kind=Tehsil Office"], "office_kind", "must be lowercase words joined by hyphens"),
        (["name.pa="], "name.pa", "must be a non-empty string"),
        (["description=<delete>"], "description", "is required"),
        (["time_limit_working_days=0"], "time_limit_working_days", "must be at least 1"),
        (["time_limit_working_days=7.5"], "time_limit_working_days", "must be an integer"),
        (
            ["first_appellate_authority=tehsildar"],
            "first_appellate_authority",
            "must differ from the designated officer",
        ),
        (["second_appellate_authority=sub-divisional-magistrate"], "second_appellate_authority", "must differ"),
        (["fee_inr=-10"], "fee_inr", "must be at least 0"),
        (["owner=revenue"], "owner", "unknown key"),
    ],
)
def test_broken_service_names_file_field_and_reason(
    tmp_path: Path, templates: dict[str, TemplateSpec], changes: list[str], where: str, reason: str
) -> None:
    path = write_service(tmp_path, broken(*changes))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(tmp_path, templates)
    message = str(caught.value)
    assert message.startswith(f"{path}: {where}: "), message
    assert reason in message, message


def test_error_message_matches_the_documented_form(templates: dict[str, TemplateSpec], tmp_path: Path) -> None:
    # Run from the repository root, the loader is given the relative directory.
    write_service(tmp_path / "catalogue", broken("fields.2.type=numeric"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        with pytest.raises(CatalogueError) as caught:
            load_catalogue(Path("catalogue"), templates)
    assert str(caught.value) == (
        "catalogue/rev-income.yaml: fields[2].type: must be one of text, number, date, choice, mobile, email"
    )


def test_fee_and_fixed_values_load(tmp_path: Path, templates: dict[str, TemplateSpec]) -> None:
    service = broken(
        "fee_inr=0",
        "certificate.validity_days=none",
        "certificate.data.purpose=<delete>",
        "certificate.fixed={purpose: '  Post-matric   scholarship '}",
    )
    write_service(tmp_path, service)
    loaded = load_catalogue(tmp_path, templates)["rev-income"]
    assert loaded.fee_inr == 0
    assert loaded.certificate.validity_days is None
    # Normalised by the issuer's own rules, exactly as it will be stored.
    assert loaded.certificate.fixed == {"purpose": "Post-matric scholarship"}


def test_repeated_yaml_key_is_an_error(tmp_path: Path, templates: dict[str, TemplateSpec]) -> None:
    raw = yaml.safe_dump(GOOD, allow_unicode=True).replace(
        "time_limit_working_days: 7\n", "time_limit_working_days: 7\ntime_limit_working_days: 70\n"
    )
    path = write_service(tmp_path, None, raw=raw)
    with pytest.raises(
        CatalogueError, match=r"(?s)cannot read: .*duplicate key 'time_limit_working_days'.*line [0-9]+"
    ) as caught:
        load_catalogue(tmp_path, templates)
    assert str(caught.value).startswith(f"{path}: ")


def test_unparsable_yaml_names_the_file(tmp_path: Path, templates: dict[str, TemplateSpec]) -> None:
    path = write_service(tmp_path, None, raw="code: [unclosed\n")
    with pytest.raises(CatalogueError, match="cannot read") as caught:
        load_catalogue(tmp_path, templates)
    assert str(caught.value).startswith(f"{path}: ")


@pytest.mark.parametrize("raw", ["- just\n- a list\n", ""])
def test_file_that_is_not_a_mapping(tmp_path: Path, templates: dict[str, TemplateSpec], raw: str) -> None:
    write_service(tmp_path, None, raw=raw)
    with pytest.raises(CatalogueError, match=r"\(top level\): must be a mapping"):
        load_catalogue(tmp_path, templates)


def test_duplicate_service_code_across_files(tmp_path: Path, templates: dict[str, TemplateSpec]) -> None:
    first = write_service(tmp_path, GOOD)
    second = write_service(tmp_path, GOOD, name="rev-income.yml")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(tmp_path, templates)
    assert str(caught.value) == f"{second}: code: duplicate service code 'rev-income', also in {first}"


def test_missing_or_empty_directory(tmp_path: Path, templates: dict[str, TemplateSpec]) -> None:
    with pytest.raises(CatalogueError, match="does not exist"):
        load_catalogue(tmp_path / "nowhere", templates)
    (tmp_path / "holidays").mkdir()
    (tmp_path / "README.md").write_text("not a service", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"no service files"):
        load_catalogue(tmp_path, templates)


def test_loading_restores_the_garbage_collector(tmp_path: Path, templates: dict[str, TemplateSpec]) -> None:
    # The loader pauses cyclic collection while it builds; it must always hand it back.
    load_catalogue(CATALOGUE, templates)
    assert gc.isenabled()
    write_service(tmp_path, broken("code=rev-other"))
    with pytest.raises(CatalogueError):
        load_catalogue(tmp_path, templates)
    assert gc.isenabled()
    gc.disable()
    try:
        load_catalogue(CATALOGUE, templates)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


# --- scale -----------------------------------------------------------------------------

SERVICES_AT_SCALE = 1000
#: Loading, with every check, may cost at most this multiple of PyYAML's own C-accelerated
#: ``safe_load`` of the same files, which only parses them (measured: about 0.9 times).
LOAD_BUDGET_RATIO = 1.5


def test_a_thousand_services_load_fast_and_look_up_in_constant_time(
    tmp_path: Path, templates: dict[str, TemplateSpec]
) -> None:
    # Copies of a real, fully documented service (about 200 lines each), not stubs.
    source = (CATALOGUE / "rev-income.yaml").read_text("utf-8")
    assert "code: rev-income\n" in source
    texts = []
    for i in range(SERVICES_AT_SCALE):
        code = f"rev-service-{i:04d}"
        texts.append(source.replace("code: rev-income\n", f"code: {code}\n"))
        (tmp_path / f"{code}.yaml").write_text(texts[-1], "utf-8")

    # Measured against a yardstick taken in the same conditions, so the machine's speed
    # and whatever else it runs cancel out: CPU time of this single-threaded load, the
    # better of three, against the same for parsing the files with yaml.CSafeLoader.
    def cpu_seconds(work: Callable[[], object]) -> float:
        spent = []
        for _ in range(3):
            start = time.process_time()
            work()
            spent.append(time.process_time() - start)
        return min(spent)

    loaded: list[Catalogue] = []
    ours = cpu_seconds(lambda: loaded.append(load_catalogue(tmp_path, templates)))
    parse_only = cpu_seconds(lambda: [yaml.load(text, Loader=yaml.CSafeLoader) for text in texts])
    big = loaded[0]
    assert len(big) == SERVICES_AT_SCALE
    assert ours < LOAD_BUDGET_RATIO * parse_only, f"loading took {ours:.2f} s CPU, parsing alone {parse_only:.2f} s"

    # Constant-time lookup: a lookup among 1,000 services costs what one among 10 does
    # (a linear search would cost about a hundred times more).
    small = Catalogue({code: big[code] for code in list(big.services)[:10]})
    codes_big = random.Random(7).sample(list(big.services), 1000)
    codes_small = list(small.services) * 100

    def cost(catalogue: Catalogue, codes: list[str]) -> float:
        return min(timeit.repeat(lambda: [catalogue.get(code) for code in codes], number=20, repeat=7))

    assert cost(big, codes_big) < 3 * cost(small, codes_small)
