"""Values that pass a type check but mean nothing are refused on every issuing path:
a ``valid_until`` beyond what the template allows, an income of nothing, a financial
year that is no such year. Single issuing and batch rows share the one check."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from issuer.templates import TemplateSpec, valid_until_problem, validate_data
from sanad.clock import today_in_india
from sanad.errors import FieldError, InvalidInput
from tests.conftest import EXAMPLE_DATA, Backend, IssuingDepartment, income_certificate
from tests.issuer.batches_helpers import COLUMNS, csv_file, row, submit

REPO = Path(__file__).resolve().parents[2]

# In financial year 2026-27: the latest accepted is 2027-28.
TODAY = date(2026, 12, 5)


def data_errors(spec: TemplateSpec, today: date = TODAY, **changes: object) -> list[FieldError]:
    with pytest.raises(InvalidInput) as caught:
        validate_data(spec, {**EXAMPLE_DATA, **changes}, today=today)
    return caught.value.errors


# --- valid_until ---------------------------------------------------------------------


def test_a_template_validity_period_is_the_longest_a_department_may_grant(templates: dict[str, TemplateSpec]) -> None:
    income = templates["income-certificate"]  # 365 days
    assert valid_until_problem(income, TODAY + timedelta(days=365), TODAY) is None
    assert valid_until_problem(income, TODAY + timedelta(days=366), TODAY) == (
        "must be no later than 2027-12-05: the Income Certificate is valid for at most 365 days from issue"
    )
    assert valid_until_problem(income, TODAY - timedelta(days=1), TODAY) == "must not be in the past"


def test_a_template_that_does_not_lapse_caps_a_requested_date_at_twenty_years(
    templates: dict[str, TemplateSpec],
) -> None:
    birth = templates["birth-certificate"]
    assert valid_until_problem(birth, TODAY + timedelta(days=7305), TODAY) is None
    assert (
        valid_until_problem(birth, date(9999, 12, 31), TODAY)
        == "must be no later than 2046-12-05 (20 years from issue)"
    )


def test_the_issuing_api_refuses_a_valid_until_of_9999(client: TestClient, dept: IssuingDepartment) -> None:
    latest = today_in_india() + timedelta(days=365)
    body = {**income_certificate(), "valid_until": "9999-12-31"}

    response = client.post("/api/v1/documents", json=body, headers=dept.headers)

    assert response.status_code == 422, response.text
    assert response.json()["fields"] == [
        {
            "field": "valid_until",
            "message": f"must be no later than {latest.isoformat()}: "
            "the Income Certificate is valid for at most 365 days from issue",
        }
    ]
    longest = {**income_certificate(), "valid_until": latest.isoformat()}
    assert client.post("/api/v1/documents", json=longest, headers=dept.headers).status_code == 201


def test_a_batch_row_with_a_valid_until_of_9999_is_refused(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    latest = today_in_india() + timedelta(days=365)
    content = csv_file([{**row("FAR-1"), "valid_until": "9999-12-31"}], columns=[*COLUMNS, "valid_until"])

    batch = submit(client, dept, content, dry_run=True).json()

    assert batch["status"] == "invalid"
    errors = client.get(f"/api/v1/batches/{batch['id']}/errors", headers=dept.headers).json()["errors"]
    assert errors == [
        {
            "row": 1,
            "field": "valid_until",
            "message": f"must be no later than {latest.isoformat()}: "
            "the Income Certificate is valid for at most 365 days from issue",
        }
    ]


# --- amounts ---------------------------------------------------------------------------


@pytest.mark.parametrize("income", [0, -1, -240000])
def test_an_income_of_nothing_or_less_is_refused(templates: dict[str, TemplateSpec], income: int) -> None:
    assert data_errors(templates["income-certificate"], annual_income=income) == [
        FieldError("data.annual_income", "must be at least 1")
    ]


def test_the_issuing_api_refuses_an_income_of_zero(client: TestClient, dept: IssuingDepartment) -> None:
    response = client.post("/api/v1/documents", json=income_certificate(annual_income=0), headers=dept.headers)

    assert response.status_code == 422
    assert response.json()["fields"] == [{"field": "data.annual_income", "message": "must be at least 1"}]


# --- financial years -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("2025-27", "must be two consecutive years, like 2025-26"),
        ("2025-25", "must be two consecutive years, like 2025-26"),
        ("1999-01", "must be two consecutive years, like 1999-00"),
        ("1900-01", "must be a financial year from 1950-51 to 2027-28"),
        ("1949-50", "must be a financial year from 1950-51 to 2027-28"),
        ("2028-29", "must be a financial year from 1950-51 to 2027-28"),
        ("2025/26", "must be a financial year written like 2025-26"),
        ("2025-2026", "must be a financial year written like 2025-26"),
        ("੨੦੨੫-੨੬", "must be a financial year written like 2025-26"),
        ("FY 2025-26", "must be a financial year written like 2025-26"),
    ],
)
def test_a_financial_year_that_is_no_such_year_is_refused(
    templates: dict[str, TemplateSpec], year: str, message: str
) -> None:
    assert data_errors(templates["income-certificate"], financial_year=year) == [
        FieldError("data.financial_year", message)
    ]


@pytest.mark.parametrize("year", ["1950-51", "1999-00", "2025-26", "2027-28"])
def test_real_financial_years_are_accepted(templates: dict[str, TemplateSpec], year: str) -> None:
    data = validate_data(templates["income-certificate"], {**EXAMPLE_DATA, "financial_year": year}, today=TODAY)
    assert data["financial_year"] == year


def test_the_latest_financial_year_turns_on_the_first_of_april(templates: dict[str, TemplateSpec]) -> None:
    income = templates["income-certificate"]
    assert data_errors(income, date(2027, 3, 31), financial_year="2028-29") == [
        FieldError("data.financial_year", "must be a financial year from 1950-51 to 2027-28")
    ]
    assert validate_data(income, {**EXAMPLE_DATA, "financial_year": "2028-29"}, today=date(2027, 4, 1))


def test_the_issuing_api_and_batches_refuse_a_nonsense_financial_year(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    response = client.post("/api/v1/documents", json=income_certificate(financial_year="2025-27"), headers=dept.headers)
    assert response.status_code == 422
    assert response.json()["fields"] == [
        {"field": "data.financial_year", "message": "must be two consecutive years, like 2025-26"}
    ]

    batch = submit(client, dept, csv_file([row("FY-1", financial_year="1900-01")]), dry_run=True).json()
    assert batch["status"] == "invalid"
    errors = client.get(f"/api/v1/batches/{batch['id']}/errors", headers=dept.headers).json()["errors"]
    assert [(e["field"], e["message"][:31]) for e in errors] == [("financial_year", "must be a financial year from 1")]


# --- dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"date_of_birth": "2026-12-06"}, "date_of_birth", "must not be in the future"),
        ({"registration_date": "2027-01-01"}, "registration_date", "must not be in the future"),
        ({"date_of_birth": "1899-12-31"}, "date_of_birth", "must be 1900-01-01 or later"),
    ],
)
def test_a_date_after_today_or_before_1900_is_refused(
    templates: dict[str, TemplateSpec], changes: dict[str, str], field: str, message: str
) -> None:
    birth = templates["birth-certificate"]
    example = {**birth_example(), **changes}
    with pytest.raises(InvalidInput) as caught:
        validate_data(birth, example, today=TODAY)
    assert caught.value.errors == [FieldError(f"data.{field}", message)]


def test_today_and_1900_are_accepted(templates: dict[str, TemplateSpec]) -> None:
    birth = templates["birth-certificate"]
    data = validate_data(
        birth, {**birth_example(), "date_of_birth": "1900-01-01", "registration_date": "2026-12-05"}, today=TODAY
    )
    assert (data["date_of_birth"], data["registration_date"]) == ("1900-01-01", "2026-12-05")


def birth_example() -> dict[str, object]:
    example = json.loads((REPO / "templates" / "birth-certificate" / "example.json").read_text("utf-8"))
    return dict(example["data"])
