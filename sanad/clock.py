"""Calendar dates are Indian dates: validity and issue dates follow the clock in India."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

# India Standard Time has no daylight saving: a fixed offset needs no tz database.
IST = timezone(timedelta(hours=5, minutes=30), "IST")


def today_in_india(moment: datetime | None = None) -> date:
    return (moment or datetime.now(UTC)).astimezone(IST).date()
