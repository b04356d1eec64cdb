"""Reading the gazetted holidays, one file per year: ``catalogue/holidays/2026.yaml``::

    year: 2026
    holidays:
      - date: 2026-01-26
        name: {en: Republic Day, pa: ਗਣਤੰਤਰ ਦਿਵਸ, hi: गणतंत्र दिवस}

Every file is checked at start-up; the first problem raises :class:`CalendarError`
naming the file, the key path and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from intake.exceptions import CalendarError
from intake.working_days import SATURDAY_AND_SUNDAY, Holiday, WorkingCalendar
from sanad.config_file import ConfigFile

_YEAR_FILE = re.compile(r"[0-9]{4}")
_TOP_KEYS = frozenset({"year", "holidays"})
_HOLIDAY_KEYS = frozenset({"date", "name"})


def load_calendar(directory: Path, *, weekly_off: Iterable[int] = SATURDAY_AND_SUNDAY) -> WorkingCalendar:
    """The working calendar of every ``directory/<year>.yaml``.

    ``weekly_off`` are the weekday numbers offices close every week (default Saturday and
    Sunday). Years without a file are unknown to the calendar, never holiday-free.
    """
    if not directory.is_dir():
        raise CalendarError(f"{directory}: holiday directory does not exist")
    paths = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not paths:
        raise CalendarError(f"{directory}: no holiday files (<year>.yaml)")
    holidays: list[Holiday] = []
    years: list[int] = []
    for path in paths:
        year, entries = _YearReader(path).read()
        if year in years:
            raise CalendarError(f"{path}: year: {year} is given by another file too")
        years.append(year)
        holidays.extend(entries)
    return WorkingCalendar(holidays, years, weekly_off)


class _YearReader(ConfigFile):
    """Parses one year file; every error names the file and the key path."""

    error = CalendarError

    def read(self) -> tuple[int, list[Holiday]]:
        if not _YEAR_FILE.fullmatch(self.path.stem):
            self.fail("(file name)", "must be the year, e.g. 2026.yaml")
        top = self.mapping(self.load(), "", _TOP_KEYS)
        year = int(self.path.stem)
        if top.get("year") != year:
            self.fail("year", f"must be {year}, as the file name says")

        # An empty list is refused: no year has no gazetted holidays, and an emptied file
        # would silently make every weekday a working day.
        entries = self.non_empty_list(top.get("holidays"), "holidays")
        holidays: list[Holiday] = []
        for i, raw_entry in enumerate(entries):
            where = f"holidays[{i}]"
            entry = self.mapping(raw_entry, where, _HOLIDAY_KEYS)
            day = self.day(entry.get("date"), f"{where}.date")
            if day.year != year:
                self.fail(f"{where}.date", f"must be in {year}")
            name = self.localized(entry.get("name"), f"{where}.name")
            if any(h.day == day and h.name.en == name.en for h in holidays):
                self.fail(where, f"{name.en!r} on {day} is listed twice")
            holidays.append(Holiday(day, name))
        return year, holidays
