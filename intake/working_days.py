"""The Right-to-Service clock: time limits counted in working days of Punjab's offices.

The rules, in India time (IST), with the default policy:

Deemed day of an event
    A submission, a return to the citizen or a resubmission counts on the day it happens
    if that is a working day and the time is before closing (17:00); otherwise on the next
    working day. 16:59 on a Friday counts on Friday; 17:00 or 17:01 counts on Monday,
    and so does Sunday.

Due date
    The receipt day is the deemed day of the submission. It is not counted (the first
    day of a period is excluded, as in section 9 of the General Clauses Act, 1897); the
    time limit of N working days ends on the N-th counted working day after it. A
    decision dated on the due date is in time.

Pauses
    While an application is returned to the citizen the clock stops. A pause removes
    the working days from the deemed day of the return up to, but not including, the
    deemed day of the resubmission. Put the other way: a working day counts unless the
    application was with the citizen at that day's closing time (returned before it,
    resubmitted at or after it). So a return at 11:00 resubmitted at 15:00 the same day
    costs nothing; returned Friday 11:00 and resubmitted Monday 09:30 removes Friday
    only; a pause that starts before the due date moves it, one that starts after the
    due date (a late officer returning the file) does not undo the delay.

Escalation
    Level 0 until the due date has passed. Level 1 (first appellate authority) from the
    day after the due date. Level 2 (second appellate authority) from the day after the
    first appellate authority's own period of ``second_appeal_after_working_days``
    working days (default 7) — a policy of this deployment, configurable, not a period
    fixed by the Act. ``working_days_overdue`` counts the working days after the due date
    up to and including today, so on the Saturday after a Friday due date the application
    is overdue by 0 working days.

Holidays come from ``catalogue/holidays/<year>.yaml`` (:mod:`intake.holidays`). A
question about a date in a year without a file raises :class:`CalendarError`: a year is
never silently treated as having no holidays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from intake.exceptions import CalendarError
from sanad.clock import IST, today_in_india
from sanad.i18n import LocalizedText

#: Weekday numbers as :meth:`datetime.date.weekday` gives them.
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
#: Punjab government offices work Monday to Friday.
SATURDAY_AND_SUNDAY = frozenset({SATURDAY, SUNDAY})

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Holiday:
    """A gazetted holiday: offices are closed."""

    day: date
    """The date."""
    name: LocalizedText
    """The occasion, as the notification names it."""


class WorkingCalendar:
    """Which days offices work: neither a weekly off-day nor a gazetted holiday.

    Knows only the years it was given; asking about any other year raises
    :class:`CalendarError`.
    """

    def __init__(
        self,
        holidays: Iterable[Holiday],
        years: Iterable[int],
        weekly_off: Iterable[int] = SATURDAY_AND_SUNDAY,
    ) -> None:
        self.years = frozenset(years)
        """The years whose holidays are known."""
        self.weekly_off = frozenset(weekly_off)
        """Weekday numbers (Monday 0 … Sunday 6) on which offices are closed every week."""
        if not self.weekly_off <= set(range(7)) or len(self.weekly_off) == 7:
            raise CalendarError("weekly off-days must be weekday numbers 0-6, leaving at least one working day")
        self._holidays: dict[date, tuple[Holiday, ...]] = {}
        for holiday in holidays:
            if holiday.day.year not in self.years:
                raise CalendarError(f"holiday {holiday.day} is outside the calendar's years")
            self._holidays[holiday.day] = (*self._holidays.get(holiday.day, ()), holiday)

    def holidays_on(self, day: date) -> tuple[Holiday, ...]:
        """The holidays on ``day`` (several occasions may share a date)."""
        self._check_year(day)
        return self._holidays.get(day, ())

    def is_working_day(self, day: date) -> bool:
        self._check_year(day)
        return day.weekday() not in self.weekly_off and day not in self._holidays

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (``day`` itself is not counted);
        ``day`` for a count of 0."""
        if count < 0:
            raise ValueError("count must not be negative")
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days fall after ``start`` up to and including ``end``."""
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += _ONE_DAY
        return count

    def _check_year(self, day: date) -> None:
        if day.year not in self.years:
            known = ", ".join(map(str, sorted(self.years))) or "none"
            raise CalendarError(
                f"no holiday calendar for {day.year} (asked about {day}; known years: {known}): "
                f"add catalogue/holidays/{day.year}.yaml from the official notification"
            )


@dataclass(frozen=True)
class ClockPolicy:
    """The settings of the legal clock that are policy, not calendar."""

    closing_time: time = time(17, 0)
    """Office closing time in India. An event at or after it counts from the next
    working day."""
    second_appeal_after_working_days: int = 7
    """Working days the first appellate authority has after the due date before the case
    escalates to the second. A deployment policy, not a period set by the Act."""

    def __post_init__(self) -> None:
        if self.closing_time.tzinfo is not None:
            raise ValueError("closing_time is a wall-clock time in India: give it without a time zone")
        if self.second_appeal_after_working_days < 1:
            raise ValueError("second_appeal_after_working_days must be at least 1")


@dataclass(frozen=True)
class Escalation:
    """Where an undecided application stands against its due date."""

    overdue: bool
    """Whether the due date has passed (in India)."""
    working_days_overdue: int
    """Working days after the due date, up to and including today."""
    level: int
    """0 none, 1 first appellate authority, 2 second appellate authority."""


class LegalClock:
    """Due dates and escalation for applications; build once with the loaded calendar."""

    def __init__(self, calendar: WorkingCalendar, policy: ClockPolicy | None = None) -> None:
        self.calendar = calendar
        self.policy = policy or ClockPolicy()

    def deemed_day(self, moment: datetime) -> date:
        """The working day an event at ``moment`` counts on."""
        local = _aware(moment, "moment").astimezone(IST)
        day = local.date()
        if self.calendar.is_working_day(day) and local.time() < self.policy.closing_time:
            return day
        return self.calendar.next_working_day(day)

    def due_date(
        self,
        submitted_at: datetime,
        working_days: int,
        pauses: Sequence[tuple[datetime, datetime]] = (),
    ) -> date:
        """The last day of a time limit of ``working_days`` for an application submitted
        at ``submitted_at`` and returned to the citizen during each ``(paused_from,
        resumed_at)`` interval.

        Pauses must be in order, must not overlap and must not start before the
        submission. An application that is still with the citizen has no due date yet:
        call this again when it is resubmitted.
        """
        if working_days < 1:
            raise ValueError("working_days must be at least 1")
        previous = _aware(submitted_at, "submitted_at")
        receipt = self.deemed_day(submitted_at)
        removed: list[tuple[date, date]] = []
        for paused_from, resumed_at in pauses:
            if _aware(paused_from, "paused_from") < previous:
                raise ValueError("pauses must be in order, not overlap, and start after the submission")
            if _aware(resumed_at, "resumed_at") < paused_from:
                raise ValueError("a pause must not end before it starts")
            removed.append((self.deemed_day(paused_from), self.deemed_day(resumed_at)))
            previous = resumed_at

        day, counted = receipt, 0
        while counted < working_days:
            day = self.calendar.next_working_day(day)
            if not any(first <= day < resumed for first, resumed in removed):
                counted += 1
        return day

    def escalation(self, due: date, now: datetime) -> Escalation:
        """Where an application due on ``due`` and still undecided at ``now`` stands."""
        today = today_in_india(_aware(now, "now"))
        if today <= due:
            return Escalation(overdue=False, working_days_overdue=0, level=0)
        # Walk the days after the due date once, never past today: a due date late in
        # December must not need next year's calendar before next year has come.
        overdue, first_appeal_ends = 0, None
        day = due + _ONE_DAY
        while day <= today:
            if self.calendar.is_working_day(day):
                overdue += 1
                if overdue == self.policy.second_appeal_after_working_days:
                    first_appeal_ends = day
            day += _ONE_DAY
        level = 2 if first_appeal_ends is not None and today > first_appeal_ends else 1
        return Escalation(overdue=True, working_days_overdue=overdue, level=level)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment
