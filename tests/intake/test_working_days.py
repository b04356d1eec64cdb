"""The legal clock on Punjab's calendar, at pinned instants: receipt after closing time
and on days off, weekends, holidays next to weekends, the turn of the year, pauses while
an application is with the citizen, escalation levels, and loud failure for a year whose
holidays are unknown.

Calendar facts used (catalogue/holidays/2026.yaml): Mon 26 Jan Republic Day; Fri 3 Apr
Good Friday; Fri 25 Dec Christmas and Mon 28 Dec Shaheedi Sabha; February 2026 has no
holiday on a weekday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from intake.exceptions import CalendarError
from intake.holidays import load_calendar
from intake.working_days import (
    SATURDAY_AND_SUNDAY,
    SUNDAY,
    ClockPolicy,
    Escalation,
    Holiday,
    LegalClock,
    WorkingCalendar,
)
from sanad.clock import IST
from sanad.i18n import LocalizedText

REPO = Path(__file__).resolve().parents[2]


def ist(day: str, at: str = "10:00") -> datetime:
    """An instant in India: ``ist("2026-02-06", "16:59")``."""
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(at), tzinfo=IST)


def d(day: str) -> date:
    return date.fromisoformat(day)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return load_calendar(REPO / "catalogue" / "holidays")


@pytest.fixture(scope="module")
def clock(calendar: WorkingCalendar) -> LegalClock:
    return LegalClock(calendar)


# --- the calendar ------------------------------------------------------------------------


def test_working_days_of_the_shipped_calendar(calendar: WorkingCalendar) -> None:
    assert calendar.years == {2026, 2027}
    assert calendar.weekly_off == SATURDAY_AND_SUNDAY
    assert calendar.is_working_day(d("2026-02-06"))  # Friday
    assert not calendar.is_working_day(d("2026-02-07"))  # Saturday
    assert not calendar.is_working_day(d("2026-02-08"))  # Sunday
    assert not calendar.is_working_day(d("2026-01-26"))  # Republic Day, a Monday
    assert not calendar.is_working_day(d("2026-04-03"))  # Good Friday
    assert calendar.is_working_day(d("2027-01-01"))  # New Year's Day is only a restricted holiday
    assert [h.name.en for h in calendar.holidays_on(d("2026-04-14"))] == ["Vaisakhi", "Birthday of Dr. B.R. Ambedkar"]
    assert calendar.holidays_on(d("2026-04-15")) == ()


def test_calendar_arithmetic(calendar: WorkingCalendar) -> None:
    assert calendar.next_working_day(d("2026-04-02")) == d("2026-04-06")  # over Good Friday and the weekend
    assert calendar.next_working_day(d("2026-01-23")) == d("2026-01-27")  # over the weekend and Republic Day
    assert calendar.add_working_days(d("2026-02-02"), 0) == d("2026-02-02")
    assert calendar.add_working_days(d("2026-02-02"), 5) == d("2026-02-09")
    assert calendar.working_days_between(d("2026-02-02"), d("2026-02-09")) == 5
    assert calendar.working_days_between(d("2026-02-09"), d("2026-02-02")) == 0
    assert calendar.working_days_between(d("2026-04-02"), d("2026-04-06")) == 1
    with pytest.raises(ValueError, match="must not be negative"):
        calendar.add_working_days(d("2026-02-02"), -1)


@pytest.mark.parametrize("day", ["2025-12-31", "2028-01-01", "2031-06-15"])
def test_a_year_without_a_file_fails_loudly(calendar: WorkingCalendar, day: str) -> None:
    with pytest.raises(CalendarError, match=rf"no holiday calendar for {day[:4]} .*known years: 2026, 2027"):
        calendar.is_working_day(d(day))


def test_counting_into_a_missing_year_fails_loudly(clock: LegalClock) -> None:
    # Thursday 30 December 2027 + 3 working days reaches into 2028, which has no file.
    with pytest.raises(CalendarError, match=r"add catalogue/holidays/2028\.yaml"):
        clock.due_date(ist("2027-12-30"), 3)
    assert clock.due_date(ist("2027-12-28"), 3) == d("2027-12-31")  # within 2027: fine


def test_a_calendar_with_one_year_knows_nothing_of_the_next(tmp_path: Path) -> None:
    (tmp_path / "2026.yaml").write_text((REPO / "catalogue/holidays/2026.yaml").read_text("utf-8"), "utf-8")
    clock = LegalClock(load_calendar(tmp_path))
    assert clock.due_date(ist("2026-12-29"), 2) == d("2026-12-31")
    with pytest.raises(CalendarError, match="no holiday calendar for 2027"):
        clock.due_date(ist("2026-12-29"), 3)


def test_weekly_off_days_are_configurable() -> None:
    # A six-day week (only Sunday off): Saturday counts.
    six_days = LegalClock(load_calendar(REPO / "catalogue" / "holidays", weekly_off={SUNDAY}))
    assert six_days.due_date(ist("2026-02-06"), 1) == d("2026-02-07")
    with pytest.raises(CalendarError, match="at least one working day"):
        WorkingCalendar([], [2026], weekly_off=range(7))
    with pytest.raises(CalendarError, match="weekday numbers 0-6"):
        WorkingCalendar([], [2026], weekly_off={7})


def test_holiday_outside_the_calendar_years_is_refused() -> None:
    holiday = Holiday(d("2025-12-25"), LocalizedText("Christmas", "ਕ੍ਰਿਸਮਸ", "क्रिसमस"))
    with pytest.raises(CalendarError, match="outside the calendar's years"):
        WorkingCalendar([holiday], [2026])


# --- receipt and due dates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "working_days", "due", "why"),
    [
        (ist("2026-02-02"), 1, "2026-02-03", "Monday morning: Tuesday is day 1"),
        (ist("2026-02-02"), 5, "2026-02-09", "five working days: the next Monday"),
        (ist("2026-02-02"), 7, "2026-02-11", "seven working days span one weekend"),
        (ist("2026-02-02"), 15, "2026-02-23", "fifteen working days span three weekends"),
        (ist("2026-02-06"), 1, "2026-02-09", "Friday: across the weekend"),
        (ist("2026-04-02"), 1, "2026-04-06", "holiday on a Friday: Good Friday and the weekend skipped"),
        (ist("2026-04-01"), 2, "2026-04-06", "day 1 Thursday, Good Friday skipped, day 2 Monday"),
        (ist("2026-01-23"), 1, "2026-01-27", "holiday next to a weekend: Republic Day Monday skipped"),
        (ist("2026-01-26"), 1, "2026-01-28", "submitted on Republic Day: received Tuesday"),
        (ist("2026-12-24"), 3, "2026-12-31", "Christmas Friday, weekend, Shaheedi Sabha Monday"),
        (ist("2026-12-30"), 3, "2027-01-04", "year boundary: Thursday 31 Dec, Friday 1 Jan, Monday 4 Jan"),
        (ist("2026-12-31", "17:30"), 1, "2027-01-04", "after closing on 31 Dec: received 1 Jan 2027"),
        (ist("2026-02-06", "16:59"), 1, "2026-02-09", "16:59 Friday: received Friday"),
        (ist("2026-02-06", "16:59:59"), 1, "2026-02-09", "the last second before closing"),
        (ist("2026-02-06", "17:00"), 1, "2026-02-10", "17:00 sharp is closing time: received Monday"),
        (ist("2026-02-06", "17:01"), 1, "2026-02-10", "17:01 Friday: received Monday"),
        (ist("2026-02-08"), 1, "2026-02-10", "Sunday: received Monday"),
        (ist("2026-02-07", "09:00"), 1, "2026-02-10", "Saturday: received Monday"),
        (ist("2026-02-09", "00:05"), 1, "2026-02-10", "just after midnight Monday: received Monday"),
        (datetime(2026, 2, 6, 11, 29, tzinfo=UTC), 1, "2026-02-09", "11:29 UTC is 16:59 in India"),
        (datetime(2026, 2, 6, 11, 31, tzinfo=UTC), 1, "2026-02-10", "11:31 UTC is 17:01 in India"),
        (datetime(2026, 2, 8, 19, 0, tzinfo=UTC), 1, "2026-02-10", "Sunday evening in UTC is Monday 00:30 in India"),
    ],
)
def test_due_date(clock: LegalClock, submitted: datetime, working_days: int, due: str, why: str) -> None:
    assert clock.due_date(submitted, working_days) == d(due), why


def test_deemed_day(clock: LegalClock) -> None:
    assert clock.deemed_day(ist("2026-02-06", "16:59")) == d("2026-02-06")
    assert clock.deemed_day(ist("2026-02-06", "17:01")) == d("2026-02-09")
    assert clock.deemed_day(ist("2026-04-03", "11:00")) == d("2026-04-06")  # on Good Friday


def test_closing_time_is_configurable(calendar: WorkingCalendar) -> None:
    early = LegalClock(calendar, ClockPolicy(closing_time=time(13, 30)))
    assert early.due_date(ist("2026-02-06", "13:29"), 1) == d("2026-02-09")
    assert early.due_date(ist("2026-02-06", "13:31"), 1) == d("2026-02-10")


# --- pauses while the application is with the citizen ---------------------------------------

SUBMITTED = ist("2026-02-02")  # Monday; 5 working days without pauses: due Monday 9 February
UNPAUSED_DUE = d("2026-02-09")


@pytest.mark.parametrize(
    ("pauses", "due", "why"),
    [
        ([], "2026-02-09", "no pause"),
        ([(ist("2026-02-03", "11:00"), ist("2026-02-03", "15:00"))], "2026-02-09", "returned and back the same day"),
        ([(ist("2026-02-03", "16:00"), ist("2026-02-04", "10:00"))], "2026-02-10", "overnight: Tuesday lost"),
        (
            [(ist("2026-02-03", "16:00"), ist("2026-02-04", "17:00"))],
            "2026-02-11",
            "back at closing: Wednesday lost too",
        ),
        (
            [(ist("2026-02-03", "17:30"), ist("2026-02-04", "10:00"))],
            "2026-02-09",
            "returned after closing: Tuesday counts",
        ),
        (
            [(ist("2026-02-06", "11:00"), ist("2026-02-09", "09:30"))],
            "2026-02-10",
            "over the weekend: only Friday lost",
        ),
        (
            [(ist("2026-02-06", "17:30"), ist("2026-02-09", "09:30"))],
            "2026-02-09",
            "Friday after closing to Monday: none",
        ),
        (
            [(ist("2026-02-06", "11:00"), ist("2026-02-07", "10:00"))],
            "2026-02-10",
            "back on Saturday: counts from Monday",
        ),
        ([(ist("2026-02-07", "10:00"), ist("2026-02-08", "18:00"))], "2026-02-09", "within the weekend: nothing lost"),
        ([(ist("2026-02-02", "15:00"), ist("2026-02-03", "10:00"))], "2026-02-09", "returned on the receipt day"),
        (
            [
                (ist("2026-02-03", "16:00"), ist("2026-02-04", "10:00")),
                (ist("2026-02-05", "12:00"), ist("2026-02-06", "12:00")),
            ],
            "2026-02-11",
            "two pauses, a day each",
        ),
        ([(ist("2026-02-10", "11:00"), ist("2026-02-20", "11:00"))], "2026-02-09", "returned after the due date"),
        ([(ist("2026-02-05", "11:00"), ist("2026-02-16", "10:00"))], "2026-02-18", "seven working days lost"),
    ],
)
def test_due_date_with_pauses(clock: LegalClock, pauses: list[tuple[datetime, datetime]], due: str, why: str) -> None:
    assert clock.due_date(SUBMITTED, 5, pauses) == d(due), why


def test_pause_over_a_holiday_weekend(clock: LegalClock) -> None:
    # Submitted Monday 30 March, 5 days: Tue 31 Mar is Mahavir Jayanti, Fri 3 Apr Good
    # Friday; without a pause: Wed 1, Thu 2, Mon 6, Tue 7, Wed 8 is Guru Nabha Dass Ji's
    # birthday, so Thu 9.
    submitted = ist("2026-03-30")
    assert clock.due_date(submitted, 5) == d("2026-04-09")
    # Returned Thursday 2 April at noon, back Monday 6 April: Thursday lost.
    assert clock.due_date(submitted, 5, [(ist("2026-04-02", "12:00"), ist("2026-04-06", "10:00"))]) == d("2026-04-10")


@pytest.mark.parametrize(
    ("pauses", "problem"),
    [
        ([(ist("2026-02-01"), ist("2026-02-03"))], "start after the submission"),
        ([(ist("2026-02-04"), ist("2026-02-03"))], "must not end before it starts"),
        ([(ist("2026-02-03"), ist("2026-02-05")), (ist("2026-02-04"), ist("2026-02-06"))], "not overlap"),
        ([(ist("2026-02-05"), ist("2026-02-06")), (ist("2026-02-03"), ist("2026-02-04"))], "in order"),
        ([(datetime(2026, 2, 3, 10), ist("2026-02-04"))], "paused_from must be timezone-aware"),
    ],
)
def test_bad_pauses_are_refused(clock: LegalClock, pauses: list[tuple[datetime, datetime]], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        clock.due_date(SUBMITTED, 5, pauses)


def test_bad_arguments_are_refused(clock: LegalClock) -> None:
    with pytest.raises(ValueError, match="submitted_at must be timezone-aware"):
        clock.due_date(datetime(2026, 2, 2, 10), 5)
    with pytest.raises(ValueError, match="at least 1"):
        clock.due_date(SUBMITTED, 0)
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        clock.escalation(UNPAUSED_DUE, datetime(2026, 2, 10, 10))


# --- escalation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "now", "expected", "why"),
    [
        ("2026-02-09", ist("2026-02-05"), Escalation(False, 0, 0), "before the due date"),
        ("2026-02-09", ist("2026-02-09", "23:59"), Escalation(False, 0, 0), "on the due date, even after hours"),
        ("2026-02-09", ist("2026-02-10", "00:01"), Escalation(True, 1, 1), "the day after: first appeal"),
        (
            "2026-02-09",
            datetime(2026, 2, 9, 18, 45, tzinfo=UTC),
            Escalation(True, 1, 1),
            "18:45 UTC is Tuesday in India",
        ),
        ("2026-02-06", ist("2026-02-07"), Escalation(True, 0, 1), "Saturday after a Friday due date"),
        ("2026-02-06", ist("2026-02-09"), Escalation(True, 1, 1), "Monday after a Friday due date"),
        ("2026-02-09", ist("2026-02-18", "16:00"), Escalation(True, 7, 1), "the first appellate's 7th working day"),
        ("2026-02-09", ist("2026-02-19", "09:00"), Escalation(True, 8, 2), "the 8th working day: second appeal"),
        ("2026-02-11", ist("2026-02-20"), Escalation(True, 7, 1), "Friday 20th is the 7th working day"),
        ("2026-02-11", ist("2026-02-21"), Escalation(True, 7, 2), "the Saturday after it: its period is over"),
        ("2026-04-02", ist("2026-04-07"), Escalation(True, 2, 1), "Good Friday is not a working day overdue"),
        ("2026-12-24", ist("2027-01-05"), Escalation(True, 6, 1), "across the year: 29, 30, 31 Dec, 1, 4, 5 Jan"),
        ("2026-12-24", ist("2027-01-06"), Escalation(True, 7, 1), "the 7th working day after it is Wed 6 Jan"),
        ("2026-12-24", ist("2027-01-07"), Escalation(True, 8, 2), "after the 7th: second appeal"),
    ],
)
def test_escalation(clock: LegalClock, due: str, now: datetime, expected: Escalation, why: str) -> None:
    assert clock.escalation(d(due), now) == expected, why


def test_second_appeal_period_is_a_configurable_policy(calendar: WorkingCalendar) -> None:
    strict = LegalClock(calendar, ClockPolicy(second_appeal_after_working_days=3))
    assert strict.escalation(d("2026-02-09"), ist("2026-02-12")).level == 1  # 3rd working day
    assert strict.escalation(d("2026-02-09"), ist("2026-02-13")).level == 2
    assert LegalClock(calendar).policy.second_appeal_after_working_days == 7
    with pytest.raises(ValueError, match="at least 1"):
        ClockPolicy(second_appeal_after_working_days=0)
    with pytest.raises(ValueError, match="without a time zone"):
        ClockPolicy(closing_time=time(17, 0, tzinfo=IST))


def test_escalation_late_in_the_year_needs_no_calendar_for_the_next(tmp_path: Path) -> None:
    (tmp_path / "2026.yaml").write_text((REPO / "catalogue/holidays/2026.yaml").read_text("utf-8"), "utf-8")
    clock = LegalClock(load_calendar(tmp_path))
    assert clock.escalation(d("2026-12-29"), ist("2026-12-31")) == Escalation(True, 2, 1)
    with pytest.raises(CalendarError, match="no holiday calendar for 2027"):
        clock.escalation(d("2026-12-29"), ist("2027-01-04"))


def test_due_dates_are_monotonic_over_a_year_of_submissions(clock: LegalClock) -> None:
    # A later submission never gets an earlier due date, and the time limit always spans
    # exactly N working days after the receipt day.
    moment = ist("2026-01-01", "09:00")
    previous = clock.due_date(moment, 7)
    while moment < ist("2026-12-15"):
        moment += timedelta(hours=7)
        due = clock.due_date(moment, 7)
        assert due >= previous
        assert clock.calendar.working_days_between(clock.deemed_day(moment), due) == 7
        assert clock.calendar.is_working_day(due)
        previous = due
