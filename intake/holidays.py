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
from datetime import date
from pathlib import Path
from typing import NoReturn, cast

import yaml

from intake.exceptions import CalendarError
from intake.working_days import SATURDAY_AND_SUNDAY, Holiday, WorkingCalendar
from sanad.i18n import LocalizedText
from sanad.strict_yaml import load_yaml

_YEAR_FILE = re.compile(r"[0-9]{4}")
_TOP_KEYS = frozenset({"year", "holidays"})
_HOLIDAY_KEYS = frozenset({"date", "name"})
_LANGS = ("en", "pa", "hi")


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


class _YearReader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, reason: str) -> NoReturn:
        raise CalendarError(f"{self.path}: {where}: {reason}")

    def read(self) -> tuple[int, list[Holiday]]:
        if not _YEAR_FILE.fullmatch(self.path.stem):
            self.fail("(file name)", "must be the year, e.g. 2026.yaml")
        try:
            raw = load_yaml(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise CalendarError(f"{self.path}: cannot read: {exc}") from exc
        top = self.mapping(raw, "", _TOP_KEYS)
        year = int(self.path.stem)
        if top.get("year") != year:
            self.fail("year", f"must be {year}, as the file name says")

        entries = top.get("holidays")
        # An empty list is refused: no year has no gazetted holidays, and an emptied file
        # would silently make every weekday a working day.
        if not isinstance(entries, list) or not entries:
            self.fail("holidays", "must be a non-empty list")
        holidays: list[Holiday] = []
        for i, raw_entry in enumerate(entries):
            where = f"holidays[{i}]"
            entry = self.mapping(raw_entry, where, _HOLIDAY_KEYS)
            day = self.day(entry.get("date"), f"{where}.date", year)
            name = self.localized(entry.get("name"), f"{where}.name")
            if any(h.day == day and h.name.en == name.en for h in holidays):
                self.fail(where, f"{name.en!r} on {day} is listed twice")
            holidays.append(Holiday(day, name))
        return year, holidays

    def day(self, raw: object, where: str, year: int) -> date:
        # YAML reads 2026-01-26 as a date already; a quoted one arrives as a string.
        if isinstance(raw, str):
            try:
                raw = date.fromisoformat(raw)
            except ValueError:
                self.fail(where, "must be a date in YYYY-MM-DD form")
        if type(raw) is not date:  # a datetime is a date too, but a holiday has no hour
            self.fail(where, "must be a date in YYYY-MM-DD form")
        if raw.year != year:
            self.fail(where, f"must be in {year}")
        return raw

    def mapping(self, raw: object, where: str, keys: frozenset[str]) -> dict[str, object]:
        if not isinstance(raw, dict):
            self.fail(where or "(top level)", "must be a mapping")
        for key in raw:
            if key not in keys:
                self.fail(f"{where}.{key}" if where else str(key), "unknown key")
        return cast("dict[str, object]", raw)

    def localized(self, raw: object, where: str) -> LocalizedText:
        if not isinstance(raw, dict) or set(raw) != set(_LANGS):
            self.fail(where, "must map exactly en, pa and hi to text")
        for lang in _LANGS:
            if not isinstance(raw[lang], str) or not raw[lang].strip():
                self.fail(f"{where}.{lang}", "must be a non-empty string")
        return LocalizedText(en=raw["en"], pa=raw["pa"], hi=raw["hi"])
