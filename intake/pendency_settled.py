"""Disposal histograms of settled months, merged once and kept by each server process.

A disposal is tallied under the month it was decided in (India time), inside the
transaction that records the decision, so a month's tallies stop changing once the month
is over and its last deciding transaction has committed. The pendency report then reads
only the live months' tallies and adds the kept sum of the settled ones: a year of
tallies (~4,000 rows × 61 buckets at 1M applications) was most of the report's time, and
the live month is a twelfth of it. The figures stay exact, with no staleness to state:
open counts, appeals and the live months are read on every request.

A month counts as settled from the second day of the next month (a deciding transaction
that began on the last evening of a month has long committed by then). Kept sums are
read again after :data:`KEEP_FOR` all the same, so a correction made in the database by
hand shows within that time too.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

Place = tuple[int, str, str]
"""(department id, office, service)."""
Histograms = dict[Place, tuple[int, ...]]
Loader = Callable[[], list[tuple[int, str, str, list[int]]]]

KEEP_FOR = 600.0
"""Seconds a kept sum is trusted before the settled months are read again."""

MAX_FILTERS = 256
"""Filter combinations kept per database (least recently used go first)."""


def live_from(today: date) -> str:
    """The first month (``YYYY-MM``) whose tallies may still change on ``today``."""
    return (today - timedelta(days=1)).strftime("%Y-%m")


def add_into(total: list[int], more: Sequence[int]) -> None:
    """Adds ``more`` to ``total`` in place (a month's histogram is mostly zeros: a
    year of them for 1M applications is ~240,000 buckets, merged in ~20 ms this way)."""
    if len(total) < len(more):
        total.extend([0] * (len(more) - len(total)))
    for days, cases in enumerate(more):
        if cases:
            total[days] += cases


def merge(rows: list[tuple[int, str, str, list[int]]]) -> Histograms:
    """Each place's histograms added up (a place with only empty months keeps a row)."""
    sums: dict[Place, list[int]] = {}
    for dept, office, service, histogram in rows:
        add_into(sums.setdefault((dept, office, service), []), histogram)
    return {place: tuple(histogram) for place, histogram in sums.items()}


@dataclass(frozen=True)
class _Kept:
    histograms: Histograms
    read_at: float


class SettledHistograms:
    """Merged histograms of settled months per database and filter; safe across threads."""

    def __init__(
        self,
        keep_for: float = KEEP_FOR,
        clock: Callable[[], float] = time.monotonic,
        max_filters: int = MAX_FILTERS,
    ) -> None:
        self._keep_for = keep_for
        self._clock = clock
        self._max_filters = max_filters
        self._lock = threading.Lock()
        # Per engine, so that two databases in one process (tests, tools) never share sums.
        self._by_engine: weakref.WeakKeyDictionary[Engine, OrderedDict[tuple[object, ...], _Kept]] = (
            weakref.WeakKeyDictionary()
        )

    def histograms(self, session: Session, key: tuple[object, ...], load: Loader) -> Histograms:
        """The kept sums for ``key`` (the filters and the settled months' range), or what
        ``load`` reads, merged and kept."""
        engine = session.get_bind().engine
        now = self._clock()
        with self._lock:
            kept = self._by_engine.setdefault(engine, OrderedDict())
            found = kept.get(key)
            if found is not None and now - found.read_at < self._keep_for:
                kept.move_to_end(key)
                return found.histograms
        # Read outside the lock: two threads missing at once both read, and agree.
        histograms = merge(load())
        with self._lock:
            kept = self._by_engine.setdefault(engine, OrderedDict())
            kept[key] = _Kept(histograms, now)
            kept.move_to_end(key)
            while len(kept) > self._max_filters:
                kept.popitem(last=False)
        return histograms


SETTLED = SettledHistograms()
"""The server process's kept sums."""
