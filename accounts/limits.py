"""Limits on attempts: at most so many events within a window, then a wait until the
oldest of them leaves it. Events are rows in the database, so a limit holds across worker
processes; the events of citizens' sign-in (and of anything else counted per number or
per address, such as tracking lookups and public verifications) are kept here.

A limit holds under concurrency too. Counting and then adding is two steps, and twenty
requests at once would all count the same number and all pass; so a request first takes
its turn on the limit's key (:func:`take_turn`: it locks the key's row until its
transaction ends), then counts, then adds. A concurrent request for the same key waits at
its own :func:`take_turn` and then counts what this one added. The lock is a row of
``limit_keys`` written with an upsert: on PostgreSQL the row lock of ``INSERT … ON
CONFLICT DO UPDATE``; on SQLite the write makes the transaction the database's one writer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from accounts import repository
from sanad.ids import sha256_hex


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


def key(kind: str, *, mobile: str | None = None, ip: str | None = None, name: str | None = None) -> str:
    """The key events of ``kind`` are counted under: per number, per address or per name
    (a name longer than 64 characters, such as an e-mail address, by its hash)."""
    if mobile is not None:
        return f"{kind}/mobile/{mobile}"
    if ip is not None:
        return f"{kind}/ip/{ip[:45]}"
    name = name or ""
    return f"{kind}/name/{name if len(name) <= 64 else sha256_hex(name)}"


def take_turn(session: Session, *keys: str, now: datetime) -> None:
    """Until the caller's transaction ends, every other request taking its turn on one of
    ``keys`` waits here. Call it once per transaction, with every key the transaction
    counts: the keys are locked in one order, so two requests never wait for each other."""
    for name in sorted(set(keys)):
        repository.lock_limit_key(session, name, now)


def recent(
    session: Session, kind: str, *, mobile: str | None = None, ip: str | None = None, since: datetime, limit: int
) -> list[datetime]:
    """When the newest ``limit`` events of ``kind`` since ``since`` happened, newest first;
    only those of ``mobile`` and of ``ip`` when given."""
    return repository.recent_events(session, kind, mobile=mobile, ip=ip, since=since, limit=limit)


def wait_for(
    session: Session, kind: str, limit: Limit, now: datetime, *, mobile: str | None = None, ip: str | None = None
) -> int:
    """Seconds until one more event of ``kind`` is allowed; 0 when it is allowed now. Exact
    only after :func:`take_turn` on the key the event will be recorded under."""
    return limit.wait(recent(session, kind, mobile=mobile, ip=ip, since=now - limit.window, limit=limit.count), now)


def record(session: Session, kind: str, *, ip: str, at: datetime, mobile: str = "") -> None:
    """Count one event of ``kind``."""
    repository.add_event(session, kind, mobile, ip, at)


def forget(session: Session, *, before: datetime) -> dict[str, int]:
    """Delete events from before ``before``, and keys untouched since (no window reaches
    that far); how many of each."""
    return {
        "auth_events": repository.delete_events(session, before=before),
        "limit_keys": repository.delete_limit_keys(session, before=before),
    }
