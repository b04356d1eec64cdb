"""Disposal times in the pendency report: a year of monthly histograms, added up in
place, gives what adding them up one by one gives."""

from __future__ import annotations

import secrets
from datetime import date

from intake import pendency
from intake.models import DisposalTally
from tests.conftest import Backend
from tests.intake.helpers import ensure_department

MONTHS = {
    "2025-12": [9, 9, 9],  # before the period: left out
    "2026-01": [0, 3, 0, 2],
    "2026-02": [1, 0, 0, 0, 0, 0, 4],  # longer than the others
    "2026-03": [0],
    "2026-04": [0, 0, 5],
}


def _one_by_one(histograms: list[list[int]]) -> list[int]:
    total = [0] * max(len(h) for h in histograms)
    for histogram in histograms:
        for days, cases in enumerate(histogram):
            total[days] += cases
    return total


def test_a_year_of_monthly_histograms_adds_up(backend: Backend) -> None:
    department_id = ensure_department(backend, "REV")
    office = "T-" + secrets.token_hex(4).upper()
    with backend.context.sessions() as session:
        for service in ("rev-income", "rev-caste"):
            for month, histogram in MONTHS.items():
                session.add(
                    DisposalTally(
                        department_id=department_id,
                        office_code=office,
                        service_code=service,
                        month=month,
                        histogram=histogram if service == "rev-income" else [h * 2 for h in histogram],
                    )
                )
        session.commit()

        rows = pendency.pendency(session, today=date(2026, 4, 20), since_month="2026-01", office=office)

    in_period = [h for month, h in MONTHS.items() if month >= "2026-01"]
    expected = _one_by_one(in_period)
    income = next(r for r in rows if r.service == "rev-income")
    caste = next(r for r in rows if r.service == "rev-caste")
    assert [r.office for r in rows] == [office, office]
    assert income.histogram == expected
    assert income.disposed == sum(expected) == 15
    assert caste.histogram == [2 * n for n in expected]
    assert income.average_disposal_days == round(sum(d * n for d, n in enumerate(expected)) / 15, 1)
    assert income.p90_disposal_days == 6
    assert pendency.totals(rows).histogram == [3 * n for n in expected]


def test_a_month_with_nothing_disposed_has_no_disposal_time(backend: Backend) -> None:
    department_id = ensure_department(backend, "REV")
    office = "T-" + secrets.token_hex(4).upper()
    with backend.context.sessions() as session:
        session.add(
            DisposalTally(
                department_id=department_id,
                office_code=office,
                service_code="rev-income",
                month="2026-02",
                histogram=[0] * 61,
            )
        )
        session.commit()

        rows = pendency.pendency(session, today=date(2026, 4, 20), since_month="2026-01", office=office)

    assert [(r.office, r.disposed, r.average_disposal_days, r.p90_disposal_days) for r in rows] == [
        (office, 0, None, None)
    ]


def _percentile_one_by_one(histogram: list[int], q: float) -> int | None:
    total = sum(histogram)
    if total == 0:
        return None
    running = 0
    for days, cases in enumerate(histogram):
        running += cases
        if running >= q * total:
            return days
    return len(histogram) - 1


def test_percentiles_and_averages_are_what_counting_case_by_case_gives() -> None:
    histograms = [[], [0, 0], [5], [0, 3, 0, 2], [1, 0, 0, 0, 0, 0, 4], [0, 0, 0, 9, 0, 0], [2, 2, 2, 2, 2]]
    for histogram in histograms:
        cases = [days for days, count in enumerate(histogram) for _ in range(count)]
        row = pendency.PendencyRow(department="REV", office="T", service="s", histogram=histogram)
        expected_average = round(sum(cases) / len(cases), 1) if cases else None
        assert row.average_disposal_days == expected_average, histogram
        for q in (0.0, 0.1, 0.5, 0.9, 1.0):
            assert pendency.percentile(histogram, q) == _percentile_one_by_one(histogram, q), (histogram, q)
