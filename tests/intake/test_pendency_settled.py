"""Pendency with the settled months' disposal histograms summed once and kept: the
figures equal a from-scratch computation on both backends, a disposal in the live month
shows on the next read, kept sums are read again after their time (in the background
while they are still read), and filters and databases never share sums."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import StaffRole
from intake import pendency, repository
from intake.models import DisposalTally
from intake.pendency_settled import SETTLED, Loader, SettledHistograms, add_into, live_from
from sanad.clock import today_in_india
from tests.conftest import Backend
from tests.intake.helpers import ensure_department, staff_headers
from tests.intake.test_appeals_api import rejected

TODAY = date(2026, 4, 20)
MONTHS = {
    "2025-11": [4, 4],  # before the period
    "2026-01": [0, 3, 0, 2],
    "2026-02": [1, 0, 0, 0, 0, 0, 4],
    "2026-03": [0, 1],
    "2026-04": [0, 0, 5],  # the live month
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    for code in ("REV", "LG", "TPT"):
        ensure_department(backend, code)


def _office() -> str:
    return "T-" + secrets.token_hex(4).upper()


def _seed(backend: Backend, office: str, months: dict[str, list[int]] = MONTHS) -> None:
    department_id = ensure_department(backend, "REV")
    places = (("rev-income", 1), ("rev-caste", 2), ("rev-residence", 0))
    with backend.context.sessions() as session:
        session.add_all(
            DisposalTally(
                department_id=department_id,
                office_code=office,
                service_code=service,
                month=month,
                histogram=[h * times for h in histogram],
            )
            for service, times in places
            for month, histogram in months.items()
        )
        session.commit()


def _dispose(backend: Backend, office: str, month: str, days: int) -> None:
    """One disposal tallied as a decision tallies it (the row locked, one bucket up)."""
    department_id = ensure_department(backend, "REV")
    with backend.context.sessions() as session:
        tally = repository.locked_tally(session, department_id, office, "rev-income", month, 61)
        histogram = list(tally.histogram) + [0] * 61
        histogram[days] += 1
        tally.histogram = histogram
        session.commit()


def _both(
    backend: Backend,
    settled: SettledHistograms,
    *,
    today: date = TODAY,
    since: str = "2026-01",
    office: str,
    service: str | None = None,
) -> tuple[list[pendency.PendencyRow], list[pendency.PendencyRow]]:
    with backend.context.sessions() as session:
        kept = pendency.pendency(
            session, today=today, since_month=since, office=office, service=service, settled=settled
        )
        fresh = pendency.pendency(session, today=today, since_month=since, office=office, service=service)
    return kept, fresh


def test_the_live_month_starts_on_the_second_day() -> None:
    assert live_from(date(2026, 5, 1)) == "2026-04"
    assert live_from(date(2026, 5, 2)) == "2026-05"
    assert live_from(date(2026, 1, 1)) == "2025-12"
    assert live_from(date(2026, 12, 31)) == "2026-12"


def test_kept_sums_equal_a_fresh_computation_for_every_period(backend: Backend) -> None:
    office = _office()
    _seed(backend, office)
    settled = SettledHistograms()

    for since in ("2025-01", "2025-12", "2026-01", "2026-03", "2026-04", "2026-06"):
        for today in (TODAY, date(2026, 5, 1), date(2026, 4, 1)):
            first, fresh = _both(backend, settled, today=today, since=since, office=office)
            again, _ = _both(backend, settled, today=today, since=since, office=office)
            assert first == fresh == again, (since, today)

    kept, fresh = _both(backend, settled, office=office)
    income = next(r for r in kept if r.service == "rev-income")
    assert income.histogram == [1, 4, 5, 2, 0, 0, 4]
    assert income.disposed == 16
    assert pendency.totals(kept) == pendency.totals(fresh)
    assert [r.service for r in kept] == ["rev-caste", "rev-income", "rev-residence"]


def test_a_disposal_in_the_live_month_shows_on_the_next_read(backend: Backend) -> None:
    office = _office()
    _seed(backend, office)
    settled = SettledHistograms()
    before, _ = _both(backend, settled, office=office)

    _dispose(backend, office, "2026-04", days=9)
    after, fresh = _both(backend, settled, office=office)

    assert after == fresh
    income_before = next(r for r in before if r.service == "rev-income")
    income_after = next(r for r in after if r.service == "rev-income")
    assert income_after.disposed == income_before.disposed + 1
    assert income_after.histogram[9] == 1


def test_a_change_to_a_settled_month_shows_once_the_kept_sum_expires(backend: Backend) -> None:
    office = _office()
    _seed(backend, office)
    clock = FakeClock()
    settled = SettledHistograms(keep_for=600, clock=clock)
    _both(backend, settled, office=office)

    _dispose(backend, office, "2026-02", days=3)  # a correction by hand: no decision does this
    clock.now += 599
    kept, fresh = _both(backend, settled, office=office)
    assert kept != fresh
    clock.now += 2
    kept, fresh = _both(backend, settled, office=office)
    assert kept == fresh


def test_filters_keep_their_own_sums(backend: Backend) -> None:
    first, second = _office(), _office()
    _seed(backend, first)
    _seed(backend, second, {"2026-02": [0, 7]})
    settled = SettledHistograms()

    one, fresh_one = _both(backend, settled, office=first)
    two, fresh_two = _both(backend, settled, office=second)
    caste, fresh_caste = _both(backend, settled, office=first, service="rev-caste")

    assert (one, two, caste) == (fresh_one, fresh_two, fresh_caste)
    assert [r.disposed for r in two] == [14, 7, 0]
    assert [r.service for r in caste] == ["rev-caste"]


def test_the_least_recently_read_filter_goes_first_and_databases_never_share(backend: Backend) -> None:
    settled = SettledHistograms(max_filters=2)
    loads: list[str] = []

    def loader(name: str) -> Loader:
        def load(_: Session) -> list[tuple[int, str, str, list[int]]]:
            loads.append(name)
            return [(1, name, "rev-income", [0, 1])]

        return load

    other_database = sessionmaker(create_engine("sqlite://"))
    with backend.context.sessions() as session, other_database() as other:
        for key in ("a", "b", "a", "c", "a", "b"):
            settled.histograms(session, (key,), loader(key))
        kept_elsewhere = settled.histograms(other, ("a",), loader("a elsewhere"))

    # "b" went when "c" came (the least recently read), so it was read again.
    assert loads == ["a", "b", "c", "b", "a elsewhere"]
    assert kept_elsewhere == {(1, "a elsewhere", "rev-income"): (0, 1)}


def test_a_decision_shows_in_the_dashboard_at_once(client: TestClient, backend: Backend) -> None:
    """Through the API, with the server's kept sums: a rejection counts on the next read."""
    office = "TEH-SMR"
    head_office = staff_headers(client, backend, StaffRole.HEAD_OFFICE, department=None)

    def disposed() -> int:
        response = client.get(f"/api/v1/pendency?office={office}&since=2025-01", headers=head_office)
        assert response.status_code == 200, response.text
        return int(response.json()["totals"]["disposed"])

    before = disposed()
    rejected(client, backend, office)

    assert disposed() == before + 1
    with backend.context.sessions() as session:
        today = today_in_india()
        fresh = pendency.pendency(session, today=today, since_month="2025-01", office=office)
        kept = pendency.pendency(session, today=today, since_month="2025-01", office=office, settled=SETTLED)
    assert kept == fresh


def test_a_sum_still_read_near_its_end_is_read_again_without_a_request_waiting(backend: Backend) -> None:
    office = _office()
    _seed(backend, office)
    clock = FakeClock()
    refreshes: list[Callable[[], None]] = []
    settled = SettledHistograms(keep_for=600, refresh_after=480, clock=clock, start=refreshes.append)
    _both(backend, settled, office=office)
    _dispose(backend, office, "2026-02", days=3)  # a correction by hand: no decision does this

    clock.now += 479
    kept, fresh = _both(backend, settled, office=office)
    assert kept != fresh
    assert refreshes == []

    clock.now += 2
    kept, fresh = _both(backend, settled, office=office)
    assert kept != fresh, "the request answers from the kept sum at once"
    _both(backend, settled, office=office)
    assert len(refreshes) == 1, "one re-read at a time"

    refreshes.pop()()
    kept, fresh = _both(backend, settled, office=office)
    assert kept == fresh
    clock.now += 400  # past the first read's time, not the re-read's
    _both(backend, settled, office=office)
    assert refreshes == []


def test_the_background_read_runs_in_a_thread_of_its_own(backend: Backend) -> None:
    office = _office()
    _seed(backend, office)
    clock = FakeClock()
    settled = SettledHistograms(keep_for=600, refresh_after=480, clock=clock)
    _both(backend, settled, office=office)
    _dispose(backend, office, "2026-03", days=4)
    clock.now += 500

    deadline = time.monotonic() + 20
    kept, fresh = _both(backend, settled, office=office)
    while kept != fresh and time.monotonic() < deadline:
        time.sleep(0.05)
        kept, fresh = _both(backend, settled, office=office)
    assert kept == fresh


def test_a_failed_background_read_leaves_the_kept_sum_serving(backend: Backend) -> None:
    clock = FakeClock()
    refreshes: list[Callable[[], None]] = []
    settled = SettledHistograms(keep_for=600, refresh_after=480, clock=clock, start=refreshes.append)
    answers = [[(1, "T-FAIL", "rev-income", [0, 1])]]

    def load(_: Session) -> list[tuple[int, str, str, list[int]]]:
        if not answers:
            raise RuntimeError("the database went away")
        return answers.pop()

    with backend.context.sessions() as session:
        first = settled.histograms(session, ("k",), load)
        clock.now += 500
        assert settled.histograms(session, ("k",), load) == first
        refreshes.pop()()  # fails, and says so in the log
        assert settled.histograms(session, ("k",), load) == first
        assert len(refreshes) == 1, "the next read tries again"
        clock.now += 100
        with pytest.raises(RuntimeError):
            settled.histograms(session, ("k",), load)  # expired: the request reads, and fails


def test_adding_into_a_shorter_or_longer_histogram() -> None:
    total = [1, 2]
    add_into(total, [0, 1, 0, 5])
    assert total == [1, 3, 0, 5]
    add_into(total, [4])
    assert total == [5, 3, 0, 5]
    add_into(total, [])
    assert total == [5, 3, 0, 5]


def test_a_slow_background_read_never_replaces_a_later_one(backend: Backend) -> None:
    clock = FakeClock()
    refreshes: list[Callable[[], None]] = []
    settled = SettledHistograms(keep_for=600, refresh_after=480, clock=clock, start=refreshes.append)

    def reading(name: str) -> Loader:
        def load(_: Session) -> list[tuple[int, str, str, list[int]]]:
            return [(1, name, "rev-income", [1])]

        return load

    def slow(_: Session) -> list[tuple[int, str, str, list[int]]]:
        # While the background read is under way, the kept sum expires and a request
        # reads the months itself.
        clock.now += 101
        settled.histograms(session, ("k",), reading("in the request"))
        return [(1, "in the background", "rev-income", [1])]

    with backend.context.sessions() as session:
        settled.histograms(session, ("k",), reading("first"))
        clock.now += 500
        settled.histograms(session, ("k",), slow)
        refreshes.pop()()
        kept = settled.histograms(session, ("k",), reading("not read"))

    assert kept == {(1, "in the request", "rev-income"): (1,)}
