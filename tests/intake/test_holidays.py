"""Holiday files: the shipped years load and say plainly that they must be replaced by
the official notification; a broken file stops start-up naming file, key and reason."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from pathlib import Path

import pytest

from intake.exceptions import CalendarError
from intake.holidays import load_calendar

REPO = Path(__file__).resolve().parents[2]
HOLIDAYS = REPO / "catalogue" / "holidays"

GOOD = """\
year: 2026
holidays:
  - date: 2026-01-26
    name: {en: Republic Day, pa: ਗਣਤੰਤਰ ਦਿਵਸ, hi: गणतंत्र दिवस}
  - date: 2026-04-14
    name: {en: Vaisakhi, pa: ਵਿਸਾਖੀ, hi: बैसाखी}
"""


def write(directory: Path, text: str, name: str = "2026.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("year", [2026, 2027])
def test_shipped_year_files(year: int) -> None:
    text = (HOLIDAYS / f"{year}.yaml").read_text("utf-8")
    assert "REPLACE WITH THE OFFICIAL NOTIFICATION" in text
    calendar = load_calendar(HOLIDAYS)
    days = [date(year, 1, 1) + timedelta(days=i) for i in range(365)]
    holidays = [h for day in days for h in calendar.holidays_on(day)]
    assert len(holidays) >= 25  # Punjab notifies about thirty a year
    for fixed in ["01-26", "03-23", "04-14", "08-15", "10-02", "12-25"]:
        assert calendar.holidays_on(date.fromisoformat(f"{year}-{fixed}")), fixed
    for holiday in holidays:
        scripts_pa = {unicodedata.name(ch).split()[0] for ch in holiday.name.pa if ch.isalpha()}
        scripts_hi = {unicodedata.name(ch).split()[0] for ch in holiday.name.hi if ch.isalpha()}
        assert scripts_pa == {"GURMUKHI"}, holiday
        assert scripts_hi == {"DEVANAGARI"}, holiday


def test_2026_follows_the_reported_notification() -> None:
    calendar = load_calendar(HOLIDAYS)
    named = {
        "2026-01-26": "Republic Day",
        "2026-02-01": "Birthday of Sri Guru Ravidas Ji",
        "2026-03-04": "Holi",
        "2026-04-03": "Good Friday",
        "2026-04-14": "Vaisakhi",
        "2026-11-08": "Diwali",
        "2026-11-24": "Parkash Gurpurab of Sri Guru Nanak Dev Ji",
        "2026-12-28": "Shaheedi Sabha, Sri Fatehgarh Sahib",
    }
    for day, name in named.items():
        assert name in [h.name.en for h in calendar.holidays_on(date.fromisoformat(day))], day
    working = sum(calendar.is_working_day(date(2026, 1, 1) + timedelta(days=i)) for i in range(365))
    assert working == 238  # 261 weekdays less 23 holidays that fall on one


def test_good_file(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    calendar = load_calendar(tmp_path)
    assert calendar.years == {2026}
    assert calendar.holidays_on(date(2026, 1, 26))[0].name.pa == "ਗਣਤੰਤਰ ਦਿਵਸ"
    # A quoted date and a second occasion on the same day are fine.
    write(tmp_path, GOOD + "  - date: '2026-04-14'\n    name: {en: Ambedkar Jayanti, pa: ਅੰਬੇਡਕਰ ਜਯੰਤੀ, hi: आंबेडकर जयंती}\n")
    assert len(load_calendar(tmp_path).holidays_on(date(2026, 4, 14))) == 2


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        (GOOD.replace("year: 2026", "year: 2027"), "year", "must be 2026, as the file name says"),
        (GOOD.replace("year: 2026\n", ""), "year", "must be 2026"),
        (GOOD.replace("2026-01-26", "2025-01-26"), "holidays[0].date", "must be in 2026"),
        (GOOD.replace("2026-01-26", "26-01-2026"), "holidays[0].date", "must be a date in YYYY-MM-DD form"),
        (GOOD.replace("2026-01-26", "'2026-02-30'"), "holidays[0].date", "must be a date in YYYY-MM-DD form"),
        (GOOD.replace("2026-01-26", "2026-01-26 10:00:00"), "holidays[0].date", "must be a date in YYYY-MM-DD form"),
        (GOOD.replace("date: 2026-01-26\n", ""), "holidays[0].date", "must be a date"),
        (GOOD.replace(", hi: गणतंत्र दिवस", ""), "holidays[0].name", "must map exactly en, pa and hi"),
        (GOOD.replace("pa: ਗਣਤੰਤਰ ਦਿਵਸ", "pa: ''"), "holidays[0].name.pa", "must be a non-empty string"),
        (
            GOOD.replace("    name: {en: Vaisakhi", "    type: gazetted\n    name: {en: Vaisakhi"),
            "holidays[1].type",
            "unknown key",
        ),
        ("year: 2026\nholidays: []\n", "holidays", "must be a non-empty list"),
        ("year: 2026\n", "holidays", "must be a non-empty list"),
        (
            GOOD + "  - date: 2026-01-26\n    name: {en: Republic Day, pa: ਗਣਤੰਤਰ ਦਿਵਸ, hi: गणतंत्र दिवस}\n",
            "holidays[2]",
            "'Republic Day' on 2026-01-26 is listed twice",
        ),
        (GOOD + "notified: yes\n", "notified", "unknown key"),
        ("- 2026-01-26\n", "(top level)", "must be a mapping"),
    ],
)
def test_broken_file_names_file_key_and_reason(tmp_path: Path, text: str, where: str, reason: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CalendarError) as caught:
        load_calendar(tmp_path)
    assert str(caught.value).startswith(f"{path}: {where}: "), str(caught.value)
    assert reason in str(caught.value)


def test_file_name_must_be_the_year(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, name="holidays-2026.yaml")
    with pytest.raises(CalendarError, match="must be the year") as caught:
        load_calendar(tmp_path)
    assert str(caught.value).startswith(str(path))


def test_one_year_in_two_files(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    second = write(tmp_path, GOOD, name="2026.yml")
    with pytest.raises(CalendarError, match="2026 is given by another file too") as caught:
        load_calendar(tmp_path)
    assert str(caught.value).startswith(str(second))


def test_repeated_key_and_bad_yaml(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("  - date: 2026-04-14\n", "  - date: 2026-04-14\n    date: 2026-04-15\n"))
    with pytest.raises(CalendarError, match="duplicate key 'date'"):
        load_calendar(tmp_path)
    write(tmp_path, "year: [2026\n")
    with pytest.raises(CalendarError, match="cannot read"):
        load_calendar(tmp_path)


def test_missing_or_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="does not exist"):
        load_calendar(tmp_path / "nowhere")
    with pytest.raises(CalendarError, match="no holiday files"):
        load_calendar(tmp_path)
