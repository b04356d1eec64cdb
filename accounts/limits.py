"""Limits on attempts: at most so many events within a window, then a wait until the
oldest of them leaves it. Events are rows in the database, so a limit holds across worker
processes; the events of citizens' sign-in (and of anything else counted per number or
per address, such as tracking lookups) are kept here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from accounts import repository


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events within ``window``."""

    count: int
    window: timedelta

    def wait(self, newest_first: Sequence[datetime], now: datetime) -> int:
        """Seconds until one more event is allowed, given the newest ``count`` events
        (newest first); 0 when the limit is not reached."""
        if len(newest_first) < self.count:
            return 0
        return max(1, math.ceil((newest_first[-1] + self.window - now).total_seconds()))


def recent(
    session: Session, kind: str, *, mobile: str | None = None, ip: str | None = None, since: datetime, limit: int
) -> list[datetime]:
    """When the newest ``limit`` events of ``kind`` since ``since`` happened, newest first;
    only those of ``mobile`` and of ``ip`` when given."""
    return repository.recent_events(session, kind, mobile=mobile, ip=ip, since=since, limit=limit)


def wait_for(
    session: Session, kind: str, limit: Limit, now: datetime, *, mobile: str | None = None, ip: str | None = None
) -> int:
    """Seconds until one more event of ``kind`` is allowed; 0 when it is allowed now."""
    return limit.wait(recent(session, kind, mobile=mobile, ip=ip, since=now - limit.window, limit=limit.count), now)


def record(session: Session, kind: str, *, ip: str, at: datetime, mobile: str = "") -> None:
    """Count one event of ``kind``."""
    repository.add_event(session, kind, mobile, ip, at)


def forget(session: Session, *, before: datetime) -> int:
    """Delete events from before ``before`` (no window reaches that far); how many."""
    return repository.delete_events(session, before=before)
